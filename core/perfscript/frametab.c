/* The frame-line intern table: every distinct callchain line once, by its
 * bytes, with its parsed frame and the successors the parser predicts. */
#include <stdlib.h>

#include "ps_internal.h"

static bool frames_grow(ps_parser *p)
{
    size_t n = p->frames.nslots ? p->frames.nslots * 2 : 4096;
    ps_fslot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    for (size_t k = 0; k < p->frames.nslots; k++) {
        if (!p->frames.slots[k].id)
            continue;
        size_t i = (size_t)p->frames.slots[k].hash & (n - 1);
        while (slots[i].id)
            i = (i + 1) & (n - 1);
        slots[i] = p->frames.slots[k];
    }
    free(p->frames.slots);
    p->frames.slots = slots;
    p->frames.nslots = n;
    return true;
}

static ps_str rebase(ps_str s, const char *from, const char *to)
{
    if (s.len == 0 && (s.ptr < from))
        return (ps_str){to, 0};
    return (ps_str){to + (s.ptr - from), s.len};
}

/* Adds a parsed frame (strings pointing into l) as a new id. */
static uint32_t frame_insert(ps_parser *p, ps_frame *f, const char *l, size_t n, uint64_t h,
                             size_t slot)
{
    if (p->frames.list.len >= UINT32_MAX - 1 || n > UINT32_MAX)
        return 0;
    char *copy = ps_arena_dup(&p->arena, l, n);
    if (!copy || !ps_vec_reserve(&p->frames.list, 1) || !ps_vec_reserve(&p->frames.lines, 1) ||
        !ps_vec_reserve(&p->chain.succ, 1))
        return 0;
    ps_fline fl = {copy, n};
    ps_succ none = {0, 0};
    ps_vec_push(&p->frames.lines, &fl);
    ps_vec_push(&p->chain.succ, &none);
    f->line = (ps_str){copy, n};
    f->addr = rebase(f->addr, l, copy);
    f->sym = rebase(f->sym, l, copy);
    f->dso = rebase(f->dso, l, copy);
    ps_vec_push(&p->frames.list, f);
    p->frames.slots[slot] = (ps_fslot){h, copy, (uint32_t)n, (uint32_t)p->frames.list.len};
    return (uint32_t)p->frames.list.len;
}

uint32_t ps_frame_find(ps_parser *p, const char *l, size_t n, uint64_t h, size_t *slot)
{
    if ((p->frames.list.len + 1) * 2 > p->frames.nslots && !frames_grow(p))
        return UINT32_MAX;
    return ps_frame_lookup(p, l, n, h, slot);
}

uint32_t ps_frame_add(ps_parser *p, const char *l, size_t n, uint64_t h, size_t slot,
                      bool header_ip)
{
    ps_frame f;
    if (!ps_parse_frame(l, n, &f))
        return 0;
    f.header_ip = header_ip;
    uint32_t id = frame_insert(p, &f, l, n, h, slot);
    return id ? id : UINT32_MAX;
}
