/* perf's demangling of user-space symbol names (demangle.h). */
#include <ctype.h>
#include <libiberty/demangle.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"

static int hexdigit(unsigned char c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* OCaml native names: "caml" and a capitalized module, "__" between path
 * components (read as '.'), "$xx" a character in hex; the trailing
 * "_<digits>" stamp stays (perf stopped dropping it in 5.12). */
static char *ocaml(const char *s, size_t n)
{
    if (n < 5 || memcmp(s, "caml", 4) != 0 || !isupper((unsigned char)s[4]))
        return NULL;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 4; i < n;) {
        if (s[i] == '_' && i + 1 < n && s[i + 1] == '_') {
            out[j++] = '.';
            i += 2;
        } else if (s[i] == '$' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
                   isxdigit((unsigned char)s[i + 2])) {
            out[j++] =
                (char)(hexdigit((unsigned char)s[i + 1]) << 4 | hexdigit((unsigned char)s[i + 2]));
            i += 3;
        } else {
            out[j++] = s[i++];
        }
    }
    out[j] = '\0';
    return out;
}

char *pd_demangle(const char *name, size_t len)
{
    char buf[1024], *copy = buf;
    if (len >= sizeof buf && !(copy = malloc(len + 1)))
        return NULL;
    memcpy(copy, name, len);
    copy[len] = '\0';
    char *d = cplus_demangle(copy, DMGL_NO_OPTS);
    if (!d)
        d = ocaml(copy, len);
    if (copy != buf)
        free(copy);
    return d;
}
