/* Parser tables: process comms and thread -> process maps (open
 * addressing), the side-band records that fill them, and the read
 * accessors of the public API. */
#include <stdlib.h>

#include <string.h>

#include "sample.h"

/* ---- process comms ---- */

static bool pc_grow(ps_parser *p)
{
    size_t cap = p->threads.pc_cap ? p->threads.pc_cap * 2 : 256;
    int64_t *pids = malloc(cap * sizeof *pids);
    uint32_t *comms = calloc(cap, sizeof *comms);
    if (!pids || !comms) {
        free(pids);
        free(comms);
        return false;
    }
    for (size_t i = 0; i < p->threads.pc_cap; i++) {
        if (!p->threads.pc_comm[i])
            continue;
        size_t j = (size_t)ps_hash_mix((uint64_t)p->threads.pc_pid[i]) & (cap - 1);
        while (comms[j])
            j = (j + 1) & (cap - 1);
        pids[j] = p->threads.pc_pid[i];
        comms[j] = p->threads.pc_comm[i];
    }
    free(p->threads.pc_pid);
    free(p->threads.pc_comm);
    p->threads.pc_pid = pids;
    p->threads.pc_comm = comms;
    p->threads.pc_cap = cap;
    return true;
}

int ps_set_process_comm(ps_parser *p, int64_t pid, uint32_t comm)
{
    if ((p->threads.pc_n + 1) * 2 > p->threads.pc_cap && !pc_grow(p))
        return PS_ERR_NOMEM;
    size_t j = (size_t)ps_hash_mix((uint64_t)pid) & (p->threads.pc_cap - 1);
    while (p->threads.pc_comm[j] && p->threads.pc_pid[j] != pid)
        j = (j + 1) & (p->threads.pc_cap - 1);
    if (!p->threads.pc_comm[j])
        p->threads.pc_n++;
    p->threads.pc_pid[j] = pid;
    p->threads.pc_comm[j] = comm;
    return PS_OK;
}

uint32_t ps_process_comm(const ps_parser *p, int64_t pid)
{
    if (!p->threads.pc_cap)
        return 0;
    size_t j = (size_t)ps_hash_mix((uint64_t)pid) & (p->threads.pc_cap - 1);
    while (p->threads.pc_comm[j]) {
        if (p->threads.pc_pid[j] == pid)
            return p->threads.pc_comm[j];
        j = (j + 1) & (p->threads.pc_cap - 1);
    }
    return 0;
}

/* ---- thread -> process ---- */

static bool tp_grow(ps_parser *p)
{
    size_t cap = p->threads.tp_cap ? p->threads.tp_cap * 2 : 256;
    int64_t *tids = malloc(cap * sizeof *tids);
    int64_t *pids = calloc(cap, sizeof *pids);
    if (!tids || !pids) {
        free(tids);
        free(pids);
        return false;
    }
    for (size_t i = 0; i < p->threads.tp_cap; i++) {
        if (!p->threads.tp_pid[i])
            continue;
        size_t j = (size_t)ps_hash_mix((uint64_t)p->threads.tp_tid[i]) & (cap - 1);
        while (pids[j])
            j = (j + 1) & (cap - 1);
        tids[j] = p->threads.tp_tid[i];
        pids[j] = p->threads.tp_pid[i];
    }
    free(p->threads.tp_tid);
    free(p->threads.tp_pid);
    p->threads.tp_tid = tids;
    p->threads.tp_pid = pids;
    p->threads.tp_cap = cap;
    return true;
}

int ps_set_thread_pid(ps_parser *p, int64_t tid, int64_t pid)
{
    /* pids are stored plus one (0 marks a free slot); a number no kernel
     * hands out (garbage input) is not recorded */
    if (tid < 0 || pid < 0 || pid == INT64_MAX)
        return PS_OK;
    if ((p->threads.tp_n + 1) * 2 > p->threads.tp_cap && !tp_grow(p))
        return PS_ERR_NOMEM;
    size_t j = (size_t)ps_hash_mix((uint64_t)tid) & (p->threads.tp_cap - 1);
    while (p->threads.tp_pid[j] && p->threads.tp_tid[j] != tid)
        j = (j + 1) & (p->threads.tp_cap - 1);
    if (!p->threads.tp_pid[j])
        p->threads.tp_n++;
    p->threads.tp_tid[j] = tid;
    p->threads.tp_pid[j] = pid + 1;
    return PS_OK;
}

int64_t ps_thread_pid(const ps_parser *p, int64_t tid)
{
    if (!p->threads.tp_cap)
        return -1;
    size_t j = (size_t)ps_hash_mix((uint64_t)tid) & (p->threads.tp_cap - 1);
    while (p->threads.tp_pid[j]) {
        if (p->threads.tp_tid[j] == tid)
            return p->threads.tp_pid[j] - 1;
        j = (j + 1) & (p->threads.tp_cap - 1);
    }
    return -1;
}

/* ---- side-band records ---- */

int ps_sideband(ps_parser *p, const ps_header *h)
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


const ps_event_info *ps_event_info_get(const ps_parser *p, uint32_t id)
{
    if (id == 0 || id > p->evinfo.len)
        return NULL;
    return &PS_VEC_AT(&p->evinfo, ps_event_info, id - 1);
}

/* ---- accessors ---- */

const char *ps_error(const ps_parser *p)
{
    return p->error;
}
const ps_stats *ps_get_stats(const ps_parser *p)
{
    return &p->stats;
}
size_t ps_warning_count(const ps_parser *p)
{
    return p->warn.list.len;
}

const char *ps_warning(const ps_parser *p, size_t i)
{
    return i < p->warn.list.len ? PS_VEC_AT(&p->warn.list, char *, i) : NULL;
}

size_t ps_frame_count(const ps_parser *p)
{
    return p->frames.list.len;
}

const ps_frame *ps_frame_get(const ps_parser *p, uint32_t id)
{
    if (id == 0 || id > p->frames.list.len)
        return NULL;
    return &PS_VEC_AT(&p->frames.list, ps_frame, id - 1);
}

size_t ps_event_count(const ps_parser *p)
{
    return ps_strtab_count(&p->names.events);
}
ps_str ps_event_get(const ps_parser *p, uint32_t id)
{
    return ps_strtab_get(&p->names.events, id);
}
uint32_t ps_first_event(const ps_parser *p)
{
    return p->names.first_event;
}

uint32_t ps_event_find(const ps_parser *p, const char *name, size_t len)
{
    return ps_strtab_find(&p->names.events, name, len);
}

ps_str ps_comm_get(const ps_parser *p, uint32_t id)
{
    return ps_strtab_get(&p->names.comms, id);
}
ps_str ps_srcline_get(const ps_parser *p, uint32_t id)
{
    return ps_strtab_get(&p->names.srclines, id);
}
size_t ps_mmap_count(const ps_parser *p)
{
    return p->mmaps.len;
}

const ps_mmap *ps_mmap_get(const ps_parser *p, size_t i)
{
    return i < p->mmaps.len ? &PS_VEC_AT(&p->mmaps, ps_mmap, i) : NULL;
}
