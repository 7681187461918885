/* perf.data -> the perf script parser's tables (convert.h).
 *
 * What perf script (6.1, default fields) prints, and so what this gives:
 *   - a header per sample: comm, tid, time, period (when sampled), event;
 *     [cpu] when the event samples the cpu. Tracepoint events print no
 *     period, so their samples weigh 1 each, as in the text;
 *   - with callchains, one frame line per entry, leaf first, context
 *     markers switching between kernel and user addresses, at most 127
 *     entries (perf's --max-stack default); without, the sample's ip on
 *     the header line;
 *   - a frame line is "ip sym+0xoff (dso)", "[unknown]" for a symbol or
 *     a DSO not found.
 * Differences from the text, each a quirk of perf script that the text
 * path cannot undo, and tested:
 *   - perf 5.16-6.3 print a user frame's file offset, not its ip; here the
 *     ip is given (as perf >= 6.4 prints it) and marked as such, so only
 *     `--addrs` output, which shows addresses, differs;
 *   - perf prints only the tid; here the pid is known, so the folded
 *     `--pid`/`--tid` root reads comm-PID where the text gives comm-?;
 *   - a tracepoint sample without callchain prints its ip after the
 *     trace text, where the text path cannot tell it from that text and
 *     drops it; so it is dropped here too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "srcline.h"

#define MAX_STACK 127
#define PERF_TYPE_TRACEPOINT 2
#define SPACE_MAX (1u << 22) /* addresses cached per address space before it starts over */
#define KERNEL_SPACE PD_SYMS_KERNEL

/* A cached address: its frame id (0 = empty slot); hdr: an ip printed on
 * a sample's header line (another frame line than in a callchain). */
typedef struct fslot {
    uint64_t ip;
    uint32_t id, hdr;
} fslot;

/* The frame ids of the addresses seen in one address space: a process's
 * user addresses at one generation of its maps (emptied when they change),
 * or the kernel's. */
typedef struct space {
    uint32_t pid; /* KERNEL_SPACE for the kernel */
    uint64_t gen;
    fslot *slots;
    size_t n, cap;
} space;

typedef struct conv {
    pd_reader *r;
    pd_syms *s;
    ps_parser *p;
    space *spaces; /* [0] is the kernel's */
    size_t nspaces, spaces_cap;
    uint32_t *space_of; /* open addressing by pid: spaces index + 1, 0 = empty */
    size_t nspace_of;
    uint32_t *frames;
    pd_srclines *srclines; /* NULL: no source lines */
    uint32_t *srcs;
    char line[16384];
} conv;

const char *pd_convert_unsupported(const pd_info *info)
{
    for (size_t i = 0; i < info->nevents; i++) {
        const pd_event *e = &info->events[i];
        if ((e->sample_type & PD_S_STACK_USER) && (e->sample_type & PD_S_REGS_USER))
            return "it was recorded with --call-graph dwarf, whose user stacks need unwinding";
        if ((e->sample_type & PD_S_BRANCH_STACK) && (e->branch_sample_type & (1u << 11)))
            return "it was recorded with --call-graph lbr, whose call stacks need stitching";
    }
    return NULL;
}

static size_t slot_of(uint64_t ip, size_t cap)
{
    return (size_t)((ip * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
}

static size_t pid_slot(uint32_t pid, size_t cap)
{
    return (size_t)((pid * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static bool space_grow(space *sp)
{
    if (sp->n >= SPACE_MAX) { /* bounded: start over */
        memset(sp->slots, 0, sp->cap * sizeof *sp->slots);
        sp->n = 0;
        return true;
    }
    size_t cap = sp->cap ? sp->cap * 2 : 1024;
    fslot *t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < sp->cap; i++) {
        if (!sp->slots[i].id)
            continue;
        size_t j = slot_of(sp->slots[i].ip, cap);
        while (t[j].id)
            j = (j + 1) & (cap - 1);
        t[j] = sp->slots[i];
    }
    free(sp->slots);
    sp->slots = t;
    sp->cap = cap;
    return true;
}

/* The address space of process pid (KERNEL_SPACE: the kernel's), emptied
 * when the maps it was filled under have changed since. NULL on OOM. */
static space *space_get(conv *c, uint32_t pid)
{
    uint64_t gen = pd_syms_generation(c->s, pid);
    size_t idx = 0;
    if (pid != KERNEL_SPACE) {
        size_t mask = c->nspace_of - 1, i = pid_slot(pid, c->nspace_of);
        for (; c->space_of[i]; i = (i + 1) & mask)
            if (c->spaces[c->space_of[i] - 1].pid == pid)
                break;
        if (c->space_of[i]) {
            idx = c->space_of[i] - 1;
        } else {
            if (c->nspaces == c->spaces_cap) {
                size_t cap = c->spaces_cap * 2;
                space *t = realloc(c->spaces, cap * sizeof *t);
                if (!t)
                    return NULL;
                c->spaces = t;
                c->spaces_cap = cap;
            }
            if ((c->nspaces + 1) * 2 > c->nspace_of) {
                size_t cap = c->nspace_of * 2;
                uint32_t *t = calloc(cap, sizeof *t);
                if (!t)
                    return NULL;
                for (size_t k = 1; k < c->nspaces; k++) {
                    size_t j = pid_slot(c->spaces[k].pid, cap);
                    while (t[j])
                        j = (j + 1) & (cap - 1);
                    t[j] = (uint32_t)(k + 1);
                }
                free(c->space_of);
                c->space_of = t;
                c->nspace_of = cap;
                mask = cap - 1;
                for (i = pid_slot(pid, cap); c->space_of[i];)
                    i = (i + 1) & mask;
            }
            idx = c->nspaces++;
            c->spaces[idx] = (space){pid, gen, NULL, 0, 0};
            c->space_of[i] = (uint32_t)(idx + 1);
        }
    }
    space *sp = &c->spaces[idx];
    if (sp->gen != gen) {
        if (sp->slots)
            memset(sp->slots, 0, sp->cap * sizeof *sp->slots);
        sp->n = 0;
        sp->gen = gen;
    }
    return sp;
}

/* The frame line of ip, formatted as perf prints it. */
static size_t format_frame(conv *c, uint64_t ip, const pd_frame *f)
{
    char *b = c->line;
    size_t cap = sizeof c->line;
    int n;
    if (f->sym)
        n = snprintf(b, cap, "%llx %.*s+0x%llx (%.*s)", (unsigned long long)ip,
                     (int)(f->sym_len > 8192 ? 8192 : f->sym_len), f->sym,
                     (unsigned long long)f->symoff, (int)(f->dso_len > 4096 ? 4096 : f->dso_len),
                     f->dso);
    else
        n = snprintf(b, cap, "%llx [unknown] (%.*s)", (unsigned long long)ip,
                     (int)(f->dso_len > 4096 ? 4096 : f->dso_len), f->dso);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The frame id cached for ip in sp, 0 when there is none. */
static inline uint32_t cached(const space *sp, uint64_t ip, uint32_t hdr)
{
    if (!sp->cap)
        return 0;
    size_t mask = sp->cap - 1;
    for (size_t j = slot_of(ip, sp->cap); sp->slots[j].id; j = (j + 1) & mask)
        if (sp->slots[j].ip == ip && sp->slots[j].hdr == hdr)
            return sp->slots[j].id;
    return 0;
}

static inline void prefetch_slot(const space *sp, uint64_t ip)
{
    if (sp->cap)
        __builtin_prefetch(&sp->slots[slot_of(ip, sp->cap)]);
}

/* The frame id of ip in address space sp of process pid (kernel: a
 * kernel address), as a frame line resolved and interned on its first
 * sight; hdr: printed on the header line. 0 when the text is no frame
 * line, UINT32_MAX on OOM. */
static uint32_t frame_of(conv *c, space *sp, uint32_t pid, uint64_t ip, bool kernel, bool hdr)
{
    uint32_t id = cached(sp, ip, hdr);
    if (id)
        return id;
    pd_frame f;
    if (pd_syms_resolve(c->s, pid, ip, kernel, &f))
        return UINT32_MAX;
    size_t n = format_frame(c, ip, &f);
    id = ps_direct_frame(c->p, c->line, n, hdr);
    if (id && id != UINT32_MAX && c->srclines && pd_srclines_learn(c->srclines, c->s, c->p, id, &f))
        return UINT32_MAX;
    if (id && id != UINT32_MAX) {
        if ((sp->n + 1) * 2 > sp->cap && !space_grow(sp))
            return UINT32_MAX;
        size_t mask = sp->cap - 1, j = slot_of(ip, sp->cap);
        while (sp->slots[j].id)
            j = (j + 1) & mask;
        sp->slots[j] = (fslot){ip, id, hdr};
        sp->n++;
    }
    return id;
}

static int sample(conv *c, const pd_record *rec)
{
    const pd_sample *sm = &rec->u.sample;
    const pd_info *in = pd_get_info(c->r);
    const pd_event *ev = &in->events[sm->event];
    uint64_t st = ev->sample_type;
    ps_direct_header h;
    memset(&h, 0, sizeof h);
    char comm[32];
    h.comm = pd_syms_comm(c->s, sm->tid);
    if (!h.comm) { /* perf names a thread it has no COMM for ":tid" */
        snprintf(comm, sizeof comm, ":%u", sm->tid);
        h.comm = comm;
    }
    h.comm_len = strlen(h.comm);
    h.has_pid = h.has_tid = (st & PD_S_TID) != 0;
    h.pid = (int32_t)sm->pid;
    h.tid = (int32_t)sm->tid;
    h.has_cpu = (st & PD_S_CPU) != 0;
    h.cpu = (int32_t)sm->cpu;
    h.has_time = (st & PD_S_TIME) != 0;
    h.time_ns = sm->time;
    h.has_period = (st & PD_S_PERIOD) && ev->type != PERF_TYPE_TRACEPOINT;
    h.period = sm->period;
    h.event = ev->name;
    h.event_len = strlen(ev->name);
    size_t n = 0;
    bool header_ip = false;
    space *user = space_get(c, sm->pid), *kern = space_get(c, KERNEL_SPACE);
    if (!user || !kern)
        return PS_ERR_NOMEM;
    if ((st & PD_S_CALLCHAIN) && sm->nchain) {
        /* the entries' slots are fetched all at once first: each lookup
         * would otherwise wait for its cache miss in turn */
        bool kernel = false;
        for (size_t i = 0; i < sm->nchain && i < 2 * MAX_STACK; i++) {
            uint64_t ip = pd_u64(sm->chain + 8 * i);
            if (ip >= PD_CONTEXT_MAX)
                kernel = ip != PD_CONTEXT_USER;
            else
                prefetch_slot(kernel ? kern : user, ip);
        }
        kernel = false;
        for (size_t i = 0; i < sm->nchain && n < MAX_STACK; i++) {
            uint64_t ip = pd_u64(sm->chain + 8 * i);
            if (ip >= PD_CONTEXT_MAX) {
                if (ip == PD_CONTEXT_KERNEL || ip == PD_CONTEXT_USER || ip == PD_CONTEXT_HV)
                    kernel = ip != PD_CONTEXT_USER;
                else
                    break; /* perf discards a chain with a guest context */
                continue;
            }
            space *sp = kernel ? kern : user;
            uint32_t id = cached(sp, ip, false);
            if (!id && (id = frame_of(c, sp, sm->pid, ip, kernel, false)) == UINT32_MAX)
                return PS_ERR_NOMEM;
            if (id)
                c->frames[n++] = id;
        }
    } else if ((st & PD_S_IP) && ev->type != PERF_TYPE_TRACEPOINT) {
        bool kernel = (rec->misc & PD_MISC_CPUMODE_MASK) == PD_MISC_KERNEL;
        uint32_t id = frame_of(c, kernel ? kern : user, sm->pid, sm->ip, kernel, true);
        if (id == UINT32_MAX)
            return PS_ERR_NOMEM;
        if (id)
            c->frames[n++] = id;
        header_ip = true;
    }
    const uint32_t *srcs = NULL;
    if (c->srclines) {
        /* perf asks addr2line about each frame it prints, the header's ip
         * too, though the text path reads no source line there */
        bool any = false;
        for (size_t k = 0; k < n; k++)
            any |= (c->srcs[k] = pd_srclines_print(c->srclines, c->frames[k])) != 0;
        srcs = any && !header_ip ? c->srcs : NULL;
    }
    return ps_direct_sample(c->p, &h, c->frames, srcs, n);
}

static int sideband(conv *c, const pd_record *rec)
{
    ps_mmap m;
    memset(&m, 0, sizeof m);
    m.has_time = rec->has_time;
    m.time_ns = rec->time;
    char prot[5], bid[41];
    switch (rec->type) {
    case PD_MMAP:
    case PD_MMAP2: {
        m.kind = PS_SB_MMAP;
        m.pid = rec->u.mmap.pid == UINT32_MAX ? -1 : (int64_t)rec->u.mmap.pid;
        m.tid = rec->u.mmap.tid == UINT32_MAX ? -1 : (int64_t)rec->u.mmap.tid;
        m.start = rec->u.mmap.start;
        m.len = rec->u.mmap.len;
        m.pgoff = rec->u.mmap.pgoff;
        m.mmap2 = rec->type == PD_MMAP2;
        uint32_t pr = rec->u.mmap.prot;
        snprintf(prot, sizeof prot, "%c%c%c%c", pr & 1 ? 'r' : '-', pr & 2 ? 'w' : '-',
                 pr & 4 ? 'x' : '-', rec->u.mmap.flags & 1 ? 's' : 'p');
        m.prot = (ps_str){m.mmap2 ? prot : "x", m.mmap2 ? 4 : 1};
        m.path = (ps_str){rec->u.mmap.filename, strlen(rec->u.mmap.filename)};
        size_t bl = rec->u.mmap.build_id_len;
        for (size_t i = 0; i < bl; i++)
            snprintf(bid + 2 * i, 3, "%02x", rec->u.mmap.build_id[i]);
        m.build_id = (ps_str){bid, 2 * bl};
        m.dev_known = rec->u.mmap.has_dev;
        m.maj = rec->u.mmap.maj;
        m.min = rec->u.mmap.min;
        m.ino = rec->u.mmap.ino;
        break;
    }
    case PD_FORK:
        if (rec->u.task.pid == rec->u.task.ppid)
            return PS_OK; /* a new thread: its process's maps */
        m.kind = PS_SB_FORK;
        m.pid = rec->u.task.pid;
        m.ppid = rec->u.task.ppid;
        m.tid = rec->u.task.tid;
        break;
    case PD_COMM:
        if (rec->u.comm.pid == rec->u.comm.tid &&
            ps_direct_process_comm(c->p, rec->u.comm.pid, rec->u.comm.comm,
                                   strlen(rec->u.comm.comm)))
            return PS_ERR_NOMEM;
        if (!rec->u.comm.exec)
            return PS_OK;
        m.kind = PS_SB_EXEC;
        m.pid = rec->u.comm.pid;
        m.tid = rec->u.comm.tid;
        break;
    default:
        return PS_OK;
    }
    return ps_direct_sideband(c->p, &m);
}

static int add_warnings(conv *c)
{
    char buf[256];
    const pd_counts *k = pd_get_counts(c->r);
    for (size_t i = 0; i < pd_warning_count(c->r); i++)
        if (ps_direct_warning(c->p, pd_warning(c->r, i)))
            return -1;
    for (size_t i = 0; i < pd_syms_warning_count(c->s); i++)
        if (ps_direct_warning(c->p, pd_syms_warning(c->s, i)))
            return -1;
    if (k->lost || k->lost_samples) {
        snprintf(buf, sizeof buf,
                 "perf lost %llu samples (the recording could not keep up: "
                 "lower -F, or raise -m)",
                 (unsigned long long)(k->lost + k->lost_samples));
        if (ps_direct_warning(c->p, buf))
            return -1;
    }
    if (k->unknown_event) {
        snprintf(buf, sizeof buf, "skipped %llu samples of events the file does not describe",
                 (unsigned long long)k->unknown_event);
        if (ps_direct_warning(c->p, buf))
            return -1;
    }
    return 0;
}

int pd_convert(pd_reader *r, pd_syms *s, ps_parser *p, const pd_convert_options *o, char *err,
               size_t errlen)
{
    conv c = {.r = r, .s = s, .p = p};
    c.frames = malloc(MAX_STACK * sizeof *c.frames);
    if (o && o->srcline) {
        c.srclines = pd_srclines_new();
        c.srcs = malloc(MAX_STACK * sizeof *c.srcs);
    }
    c.spaces = calloc(16, sizeof *c.spaces);
    c.space_of = calloc(32, sizeof *c.space_of);
    if (c.spaces) {
        c.spaces[0].pid = KERNEL_SPACE;
        c.spaces[0].gen = pd_syms_generation(s, KERNEL_SPACE);
        c.nspaces = 1;
        c.spaces_cap = 16;
        c.nspace_of = 32;
    }
    if (!c.frames || !c.spaces || !c.space_of || (o && o->srcline && (!c.srclines || !c.srcs))) {
        free(c.frames);
        pd_srclines_free(c.srclines);
        free(c.srcs);
        free(c.spaces);
        free(c.space_of);
        snprintf(err, errlen, "out of memory");
        return PD_CONVERT_ERROR;
    }
    int rc = PD_CONVERT_OK;
    pd_record rec;
    uint64_t next_progress = 8u << 20;
    size_t checked_events = 0;
    int got;
    while ((got = pd_next(r, &rec)) == 1) {
        const pd_info *in = pd_get_info(r);
        if (in->nevents != checked_events) { /* pipe mode: events arrive as records */
            checked_events = in->nevents;
            const char *why = pd_convert_unsupported(in);
            if (why) {
                snprintf(err, errlen, "%s", why);
                rc = PD_CONVERT_UNSUPPORTED;
                break;
            }
        }
        int prc = PS_OK;
        if (rec.type == PD_SAMPLE) {
            prc = sample(&c, &rec);
        } else if (rec.type == PD_MMAP || rec.type == PD_MMAP2 || rec.type == PD_COMM ||
                   rec.type == PD_FORK) {
            prc = pd_syms_record(s, &rec) ? PS_ERR_NOMEM : sideband(&c, &rec);
        }
        if (prc) {
            snprintf(err, errlen, "%s", prc == PS_ERR_NOMEM ? "out of memory" : "parser state");
            rc = PD_CONVERT_ERROR;
            break;
        }
        const pd_counts *k = pd_get_counts(r);
        if (o && o->progress && k->input_bytes >= next_progress) {
            next_progress = k->input_bytes + (8u << 20);
            if (o->progress(o->progress_ctx, k->input_bytes, k->samples)) {
                rc = PD_CONVERT_STOPPED;
                break;
            }
        }
    }
    if (got < 0 && rc == PD_CONVERT_OK) {
        snprintf(err, errlen, "%s", pd_error(r));
        rc = PD_CONVERT_ERROR;
    }
    if (rc == PD_CONVERT_OK && pd_get_counts(r)->aux) {
        snprintf(err, errlen, "it holds AUX tracing data (e.g. Intel PT), which needs decoding");
        rc = PD_CONVERT_UNSUPPORTED;
    }
    if (rc == PD_CONVERT_OK && add_warnings(&c)) {
        snprintf(err, errlen, "out of memory");
        rc = PD_CONVERT_ERROR;
    }
    for (size_t i = 0; i < c.nspaces; i++)
        free(c.spaces[i].slots);
    free(c.spaces);
    free(c.space_of);
    free(c.frames);
    pd_srclines_free(c.srclines);
    free(c.srcs);
    return rc;
}
