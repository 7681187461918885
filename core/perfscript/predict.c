/* Predicted lines: callchains repeat, so the lines after a known frame
 * are first compared with the frames that followed it before (ps_chain),
 * and read without a lookup when they are those. */
#include "sample.h"

/* Whether the line at s is `id`: the blank line for PS_SUCC_END, else
 * exactly the text of frame id. */
static inline bool line_is(const ps_str *fl, uint32_t id, const char *s, const char *e)
{
    if (id == PS_SUCC_END)
        return s < e && *s == '\n';
    const ps_str *f = &fl[id - 1];
    return (size_t)(e - s) > f->len && s[f->len] == '\n' && ps_eq(s, f->ptr, f->len);
}

/* Reads the lines at s that are the predicted frames (and the blank line
 * that ends the callchain where that is predicted) as process_line_h would
 * read them; returns where it stopped. A line that is not the frame's
 * last successor may be the one before (then the two change places). */
const char *ps_predicted(ps_parser *p, const char *s, const char *e, int *rc)
{
    const ps_str *fl = p->frames.text.strs.data;
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
        *rc = ps_end_callchain(p);
        s++;
    }
    return s;
}
