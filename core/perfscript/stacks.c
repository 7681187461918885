/* The table of distinct stacks. A sample is merged into it through a hash
 * of its frame ids, srcline ids and the header fields kept; an identical
 * stack is found in O(1), never by a scan.
 *
 * Not one of the parser's generic tables (ps_strtab, ps_imap): its key is
 * a stack entry plus an array of ids, and its slots carry where a stack's
 * ids are, so that the merge, run two samples late, prefetches both the
 * entry and its ids before it compares them. */
#include <stdlib.h>

#include "stacks.h"

void ps_stacks_init(ps_parser *p)
{
    for (size_t i = 0; i < 2; i++) {
        ps_vec_init(&p->stacks.pend[i].frames, sizeof(uint32_t));
        ps_vec_init(&p->stacks.pend[i].src, sizeof(uint32_t));
    }
    p->stacks.npend = 0;
    p->stacks.pend_head = 0;
    ps_vec_init(&p->stacks.list, sizeof(ps_stack_entry));
    ps_vec_init(&p->stacks.ids, sizeof(uint32_t));
    ps_vec_init(&p->stacks.no_src, sizeof(uint32_t));
    p->stacks.slots = NULL;
    p->stacks.nslots = 0;
}

void ps_stacks_free(ps_parser *p)
{
    for (size_t i = 0; i < 2; i++) {
        ps_vec_free(&p->stacks.pend[i].frames);
        ps_vec_free(&p->stacks.pend[i].src);
    }
    ps_vec_free(&p->stacks.list);
    ps_vec_free(&p->stacks.ids);
    ps_vec_free(&p->stacks.no_src);
    free(p->stacks.slots);
    p->stacks.slots = NULL;
}

static bool stacks_grow(ps_parser *p)
{
    size_t n = p->stacks.nslots ? p->stacks.nslots * 2 : 1024;
    ps_sslot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    const ps_stack_entry *st = p->stacks.list.data;
    for (size_t k = 0; k < p->stacks.list.len; k++) {
        size_t i = (size_t)st[k].hash & (n - 1);
        while (slots[i].idx)
            i = (i + 1) & (n - 1);
        slots[i] = (ps_sslot){(uint32_t)st[k].hash, (uint32_t)(k + 1), st[k].frames_off};
    }
    free(p->stacks.slots);
    p->stacks.slots = slots;
    p->stacks.nslots = n;
    return true;
}

/* Merges one sample (key with its hash, frame and srcline ids). */
static int merge(ps_parser *p, ps_stack_entry *key, const uint32_t *fr, const uint32_t *sr,
                 uint64_t w, bool has_period)
{
    if ((p->stacks.list.len + 1) * 2 > p->stacks.nslots && !stacks_grow(p))
        return PS_ERR_NOMEM;
    size_t n = key->nframes;
    size_t mask = p->stacks.nslots - 1, i = (size_t)key->hash & mask;
    ps_stack_entry *st = p->stacks.list.data;
    const uint32_t *ids = p->stacks.ids.data;
    for (;; i = (i + 1) & mask) {
        uint32_t k = p->stacks.slots[i].idx;
        if (k == 0)
            break;
        if (p->stacks.slots[i].hash != (uint32_t)key->hash)
            continue;
        ps_stack_entry *e = &st[k - 1];
        if (e->hash == key->hash && e->nframes == key->nframes && e->comm == key->comm &&
            e->event == key->event && e->pid == key->pid && e->tid == key->tid &&
            e->pid_inferred == key->pid_inferred && e->cpu == key->cpu &&
            e->has_src == key->has_src &&
            (n == 0 ||
             (ps_eq((const char *)(ids + e->frames_off), (const char *)fr, n * sizeof *fr) &&
              (!key->has_src || memcmp(ids + e->frames_off + n, sr, n * sizeof *sr) == 0)))) {
            e->count++;
            e->weight = ps_sat_add(e->weight, w);
            e->period_samples += has_period;
            return PS_OK;
        }
    }
    /* srcline ids follow the frame ids only in stacks that have some; the
     * others share one array of zeros, as long as the longest stack */
    size_t nids = key->has_src ? 2 * n : n;
    if (p->stacks.list.len >= UINT32_MAX - 1 || !ps_vec_reserve(&p->stacks.ids, nids) ||
        !ps_vec_reserve(&p->stacks.list, 1))
        return PS_ERR_NOMEM;
    if (!key->has_src && n > p->stacks.no_src.len) {
        if (!ps_vec_reserve(&p->stacks.no_src, n - p->stacks.no_src.len))
            return PS_ERR_NOMEM;
        memset((uint32_t *)p->stacks.no_src.data + p->stacks.no_src.len, 0,
               (n - p->stacks.no_src.len) * sizeof(uint32_t));
        p->stacks.no_src.len = n;
    }
    key->frames_off = p->stacks.ids.len;
    if (n) {
        uint32_t *dst = (uint32_t *)p->stacks.ids.data + p->stacks.ids.len;
        memcpy(dst, fr, n * sizeof *fr);
        if (key->has_src)
            memcpy(dst + n, sr, n * sizeof *sr);
    }
    p->stacks.ids.len += nids;
    key->count = 1;
    key->weight = w;
    key->period_samples = has_period;
    ps_vec_push(&p->stacks.list, key);
    p->stacks.slots[i] =
        (ps_sslot){(uint32_t)key->hash, (uint32_t)p->stacks.list.len, key->frames_off};
    return PS_OK;
}

/* Merges the older pending sample; the newer one takes its place. */
static int merge_oldest(ps_parser *p)
{
    ps_stack_pending *a = &p->stacks.pend[p->stacks.pend_head];
    int rc = merge(p, &a->key, a->frames.data, a->src.data, a->weight, a->has_period);
    p->stacks.pend_head ^= 1;
    p->stacks.npend--;
    return rc;
}

int ps_stacks_flush(ps_parser *p)
{
    while (p->stacks.npend) {
        int rc = merge_oldest(p);
        if (rc)
            return rc;
    }
    return PS_OK;
}

int ps_stacks_add(ps_parser *p)
{
    const ps_header *h = &p->cur.h;
    ps_stack_entry key;
    memset(&key, 0, sizeof key);
    key.comm = p->cur.comm;
    key.event = p->cur.event;
    key.pid = -1;
    if (p->opts.keep_pid && h->has_pid)
        key.pid = h->pid;
    else if (p->opts.keep_pid && p->opts.infer_pid && h->has_tid) {
        key.pid = ps_thread_pid(p, h->tid); /* perf printed only the tid */
        key.pid_inferred = key.pid >= 0;
    }
    key.tid = p->opts.keep_tid && h->has_tid ? h->tid : -1;
    key.cpu = p->opts.keep_cpu && h->has_cpu ? h->cpu : -1;
    key.nframes = (uint32_t)p->cur.frames.len;
    const uint32_t *fr = p->cur.frames.data;
    const uint32_t *sr = p->cur.src.data;
    size_t n = key.nframes;

    uint64_t seed = ((uint64_t)key.comm << 32 | key.event) ^
                    ps_hash_mix((uint64_t)key.pid * 31 + (uint64_t)key.tid) ^
                    ((uint64_t)(uint32_t)key.cpu << 17);
    uint64_t hh = ps_hash_all(fr, n * sizeof *fr, seed);
    key.has_src = p->cur.has_src; /* srclines are rare: hashed only when there */
    if (key.has_src)
        hh = ps_hash_all(sr, n * sizeof *sr, hh);
    key.hash = hh;

    /* Merges are deferred by two samples so that the table's memory is in
     * cache when they run: the slot of this stack is prefetched now; at the
     * next sample, the stack and frame ids that slot names; at the one
     * after, the merge compares them. */
    if (p->stacks.nslots)
        __builtin_prefetch(&p->stacks.slots[(size_t)hh & (p->stacks.nslots - 1)]);
    if (p->stacks.npend == 2) {
        int rc = merge_oldest(p);
        if (rc)
            return rc;
    }
    if (p->stacks.npend == 1 && p->stacks.nslots) {
        const ps_stack_entry *k = &p->stacks.pend[p->stacks.pend_head].key;
        size_t mask = p->stacks.nslots - 1;
        for (size_t i = (size_t)k->hash & mask; p->stacks.slots[i].idx; i = (i + 1) & mask) {
            const ps_sslot *sl = &p->stacks.slots[i];
            if (sl->hash == (uint32_t)k->hash) {
                __builtin_prefetch(&PS_VEC_AT(&p->stacks.list, ps_stack_entry, sl->idx - 1));
                if (p->stacks.ids.data) /* NULL while every stack is empty */
                    __builtin_prefetch((const uint32_t *)p->stacks.ids.data + sl->frames_off);
                break;
            }
        }
    }
    ps_stack_pending *b = &p->stacks.pend[p->stacks.pend_head ^ (p->stacks.npend++ == 1)];
    b->key = key;
    b->weight = h->has_period ? h->period : 1;
    b->has_period = h->has_period;
    /* the sample's id arrays become the pending ones (no copy) */
    ps_vec t = b->frames;
    b->frames = p->cur.frames;
    p->cur.frames = t;
    t = b->src;
    b->src = p->cur.src;
    p->cur.src = t;
    return PS_OK;
}

size_t ps_stack_count(const ps_parser *p)
{
    return p->stacks.list.len;
}

void ps_stack_get(const ps_parser *p, size_t i, ps_stack *out)
{
    const ps_stack_entry *e = &PS_VEC_AT(&p->stacks.list, ps_stack_entry, i);
    const uint32_t *ids = p->stacks.ids.data;
    out->comm = e->comm;
    out->pid = e->pid;
    out->pid_inferred = e->pid_inferred;
    out->tid = e->tid;
    out->cpu = e->cpu;
    out->event = e->event;
    out->nframes = e->nframes;
    out->frames = ids ? ids + e->frames_off : NULL;
    out->srclines = e->has_src ? ids + e->frames_off + e->nframes : p->stacks.no_src.data;
    out->count = e->count;
    out->weight = e->weight;
    out->period_samples = e->period_samples;
}
