/* Frame lines: `addr sym+0xoff (dso)` (README §4.1) and the
 * kernel/JIT DSO tests (README §4.2). */
#include "ps_internal.h"

static const char deleted_suffix[] = " (deleted)";

bool ps_parse_frame(const char *line, size_t len, ps_frame *f)
{
    size_t s = 0, e = len;
    while (s < e && ps_blank((unsigned char)line[s]))
        s++;
    while (e > s && ps_blank((unsigned char)line[e - 1]))
        e--;
    size_t a = s;
    while (a < e && !ps_blank((unsigned char)line[a]))
        a++;
    if (!ps_all_xdigits(line + s, a - s))
        return false;
    memset(f, 0, sizeof *f);
    f->line = (ps_str){line, len};
    f->addr = (ps_str){line + s, a - s};
    ps_parse_hex(line + s, a - s, &f->address);

    size_t r = a;
    while (r < e && ps_blank((unsigned char)line[r]))
        r++;
    /* R = line[r, e) */
    size_t sym_end = e;
    if (e > r && line[e - 1] == ')') {
        size_t depth = 0, i = e;
        while (i > r) {
            i--;
            char c = line[i];
            if (c == ')') {
                depth++;
            } else if (c == '(') {
                depth--;
                if (depth == 0)
                    break;
            }
        }
        if (depth == 0 && line[i] == '(' && (i == r || ps_blank((unsigned char)line[i - 1]))) {
            f->has_dso = true;
            f->dso = (ps_str){line + i + 1, e - 1 - (i + 1)};
            sym_end = i;
            size_t n = sizeof deleted_suffix - 1;
            if (f->dso.len >= n && memcmp(f->dso.ptr + f->dso.len - n, deleted_suffix, n) == 0) {
                f->dso.len -= n;
                f->deleted = true;
            }
        }
    }
    while (sym_end > r && ps_blank((unsigned char)line[sym_end - 1]))
        sym_end--;
    f->sym = (ps_str){line + r, sym_end - r};

    /* a trailing +0x<hex> */
    const char *sp = f->sym.ptr;
    size_t sl = f->sym.len;
    size_t h = sl;
    while (h > 0 && ps_xdigit((unsigned char)sp[h - 1]))
        h--;
    if (h < sl && h >= 3 && sp[h - 1] == 'x' && sp[h - 2] == '0' && sp[h - 3] == '+')
        f->sym.len = h - 3;

    if (f->has_dso) {
        f->kernel = ps_dso_is_kernel(f->dso.ptr, f->dso.len);
        f->jit = ps_dso_is_jit(f->dso.ptr, f->dso.len);
    }
    return true;
}

static bool vmlinux_tail_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || ps_digit(c) || c == '.' ||
           c == '-' || c == '_';
}

bool ps_dso_is_kernel(const char *d, size_t len)
{
    if (len == 9 && memcmp(d, "[unknown]", 9) == 0)
        return false;
    if (len > 0 && d[0] == '[')
        return true;
    if (len >= 3 && memcmp(d + len - 3, ".ko", 3) == 0)
        return true;
    /* the last "vmlinux", followed only by [A-Za-z0-9._-] */
    for (size_t i = len; i >= 7; i--) {
        if (memcmp(d + i - 7, "vmlinux", 7) == 0) {
            for (size_t j = i; j < len; j++)
                if (!vmlinux_tail_ok((unsigned char)d[j]))
                    return false;
            return true;
        }
    }
    return false;
}

bool ps_dso_is_jit(const char *d, size_t len)
{
    size_t b = len;
    while (b > 0 && d[b - 1] != '/')
        b--;
    const char *base = d + b;
    size_t bl = len - b;
    if (bl > 9 && memcmp(base, "perf-", 5) == 0 && memcmp(base + bl - 4, ".map", 4) == 0 &&
        ps_all_digits(base + 5, bl - 9))
        return true;
    if (len >= 3 && memcmp(d + len - 3, ".so", 3) == 0) {
        for (size_t i = 0; i + 8 <= len; i++)
            if (memcmp(d + i, "/jitted-", 8) == 0)
                return true;
    }
    return false;
}
