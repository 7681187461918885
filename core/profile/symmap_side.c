/* symmap's side band: PERF_RECORD_MMAP/MMAP2, FORK and COMM exec, and
 * build ids by path. One vector of records with a per-pid chain, newest
 * first; a forked child sees its parent's records from before the fork. */
#include <stdlib.h>
#include <string.h>

#include "profile/symmap_impl.h"

char *symmap_dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static uint64_t pid_hash(int pid)
{
    return ph_mix((uint64_t)(int64_t)pid + 0x9e3779b97f4a7c15ULL);
}

static pinfo *find_pid(const symmap *s, int pid)
{
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&s->pindex, pid_hash(pid), &pos)) != SIZE_MAX)
        if (s->pids[i].pid == pid)
            return &s->pids[i];
    return NULL;
}

static pinfo *get_pid(symmap *s, int pid)
{
    pinfo *pi = find_pid(s, pid);
    if (pi)
        return pi;
    if (ph_grow((void **)&s->pids, &s->pids_cap, s->npids + 1, sizeof *s->pids) != 0 ||
        ph_insert(&s->pindex, pid_hash(pid), s->npids) != 0)
        return NULL;
    pi = &s->pids[s->npids++];
    *pi = (pinfo){pid, SIZE_MAX, 0, INT32_MIN, 0};
    return pi;
}

int symmap_add_mmap(symmap *s, const symmap_mmap *m)
{
    pinfo *pi = get_pid(s, m->pid);
    if (!pi || ph_grow((void **)&s->recs, &s->recs_cap, s->nrecs + 1, sizeof *s->recs) != 0)
        return -1;
    mrec *r = &s->recs[s->nrecs];
    memset(r, 0, sizeof *r);
    r->path = symmap_dupn(m->path, m->path_len);
    if (m->build_id && m->build_id_len) {
        r->build_id = symmap_dupn(m->build_id, m->build_id_len);
        for (char *c = r->build_id; c && *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
    }
    if (!r->path || (m->build_id && m->build_id_len && !r->build_id)) {
        free(r->path);
        free(r->build_id);
        return -1;
    }
    r->pid = m->pid;
    r->start = m->start;
    r->len = m->len;
    r->pgoff = m->pgoff;
    r->dev_known = m->dev_known;
    r->maj = m->maj;
    r->min = m->min;
    r->ino = m->ino;
    r->exec = m->exec;
    r->prev = pi->head;
    uint64_t h = ph_bytes(r->path, m->path_len, 0x9a7);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&s->path_index, h, &pos)) != SIZE_MAX)
        if (strcmp(s->recs[s->path_heads[i]].path, r->path) == 0)
            break;
    if (i == SIZE_MAX) {
        if (ph_grow((void **)&s->path_heads, &s->paths_cap, s->npaths + 1,
                    sizeof *s->path_heads) != 0 ||
            ph_insert(&s->path_index, h, s->npaths) != 0) {
            free(r->path);
            free(r->build_id);
            return -1;
        }
        i = s->npaths++;
        r->prev_path = SIZE_MAX;
    } else {
        r->prev_path = s->path_heads[i];
    }
    s->path_heads[i] = s->nrecs;
    pi->head = s->nrecs++;
    return 0;
}

/* The newest record of path (len bytes), SIZE_MAX when there is none. */
static size_t path_head(const symmap *s, const char *path, size_t len)
{
    uint64_t h = ph_bytes(path, len, 0x9a7);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&s->path_index, h, &pos)) != SIZE_MAX)
        if (strcmp(s->recs[s->path_heads[i]].path, path) == 0)
            return s->path_heads[i];
    return SIZE_MAX;
}

int symmap_add_fork(symmap *s, int parent_pid, int child_pid)
{
    if (parent_pid == child_pid)
        return 0;
    pinfo *c = get_pid(s, child_pid);
    if (!c)
        return -1;
    c->parent = parent_pid;
    c->fork_seq = s->nrecs;
    c->exec_seq = 0;
    c->head = SIZE_MAX;
    return 0;
}

void symmap_add_exec(symmap *s, int pid)
{
    pinfo *pi = find_pid(s, pid);
    if (pi) {
        pi->exec_seq = s->nrecs;
        pi->parent = INT32_MIN;
    }
}

int symmap_add_build_id(symmap *s, const char *path, size_t path_len, const char *hex,
                        size_t hex_len)
{
    if (ph_grow((void **)&s->bids, &s->bids_cap, s->nbids + 1, sizeof *s->bids) != 0)
        return -1;
    char *f = symmap_dupn(path, path_len), *t = symmap_dupn(hex, hex_len);
    if (!f || !t) {
        free(f);
        free(t);
        return -1;
    }
    for (char *c = t; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    s->bids[s->nbids++] = (symmap_path){f, t};
    return 0;
}

const mrec *symmap_find_map(const symmap *s, int pid, const char *path, size_t path_len,
                            uint64_t addr, bool by_offset)
{
    if (s->nrecs == 0)
        return NULL;
    size_t limit = SIZE_MAX;
    const pinfo *pi = find_pid(s, pid);
    bool known = pi != NULL;
    for (int depth = 0; pi && depth < 64; depth++) {
        for (size_t i = pi->head; i != SIZE_MAX; i = s->recs[i].prev) {
            const mrec *r = &s->recs[i];
            if (i >= limit)
                continue;
            if (i < pi->exec_seq)
                break;
            if (!r->exec || strcmp(r->path, path) != 0)
                continue;
            uint64_t base = by_offset ? r->pgoff : r->start;
            if (addr >= base && addr - base < r->len)
                return r;
        }
        if (pi->parent == INT32_MIN)
            break;
        limit = pi->fork_seq;
        pi = find_pid(s, pi->parent);
    }
    if (known && !by_offset)
        return NULL; /* another process's ips mean nothing here */
    for (size_t i = path_head(s, path, path_len); i != SIZE_MAX; i = s->recs[i].prev_path) {
        const mrec *r = &s->recs[i];
        uint64_t base = by_offset ? r->pgoff : r->start;
        if (r->exec && addr >= base && addr - base < r->len)
            return r;
    }
    return NULL;
}

const char *symmap_known_build_id(const symmap *s, const char *path)
{
    for (size_t i = s->nbids; i-- > 0;)
        if (strcmp(s->bids[i].from, path) == 0)
            return s->bids[i].to;
    for (size_t i = s->nrecs; i-- > 0;)
        if (s->recs[i].build_id && strcmp(s->recs[i].path, path) == 0)
            return s->recs[i].build_id;
    return NULL;
}

const mrec *symmap_dev_record(const symmap *s, const char *path)
{
    for (size_t i = s->nrecs; i-- > 0;)
        if (s->recs[i].dev_known && strcmp(s->recs[i].path, path) == 0)
            return &s->recs[i];
    return NULL;
}

const mrec *symmap_find_kernel(const symmap *s, const char *prefix, size_t len, uint64_t addr)
{
    const pinfo *pi = find_pid(s, -1);
    for (size_t i = pi ? pi->head : SIZE_MAX; i != SIZE_MAX; i = s->recs[i].prev) {
        const mrec *r = &s->recs[i];
        if (strncmp(r->path, prefix, len) == 0 && addr >= r->start && addr - r->start < r->len)
            return r;
    }
    return NULL;
}
