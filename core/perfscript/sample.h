/* Internal to the parser's stream (stream.c), sample assembly (sample.c)
 * and predicted lines (predict.c): the callchain being read. The steps a
 * known frame line takes are inline: they run for almost every line. */
#ifndef PERFGO_PS_SAMPLE_H
#define PERFGO_PS_SAMPLE_H

#include "ps_internal.h"

/* The frame table's hash seed (ps_frame_hash; a frame on the header line
 * of a one-line sample is hashed with PS_FRAME_SEED ^ 1). */
#define PS_FRAME_SEED 0x9ae16a3b2f90404fULL

static inline int ps_add_frame(ps_parser *p, uint32_t id)
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
static inline void ps_learn_succ(ps_succ *sc, uint32_t to)
{
    if (sc->next != to) {
        sc->alt = sc->next;
        sc->next = to;
    }
}

/* A frame of the callchain being read: it is learnt as the successor of
 * the frame before it, and its own successor becomes the prediction. */
static inline int ps_chain_frame(ps_parser *p, uint32_t id)
{
    ps_succ *succ = p->chain.succ.data;
    if (p->chain.last_link)
        ps_learn_succ(&succ[p->chain.last_link - 1], id);
    p->chain.last_link = id;
    p->chain.pred = succ[id - 1].next;
    return ps_add_frame(p, id);
}

/* A parsed sample header (comm and event not interned yet) starts a
 * sample; ps_sample_begin (ps_internal.h) is the same with their ids. */
int ps_sample_header(ps_parser *p, const ps_header *h);
/* The blank line after a sample: the callchain ended after its last frame
 * (learnt as that frame's successor), and the next line starts afresh. */
int ps_end_callchain(ps_parser *p);
/* A line inside a sample (hash h) that is not a blank separator and not
 * a frame line the table knows. */
int ps_in_sample_line(ps_parser *p, const char *l, size_t n, uint64_t h);
/* A line that is no sample's: counted, and an error when strict. */
int ps_unrecognized(ps_parser *p, const char *l, size_t n);
/* A header with a negative or out-of-range field (README §3.5): skipped
 * and counted as unrecognized, with one warning per input. */
int ps_bad_header(ps_parser *p, const char *l, size_t n);
/* A side-band line (tables.c): MMAP, FORK and COMM records. */
int ps_sideband(ps_parser *p, const ps_header *h);
/* Reads the lines at s (up to e) that are the predicted frames (and the
 * blank line that ends the callchain where that is predicted) as the
 * stream would read them; returns where it stopped, *rc the error. */
const char *ps_predicted(ps_parser *p, const char *s, const char *e, int *rc);

#endif
