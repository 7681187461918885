/* The streaming parser: line splitting, the line states of README §2,
 * the frame-line intern table and sample assembly. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ps_internal.h"
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
#define FRAME_SEED 0x9ae16a3b2f90404fULL

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
    ps_vec_init(&p->frames.lines, sizeof(ps_fline));
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
    ps_vec_free(&p->frames.lines);
    ps_vec_free(&p->chain.succ);
    free(p->frames.slots);
    ps_strtab_free(&p->names.events);
    ps_strtab_free(&p->names.comms);
    ps_strtab_free(&p->names.srclines);
    ps_vec_free(&p->cur.frames);
    ps_vec_free(&p->cur.src);
    ps_stacks_free(p);
    ps_vec_free(&p->mmaps);
    ps_vec_free(&p->evinfo);
    free(p->threads.pc_pid);
    free(p->threads.pc_comm);
    free(p->threads.tp_tid);
    free(p->threads.tp_pid);
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

/* ---- samples ---- */

static int end_sample(ps_parser *p)
{
    if (!p->cur.active)
        return PS_OK;
    p->cur.active = false;
    p->cur.last_was_frame = false;
    p->stats.samples++;
    return ps_stacks_add(p);
}

static inline int add_frame(ps_parser *p, uint32_t id)
{
    if (p->cur.frames.len == p->cur.frames.cap && !ps_vec_reserve(&p->cur.frames, 1))
        return PS_ERR_NOMEM;
    ((uint32_t *)p->cur.frames.data)[p->cur.frames.len++] = id;
    if (p->cur.has_src) { /* srclines are kept per frame once there is one */
        if (!ps_vec_reserve(&p->cur.src, 1))
            return PS_ERR_NOMEM;
        ((uint32_t *)p->cur.src.data)[p->cur.src.len++] = 0;
    }
    p->stats.frames++;
    p->cur.last_was_frame = true;
    return PS_OK;
}

/* Learns that `to` (a frame id or PS_SUCC_END) followed: what followed
 * before becomes the alternative. */
static inline void learn_succ(ps_succ *sc, uint32_t to)
{
    if (sc->next != to) {
        sc->alt = sc->next;
        sc->next = to;
    }
}

/* A frame of the callchain being read: it is learnt as the successor of
 * the frame before it, and its own successor becomes the prediction. */
static inline int chain_frame(ps_parser *p, uint32_t id)
{
    ps_succ *succ = p->chain.succ.data;
    if (p->chain.last_link)
        learn_succ(&succ[p->chain.last_link - 1], id);
    p->chain.last_link = id;
    p->chain.pred = succ[id - 1].next;
    return add_frame(p, id);
}

/* Starts a sample of header h whose comm and event are interned (0 =
 * none); h may be p->cur.h. */
static int start_sample(ps_parser *p, const ps_header *h, uint32_t comm, uint32_t event)
{
    p->cur.active = true;
    p->cur.last_was_frame = false;
    p->chain.last_link = 0;
    if (h != &p->cur.h)
        p->cur.h = *h;
    p->cur.comm = comm;
    p->cur.event = event;
    if (h->has_event) {
        if (!p->names.first_event)
            p->names.first_event = p->cur.event;
        while (p->evinfo.len < p->cur.event) {
            ps_event_info z = {0, 0, 0, false};
            if (!ps_vec_push(&p->evinfo, &z))
                return PS_ERR_NOMEM;
        }
        ps_event_info *ev = &PS_VEC_AT(&p->evinfo, ps_event_info, p->cur.event - 1);
        if (h->has_period) {
            if (ev->samples == 0) {
                ev->period = h->period;
                ev->period_fixed = true;
            } else if (ev->period != h->period) {
                ev->period_fixed = false;
            }
        } else {
            ev->period_fixed = false;
        }
        ev->samples++;
        ev->weight = ps_sat_add(ev->weight, h->has_period ? h->period : 1);
    }
    if (h->period_clamped && !p->warn.period) {
        p->warn.period = true;
        if (ps_warn(p, "line %llu: a period at or beyond 2^63 is counted as %lld (pprof values "
                       "are signed 64-bit numbers)",
                    (unsigned long long)p->stats.lines, (long long)INT64_MAX))
            return PS_ERR_NOMEM;
    }
    if (p->cur.comm && h->has_pid && h->pid == h->tid &&
        ps_process_comm(p, h->pid) != p->cur.comm && ps_set_process_comm(p, h->pid, p->cur.comm))
        return PS_ERR_NOMEM;
    /* the strings of cur point into the line: keep only what is needed */
    p->cur.h.comm = (ps_str){"", 0};
    p->cur.h.event = (ps_str){"", 0};
    p->cur.h.tail = (ps_str){"", 0};
    p->cur.h.record = (ps_str){"", 0};
    p->cur.frames.len = 0;
    p->cur.src.len = 0;
    p->cur.has_src = false;
    if (h->has_time) {
        if (!p->stats.has_time || h->time_ns < p->stats.time_first_ns)
            p->stats.time_first_ns = h->time_ns;
        if (!p->stats.has_time || h->time_ns > p->stats.time_last_ns)
            p->stats.time_last_ns = h->time_ns;
        p->stats.has_time = true;
    }
    if (!h->tail_is_frame) {
        p->state = PS_IN_SAMPLE;
        return PS_OK;
    }
    /* a one-line sample: the frame is on the header line (a template's
     * header never has one, so h's strings point into the line) */
    const char *l = h->tail.ptr;
    size_t n = h->tail.len;
    /* header frames are keyed apart from callchain lines of the same text */
    uint64_t hash = ps_hash(l, n, FRAME_SEED ^ 1);
    size_t slot;
    uint32_t id = ps_frame_find(p, l, n, hash, &slot);
    if (id == 0)
        id = ps_frame_add(p, l, n, hash, slot, true);
    if (id == UINT32_MAX)
        return PS_ERR_NOMEM;
    if (id) {
        int rc = add_frame(p, id);
        if (rc)
            return rc;
    }
    p->state = PS_AFTER_ONELINE;
    return end_sample(p);
}

/* The id of s in t, *last first (a header's strings usually repeat the
 * previous header's); 0 when out of memory. */
static uint32_t intern_again(ps_strtab *t, uint32_t *last, ps_str s)
{
    ps_str prev = ps_strtab_get(t, *last);
    if (*last && prev.len == s.len && ps_eq(prev.ptr, s.ptr, s.len))
        return *last;
    return *last = ps_strtab_intern(t, s.ptr, s.len);
}

/* Starts a sample of a parsed header, its comm and event interned. */
static int begin_sample(ps_parser *p, const ps_header *h)
{
    uint32_t comm = 0, event = 0;
    if (h->comm.len && !(comm = intern_again(&p->names.comms, &p->hdr.last_comm, h->comm)))
        return PS_ERR_NOMEM;
    if (h->has_event && !(event = intern_again(&p->names.events, &p->hdr.last_event, h->event)))
        return PS_ERR_NOMEM;
    return start_sample(p, h, comm, event);
}

/* The blank line after a sample: the callchain ended after its last frame
 * (learnt as that frame's successor), and the next line starts afresh. */
static int end_callchain(ps_parser *p)
{
    if (p->cur.active && p->chain.last_link)
        learn_succ(&PS_VEC_AT(&p->chain.succ, ps_succ, p->chain.last_link - 1), PS_SUCC_END);
    p->chain.last_link = 0;
    p->state = PS_START;
    return end_sample(p);
}

/* ---- predicted lines ---- */

/* Whether the line at s is `id`: the blank line for PS_SUCC_END, else
 * exactly the text of frame id. */
static inline bool line_is(const ps_fline *fl, uint32_t id, const char *s, const char *e)
{
    if (id == PS_SUCC_END)
        return s < e && *s == '\n';
    const ps_fline *f = &fl[id - 1];
    return (size_t)(e - s) > f->len && s[f->len] == '\n' && ps_eq(s, f->ptr, f->len);
}

/* Reads the lines at s that are the predicted frames (and the blank line
 * that ends the callchain where that is predicted) as process_line_h would
 * read them; returns where it stopped. A line that is not the frame's
 * last successor may be the one before (then the two change places). */
static const char *predicted(ps_parser *p, const char *s, const char *e, int *rc)
{
    const ps_fline *fl = p->frames.lines.data;
    ps_succ *succ = p->chain.succ.data;
    uint32_t id = p->chain.pred, prev = p->chain.last_link; /* pred != 0: prev is a frame */
    *rc = PS_OK;
    p->chain.pred = 0;
    if (p->cur.has_src)
        return s; /* srcline ids go with every frame: read line by line */
    /* the frame ids go straight into cur.frames, the counters once at the end */
    uint32_t *out = p->cur.frames.data;
    size_t len = p->cur.frames.len, n = 0;
    bool ended = false;
    for (;;) {
        __builtin_prefetch(s + 512); /* the input ahead, read by another core */
        if (!line_is(fl, id, s, e)) {
            ps_succ *sc = &succ[prev - 1];
            uint32_t alt = sc->alt;
            if (!alt || !line_is(fl, alt, s, e))
                break;
            sc->alt = id;
            sc->next = alt;
            id = alt;
        }
        if (id == PS_SUCC_END) {
            ended = true;
            break;
        }
        if (len == p->cur.frames.cap) {
            p->cur.frames.len = len;
            if (!ps_vec_reserve(&p->cur.frames, 1)) {
                *rc = PS_ERR_NOMEM;
                break;
            }
            out = p->cur.frames.data;
        }
        out[len++] = id;
        n++;
        s += fl[id - 1].len + 1;
        prev = id;
        id = succ[id - 1].next;
        if (!id)
            break;
    }
    p->chain.last_link = prev;
    p->cur.frames.len = len;
    p->stats.lines += n;
    p->stats.frames += n;
    if (n)
        p->cur.last_was_frame = true;
    if (ended) {
        p->stats.lines++;
        *rc = end_callchain(p);
        s++;
    }
    return s;
}

static int sideband(ps_parser *p, const ps_header *h)
{
    p->stats.sideband++;
    ps_mmap m;
    if (ps_parse_mmap(&h->record, &m)) {
        char *path = ps_arena_dup(&p->arena, m.path.ptr, m.path.len);
        char *prot = ps_arena_dup(&p->arena, m.prot.ptr, m.prot.len);
        char *bid = ps_arena_dup(&p->arena, m.build_id.ptr, m.build_id.len);
        if (!path || !prot || !bid)
            return PS_ERR_NOMEM;
        m.path.ptr = path;
        m.prot.ptr = prot;
        m.build_id.ptr = bid;
        m.has_time = h->has_time;
        m.time_ns = h->time_ns;
        m.after_samples = p->stats.samples;
        if (!ps_vec_push(&p->mmaps, &m))
            return PS_ERR_NOMEM;
        return ps_set_thread_pid(p, m.tid, m.pid);
    }
    memset(&m, 0, sizeof m);
    ps_str name;
    bool exec = false;
    if (ps_parse_fork(&h->record, &m.pid, &m.ppid, &m.tid)) {
        if (ps_set_thread_pid(p, m.tid, m.pid))
            return PS_ERR_NOMEM;
        if (m.pid == m.ppid)
            return PS_OK; /* a new thread: same maps */
        m.kind = PS_SB_FORK;
    } else if (ps_parse_comm_record(&h->record, &name, &m.pid, &m.tid, &exec)) {
        if (ps_set_thread_pid(p, m.tid, m.pid))
            return PS_ERR_NOMEM;
        if (m.pid == m.tid && name.len) {
            uint32_t c = ps_strtab_intern(&p->names.comms, name.ptr, name.len);
            if (!c || ps_set_process_comm(p, m.pid, c))
                return PS_ERR_NOMEM;
        }
        if (!exec)
            return PS_OK;
        m.kind = PS_SB_EXEC;
    } else {
        return PS_OK;
    }
    m.path = m.prot = m.build_id = (ps_str){"", 0};
    m.after_samples = p->stats.samples;
    return ps_vec_push(&p->mmaps, &m) ? PS_OK : PS_ERR_NOMEM;
}

static int unrecognized(ps_parser *p, const char *l, size_t n)
{
    p->stats.unrecognized++;
    if (!p->stats.first_unrecognized)
        p->stats.first_unrecognized = p->stats.lines;
    if (p->opts.strict) {
        int show = n > 120 ? 120 : (int)n;
        snprintf(p->error, sizeof p->error, "%llu: unrecognized line: %.*s",
                 (unsigned long long)p->stats.lines, show, l);
        return PS_ERR_STRICT;
    }
    return PS_OK;
}

/* A header with a negative or out-of-range field (README §3.5): skipped
 * and counted as unrecognized, with one warning per input. */
static int bad_header(ps_parser *p, const char *l, size_t n)
{
    if (!p->warn.bad_header) {
        p->warn.bad_header = true;
        if (ps_warn(p, "line %llu: a sample header with a negative or out-of-range id, cpu or "
                       "period; such samples are skipped",
                    (unsigned long long)p->stats.lines))
            return PS_ERR_NOMEM;
    }
    return unrecognized(p, l, n);
}

static int srcline(ps_parser *p, const char *l, size_t n)
{
    size_t s = 0;
    while (s < n && ps_blank((unsigned char)l[s]))
        s++;
    while (n > s && ps_blank((unsigned char)l[n - 1]))
        n--;
    uint32_t id = ps_strtab_intern(&p->names.srclines, l + s, n - s);
    if (!id)
        return PS_ERR_NOMEM;
    if (!p->cur.has_src) { /* the first srcline of the sample */
        p->cur.src.len = 0;
        if (!ps_vec_reserve(&p->cur.src, p->cur.frames.len))
            return PS_ERR_NOMEM;
        memset(p->cur.src.data, 0, p->cur.frames.len * sizeof(uint32_t));
        p->cur.src.len = p->cur.frames.len;
    }
    PS_VEC_AT(&p->cur.src, uint32_t, p->cur.src.len - 1) = id;
    p->cur.has_src = true;
    p->cur.last_was_frame = false;
    return PS_OK;
}

/* A line inside a sample (hash h) that is not a blank separator. */
static int in_sample_line(ps_parser *p, const char *l, size_t n, uint64_t h)
{
    size_t slot;
    uint32_t id = ps_frame_find(p, l, n, h, &slot);
    if (id == UINT32_MAX)
        return PS_ERR_NOMEM;
    if (id)
        return chain_frame(p, id); /* seen before: no parsing at all */

    /* A header needs a timestamp's colon, a side-band line its record
     * name: most new frame lines have neither and are not tried as one. */
    if (memchr(l, ':', n) || memmem(l, n, "PERF_RECORD_", 12)) {
        ps_header hd;
        ps_parse_header(l, n, PS_RULE_A | PS_RULE_B, &hd);
        if (hd.kind == PS_LINE_SIDEBAND)
            return sideband(p, &hd);
        if (hd.kind == PS_LINE_HEADER && hd.rule == PS_RULE_A && hd.id_before_time) {
            int rc = end_sample(p);
            return rc ? rc : begin_sample(p, &hd);
        }
        if (hd.kind == PS_LINE_BAD_HEADER && hd.rule == PS_RULE_A) {
            /* the next sample's header, malformed: its frames are skipped
             * with it, not added to this sample */
            int rc = end_sample(p);
            p->state = PS_SKIP;
            return rc ? rc : bad_header(p, l, n);
        }
    }
    id = ps_frame_add(p, l, n, h, slot, false);
    if (id == UINT32_MAX)
        return PS_ERR_NOMEM;
    if (id)
        return chain_frame(p, id);
    if (p->cur.last_was_frame)
        return srcline(p, l, n);
    return unrecognized(p, l, n);
}

/* A line without its newline (and \r) and its frame-table hash (which
 * only a line read in a sample needs: ps_feed leaves it 0 in the start
 * state). */
static int process_line_h(ps_parser *p, const char *l, size_t n, uint64_t h)
{
    p->stats.lines++;
    p->chain.pred = 0;
    if (p->state == PS_IN_SAMPLE && n && p->frames.nslots) {
        /* the hot path: a frame line seen before needs no parsing at all
         * (a cached line is never a separator, comment or header) */
        size_t slot;
        uint32_t id = ps_frame_lookup(p, l, n, h, &slot);
        if (id)
            return chain_frame(p, id);
    }
    if (n && l[0] == '#')
        return PS_OK;
    size_t i = 0;
    while (i < n && ps_blank((unsigned char)l[i]))
        i++;
    if (i == n) /* a separator */
        return end_callchain(p);
    ps_header hd;
    switch (p->state) {
    case PS_IN_SAMPLE:
        return in_sample_line(p, l, n, h);
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
                return start_sample(p, &p->cur.h, p->hdr.comm[t], p->hdr.event[t]);
            }
        }
        ps_parse_header(l, n, PS_RULE_A | PS_RULE_B | PS_RULE_C, &hd);
        if (hd.kind == PS_LINE_SIDEBAND)
            return sideband(p, &hd);
        if (hd.kind == PS_LINE_HEADER) {
            unsigned t = p->hdr.next;
            ps_keep_template(&p->hdr.tmpl[t], l, n, &hd);
            int rc = begin_sample(p, &hd);
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
            return bad_header(p, l, n);
        p->stats.headerless_blocks++;
        return unrecognized(p, l, n);
    }
    case PS_AFTER_ONELINE:
        ps_parse_header(l, n, PS_RULE_A | PS_RULE_B, &hd);
        if (hd.kind == PS_LINE_SIDEBAND)
            return sideband(p, &hd);
        if (hd.kind == PS_LINE_HEADER)
            return begin_sample(p, &hd);
        if (hd.kind == PS_LINE_BAD_HEADER)
            return bad_header(p, l, n);
        return PS_OK;
    default: /* PS_SKIP: up to the next separator */
        return PS_OK;
    }
}

static int process_line(ps_parser *p, const char *l, size_t n)
{
    if (n && l[n - 1] == '\r')
        n--;
    return process_line_h(p, l, n, ps_hash(l, n, FRAME_SEED));
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
                h = ps_hash(s, n, FRAME_SEED);
                if (p->frames.nslots)
                    __builtin_prefetch(&p->frames.slots[(size_t)h & (p->frames.nslots - 1)]);
            }
            if (pl) {
                if ((rc = process_line_h(p, pl, pn, ph)) != PS_OK)
                    return fail(p, rc);
                if (p->chain.pred) {
                    /* the lines from s on may be the ones that followed
                     * last time: then no lookup, and the scan jumps */
                    const char *q = predicted(p, s, e, &rc);
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
    rc = end_sample(p);
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

/* ---- direct input (direct.c) ---- */

int ps_sample_begin(ps_parser *p, const ps_header *h, uint32_t comm, uint32_t event)
{
    return start_sample(p, h, comm, event);
}

int ps_sample_end(ps_parser *p)
{
    return end_sample(p);
}

uint64_t ps_frame_hash(const char *l, size_t n, bool header_ip)
{
    return ps_hash(l, n, header_ip ? FRAME_SEED ^ 1 : FRAME_SEED);
}
