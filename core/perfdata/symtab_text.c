/* Symbol tables from a kallsyms text ("addr type name[\t[module]]"
 * lines): the file is mapped (or, for /proc/kallsyms, read whole) and its
 * lines are the names, nothing copied. perf's symbol rules are applied by
 * symtab.c. */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include "symtab_impl.h"
#include "sys/hugepage.h"

/* The whole of fd (a /proc file has no size to ask for), NUL-terminated;
 * NULL with errno on failure. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 8u << 20, n = 0;
    char *b = malloc(cap + 1);
    while (b) {
        if (n == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb)
                break;
            b = nb;
            cap *= 2;
        }
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            break;
        if (k == 0) {
            b[n] = '\0';
            *len = n;
            return b;
        }
        n += (size_t)k;
    }
    int e = b ? errno : ENOMEM;
    free(b);
    errno = e;
    return NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

pd_symtab *pd_symtab_kallsyms(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode))) {
        snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    pd_symtab *t = calloc(1, sizeof *t);
    size_t len = 0;
    char *text = NULL;
    /* /proc files have no size: read those */
    if (t && st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX) {
        len = (size_t)st.st_size;
        text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (text == MAP_FAILED)
            text = NULL;
        t->mapped = text != NULL;
    }
    if (t && !text)
        text = read_all(fd, &len);
    int e = errno;
    close(fd);
    if (!t || !text) {
        snprintf(err, errlen, "%s: %s", path, !t || !e ? "out of memory" : strerror(e));
        free(t);
        return NULL;
    }
    t->names = text;
    t->names_len = t->names_cap = len;
    t->text = true;
    /* one entry per line at most, allocated at once (on huge pages when
     * large: 120,000 symbols take 4 MB) */
    size_t lines = 1;
    for (const char *p = text, *stop = text + len; (p = memchr(p, '\n', (size_t)(stop - p))); p++)
        lines++;
    size_t bytes = lines * sizeof *t->syms;
    if (lines > SIZE_MAX / sizeof *t->syms ||
        !(t->syms = bytes >= SYS_HUGE_PAGE ? sys_alloc_huge(bytes) : malloc(bytes))) {
        snprintf(err, errlen, "out of memory");
        pd_symtab_free(t);
        return NULL;
    }
    t->cap = lines;
    bool nonzero = false;
    for (size_t i = 0; i < len;) {
        /* "addr type name[\t[module]]\n" */
        size_t line = i;
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        i = end + 1;
        uint64_t addr = 0;
        size_t k = line;
        for (int h; k < end && (h = hexval((unsigned char)text[k])) >= 0; k++)
            addr = addr << 4 | (uint64_t)h;
        if (k == line || k + 3 > end || text[k] != ' ' || text[k + 2] != ' ')
            continue;
        char type = text[k + 1];
        size_t name = k + 3;
        char u = (char)toupper((unsigned char)type);
        if ((u != 'T' && u != 'W' && u != 'D' && u != 'B') || text[name] == '$' || !nl)
            continue; /* a last line without newline is cut off */
        int bind = u == 'W' ? STB_WEAK : isupper((unsigned char)type) ? STB_GLOBAL : STB_LOCAL;
        nonzero |= addr != 0;
        /* a module's symbols end in "\t[module]" */
        bool module = end > name && text[end - 1] == ']' && memchr(text + name, '\t', end - name);
        if (pd_symtab_push(t, addr, 0, bind, name, module)) {
            snprintf(err, errlen, "out of memory");
            pd_symtab_free(t);
            return NULL;
        }
    }
    if (!nonzero) { /* kptr_restrict: every address reads 0 */
        snprintf(err, errlen, "%s: all addresses are 0 (kernel.kptr_restrict)", path);
        pd_symtab_free(t);
        return NULL;
    }
    pd_symtab_fixup(t, true);
    return t;
}

/* Parses the hex number at *p (perf's hex2u64): the digits read. */
static size_t hex_at(const char *p, uint64_t *v)
{
    size_t k = 0;
    *v = 0;
    for (int h; (h = hexval((unsigned char)p[k])) >= 0; k++)
        *v = *v << 4 | (uint64_t)h;
    return k;
}

/* A JIT's symbol map ("START SIZE name" lines, hex, as perf's
 * dso__load_perf_map reads them): a line whose fields are cut short is
 * skipped; names are shown as written (perf demangles none of them); the
 * symbols keep the sizes given, with no fixups, but a symbol of size 0
 * still holds its own address, as in perf. The file must belong to this
 * user or to root, as perf requires (it may have been written by anyone
 * into /tmp). */
pd_symtab *pd_symtab_perfmap(int fd0, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd0, &st) != 0 || (st.st_uid != geteuid() && st.st_uid != 0)) {
        snprintf(err, errlen, "%s: %s", path,
                 errno ? strerror(errno) : "not owned by this user or root (perf ignores it too)");
        return NULL;
    }
    int fd = dup(fd0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    pd_symtab *t = f ? calloc(1, sizeof *t) : NULL;
    if (!t) {
        snprintf(err, errlen, "out of memory");
        if (f)
            fclose(f);
        else
            close(fd);
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool oom = false;
    while (!oom && (n = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)n;
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        uint64_t start, size;
        size_t k = hex_at(line, &start) + 1;
        if (k + 2 >= len)
            continue;
        k += hex_at(line + k, &size) + 1;
        if (k + 2 >= len)
            continue;
        oom = pd_symtab_add(t, start, size ? size : 1, STB_GLOBAL, line + k, len - k) != 0;
    }
    bool failed = ferror(f);
    free(line);
    fclose(f);
    if (oom || failed) {
        snprintf(err, errlen, "%s: %s", path, oom ? "out of memory" : "read error");
        pd_symtab_free(t);
        return NULL;
    }
    pd_symtab_sort(t);
    return t;
}
