/* Sample headers and side-band records (README §3). */
#include "ps_internal.h"

typedef struct tok {
    size_t s, e; /* [s, e) */
} tok;

/* The next token at or after i; false at the end of the line. */
static bool next_tok(const char *l, size_t len, size_t i, tok *t)
{
    while (i < len && ps_blank((unsigned char)l[i]))
        i++;
    if (i >= len)
        return false;
    t->s = i;
    while (i < len && !ps_blank((unsigned char)l[i]))
        i++;
    t->e = i;
    return true;
}

/* The token that ends at or before end; false when there is none. */
static bool prev_tok(const char *l, size_t end, tok *t)
{
    size_t e = end;
    while (e > 0 && ps_blank((unsigned char)l[e - 1]))
        e--;
    if (e == 0)
        return false;
    size_t s = e;
    while (s > 0 && !ps_blank((unsigned char)l[s - 1]))
        s--;
    t->s = s;
    t->e = e;
    return true;
}

size_t ps_scan_timestamp(const char *s, size_t len, uint64_t *ns)
{
    static const uint64_t scale[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                       10000,      1000,      100,      10,      1};
    size_t i = 0;
    uint64_t sec = 0;
    unsigned d;
    /* 19 digits cannot overflow; past them the value stops growing */
    while (i < len && i < 19 && (d = (unsigned char)s[i] - '0') < 10) {
        sec = sec * 10 + d;
        i++;
    }
    while (i < len && (d = (unsigned char)s[i] - '0') < 10) {
        if (sec < UINT64_MAX / 10)
            sec = sec * 10 + d;
        i++;
    }
    if (i == 0 || i >= len || s[i] != '.')
        return 0;
    size_t f0 = ++i;
    uint64_t frac = 0;
    while (i < len && i - f0 < 9 && (d = (unsigned char)s[i] - '0') < 10) {
        frac = frac * 10 + d;
        i++;
    }
    size_t nd = i - f0; /* digits kept: at most 9 */
    while (i < len && ps_digit((unsigned char)s[i]))
        i++;
    if (i == f0 || i >= len || s[i] != ':')
        return 0;
    frac *= scale[nd];
    *ns = sec > UINT64_MAX / 1000000000ULL ? UINT64_MAX : sec * 1000000000ULL + frac;
    return i + 1;
}

/* Whether s is made of digits, '-' and '/' only, with a digit: what perf
 * prints as an id (and a malformed one: `-5/7`, `1/2/3`). */
static bool id_shaped(const char *s, size_t len)
{
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        if (ps_digit((unsigned char)s[i]))
            digit = true;
        else if (s[i] != '-' && s[i] != '/')
            return false;
    }
    return digit;
}

/* `digits` or `digits/digits`, each at most INT32_MAX (pids are ints). */
static bool parse_id(const char *s, size_t len, ps_header *h)
{
    const char *slash = memchr(s, '/', len);
    uint64_t a, b;
    if (!slash) {
        if (!ps_parse_u64(s, len, &a) || a > INT32_MAX)
            return false;
        h->has_tid = true;
        h->tid = (int64_t)a;
        h->has_pid = false;
        h->pid = -1;
        return true;
    }
    size_t n1 = (size_t)(slash - s);
    if (!ps_parse_u64(s, n1, &a) || !ps_parse_u64(slash + 1, len - n1 - 1, &b) || a > INT32_MAX ||
        b > INT32_MAX)
        return false;
    h->has_pid = h->has_tid = true;
    h->pid = (int64_t)a;
    h->tid = (int64_t)b;
    return true;
}

static bool is_id(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);
    if (!slash)
        return ps_all_digits(s, len);
    size_t n1 = (size_t)(slash - s);
    return ps_all_digits(s, n1) && ps_all_digits(slash + 1, len - n1 - 1);
}

/* `[digits]`, at most INT32_MAX. */
static bool parse_cpu(const char *s, size_t len, ps_header *h)
{
    uint64_t v;
    if (len < 3 || s[0] != '[' || s[len - 1] != ']' || !ps_parse_u64(s + 1, len - 2, &v) ||
        v > INT32_MAX)
        return false;
    h->has_cpu = true;
    h->cpu = (int32_t)v;
    return true;
}

/* `[...]` around something id-shaped: a cpu field, well formed or not. */
static bool cpu_shaped(const char *s, size_t len)
{
    return len >= 3 && s[0] == '[' && s[len - 1] == ']' && id_shaped(s + 1, len - 2) &&
           !memchr(s + 1, '/', len - 2);
}

static ps_str trimmed(const char *l, size_t s, size_t e)
{
    while (s < e && ps_blank((unsigned char)l[s]))
        s++;
    while (e > s && ps_blank((unsigned char)l[e - 1]))
        e--;
    return (ps_str){l + s, e - s};
}

/* The tail after the timestamp (or id): side-band marker, period, event,
 * then event text or a frame. */
static void parse_tail(const char *l, size_t len, size_t i, ps_header *h)
{
    tok t;
    h->kind = PS_LINE_HEADER;
    if (!next_tok(l, len, i, &t)) {
        h->tail = (ps_str){l + len, 0};
        return;
    }
    if (t.e - t.s >= 12 && memcmp(l + t.s, "PERF_RECORD_", 12) == 0) {
        h->kind = PS_LINE_SIDEBAND;
        h->record = trimmed(l, t.s, len);
        return;
    }
    uint64_t v;
    if (ps_parse_u64(l + t.s, t.e - t.s, &v)) {
        h->has_period = true;
        /* pprof values are signed 64-bit: a larger period saturates */
        h->period_clamped = v > INT64_MAX;
        h->period = v > INT64_MAX ? INT64_MAX : v;
        i = t.e;
        if (!next_tok(l, len, i, &t)) {
            h->tail = (ps_str){l + len, 0};
            return;
        }
    } else if (t.e - t.s >= 2 && l[t.s] == '-' && ps_all_digits(l + t.s + 1, t.e - t.s - 1)) {
        h->kind = PS_LINE_BAD_HEADER; /* a negative period */
        return;
    }
    if (l[t.e - 1] == ':') {
        h->has_event = true;
        h->event = (ps_str){l + t.s, t.e - t.s - 1};
        i = t.e;
        if (!next_tok(l, len, i, &t)) {
            h->tail = (ps_str){l + len, 0};
            return;
        }
    }
    h->tail = trimmed(l, t.s, len);
    h->tail_is_frame = ps_all_xdigits(l + t.s, t.e - t.s);
}

void ps_parse_header(const char *l, size_t len, int rules, ps_header *h)
{
    memset(h, 0, sizeof *h);
    h->pid = h->tid = -1;
    h->cpu = -1;
    h->kind = PS_LINE_OTHER;

    /* Rule A: the first `digits.digits:` token, found from the colons
     * (the comm and ids before it are not tokenized on the way). */
    size_t pos = 0;
    const char *c;
    while (pos < len && (c = memchr(l + pos, ':', len - pos)) != NULL) {
        size_t i = (size_t)(c - l);
        pos = i + 1;
        if (pos < len && !ps_blank((unsigned char)l[pos]))
            continue; /* the colon does not end a token */
        size_t ts = i;
        while (ts > 0 && !ps_blank((unsigned char)l[ts - 1]))
            ts--;
        uint64_t ns;
        if (!ps_digit((unsigned char)l[ts]) ||
            ps_scan_timestamp(l + ts, i + 1 - ts, &ns) != i + 1 - ts)
            continue;
        size_t leftmost = ts;
        h->has_time = true;
        h->time_ns = ns;
        h->time_pos = ts;
        h->time_end = i;
        tok prev1, prev2;
        bool have1 = prev_tok(l, ts, &prev1);
        bool have2 = have1 && prev_tok(l, prev1.s, &prev2);
        tok idt = prev1;
        bool have_id = have1, bad = false;
        if (have1 && parse_cpu(l + prev1.s, prev1.e - prev1.s, h)) {
            leftmost = prev1.s;
            idt = prev2;
            have_id = have2;
        } else if (have1 && cpu_shaped(l + prev1.s, prev1.e - prev1.s)) {
            bad = true; /* `[-1]` */
        }
        if (have_id && parse_id(l + idt.s, idt.e - idt.s, h)) {
            leftmost = idt.s;
            h->id_before_time = true;
        } else if (have_id && id_shaped(l + idt.s, idt.e - idt.s)) {
            bad = true; /* `-5/7`, a pid beyond INT32_MAX: no comm text */
        }
        h->rule = PS_RULE_A;
        h->comm = trimmed(l, 0, leftmost);
        parse_tail(l, len, i + 1, h);
        if (bad && h->kind != PS_LINE_SIDEBAND)
            h->kind = PS_LINE_BAD_HEADER;
        return;
    }

    tok t;
    size_t i;
    tok first;
    if (!next_tok(l, len, 0, &first))
        return;
    if (rules & PS_RULE_B) {
        i = first.e;
        while (next_tok(l, len, i, &t)) {
            if (id_shaped(l + t.s, t.e - t.s) && !parse_id(l + t.s, t.e - t.s, h)) {
                h->rule = PS_RULE_B; /* `prog -5 ...`, an id beyond INT32_MAX */
                h->kind = PS_LINE_BAD_HEADER;
                return;
            }
            if (is_id(l + t.s, t.e - t.s)) {
                h->rule = PS_RULE_B;
                h->comm = trimmed(l, 0, t.s);
                i = t.e;
                tok cpu;
                if (next_tok(l, len, i, &cpu) && parse_cpu(l + cpu.s, cpu.e - cpu.s, h))
                    i = cpu.e;
                parse_tail(l, len, i, h);
                return;
            }
            i = t.e;
        }
    }
    if ((rules & PS_RULE_C) && !ps_blank((unsigned char)l[0]) &&
        !ps_all_xdigits(l + first.s, first.e - first.s)) {
        h->rule = PS_RULE_C;
        h->kind = PS_LINE_HEADER;
        h->comm = trimmed(l, 0, len);
        h->tail = (ps_str){l + len, 0};
    }
}

/* ---- header templates ---- */

static ps_str rebase_into(ps_str s, const char *from, size_t from_len, const char *to, size_t split,
                          size_t shift)
{
    if (s.ptr < from || s.ptr > from + from_len)
        return s; /* a static empty string */
    size_t off = (size_t)(s.ptr - from);
    if (off > split)
        off += shift; /* size_t arithmetic: a negative shift wraps back */
    return (ps_str){to + off, s.len};
}

void ps_keep_template(ps_htmpl *t, const char *l, size_t n, const ps_header *h)
{
    t->valid = false;
    if (h->kind != PS_LINE_HEADER || h->rule != PS_RULE_A || !h->has_time || h->tail_is_frame ||
        n > PS_TMPL_MAX)
        return;
    memcpy(t->line, l, n);
    t->len = n;
    t->ts = h->time_pos;
    t->te = h->time_end;
    t->dot = (size_t)((const char *)memchr(l + t->ts, '.', t->te - t->ts) - l);
    t->h = *h;
    t->h.comm = rebase_into(h->comm, l, n, t->line, 0, 0);
    t->h.event = rebase_into(h->event, l, n, t->line, 0, 0);
    t->h.tail = rebase_into(h->tail, l, n, t->line, 0, 0);
    t->h.record = rebase_into(h->record, l, n, t->line, 0, 0);
    t->valid = true;
}

/* Up to 8 decimal digits in the bytes of w (little-endian, the last
 * digit in the top byte, the bytes before the first digit '0'): their
 * value, eight at a time. false when one of the top k bytes is no digit. */
static inline bool swar_digits(uint64_t w, size_t k, uint64_t *out)
{
    uint64_t keep = k == 8 ? ~0ULL : ~0ULL << (8 * (8 - k)); /* the top k bytes */
    uint64_t ascii = 0x3030303030303030ULL;
    w = (w & keep) | (ascii & ~keep);
    /* digits: high nibble 3, and adding 6 leaves it 3 */
    if (((w & 0xf0f0f0f0f0f0f0f0ULL) |
         ((w + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4) !=
        0x3030303030303030ULL + (0x3030303030303030ULL >> 4))
        return false;
    w -= ascii;
    w = w * 10 + (w >> 8);
    *out = (((w & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32))) +
            (((w >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32)))) >>
           32;
    return true;
}

/* The timestamp of a line as long as the template, whose digits then sit
 * where the template's do: what ps_scan_timestamp finds, 0 when a byte of
 * it is not a digit there or the timestamp is of a shape this does not
 * read (over 8 digits either side of the point, too near the line's start
 * or end to read 8 bytes). */
static size_t same_shape_time(const ps_htmpl *t, const char *l, uint64_t *ns)
{
    static const uint64_t scale[9] = {0,     100000000, 10000000, 1000000, 100000,
                                      10000, 1000,      100,      10};
    size_t nsec = t->dot - t->ts, nfrac = t->te - t->dot - 1;
    if (nsec > 8 || nfrac > 8 || t->dot < 8 || t->len < t->dot + 9 || l[t->dot] != '.' ||
        l[t->te] != ':')
        return 0;
    uint64_t a, b, sec, frac;
    memcpy(&a, l + t->dot - 8, 8); /* the seconds end in the top byte */
    memcpy(&b, l + t->dot + 1, 8); /* the fraction starts in the low byte */
    b <<= 8 * (8 - nfrac);         /* ... and now ends in the top byte */
    if (!swar_digits(a, nsec, &sec) || !swar_digits(b, nfrac, &frac))
        return 0;
    *ns = sec * 1000000000ULL + frac * scale[nfrac];
    return t->te + 1 - t->ts;
}

size_t ps_template_time(const ps_htmpl *t, const char *l, size_t n, uint64_t *ns)
{
    if (!t->valid || n < t->ts + 4 || !ps_eq(l, t->line, t->ts))
        return 0;
    size_t k = n == t->len ? same_shape_time(t, l, ns) : 0;
    if (k == 0)
        k = ps_scan_timestamp(l + t->ts, n - t->ts, ns);
    size_t j = t->ts + k - 1, tail = t->len - t->te; /* j, te: the colons */
    if (k == 0 || n - j != tail || !ps_eq(l + j, t->line + t->te, tail))
        return 0;
    return j;
}

bool ps_header_from_template(const ps_htmpl *t, const char *l, size_t n, ps_header *out)
{
    uint64_t ns;
    size_t j = ps_template_time(t, l, n, &ns);
    if (!j)
        return false;
    *out = t->h;
    /* strings after the timestamp move with its length */
    size_t shift = j - t->te; /* modulo arithmetic: a shorter time wraps back */
    out->comm = rebase_into(t->h.comm, t->line, t->len, l, t->te, shift);
    out->event = rebase_into(t->h.event, t->line, t->len, l, t->te, shift);
    out->tail = rebase_into(t->h.tail, t->line, t->len, l, t->te, shift);
    out->record = rebase_into(t->h.record, t->line, t->len, l, t->te, shift);
    out->time_ns = ns;
    out->time_end = j;
    return true;
}

/* ---- side-band records ---- */

static bool skip_lit(const char **s, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(e - *s) < n || memcmp(*s, lit, n) != 0)
        return false;
    *s += n;
    return true;
}

static void skip_blanks(const char **s, const char *e)
{
    while (*s < e && ps_blank((unsigned char)**s))
        (*s)++;
}

/* A number as perf prints it: 0x-prefixed hex, or decimal. */
static bool read_num(const char **s, const char *e, uint64_t *v)
{
    const char *p = *s;
    if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        const char *q = p;
        while (q < e && ps_xdigit((unsigned char)*q))
            q++;
        if (!ps_parse_hex(p, (size_t)(q - p), v))
            return false;
        *s = q;
        return true;
    }
    const char *q = p;
    while (q < e && ps_digit((unsigned char)*q))
        q++;
    if (!ps_parse_u64(p, (size_t)(q - p), v))
        return false;
    *s = q;
    return true;
}

static bool read_int(const char **s, const char *e, int64_t *v)
{
    bool neg = skip_lit(s, e, "-");
    uint64_t u;
    if (!read_num(s, e, &u))
        return false;
    if (u > INT64_MAX)
        u = INT64_MAX;
    *v = neg ? -(int64_t)u : (int64_t)u;
    return true;
}

bool ps_parse_mmap(const ps_str *record, ps_mmap *m)
{
    const char *s = record->ptr, *e = record->ptr + record->len;
    memset(m, 0, sizeof *m);
    if (skip_lit(&s, e, "PERF_RECORD_MMAP2"))
        m->mmap2 = true;
    else if (!skip_lit(&s, e, "PERF_RECORD_MMAP"))
        return false;
    if (s >= e || !ps_blank((unsigned char)*s))
        return false;
    skip_blanks(&s, e);
    if (!read_int(&s, e, &m->pid) || !skip_lit(&s, e, "/") || !read_int(&s, e, &m->tid) ||
        !skip_lit(&s, e, ":"))
        return false;
    skip_blanks(&s, e);
    if (!skip_lit(&s, e, "[") || !read_num(&s, e, &m->start) || !skip_lit(&s, e, "(") ||
        !read_num(&s, e, &m->len) || !skip_lit(&s, e, ")"))
        return false;
    skip_blanks(&s, e);
    if (!skip_lit(&s, e, "@"))
        return false;
    skip_blanks(&s, e);
    if (!read_num(&s, e, &m->pgoff))
        return false;
    const char *close = memchr(s, ']', (size_t)(e - s));
    if (!close)
        return false;
    const char *lt = memchr(s, '<', (size_t)(close - s));
    if (lt) {
        const char *gt = memchr(lt, '>', (size_t)(close - lt));
        if (gt)
            m->build_id = (ps_str){lt + 1, (size_t)(gt - lt - 1)};
    } else if (m->mmap2) {
        /* maj:min ino ino_generation (hex device numbers) */
        const char *q = s;
        skip_blanks(&q, close);
        const char *c0 = q;
        while (q < close && ps_xdigit((unsigned char)*q))
            q++;
        uint64_t maj, min, ino;
        if (ps_parse_hex(c0, (size_t)(q - c0), &maj) && skip_lit(&q, close, ":")) {
            const char *m0 = q;
            while (q < close && ps_xdigit((unsigned char)*q))
                q++;
            if (ps_parse_hex(m0, (size_t)(q - m0), &min)) {
                skip_blanks(&q, close);
                if (read_num(&q, close, &ino)) {
                    m->dev_known = true;
                    m->maj = (unsigned)maj;
                    m->min = (unsigned)min;
                    m->ino = ino;
                }
            }
        }
    }
    s = close + 1;
    if (!skip_lit(&s, e, ":"))
        return false;
    skip_blanks(&s, e);
    const char *p0 = s;
    while (s < e && !ps_blank((unsigned char)*s))
        s++;
    m->prot = (ps_str){p0, (size_t)(s - p0)};
    skip_blanks(&s, e);
    const char *pe = e;
    while (pe > s && ps_blank((unsigned char)pe[-1]))
        pe--;
    m->path = (ps_str){s, (size_t)(pe - s)};
    return m->path.len > 0;
}

bool ps_parse_fork(const ps_str *record, int64_t *pid, int64_t *ppid, int64_t *tid)
{
    const char *s = record->ptr, *e = record->ptr + record->len;
    int64_t ptid;
    return skip_lit(&s, e, "PERF_RECORD_FORK(") && read_int(&s, e, pid) && skip_lit(&s, e, ":") &&
           read_int(&s, e, tid) && skip_lit(&s, e, "):(") && read_int(&s, e, ppid) &&
           skip_lit(&s, e, ":") && read_int(&s, e, &ptid);
}

bool ps_parse_comm_record(const ps_str *record, ps_str *name, int64_t *pid, int64_t *tid,
                          bool *exec)
{
    const char *s = record->ptr, *e = record->ptr + record->len;
    if (!skip_lit(&s, e, "PERF_RECORD_COMM"))
        return false;
    *exec = skip_lit(&s, e, " exec");
    const char *colon = memchr(s, ':', (size_t)(e - s));
    if (!colon)
        return false;
    s = colon + 1;
    skip_blanks(&s, e);
    const char *last = NULL;
    for (const char *q = s; q < e; q++)
        if (*q == ':')
            last = q;
    if (!last)
        return false;
    *name = (ps_str){s, (size_t)(last - s)};
    const char *q = last + 1;
    if (!read_int(&q, e, pid) || !skip_lit(&q, e, "/") || !read_int(&q, e, tid))
        return false;
    return true;
}
