/* symmap's side band: PERF_RECORD_MMAP/MMAP2, FORK and COMM exec, and
 * build ids by path. One vector of records, chained newest first per pid,
 * per path and per (pid, path), each chain's head found through a hash
 * index, so no lookup scans all records (README §3); a forked child sees
 * its parent's records from before the fork. */
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

static uint64_t path_hash(const char *path, size_t len)
{
    return ph_bytes(path, len, 0x9a7);
}

static uint64_t pid_path_hash(int pid, uint64_t path_hash)
{
    return ph_combine(path_hash, (uint64_t)(int64_t)pid);
}

/* The slot in pp_heads of (pid, path), SIZE_MAX when there is none; *pos
 * is where a new one goes. */
static size_t pp_find(const symmap *s, int pid, const char *path, uint64_t h, size_t *pos)
{
    size_t i;
    *pos = SIZE_MAX;
    while ((i = ph_probe(&s->pp_index, h, pos)) != SIZE_MAX) {
        const mrec *r = &s->recs[s->pp_heads[i]];
        if (r->pid == pid && strcmp(r->path, path) == 0)
            return i;
    }
    return SIZE_MAX;
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

int symmap_reserve(symmap *s, size_t n)
{
    size_t need = s->nrecs + n;
    if (need < n)
        return -1;
    return ph_grow((void **)&s->recs, &s->recs_cap, need, sizeof *s->recs) ||
                   ph_grow((void **)&s->path_heads, &s->paths_cap, need, sizeof *s->path_heads) ||
                   ph_grow((void **)&s->pp_heads, &s->pp_cap, need, sizeof *s->pp_heads) ||
                   ph_reserve(&s->path_index, need) || ph_reserve(&s->pp_index, need)
               ? -1
               : 0;
}

static bool has_upper_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'F')
            return true;
    return false;
}

static void free_rec_strings(mrec *r)
{
    if (r->owned) {
        free((char *)r->path);
        free((char *)r->build_id);
    }
}

void symmap_prefetch(const symmap *s, const symmap_mmap *m)
{
    uint64_t h = path_hash(m->path, m->path_len), hpp = pid_path_hash(m->pid, h);
    if (s->path_index.cap)
        __builtin_prefetch(&s->path_index.slots[(size_t)(h >> 32) & (s->path_index.cap - 1)]);
    if (s->pp_index.cap)
        __builtin_prefetch(&s->pp_index.slots[(size_t)(hpp >> 32) & (s->pp_index.cap - 1)]);
}

int symmap_add_mmap(symmap *s, const symmap_mmap *m)
{
    pinfo *pi = get_pid(s, m->pid);
    if (!pi || ph_grow((void **)&s->recs, &s->recs_cap, s->nrecs + 1, sizeof *s->recs) != 0)
        return -1;
    mrec *r = &s->recs[s->nrecs];
    memset(r, 0, sizeof *r);
    bool bid = m->build_id && m->build_id_len;
    if (m->borrow && !(bid && has_upper_hex(m->build_id, m->build_id_len))) {
        r->path = m->path;
        r->build_id = bid ? m->build_id : NULL;
    } else {
        char *p = symmap_dupn(m->path, m->path_len), *b = NULL;
        if (p && bid && (b = symmap_dupn(m->build_id, m->build_id_len)))
            for (char *c = b; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                    *c = (char)(*c - 'A' + 'a');
        if (!p || (bid && !b)) {
            free(p);
            free(b);
            return -1;
        }
        r->path = p;
        r->build_id = b;
        r->owned = true;
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
    /* room first, so that running out of memory changes no index */
    if (ph_grow((void **)&s->path_heads, &s->paths_cap, s->npaths + 1, sizeof *s->path_heads) ||
        ph_grow((void **)&s->pp_heads, &s->pp_cap, s->npp + 1, sizeof *s->pp_heads) ||
        ph_reserve(&s->path_index, s->npaths + 1) || ph_reserve(&s->pp_index, s->npp + 1)) {
        free_rec_strings(r);
        return -1;
    }
    uint64_t h = path_hash(r->path, m->path_len), hpp = pid_path_hash(m->pid, h);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&s->path_index, h, &pos)) != SIZE_MAX)
        if (strcmp(s->recs[s->path_heads[i]].path, r->path) == 0)
            break;
    if (i == SIZE_MAX) {
        ph_insert_at(&s->path_index, h, s->npaths, pos); /* reserved: cannot fail */
        i = s->npaths++;
        r->prev_path = SIZE_MAX;
    } else {
        r->prev_path = s->path_heads[i];
    }
    size_t ppos, j = pp_find(s, m->pid, r->path, hpp, &ppos);
    if (j == SIZE_MAX) {
        ph_insert_at(&s->pp_index, hpp, s->npp, ppos);
        j = s->npp++;
        r->prev_pp = SIZE_MAX;
    } else {
        r->prev_pp = s->pp_heads[j];
    }
    s->path_heads[i] = s->nrecs;
    s->pp_heads[j] = s->nrecs;
    pi->head = s->nrecs++;
    return 0;
}

/* The newest record of path (len bytes), SIZE_MAX when there is none. */
static size_t path_head(const symmap *s, const char *path, size_t len)
{
    uint64_t h = path_hash(path, len);
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
    uint64_t h = path_hash(f, path_len);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&s->bid_index, h, &pos)) != SIZE_MAX)
        if (strcmp(s->bids[i].from, f) == 0)
            break;
    if (i == SIZE_MAX && ph_insert(&s->bid_index, h, s->nbids) != 0) {
        free(f);
        free(t);
        return -1;
    }
    if (i != SIZE_MAX) /* the newest entry of a path wins: it takes the slot */
        s->bid_index.slots[pos] = (h & 0xffffffff00000000ULL) | (uint64_t)(s->nbids + 1);
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
    uint64_t h = path_hash(path, path_len);
    for (int depth = 0; pi && depth < 64; depth++) {
        size_t pos, j = pp_find(s, pi->pid, path, pid_path_hash(pi->pid, h), &pos);
        for (size_t i = j == SIZE_MAX ? SIZE_MAX : s->pp_heads[j]; i != SIZE_MAX;
             i = s->recs[i].prev_pp) {
            const mrec *r = &s->recs[i];
            if (i >= limit)
                continue;
            if (i < pi->exec_seq)
                break;
            if (!r->exec)
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
    size_t len = strlen(path);
    uint64_t h = path_hash(path, len);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&s->bid_index, h, &pos)) != SIZE_MAX)
        if (strcmp(s->bids[i].from, path) == 0)
            return s->bids[i].to;
    for (i = path_head(s, path, len); i != SIZE_MAX; i = s->recs[i].prev_path)
        if (s->recs[i].build_id)
            return s->recs[i].build_id;
    return NULL;
}

const mrec *symmap_dev_record(const symmap *s, const char *path)
{
    for (size_t i = path_head(s, path, strlen(path)); i != SIZE_MAX; i = s->recs[i].prev_path)
        if (s->recs[i].dev_known)
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
