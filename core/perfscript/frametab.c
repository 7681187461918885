/* The frame-line intern table: every distinct callchain line once, by its
 * bytes (a ps_strtab), with its parsed frame and the successors the
 * parser predicts under the same id. */
#include "ps_internal.h"

static ps_str rebase(ps_str s, const char *from, const char *to)
{
    if (s.len == 0 && (s.ptr < from))
        return (ps_str){to, 0};
    return (ps_str){to + (s.ptr - from), s.len};
}

uint32_t ps_frame_add(ps_parser *p, const char *l, size_t n, uint64_t h, size_t slot,
                      bool header_ip)
{
    ps_frame f;
    if (!ps_parse_frame(l, n, &f))
        return 0;
    f.header_ip = header_ip;
    /* the frame, its successors and its text get the same id */
    if (!ps_vec_reserve(&p->frames.list, 1) || !ps_vec_reserve(&p->chain.succ, 1))
        return UINT32_MAX;
    const char *copy = ps_strtab_add(&p->frames.text, l, n, h, slot);
    if (!copy)
        return UINT32_MAX;
    ps_succ none = {0, 0};
    ps_vec_push(&p->chain.succ, &none);
    f.line = (ps_str){copy, n};
    f.addr = rebase(f.addr, l, copy);
    f.sym = rebase(f.sym, l, copy);
    f.dso = rebase(f.dso, l, copy);
    ps_vec_push(&p->frames.list, &f);
    return (uint32_t)p->frames.list.len;
}
