/* The profile builder: merged stacks -> prof_profile. Work is per distinct
 * stack and per distinct (frame, position kind), never per input sample. */
#include <stdio.h>
#include <stdlib.h>

#include "builder.h"
#include "ps_internal.h"

const char *ps_event_unit(const char *name, size_t len)
{
    static const char *const ns[] = {"cpu-clock", "task-clock"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(ns[i]);
        if (len >= n && memcmp(name, ns[i], n) == 0 && (len == n || name[n] == ':'))
            return "nanoseconds";
    }
    return "count";
}

/* A location cache slot per (frame, adjusted): pid-independent results are
 * stored with pid PID_ANY. */
#define PID_ANY INT64_MIN
#define FRAME_IN_DSO 1
#define FRAME_KERNEL 2
typedef struct loc_cache {
    int64_t pid;
    uint64_t loc;
} loc_cache;

typedef struct builder {
    ps_parser *p;
    prof_profile *prof;
    symmap *sm;
    symmap *sm_raw; /* for header ips (no callchain): printed raw */
    const ps_build_options *o;
    uint64_t *func;   /* per frame id: function id (0 = not yet) */
    uint8_t *flags;   /* per frame id: FRAME_* (compact: read for every frame) */
    loc_cache *cache; /* per frame id * 2 + adjusted */
    char *name;       /* scratch for "[dso]" names */
    size_t name_cap;
} builder;

/* A frame in a real DSO: not DSO-less, not `(inlined)` (older perf printed
 * inlined functions with that word in the DSO slot). */
static bool in_dso(const ps_frame *f)
{
    return f->has_dso && !(f->dso.len == 7 && memcmp(f->dso.ptr, "inlined", 7) == 0);
}

/* The DSO text for symmap: with its ` (deleted)` (symmap then keeps perf's
 * names instead of reading whatever file has that path now). */
static size_t dso_len_for_symmap(const ps_frame *f)
{
    return f->dso.len + (f->deleted ? sizeof " (deleted)" - 1 : 0);
}

static uint64_t frame_function(builder *b, uint32_t fid, const ps_frame *f)
{
    if (b->func[fid])
        return b->func[fid];
    const char *s = f->sym.ptr;
    size_t n = f->sym.len;
    bool unknown = n == 0 || (n == 9 && memcmp(s, "[unknown]", 9) == 0);
    if (unknown && f->has_dso && f->dso.len &&
        !(f->dso.len == 9 && memcmp(f->dso.ptr, "[unknown]", 9) == 0)) {
        size_t bs = f->dso.len;
        while (bs > 0 && f->dso.ptr[bs - 1] != '/')
            bs--;
        size_t bl = f->dso.len - bs;
        if (bl + 2 > b->name_cap) {
            char *nb = realloc(b->name, bl + 2);
            if (!nb)
                return 0;
            b->name = nb;
            b->name_cap = bl + 2;
        }
        b->name[0] = '[';
        memcpy(b->name + 1, f->dso.ptr + bs, bl);
        b->name[bl + 1] = ']';
        s = b->name;
        n = bl + 2;
    } else if (unknown) {
        s = "[unknown]";
        n = 9;
    }
    b->func[fid] = prof_function(b->prof, s, n, NULL, 0);
    return b->func[fid];
}

/* The line of frame fid: its function, with the file and line of its
 * `-F +srcline` text src when there is one (PPROF-MAPPING §5 item 1).
 * false on OOM. */
static bool frame_line(builder *b, uint32_t fid, uint32_t src, prof_line *out)
{
    const ps_frame *f = ps_frame_get(b->p, fid);
    uint64_t fn = frame_function(b, fid, f);
    out->function_id = fn;
    out->line = 0;
    if (!fn)
        return false;
    ps_str text = ps_srcline_get(b->p, src), file;
    uint64_t line;
    if (src && ps_srcline_split(text.ptr, text.len, &file, &line)) {
        prof_function_info info;
        size_t nlen;
        if (!prof_get_function(b->prof, fn, &info))
            return false;
        const char *name = prof_str(b->prof, info.name, &nlen);
        char *copy = malloc(nlen + 1); /* prof_str is valid until the profile changes */
        if (!copy)
            return false;
        memcpy(copy, name, nlen);
        out->function_id = prof_function(b->prof, copy, nlen, file.ptr, file.len);
        out->line = line > INT64_MAX ? INT64_MAX : (int64_t)line;
        free(copy);
    }
    return out->function_id != 0;
}

/* The mapping and location address of a frame (symmap, PPROF-MAPPING §5),
 * with a return address moved back one byte when `adjusted` and the
 * mapping's mode wants it. false on OOM. */
static bool resolve(builder *b, const ps_frame *f, int64_t pid, bool adjusted, symmap_result *r,
                    uint64_t *addr)
{
    int spid = pid < 0 || pid > INT32_MAX ? -1 : (int)pid;
    if (symmap_resolve(f->header_ip ? b->sm_raw : b->sm, f->dso.ptr, dso_len_for_symmap(f),
                       f->address, spid, r) != 0)
        return false;
    *addr = r->address;
    if (adjusted && r->adjust_return && *addr > 0)
        (*addr)--;
    return true;
}

/* The location of frame fid (with srcline src) in a stack of process pid;
 * adjusted: it is a return address (PPROF-MAPPING §5 item 5). 0 on OOM. */
static uint64_t frame_location(builder *b, uint32_t fid, uint32_t src, int64_t pid, bool adjusted)
{
    loc_cache *c = &b->cache[(size_t)fid * 2 + adjusted];
    if (c->loc && (c->pid == PID_ANY || c->pid == pid))
        return c->loc;
    const ps_frame *f = ps_frame_get(b->p, fid);
    prof_line line;
    if (!frame_line(b, fid, src, &line))
        return 0;
    uint64_t loc;
    if (!in_dso(f)) {
        /* perf --inline frames: no DSO, the address is the caller's */
        loc = prof_location(b->prof, 0, 0, &line, 1);
        c->pid = PID_ANY;
    } else {
        symmap_result r;
        uint64_t addr;
        if (!resolve(b, f, pid, adjusted, &r, &addr))
            return 0;
        loc = prof_location(b->prof, r.mapping_id, addr, &line, 1);
        c->pid = r.mode == SYMMAP_MODE_RUNTIME ? pid : PID_ANY;
    }
    c->loc = loc;
    return loc;
}

/* perf --inline prints a callchain entry's inlined functions first, as
 * DSO-less lines at the entry's address, then the real frame. Such a run
 * becomes one location whose lines run from the innermost inlined function
 * to the real frame's (pprof's model). 0 on OOM. */
static uint64_t inline_location(builder *b, const uint32_t *fids, const uint32_t *srcs, size_t n,
                                int64_t pid, bool adjusted)
{
    prof_line lines[64];
    for (size_t i = 0; i < n; i++)
        if (!frame_line(b, fids[i], srcs[i], &lines[i]))
            return 0;
    const ps_frame *f = ps_frame_get(b->p, fids[n - 1]);
    symmap_result r;
    uint64_t addr;
    if (!resolve(b, f, pid, adjusted, &r, &addr))
        return 0;
    return prof_location(b->prof, r.mapping_id, addr, lines, n);
}

/* The length of the inline run at frames[k]: DSO-less frames followed by
 * the real frame, all at one address; 0 when there is none. */
static size_t inline_run(builder *b, const ps_stack *st, uint32_t k)
{
    if (b->flags[st->frames[k]] & FRAME_IN_DSO)
        return 0;
    const ps_frame *f = ps_frame_get(b->p, st->frames[k]);
    uint32_t j = k;
    while (j < st->nframes && j - k < 63) {
        const ps_frame *g = ps_frame_get(b->p, st->frames[j]);
        if (g->address != f->address)
            return 0;
        if (in_dso(g))
            return j - k + 1;
        j++;
    }
    return 0;
}

static int add_header(builder *b, int *cols, size_t ncols)
{
    ps_parser *p = b->p;
    prof_profile *prof = b->prof;
    if (prof_add_sample_type(prof, "samples", "count") != 0)
        return -1;
    uint32_t only = 0;
    if (b->o->event_filter) {
        only = ps_event_find(p, b->o->event_filter, b->o->event_filter_len);
        if (!only && ps_warn(p, "event filter '%.*s' matches no sample",
                             (int)b->o->event_filter_len, b->o->event_filter))
            return -1;
        if (!only)
            only = UINT32_MAX;
    }
    uint32_t first = 0;
    for (uint32_t e = 1; e < ncols; e++) {
        cols[e] = -1;
        if (only && e != only)
            continue;
        ps_str name = ps_event_get(p, e);
        char type[256];
        snprintf(type, sizeof type, "%.*s", (int)name.len, name.ptr);
        cols[e] = prof_add_sample_type(prof, type, ps_event_unit(name.ptr, name.len));
        if (cols[e] < 0)
            return -1;
        if (!first)
            first = e; /* ids follow first appearance: the first event seen */
    }
    if (first) {
        ps_str name = ps_event_get(p, first);
        char type[256];
        snprintf(type, sizeof type, "%.*s", (int)name.len, name.ptr);
        const ps_event_info *ev = ps_event_info_get(p, first);
        if (prof_set_default_sample_type(prof, type) ||
            (ev && ev->period_fixed &&
             prof_set_period(prof, type, ps_event_unit(name.ptr, name.len), (int64_t)ev->period)))
            return -1;
    }
    const ps_stats *st = ps_get_stats(p);
    if (st->has_time)
        prof_set_time(prof, (int64_t)st->time_first_ns,
                      (int64_t)(st->time_last_ns - st->time_first_ns));
    char c[512];
    int n = snprintf(c, sizeof c, "source: %s", b->o->source ? b->o->source : "perf script");
    if (prof_add_comment(prof, c, (size_t)n))
        return -1;
    n = snprintf(c, sizeof c, "converted by perfgo from perf script text: %llu samples",
                 (unsigned long long)st->samples);
    if (prof_add_comment(prof, c, (size_t)n))
        return -1;
    prof_set_skipped_lines(prof, st->unrecognized);
    return 0;
}

static int feed_sideband_to(builder *b, symmap *sm)
{
    for (size_t i = 0; i < ps_mmap_count(b->p); i++) {
        const ps_mmap *m = ps_mmap_get(b->p, i);
        int pid = m->pid < 0 || m->pid > INT32_MAX ? -1 : (int)m->pid;
        if (m->kind == PS_SB_FORK) {
            int ppid = m->ppid < 0 || m->ppid > INT32_MAX ? -1 : (int)m->ppid;
            if (symmap_add_fork(sm, ppid, pid))
                return -1;
        } else if (m->kind == PS_SB_EXEC) {
            symmap_add_exec(sm, pid);
        } else {
            symmap_mmap mm = {
                .pid = pid,
                .start = m->start,
                .len = m->len,
                .pgoff = m->pgoff,
                .path = m->path.ptr,
                .path_len = m->path.len,
                .build_id = m->build_id.len ? m->build_id.ptr : NULL,
                .build_id_len = m->build_id.len,
                .dev_known = m->dev_known,
                .maj = m->maj,
                .min = m->min,
                .ino = m->ino,
                .exec = !m->mmap2 || memchr(m->prot.ptr, 'x', m->prot.len) != NULL,
            };
            if (symmap_add_mmap(sm, &mm))
                return -1;
        }
    }
    return 0;
}

static int feed_sideband(builder *b)
{
    return feed_sideband_to(b, b->sm) || feed_sideband_to(b, b->sm_raw) ? -1 : 0;
}

static uint64_t stack_labels(builder *b, const ps_stack *st)
{
    prof_label l[5];
    size_t n = 0;
    const ps_build_options *o = b->o;
    ps_str thread = ps_comm_get(b->p, st->comm);
    if (o->label_comm) {
        uint32_t pc = st->pid >= 0 ? ps_process_comm(b->p, st->pid) : 0;
        ps_str c = pc ? ps_comm_get(b->p, pc) : thread;
        if (c.len)
            l[n++] = (prof_label){.key = "comm", .str = c.ptr, .str_len = c.len};
    }
    if (o->label_thread_comm && thread.len)
        l[n++] = (prof_label){.key = "thread_comm", .str = thread.ptr, .str_len = thread.len};
    if (o->label_pid && st->pid >= 0)
        l[n++] = (prof_label){.key = "pid", .num = st->pid, .num_unit = "pid"};
    if (o->label_tid && st->tid >= 0)
        l[n++] = (prof_label){.key = "tid", .num = st->tid, .num_unit = "tid"};
    if (o->label_cpu && st->cpu >= 0)
        l[n++] = (prof_label){.key = "cpu", .num = st->cpu, .num_unit = "cpu"};
    return prof_labelset(b->prof, l, n);
}

static bool file_dso(const ps_frame *f)
{
    return f->has_dso && !f->kernel && !f->jit && f->dso.len && f->dso.ptr[0] == '/';
}

/* True when the DSO's file name starts with the comm (perf cuts comms to
 * 15 bytes): the process's own executable. */
static bool named_like(const ps_frame *f, ps_str comm)
{
    size_t bs = f->dso.len;
    while (bs > 0 && f->dso.ptr[bs - 1] != '/')
        bs--;
    return comm.len && f->dso.len - bs >= comm.len &&
           memcmp(f->dso.ptr + bs, comm.ptr, comm.len) == 0;
}

/* pprof takes mapping 1 for the main binary: resolve first a frame of the
 * executable named like the comm of the most samples, else of the file
 * most often the outermost file-backed frame of a stack. */
static int prime_main_mapping(builder *b)
{
    size_t nf = ps_frame_count(b->p) + 1;
    uint64_t *votes = calloc(nf, sizeof *votes), *named = calloc(nf, sizeof *named);
    if (!votes || !named) {
        free(votes);
        free(named);
        return -1;
    }
    uint32_t best = 0, best_named = 0, best_src = 0, named_src = 0;
    int64_t best_pid = -1, named_pid = -1;
    for (size_t i = 0; i < ps_stack_count(b->p); i++) {
        ps_stack st;
        ps_stack_get(b->p, i, &st);
        ps_str comm = ps_comm_get(b->p, st.comm);
        bool outer = true;
        for (uint32_t k = st.nframes; k-- > 0;) {
            uint32_t fid = st.frames[k];
            const ps_frame *f = ps_frame_get(b->p, fid);
            if (!file_dso(f))
                continue;
            if (outer) {
                votes[fid] += st.count;
                if (!best || votes[fid] > votes[best]) {
                    best = fid;
                    best_pid = st.pid;
                    best_src = st.srclines[k];
                }
                outer = false;
            }
            if (named_like(f, comm)) {
                named[fid] += st.count;
                if (!best_named || named[fid] > named[best_named]) {
                    best_named = fid;
                    named_pid = st.pid;
                    named_src = st.srclines[k];
                }
                break;
            }
        }
    }
    free(votes);
    free(named);
    if (best_named) {
        best = best_named;
        best_pid = named_pid;
        best_src = named_src;
    }
    if (!best)
        return 0;
    uint64_t loc = frame_location(b, best, best_src, best_pid, false);
    prof_location_info li;
    if (!loc || !prof_get_location(b->prof, loc, &li))
        return -1;
    if (li.mapping_id)
        prof_set_main_mapping(b->prof, li.mapping_id);
    return 0;
}

static int add_samples(builder *b, const int *cols, size_t ncols)
{
    size_t ntypes = prof_num_sample_types(b->prof);
    int64_t *values = calloc(ntypes, sizeof *values);
    ps_vec locs;
    ps_vec_init(&locs, sizeof(uint64_t));
    int rc = -1;
    if (!values)
        goto out;
    for (size_t i = 0; i < ps_stack_count(b->p); i++) {
        ps_stack st;
        ps_stack_get(b->p, i, &st);
        if (st.event && (st.event >= ncols || cols[st.event] < 0))
            continue;
        locs.len = 0;
        if (!ps_vec_reserve(&locs, st.nframes))
            goto out;
        uint64_t *lp = locs.data;
        size_t nl = 0;
        bool prev_kernel = false;
        for (uint32_t k = 0; k < st.nframes;) {
            size_t run = inline_run(b, &st, k);
            uint32_t real = run ? k + (uint32_t)run - 1 : k;
            bool kernel = (b->flags[st.frames[real]] & FRAME_KERNEL) != 0;
            /* the leaf and the interrupted user ip after kernel frames are
             * not return addresses */
            bool adjusted = nl > 0 && !(prev_kernel && !kernel);
            prev_kernel = kernel;
            lp[nl] = run ? inline_location(b, st.frames + k, st.srclines + k, run, st.pid, adjusted)
                         : frame_location(b, st.frames[k], st.srclines[k], st.pid, adjusted);
            if (!lp[nl])
                goto out;
            nl++;
            k = real + 1;
        }
        memset(values, 0, ntypes * sizeof *values);
        values[0] = (int64_t)st.count;
        if (st.event)
            values[cols[st.event]] = (int64_t)st.weight;
        uint64_t ls = stack_labels(b, &st);
        if (!ls || prof_add_sample_ls(b->prof, lp, nl, values, ls))
            goto out;
    }
    rc = 0;
out:
    free(values);
    ps_vec_free(&locs);
    return rc;
}

prof_profile *ps_build_profile(ps_parser *p, const ps_build_options *o, char *err, size_t errlen)
{
    builder b = {.p = p, .o = o};
    size_t ncols = ps_event_count(p) + 1;
    int *cols = calloc(ncols, sizeof *cols);
    size_t nf = ps_frame_count(p) + 1;
    b.func = calloc(nf, sizeof *b.func);
    b.cache = calloc(nf * 2, sizeof *b.cache);
    b.flags = calloc(nf, 1);
    for (uint32_t id = 1; b.flags && id < nf; id++) {
        const ps_frame *f = ps_frame_get(p, id);
        b.flags[id] = (uint8_t)((in_dso(f) ? FRAME_IN_DSO : 0) | (f->kernel ? FRAME_KERNEL : 0));
    }
    b.prof = prof_new();
    symmap_options so = {
        .binary_root = o->binary_root,
        .path_map = o->path_map,
        .npath_map = o->npath_map,
        .remote = o->remote,
        .addr_kind = SYMMAP_ADDR_AUTO,
    };
    if (b.prof)
        b.sm = symmap_new(b.prof, &so);
    symmap_options so_raw = so;
    so_raw.addr_kind = SYMMAP_ADDR_RAW;
    if (b.prof)
        b.sm_raw = symmap_new(b.prof, &so_raw);
    bool ok = cols && b.func && b.cache && b.flags && b.prof && b.sm && b.sm_raw &&
              add_header(&b, cols, ncols) == 0 && feed_sideband(&b) == 0 &&
              prime_main_mapping(&b) == 0 && add_samples(&b, cols, ncols) == 0 &&
              symmap_finish(b.sm) == 0 && symmap_finish(b.sm_raw) == 0;
    if (ok) {
        for (size_t i = 0; i < symmap_num_warnings(b.sm); i++)
            if (ps_warn(p, "%s", symmap_warning(b.sm, i)))
                ok = false;
        for (size_t i = 0; i < symmap_num_warnings(b.sm_raw); i++) {
            const char *w = symmap_warning(b.sm_raw, i);
            bool dup = false;
            for (size_t k = 0; k < symmap_num_warnings(b.sm) && !dup; k++)
                dup = strcmp(w, symmap_warning(b.sm, k)) == 0;
            if (!dup && ps_warn(p, "%s", w))
                ok = false;
        }
    }
    if (!ok) {
        snprintf(err, errlen, "out of memory while building the profile");
        prof_free(b.prof);
        b.prof = NULL;
    }
    symmap_free(b.sm);
    symmap_free(b.sm_raw);
    free(cols);
    free(b.func);
    free(b.cache);
    free(b.flags);
    free(b.name);
    return b.prof;
}
