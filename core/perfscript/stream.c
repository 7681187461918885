/* The streaming parser: the parser's life cycle, line splitting and the
 * line states of README §2. A line goes to sample assembly (sample.c),
 * and the lines after a known frame are first read as the frames
 * predicted to follow it (predict.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"
#include "stacks.h"

#if defined(__SSE2__)
#include <emmintrin.h>

/* Bit i set when s[i] is a newline, for 64 bytes. */
static inline uint64_t newline_mask(const char *s)
{
    const __m128i nl = _mm_set1_epi8('\n');
    uint64_t m0 =
        (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)s), nl));
    uint64_t m1 =
        (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + 16)), nl));
    uint64_t m2 =
        (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + 32)), nl));
    uint64_t m3 =
        (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + 48)), nl));
    return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}
#define PS_HAVE_NEWLINE_MASK 1
#endif

#define PS_MAX_LINE (1u << 20) /* longer lines are cut (binary garbage) */

ps_parser *ps_new(const ps_options *opts)
{
    ps_parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (opts)
        p->opts = *opts;
    if (p->opts.keep_tid)
        p->opts.keep_pid = true;
    p->state = PS_START;
    ps_vec_init(&p->frames.list, sizeof(ps_frame));
    ps_strtab_init(&p->frames.text, &p->arena);
    ps_vec_init(&p->chain.succ, sizeof(ps_succ));
    ps_strtab_init(&p->names.events, &p->arena);
    ps_strtab_init(&p->names.comms, &p->arena);
    ps_strtab_init(&p->names.srclines, &p->arena);
    ps_vec_init(&p->cur.frames, sizeof(uint32_t));
    ps_vec_init(&p->cur.src, sizeof(uint32_t));
    ps_stacks_init(p);
    ps_vec_init(&p->mmaps, sizeof(ps_mmap));
    ps_vec_init(&p->evinfo, sizeof(ps_event_info));
    ps_vec_init(&p->warn.list, sizeof(char *));
    return p;
}

void ps_free(ps_parser *p)
{
    if (!p)
        return;
    free(p->carry.buf);
    ps_vec_free(&p->frames.list);
    ps_strtab_free(&p->frames.text);
    ps_vec_free(&p->chain.succ);
    ps_strtab_free(&p->names.events);
    ps_strtab_free(&p->names.comms);
    ps_strtab_free(&p->names.srclines);
    ps_vec_free(&p->cur.frames);
    ps_vec_free(&p->cur.src);
    ps_stacks_free(p);
    ps_vec_free(&p->mmaps);
    ps_vec_free(&p->evinfo);
    ps_imap_free(&p->threads.comm);
    ps_imap_free(&p->threads.pid);
    for (size_t i = 0; i < p->warn.list.len; i++)
        free(PS_VEC_AT(&p->warn.list, char *, i));
    ps_vec_free(&p->warn.list);
    ps_arena_free(&p->arena);
    free(p);
}

int ps_warn(ps_parser *p, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (!s || !ps_vec_push(&p->warn.list, &s)) {
        free(s);
        return PS_ERR_NOMEM;
    }
    return PS_OK;
}

/* A line without its newline (and \r) and its frame-table hash (which
 * only a line read in a sample needs: ps_feed leaves it 0 in the start
 * state). */
static int process_line_h(ps_parser *p, const char *l, size_t n, uint64_t h)
{
    p->stats.lines++;
    p->chain.pred = 0;
    if (p->state == PS_IN_SAMPLE && n && p->frames.text.nslots) {
        /* the hot path: a frame line seen before needs no parsing at all
         * (a cached line is never a separator, comment or header) */
        size_t slot;
        uint32_t id = ps_frame_lookup(p, l, n, h, &slot);
        if (id)
            return ps_chain_frame(p, id);
    }
    if (n && l[0] == '#')
        return PS_OK;
    size_t i = 0;
    while (i < n && ps_blank((unsigned char)l[i]))
        i++;
    if (i == n) /* a separator */
        return ps_end_callchain(p);
    ps_header hd;
    switch (p->state) {
    case PS_IN_SAMPLE:
        return ps_in_sample_line(p, l, n, h);
    case PS_START: {
        /* a template's header with this line's time (the last template
         * that matched first): its strings are not needed, their ids are
         * the template's */
        for (unsigned k = 0; k < PS_TEMPLATES; k++) {
            unsigned t = (p->hdr.last + k) % PS_TEMPLATES;
            uint64_t ns;
            size_t colon = ps_template_time(&p->hdr.tmpl[t], l, n, &ns);
            if (colon) {
                p->hdr.last = t;
                p->cur.h = p->hdr.tmpl[t].h;
                p->cur.h.time_ns = ns;
                p->cur.h.time_end = colon;
                p->hdr.last_comm = p->hdr.comm[t];
                p->hdr.last_event = p->hdr.event[t];
                return ps_sample_begin(p, &p->cur.h, p->hdr.comm[t], p->hdr.event[t]);
            }
        }
        ps_parse_header(l, n, PS_RULE_A | PS_RULE_B | PS_RULE_C, &hd);
        if (hd.kind == PS_LINE_SIDEBAND)
            return ps_sideband(p, &hd);
        if (hd.kind == PS_LINE_HEADER) {
            unsigned t = p->hdr.next;
            ps_keep_template(&p->hdr.tmpl[t], l, n, &hd);
            int rc = ps_sample_header(p, &hd);
            if (p->hdr.tmpl[t].valid) {
                p->hdr.comm[t] = p->cur.comm;
                p->hdr.event[t] = p->cur.event;
                p->hdr.last = t;
                p->hdr.next = (t + 1) % PS_TEMPLATES;
            }
            return rc;
        }
        p->state = PS_SKIP;
        if (hd.kind == PS_LINE_BAD_HEADER)
            return ps_bad_header(p, l, n);
        p->stats.headerless_blocks++;
        return ps_unrecognized(p, l, n);
    }
    case PS_AFTER_ONELINE:
        ps_parse_header(l, n, PS_RULE_A | PS_RULE_B, &hd);
        if (hd.kind == PS_LINE_SIDEBAND)
            return ps_sideband(p, &hd);
        if (hd.kind == PS_LINE_HEADER)
            return ps_sample_header(p, &hd);
        if (hd.kind == PS_LINE_BAD_HEADER)
            return ps_bad_header(p, l, n);
        return PS_OK;
    default: /* PS_SKIP: up to the next separator */
        return PS_OK;
    }
}

static int process_line(ps_parser *p, const char *l, size_t n)
{
    if (n && l[n - 1] == '\r')
        n--;
    return process_line_h(p, l, n, ps_hash(l, n, PS_FRAME_SEED));
}

static int carry_append(ps_parser *p, const char *s, size_t n)
{
    if (p->carry.len + n > PS_MAX_LINE) {
        p->carry.overflow = true;
        n = PS_MAX_LINE - p->carry.len;
    }
    if (p->carry.len + n > p->carry.cap) {
        size_t cap = p->carry.cap ? p->carry.cap : 256;
        while (cap < p->carry.len + n)
            cap *= 2;
        char *c = realloc(p->carry.buf, cap);
        if (!c)
            return PS_ERR_NOMEM;
        p->carry.buf = c;
        p->carry.cap = cap;
    }
    memcpy(p->carry.buf + p->carry.len, s, n);
    p->carry.len += n;
    return PS_OK;
}

static int fail(ps_parser *p, int rc)
{
    p->failed = true;
    if (rc == PS_ERR_NOMEM)
        snprintf(p->error, sizeof p->error, "out of memory");
    return rc;
}

int ps_feed(ps_parser *p, const char *data, size_t len)
{
    if (p->failed)
        return PS_ERR_STATE;
    if (p->finished) {
        snprintf(p->error, sizeof p->error, "feed after finish");
        return PS_ERR_STATE;
    }
    p->stats.bytes += len;
    const char *s = data, *e = data + len;
    int rc;
    if (p->carry.len || p->carry.overflow) {
        const char *nl = memchr(s, '\n', len);
        if (!nl) {
            rc = carry_append(p, s, len);
            return rc ? fail(p, rc) : PS_OK;
        }
        rc = carry_append(p, s, (size_t)(nl - s));
        if (!rc)
            rc = process_line(p, p->carry.buf, p->carry.len);
        p->carry.len = 0;
        p->carry.overflow = false;
        if (rc)
            return fail(p, rc);
        s = nl + 1;
    }
    const char *scan = s; /* newlines before scan are handled */
#ifdef PS_HAVE_NEWLINE_MASK
    /* 64 bytes at a time: walk the bits of the newline mask. Each line is
     * hashed one step ahead and its frame-table slot prefetched, so the
     * table lookups of consecutive lines overlap. */
    const char *pl = NULL;
    size_t pn = 0;
    uint64_t ph = 0;
    while (e - scan >= 64) {
        uint64_t m = newline_mask(scan);
        bool jumped = false;
        while (m) {
            const char *nl = scan + __builtin_ctzll(m);
            size_t n = (size_t)(nl - s);
            if (n && s[n - 1] == '\r')
                n--;
            /* a line read in the start state (a header) is not looked up */
            uint64_t h = 0;
            if (pl || p->state != PS_START) {
                h = ps_hash(s, n, PS_FRAME_SEED);
                const ps_strtab *ft = &p->frames.text;
                if (ft->nslots)
                    __builtin_prefetch(&ft->slots[(size_t)h & (ft->nslots - 1)]);
            }
            if (pl) {
                if ((rc = process_line_h(p, pl, pn, ph)) != PS_OK)
                    return fail(p, rc);
                if (p->chain.pred) {
                    /* the lines from s on may be the ones that followed
                     * last time: then no lookup, and the scan jumps */
                    const char *q = ps_predicted(p, s, e, &rc);
                    if (rc)
                        return fail(p, rc);
                    if (q != s) {
                        s = scan = q;
                        pl = NULL;
                        jumped = true;
                        break;
                    }
                }
            }
            pl = s;
            pn = n;
            ph = h;
            s = nl + 1;
            m &= m - 1;
        }
        if (!jumped)
            scan += 64;
    }
    if (pl && (rc = process_line_h(p, pl, pn, ph)) != PS_OK)
        return fail(p, rc);
#endif
    while (scan < e) {
        const char *nl = memchr(scan, '\n', (size_t)(e - scan));
        if (!nl)
            break;
        rc = process_line(p, s, (size_t)(nl - s));
        if (rc)
            return fail(p, rc);
        s = scan = nl + 1;
    }
    if (s < e) {
        rc = carry_append(p, s, (size_t)(e - s));
        if (rc)
            return fail(p, rc);
    }
    return PS_OK;
}

int ps_finish(ps_parser *p)
{
    if (p->failed)
        return PS_ERR_STATE;
    if (p->finished)
        return PS_OK;
    p->finished = true;
    int rc = PS_OK;
    if (p->carry.len) {
        rc = process_line(p, p->carry.buf, p->carry.len);
        p->carry.len = 0;
        if (rc)
            return fail(p, rc);
    }
    p->stats.truncated = p->cur.active;
    rc = ps_sample_end(p);
    if (!rc)
        rc = ps_stacks_flush(p);
    if (rc)
        return fail(p, rc);
    if (p->stats.headerless_blocks)
        rc = ps_warn(p,
                     "skipped %llu blocks of lines without a sample header "
                     "(print comm, tid and time with perf script -F)",
                     (unsigned long long)p->stats.headerless_blocks);
    if (!rc && p->stats.unrecognized > p->stats.headerless_blocks)
        rc = ps_warn(p, "skipped %llu unrecognized lines (the first at line %llu)",
                     (unsigned long long)(p->stats.unrecognized - p->stats.headerless_blocks),
                     (unsigned long long)p->stats.first_unrecognized);
    return rc ? fail(p, rc) : PS_OK;
}
