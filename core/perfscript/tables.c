/* Parser tables: process comms and thread -> process maps, the side-band
 * records that fill them, and the read accessors of the public API. */
#include <stdlib.h>

#include <string.h>

#include "sample.h"

/* ---- process comms, thread -> process ---- */

int ps_set_process_comm(ps_parser *p, int64_t pid, uint32_t comm)
{
    return !comm || ps_imap_put(&p->threads.comm, pid, comm) ? PS_OK : PS_ERR_NOMEM;
}

uint32_t ps_process_comm(const ps_parser *p, int64_t pid)
{
    return (uint32_t)ps_imap_get(&p->threads.comm, pid);
}

int ps_set_thread_pid(ps_parser *p, int64_t tid, int64_t pid)
{
    /* pids are stored plus one (0 is absent); a number no kernel hands out
     * (garbage input) is not recorded */
    if (tid < 0 || pid < 0 || pid == INT64_MAX)
        return PS_OK;
    return ps_imap_put(&p->threads.pid, tid, (uint64_t)pid + 1) ? PS_OK : PS_ERR_NOMEM;
}

int64_t ps_thread_pid(const ps_parser *p, int64_t tid)
{
    return (int64_t)ps_imap_get(&p->threads.pid, tid) - 1;
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
