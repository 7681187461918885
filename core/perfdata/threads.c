/* Address spaces and thread names, as perf keeps them (machine.c,
 * maps.c, thread.c): a process's maps, where a new map replaces the parts
 * of older maps it overlaps; a forked process copies its parent's maps
 * (a new thread shares its process's); a thread's name is its last COMM,
 * or its parent thread's when it was forked. */
#include <stdlib.h>
#include <string.h>

#include "syms_impl.h"

static size_t slot_of(uint32_t key, size_t cap)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

bool pd_u32map_get(const pd_u32map *m, uint32_t key, uint32_t *val)
{
    if (!m->cap)
        return false;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->vals[i])
            return false;
        if (m->keys[i] == key) {
            *val = m->vals[i] - 1;
            return true;
        }
    }
}

int pd_u32map_put(pd_u32map *m, uint32_t key, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint32_t *keys = calloc(cap, sizeof *keys), *vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->vals[i])
                continue;
            size_t j = slot_of(m->keys[i], cap);
            while (vals[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = slot_of(key, m->cap);
    while (m->vals[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->vals[i])
        m->n++;
    m->keys[i] = key;
    m->vals[i] = val + 1;
    return 0;
}

void pd_u32map_free(pd_u32map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

pd_proc *pd_proc_get(pd_syms *s, uint32_t pid, bool create)
{
    uint32_t idx;
    if (pd_u32map_get(&s->proc_index, pid, &idx))
        return &s->procs[idx];
    if (!create)
        return NULL;
    if (s->nprocs == s->procs_cap) {
        size_t cap = s->procs_cap ? s->procs_cap * 2 : 16;
        pd_proc *p = realloc(s->procs, cap * sizeof *p);
        if (!p)
            return NULL;
        s->procs = p;
        s->procs_cap = cap;
    }
    if (s->nprocs >= UINT32_MAX || pd_u32map_put(&s->proc_index, pid, (uint32_t)s->nprocs))
        return NULL;
    pd_proc *p = &s->procs[s->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->gen = ++s->gen;
    return p;
}

static int reserve(pd_proc *p, size_t more)
{
    if (p->cap - p->n >= more)
        return 0;
    size_t cap = p->cap ? p->cap : 8;
    while (cap - p->n < more)
        cap *= 2;
    pd_map *m = realloc(p->maps, cap * sizeof *m);
    if (!m)
        return -1;
    p->maps = m;
    p->cap = cap;
    return 0;
}

int pd_proc_insert(pd_syms *s, pd_proc *p, const pd_map *m)
{
    if (m->end <= m->start)
        return 0;
    if (reserve(p, 3))
        return -1;
    /* the maps that overlap [start, end): [lo, hi) */
    size_t lo = 0;
    while (lo < p->n && p->maps[lo].end <= m->start)
        lo++;
    size_t hi = lo;
    while (hi < p->n && p->maps[hi].start < m->end)
        hi++;
    pd_map pieces[3];
    size_t k = 0;
    if (lo < hi && p->maps[lo].start < m->start) {
        pieces[k] = p->maps[lo];
        pieces[k++].end = m->start;
    }
    pieces[k++] = *m;
    if (lo < hi && p->maps[hi - 1].end > m->end) {
        pd_map r = p->maps[hi - 1];
        r.pgoff += m->end - r.start;
        r.start = m->end;
        pieces[k++] = r;
    }
    /* replace maps[lo, hi) by the pieces */
    memmove(p->maps + lo + k, p->maps + hi, (p->n - hi) * sizeof *p->maps);
    memcpy(p->maps + lo, pieces, k * sizeof *pieces);
    p->n = p->n - (hi - lo) + k;
    p->gen = ++s->gen;
    return 0;
}

const pd_map *pd_proc_find(const pd_proc *p, uint64_t ip)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->maps[mid].end <= ip)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->n && p->maps[lo].start <= ip ? &p->maps[lo] : NULL;
}

/* The index of comm (added when new), or -1. Few distinct names: a scan
 * of the last few first, then of all. */
static long comm_index(pd_syms *s, const char *comm)
{
    for (size_t i = s->ncomms; i-- > 0;)
        if (strcmp(s->comms[i], comm) == 0)
            return (long)i;
    if (s->ncomms == s->comms_cap) {
        size_t cap = s->comms_cap ? s->comms_cap * 2 : 16;
        char **c = realloc(s->comms, cap * sizeof *c);
        if (!c)
            return -1;
        s->comms = c;
        s->comms_cap = cap;
    }
    char *d = strdup(comm);
    if (!d)
        return -1;
    s->comms[s->ncomms] = d;
    return (long)s->ncomms++;
}

int pd_set_comm(pd_syms *s, uint32_t tid, const char *comm)
{
    uint32_t cur;
    if (pd_u32map_get(&s->comm_of, tid, &cur) && strcmp(s->comms[cur], comm) == 0)
        return 0;
    long i = comm_index(s, comm);
    return i < 0 ? -1 : pd_u32map_put(&s->comm_of, tid, (uint32_t)i);
}

const char *pd_syms_comm(const pd_syms *s, uint32_t tid)
{
    uint32_t i;
    return pd_u32map_get(&s->comm_of, tid, &i) ? s->comms[i] : NULL;
}

int pd_fork(pd_syms *s, uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid)
{
    uint32_t c;
    if (pd_u32map_get(&s->comm_of, ptid, &c) && pd_u32map_put(&s->comm_of, tid, c))
        return -1;
    if (pid == ppid)
        return 0; /* a new thread: its process's maps */
    pd_proc *parent = pd_proc_get(s, ppid, false);
    if (!parent)
        return 0;
    size_t pidx = (size_t)(parent - s->procs);
    pd_proc *child = pd_proc_get(s, pid, true);
    if (!child)
        return -1;
    parent = &s->procs[pidx]; /* procs may have moved */
    child->n = 0;
    if (reserve(child, parent->n))
        return -1;
    memcpy(child->maps, parent->maps, parent->n * sizeof *parent->maps);
    child->n = parent->n;
    child->gen = ++s->gen;
    return 0;
}

uint64_t pd_syms_generation(const pd_syms *s, uint32_t pid)
{
    if (pid == PD_SYMS_KERNEL)
        return s->kernel_gen;
    uint32_t idx;
    return pd_u32map_get(&s->proc_index, pid, &idx) ? s->procs[idx].gen : 0;
}

void pd_threads_free(pd_syms *s)
{
    for (size_t i = 0; i < s->nprocs; i++)
        free(s->procs[i].maps);
    free(s->procs);
    pd_u32map_free(&s->proc_index);
    for (size_t i = 0; i < s->ncomms; i++)
        free(s->comms[i]);
    free(s->comms);
    pd_u32map_free(&s->comm_of);
}
