/* Direct input (perfscript.h): samples, frames and side-band records
 * given as fields rather than as text, merged into the same tables that
 * parsing perf script's text fills, so that folding and the profile
 * builder treat both alike. */
#include "ps_internal.h"

uint32_t ps_direct_frame(ps_parser *p, const char *line, size_t len, bool header_ip)
{
    uint64_t h = ps_frame_hash(line, len, header_ip);
    size_t slot;
    uint32_t id = ps_frame_find(p, line, len, h, &slot);
    if (id == 0)
        id = ps_frame_add(p, line, len, h, slot, header_ip);
    return id;
}

uint32_t ps_direct_srcline(ps_parser *p, const char *text, size_t len)
{
    uint32_t id = ps_strtab_intern(&p->names.srclines, text, len);
    return id ? id : UINT32_MAX;
}

int ps_direct_sample(ps_parser *p, const ps_direct_header *dh, const uint32_t *frames,
                     const uint32_t *srcs, size_t n)
{
    if (p->finished || p->failed)
        return PS_ERR_STATE;
    ps_header h;
    memset(&h, 0, sizeof h);
    h.kind = PS_LINE_HEADER;
    h.rule = PS_RULE_A;
    h.has_pid = dh->has_pid;
    h.pid = dh->pid;
    h.has_tid = dh->has_tid;
    h.tid = dh->tid;
    h.has_cpu = dh->has_cpu;
    h.cpu = dh->cpu;
    h.has_time = dh->has_time;
    h.time_ns = dh->time_ns;
    h.has_period = dh->has_period;
    h.period = dh->period;
    h.has_event = dh->event != NULL;
    uint32_t comm = 0, event = 0;
    if (dh->comm && dh->comm_len) {
        ps_str last = ps_strtab_get(&p->names.comms, p->hdr.last_comm);
        if (p->hdr.last_comm && last.len == dh->comm_len && ps_eq(last.ptr, dh->comm, dh->comm_len))
            comm = p->hdr.last_comm;
        else if (!(comm = p->hdr.last_comm =
                       ps_strtab_intern(&p->names.comms, dh->comm, dh->comm_len)))
            return PS_ERR_NOMEM;
    }
    if (dh->event) {
        ps_str last = ps_strtab_get(&p->names.events, p->hdr.last_event);
        if (p->hdr.last_event && last.len == dh->event_len &&
            ps_eq(last.ptr, dh->event, dh->event_len))
            event = p->hdr.last_event;
        else if (!(event = p->hdr.last_event =
                       ps_strtab_intern(&p->names.events, dh->event, dh->event_len)))
            return PS_ERR_NOMEM;
    }
    int rc = ps_sample_begin(p, &h, comm, event);
    if (rc)
        return rc;
    if (n) {
        if (!ps_vec_reserve(&p->cur.frames, n))
            return PS_ERR_NOMEM;
        memcpy((uint32_t *)p->cur.frames.data + p->cur.frames.len, frames, n * sizeof *frames);
        p->cur.frames.len += n;
    }
    if (n && srcs) { /* as the text path keeps them: one per frame, once there is one */
        if (!ps_vec_reserve(&p->cur.src, n))
            return PS_ERR_NOMEM;
        memcpy(p->cur.src.data, srcs, n * sizeof *srcs);
        p->cur.src.len = n;
        p->cur.has_src = true;
    }
    p->stats.frames += n;
    p->state = PS_START;
    return ps_sample_end(p);
}

int ps_direct_sideband(ps_parser *p, const ps_mmap *m)
{
    ps_mmap c = *m;
    if (c.kind == PS_SB_MMAP) {
        char *path = ps_arena_dup(&p->arena, m->path.ptr, m->path.len);
        char *prot = ps_arena_dup(&p->arena, m->prot.ptr, m->prot.len);
        char *bid = ps_arena_dup(&p->arena, m->build_id.ptr, m->build_id.len);
        if (!path || !prot || !bid)
            return PS_ERR_NOMEM;
        c.path.ptr = path;
        c.prot.ptr = prot;
        c.build_id.ptr = bid;
    } else {
        c.path = c.prot = c.build_id = (ps_str){"", 0};
    }
    c.after_samples = p->stats.samples;
    p->stats.sideband++;
    if (!ps_vec_push(&p->mmaps, &c))
        return PS_ERR_NOMEM;
    return c.tid >= 0 && c.pid >= 0 ? ps_set_thread_pid(p, c.tid, c.pid) : PS_OK;
}

int ps_direct_process_comm(ps_parser *p, int64_t pid, const char *comm, size_t len)
{
    if (!len)
        return PS_OK;
    uint32_t c = ps_strtab_intern(&p->names.comms, comm, len);
    if (!c)
        return PS_ERR_NOMEM;
    return ps_process_comm(p, pid) == c ? PS_OK : ps_set_process_comm(p, pid, c);
}

int ps_direct_warning(ps_parser *p, const char *text)
{
    return ps_warn(p, "%s", text) ? PS_ERR_NOMEM : PS_OK;
}
