/* Folded frame names (README §4.2): the Rust repair, the `->`
 * split, the [unknown] fallback, the argument-list cut, the Java tidy and the
 * annotations. */
#include <stdlib.h>

#include "ps_internal.h"

typedef struct sbuf {
    char **buf;
    size_t *len, *cap;
} sbuf;

static bool put(sbuf *b, const char *s, size_t n)
{
    if (*b->len + n > *b->cap) {
        size_t cap = *b->cap ? *b->cap : 256;
        while (cap < *b->len + n) {
            if (cap > SIZE_MAX / 2)
                return false;
            cap *= 2;
        }
        char *d = realloc(*b->buf, cap);
        if (!d)
            return false;
        *b->buf = d;
        *b->cap = cap;
    }
    if (n)
        memcpy(*b->buf + *b->len, s, n);
    *b->len += n;
    return true;
}

static bool ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || ps_digit(c) || c == '_';
}

/* True when s[0..i) ends with the word `operator`. */
static bool after_operator(const char *s, size_t i)
{
    return i >= 8 && memcmp(s + i - 8, "operator", 8) == 0 &&
           (i == 8 || !ident_char((unsigned char)s[i - 9]));
}

/* Length of the C++ operator token at s[i..n) right after `operator`. */
static size_t operator_token(const char *s, size_t i, size_t n)
{
    static const char *const toks[] = {"<<=", ">>=", "<=>", "->*", "<<", ">>",
                                       "<=",  ">=",  "->",  "<",   ">"};
    if (!after_operator(s, i))
        return 0;
    for (size_t k = 0; k < sizeof toks / sizeof toks[0]; k++) {
        size_t tl = strlen(toks[k]);
        if (n - i >= tl && memcmp(s + i, toks[k], tl) == 0)
            return tl;
    }
    return 0;
}

/* The length of s once its argument list is cut (README §4.2, 7.3). */
static size_t arglist_cut(const char *s, size_t n)
{
    static const char anon[] = "(anonymous namespace)";
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        size_t ot = operator_token(s, i, n);
        if (ot) {
            i += ot - 1;
            continue;
        }
        char c = s[i];
        if (c == '<' || c == '{' || c == '[') {
            depth++;
        } else if (c == '>' || c == '}' || c == ']' || c == ')') {
            if (depth)
                depth--;
        } else if (c == '(') {
            if (depth == 0 && !(i > 0 && s[i - 1] == '.') &&
                !(n - i >= sizeof anon - 1 && memcmp(s + i, anon, sizeof anon - 1) == 0))
                return i;
            depth++;
        }
    }
    return n;
}

static const struct {
    const char *esc;
    char ch;
} rust_escapes[] = {
    {"$SP$", '@'},   {"$BP$", '*'},  {"$RF$", '&'},  {"$LT$", '<'},  {"$GT$", '>'},
    {"$LP$", '('},   {"$RP$", ')'},  {"$C$", ','},   {"$u7e$", '~'}, {"$u20$", ' '},
    {"$u27$", '\''}, {"$u3d$", '='}, {"$u5b$", '['}, {"$u5d$", ']'}, {"$u7b$", '{'},
    {"$u7d$", '}'},  {"$u3b$", ';'}, {"$u2b$", '+'}, {"$u21$", '!'}, {"$u22$", '"'},
};

/* Repairs a half-demangled Rust legacy name (README §4.2, 5) into out (at least n
 * bytes); returns the new length, or 0 when s is not such a name. */
static size_t rust_repair(const char *s, size_t n, char *out)
{
    if (n < 17 || s[n - 17] != 'h' || !ps_all_xdigits(s + n - 16, 16))
        return 0;
    n -= 17;
    if (n >= 2 && s[n - 2] == ':' && s[n - 1] == ':')
        n -= 2;
    size_t i = 0, o = 0;
    if (n >= 2 && s[0] == '_' && s[1] == '$')
        i = 1;
    while (i < n) {
        if (s[i] == '.') {
            if (i + 1 < n && s[i + 1] == '.') {
                out[o++] = ':';
                out[o++] = ':';
                i += 2;
            } else {
                out[o++] = s[i++];
            }
        } else if (s[i] == '$') {
            size_t k, m = sizeof rust_escapes / sizeof rust_escapes[0];
            for (k = 0; k < m; k++) {
                size_t el = strlen(rust_escapes[k].esc);
                if (n - i >= el && memcmp(s + i, rust_escapes[k].esc, el) == 0) {
                    out[o++] = rust_escapes[k].ch;
                    i += el;
                    break;
                }
            }
            if (k == m) { /* not an escape: keep the rest as it is */
                memcpy(out + o, s + i, n - i);
                o += n - i;
                break;
            }
        } else {
            out[o++] = s[i++];
        }
    }
    return o ? o : 0;
}

static ps_str dso_basename(const ps_frame *f)
{
    size_t b = f->dso.len;
    while (b > 0 && f->dso.ptr[b - 1] != '/')
        b--;
    return (ps_str){f->dso.ptr + b, f->dso.len - b};
}

bool ps_srcline_split(const char *s, size_t n, ps_str *file, uint64_t *line)
{
    static const char inl[] = " (inlined)";
    while (n && ps_blank((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && ps_blank((unsigned char)s[n - 1]))
        n--;
    if (n >= sizeof inl - 1 && memcmp(s + n - (sizeof inl - 1), inl, sizeof inl - 1) == 0) {
        n -= sizeof inl - 1;
    } else if (n && s[n - 1] == ')') {
        static const char disc[] = " (discriminator ";
        for (size_t i = 0; i + sizeof disc - 1 <= n; i++) {
            if (memcmp(s + i, disc, sizeof disc - 1) == 0 &&
                ps_all_digits(s + i + sizeof disc - 1, n - 1 - (i + sizeof disc - 1))) {
                n = i;
                break;
            }
        }
    }
    size_t c = n;
    while (c > 0 && s[c - 1] != ':')
        c--;
    if (c < 2)
        return false; /* no colon, or an empty FILE */
    const char *fp = s, *lp = s + c;
    size_t fl = c - 1, ll = n - c;
    uint64_t v;
    if ((fl == 2 && memcmp(fp, "??", 2) == 0) || !ps_parse_u64(lp, ll, &v) || v == 0)
        return false;
    *file = (ps_str){fp, fl};
    *line = v;
    return true;
}

/* The source position `FILE:LINE` of a srcline text, or length 0. */
static ps_str srcline_pos(const char *s, size_t n)
{
    ps_str file;
    uint64_t line;
    if (!ps_srcline_split(s, n, &file, &line))
        return (ps_str){s, 0};
    /* FILE:LINE is contiguous in the trimmed text */
    size_t len = file.len + 1;
    while (len < n - (size_t)(file.ptr - s) && ps_digit((unsigned char)file.ptr[len]))
        len++;
    return (ps_str){file.ptr, len};
}

static bool piece(sbuf *b, const ps_frame *f, const ps_fold_options *o, bool java, const char *s,
                  size_t n, bool inlined, ps_str pos)
{
    size_t start = *b->len;
    if (n == 9 && memcmp(s, "[unknown]", 9) == 0) {
        bool known = f->has_dso && !(f->dso.len == 9 && memcmp(f->dso.ptr, "[unknown]", 9) == 0);
        ps_str base = known ? dso_basename(f) : (ps_str){"unknown", 7};
        if (o->addrs) {
            if (!put(b, "[", 1) || !put(b, base.ptr, base.len) || !put(b, " <", 2) ||
                !put(b, f->addr.ptr, f->addr.len) || !put(b, ">]", 2))
                return false;
        } else if (known) {
            if (!put(b, "[", 1) || !put(b, base.ptr, base.len) || !put(b, "]", 1))
                return false;
        } else if (!put(b, s, n)) {
            return false;
        }
    } else if (!put(b, s, n)) {
        return false;
    }
    char *name = *b->buf + start;
    size_t len = *b->len - start;
    for (size_t i = 0; i < len; i++)
        if (name[i] == ';')
            name[i] = ':';
    len = arglist_cut(name, len);
    if (java && len > 0 && name[0] == 'L' && memchr(name, '/', len)) {
        memmove(name, name + 1, len - 1);
        len--;
    }
    *b->len = start + len;
    if (pos.len && (!put(b, ":", 1) || !put(b, pos.ptr, pos.len)))
        return false;
    name = *b->buf + start;
    len = *b->len - start;
    if (inlined) {
        if (!(len >= 4 && memmem(name, len, "_[i]", 4)) && !put(b, "_[i]", 4))
            return false;
    } else if (o->kernel && f->kernel) {
        if (!put(b, "_[k]", 4))
            return false;
    } else if (o->jit && f->jit) {
        if (!(len >= 4 && memmem(name, len, "_[j]", 4)) && !put(b, "_[j]", 4))
            return false;
    }
    return true;
}

int ps_fold_frame(const ps_frame *f, const ps_fold_options *o, bool java, const char *src,
                  size_t srclen, char **buf, size_t *len, size_t *cap)
{
    sbuf b = {buf, len, cap};
    const char *s = f->sym.ptr;
    size_t n = f->sym.len;
    char small[512];
    char *rbuf = NULL;
    if (n == 0) {
        s = f->has_dso ? " " : "[unknown]";
        n = strlen(s);
    } else if (n >= 17) {
        char *out = n <= sizeof small ? small : (rbuf = malloc(n));
        if (!out)
            return PS_ERR_NOMEM;
        size_t rn = rust_repair(s, n, out);
        if (rn) {
            s = out;
            n = rn;
        }
    }
    ps_str pos = {"", 0};
    if (o->srcline && src)
        pos = srcline_pos(src, srclen);
    int rc = PS_OK;
    size_t p0 = 0;
    bool first = true;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] == '-' && s[i + 1] == '>' && !after_operator(s, i)) {
            if (!first && !put(&b, ";", 1)) {
                rc = PS_ERR_NOMEM;
                goto out;
            }
            if (!piece(&b, f, o, java, s + p0, i - p0, !first, (ps_str){"", 0})) {
                rc = PS_ERR_NOMEM;
                goto out;
            }
            first = false;
            p0 = i + 2;
            i++;
        }
    }
    if ((!first && !put(&b, ";", 1)) || !piece(&b, f, o, java, s + p0, n - p0, !first, pos))
        rc = PS_ERR_NOMEM;
out:
    free(rbuf);
    return rc;
}
