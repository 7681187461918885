/* Sample assembly (README §2): a sample begun from its header, its
 * callchain's frames and srclines collected, the sample ended and merged
 * (stacks.c); and the lines inside a sample that are not a known frame. */
#include <stdio.h>
#include <string.h>

#include "sample.h"
#include "stacks.h"

int ps_sample_end(ps_parser *p)
{
    if (!p->cur.active)
        return PS_OK;
    p->cur.active = false;
    p->cur.last_was_frame = false;
    p->stats.samples++;
    return ps_stacks_add(p);
}

/* Starts a sample of header h whose comm and event are interned (0 =
 * none); h may be p->cur.h. */
int ps_sample_begin(ps_parser *p, const ps_header *h, uint32_t comm, uint32_t event)
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
        if (ps_warn(p,
                    "line %llu: a period at or beyond 2^63 is counted as %lld (pprof values "
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
    uint64_t hash = ps_hash(l, n, PS_FRAME_SEED ^ 1);
    size_t slot;
    uint32_t id = ps_frame_find(p, l, n, hash, &slot);
    if (id == 0)
        id = ps_frame_add(p, l, n, hash, slot, true);
    if (id == UINT32_MAX)
        return PS_ERR_NOMEM;
    if (id) {
        int rc = ps_add_frame(p, id);
        if (rc)
            return rc;
    }
    p->state = PS_AFTER_ONELINE;
    return ps_sample_end(p);
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
int ps_sample_header(ps_parser *p, const ps_header *h)
{
    uint32_t comm = 0, event = 0;
    if (h->comm.len && !(comm = intern_again(&p->names.comms, &p->hdr.last_comm, h->comm)))
        return PS_ERR_NOMEM;
    if (h->has_event && !(event = intern_again(&p->names.events, &p->hdr.last_event, h->event)))
        return PS_ERR_NOMEM;
    return ps_sample_begin(p, h, comm, event);
}

/* The blank line after a sample: the callchain ended after its last frame
 * (learnt as that frame's successor), and the next line starts afresh. */
int ps_end_callchain(ps_parser *p)
{
    if (p->cur.active && p->chain.last_link)
        ps_learn_succ(&PS_VEC_AT(&p->chain.succ, ps_succ, p->chain.last_link - 1), PS_SUCC_END);
    p->chain.last_link = 0;
    p->state = PS_START;
    return ps_sample_end(p);
}

int ps_unrecognized(ps_parser *p, const char *l, size_t n)
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
int ps_bad_header(ps_parser *p, const char *l, size_t n)
{
    if (!p->warn.bad_header) {
        p->warn.bad_header = true;
        if (ps_warn(p,
                    "line %llu: a sample header with a negative or out-of-range id, cpu or "
                    "period; such samples are skipped",
                    (unsigned long long)p->stats.lines))
            return PS_ERR_NOMEM;
    }
    return ps_unrecognized(p, l, n);
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
int ps_in_sample_line(ps_parser *p, const char *l, size_t n, uint64_t h)
{
    size_t slot;
    uint32_t id = ps_frame_find(p, l, n, h, &slot);
    if (id == UINT32_MAX)
        return PS_ERR_NOMEM;
    if (id)
        return ps_chain_frame(p, id); /* seen before: no parsing at all */

    /* A header needs a timestamp's colon, a side-band line its record
     * name: most new frame lines have neither and are not tried as one. */
    if (memchr(l, ':', n) || memmem(l, n, "PERF_RECORD_", 12)) {
        ps_header hd;
        ps_parse_header(l, n, PS_RULE_A | PS_RULE_B, &hd);
        if (hd.kind == PS_LINE_SIDEBAND)
            return ps_sideband(p, &hd);
        if (hd.kind == PS_LINE_HEADER && hd.rule == PS_RULE_A && hd.id_before_time) {
            int rc = ps_sample_end(p);
            return rc ? rc : ps_sample_header(p, &hd);
        }
        if (hd.kind == PS_LINE_BAD_HEADER && hd.rule == PS_RULE_A) {
            /* the next sample's header, malformed: its frames are skipped
             * with it, not added to this sample */
            int rc = ps_sample_end(p);
            p->state = PS_SKIP;
            return rc ? rc : ps_bad_header(p, l, n);
        }
    }
    id = ps_frame_add(p, l, n, h, slot, false);
    if (id == UINT32_MAX)
        return PS_ERR_NOMEM;
    if (id)
        return ps_chain_frame(p, id);
    if (p->cur.last_was_frame)
        return srcline(p, l, n);
    return ps_unrecognized(p, l, n);
}

/* ---- direct input (direct.c) ---- */

uint64_t ps_frame_hash(const char *l, size_t n, bool header_ip)
{
    return ps_hash(l, n, header_ip ? PS_FRAME_SEED ^ 1 : PS_FRAME_SEED);
}
