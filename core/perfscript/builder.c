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

/* Per frame id: what the stack walks test for every frame occurrence,
 * computed once. */
#define FRAME_IN_DSO 1   /* in_dso() */
#define FRAME_KERNEL 2   /* a kernel DSO */
#define FRAME_FILE 4     /* file_dso(): a candidate for the main binary */
#define FRAME_NAMED 8    /* named like comm named_comm[fid] */
#define FRAME_NOTNAMED 16 /* not named like comm named_comm[fid] */

/* The location cache, per (frame, adjusted) slot: the location id, with
 * LOC_PER_PID set when it holds only for the process loc_pid[slot]
 * (runtime mode), else for every process. 0 = not cached yet. */
#define LOC_PER_PID 0x80000000u

typedef struct builder {
    ps_parser *p;
    prof_profile *prof;
    symmap *sm;
    symmap *sm_raw; /* for header ips (no callchain): printed raw */
    const ps_build_options *o;
    uint64_t *func;      /* per frame id: function id (0 = not yet) */
    uint8_t *flags;      /* per frame id: FRAME_* (compact: read for every frame) */
    uint32_t *loc;       /* per frame id * 2 + adjusted: location id | LOC_PER_PID */
    int64_t *loc_pid;    /* per slot: the process of a LOC_PER_PID location */
    uint32_t *named_comm; /* per frame id: the comm FRAME_(NOT)NAMED was found for */
    /* label string ids, interned at first use (UINT64_MAX = not yet) */
    uint64_t key_ids[5], unit_ids[5];
    uint64_t *comm_ids; /* per comm id: its string id, UINT64_MAX = not yet */
    size_t ncomm_ids;
    char *name;         /* scratch for "[dso]" names */
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
 * adjusted: it is a return address (PPROF-MAPPING §5 item 5). Computed on
 * a cache miss and cached. 0 on OOM. */
__attribute__((noinline)) static uint64_t frame_location(builder *b, uint32_t fid, uint32_t src,
                                                          int64_t pid, bool adjusted)
{
    size_t slot = (size_t)fid * 2 + adjusted;
    const ps_frame *f = ps_frame_get(b->p, fid);
    prof_line line;
    if (!frame_line(b, fid, src, &line))
        return 0;
    uint64_t loc;
    bool per_pid = false;
    if (!in_dso(f)) {
        /* perf --inline frames: no DSO, the address is the caller's */
        loc = prof_location(b->prof, 0, 0, &line, 1);
    } else {
        symmap_result r;
        uint64_t addr;
        if (!resolve(b, f, pid, adjusted, &r, &addr))
            return 0;
        loc = prof_location(b->prof, r.mapping_id, addr, &line, 1);
        per_pid = r.mode == SYMMAP_MODE_RUNTIME;
    }
    if (loc && loc < LOC_PER_PID) {
        b->loc[slot] = (uint32_t)loc | (per_pid ? LOC_PER_PID : 0);
        b->loc_pid[slot] = pid;
    }
    return loc;
}

/* perf --inline prints a callchain entry's inlined functions first, as
 * DSO-less lines at the entry's address, then the real frame. Such a run
 * becomes one location whose lines run from the innermost inlined function
 * to the real frame's (pprof's model). 0 on OOM. */
__attribute__((noinline)) static uint64_t inline_location(builder *b, const uint32_t *fids, const uint32_t *srcs, size_t n,
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
__attribute__((noinline)) static size_t inline_run(builder *b, const ps_stack *st, uint32_t k)
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

/* The string id of s, remembered in *id after the first call (interning
 * it then, at the same point as interning it every time would). */
static bool label_string(builder *b, uint64_t *id, const char *s, size_t n)
{
    if (*id == UINT64_MAX)
        *id = prof_string(b->prof, s, n);
    return *id != UINT64_MAX;
}

/* The string id of comm cid, interned at its first use. */
static bool comm_string(builder *b, uint32_t cid, ps_str c, uint64_t *out)
{
    if (cid >= b->ncomm_ids) {
        size_t n = b->ncomm_ids ? b->ncomm_ids : 16;
        while (n <= cid)
            n *= 2;
        uint64_t *ids = realloc(b->comm_ids, n * sizeof *ids);
        if (!ids)
            return false;
        for (size_t i = b->ncomm_ids; i < n; i++)
            ids[i] = UINT64_MAX;
        b->comm_ids = ids;
        b->ncomm_ids = n;
    }
    if (!label_string(b, &b->comm_ids[cid], c.ptr, c.len))
        return false;
    *out = b->comm_ids[cid];
    return true;
}

enum { L_COMM, L_THREAD_COMM, L_PID, L_TID, L_CPU };
static const char *const label_keys[] = {"comm", "thread_comm", "pid", "tid", "cpu"};

/* A string label: key k, value comm cid (text c). */
static bool str_label(builder *b, int k, uint32_t cid, ps_str c, prof_label_ids *out)
{
    *out = (prof_label_ids){0};
    if (!label_string(b, &b->key_ids[k], label_keys[k], strlen(label_keys[k])))
        return false;
    out->key = b->key_ids[k];
    return comm_string(b, cid, c, &out->str);
}

/* A numeric label: key k, value v, the unit named like the key. */
static bool num_label(builder *b, int k, int64_t v, prof_label_ids *out)
{
    *out = (prof_label_ids){.num = v};
    if (!label_string(b, &b->key_ids[k], label_keys[k], strlen(label_keys[k])) ||
        !label_string(b, &b->unit_ids[k], label_keys[k], strlen(label_keys[k])))
        return false;
    out->key = b->key_ids[k];
    out->num_unit = b->unit_ids[k];
    return true;
}

/* The label set of a stack. Strings are interned in the order the labels
 * are listed (key, then value or unit), as prof_labelset does. 0 on OOM. */
static uint64_t stack_labels(builder *b, const ps_stack *st)
{
    const ps_build_options *o = b->o;
    if (!o->label_comm && !o->label_thread_comm && !o->label_pid && !o->label_tid &&
        !o->label_cpu)
        return 1; /* the empty set */
    prof_label_ids l[5];
    size_t n = 0;
    ps_str thread = ps_comm_get(b->p, st->comm);
    if (o->label_comm) {
        uint32_t pc = st->pid >= 0 ? ps_process_comm(b->p, st->pid) : 0;
        uint32_t cid = pc ? pc : st->comm;
        ps_str c = pc ? ps_comm_get(b->p, pc) : thread;
        if (c.len && !str_label(b, L_COMM, cid, c, &l[n++]))
            return 0;
    }
    if (o->label_thread_comm && thread.len &&
        !str_label(b, L_THREAD_COMM, st->comm, thread, &l[n++]))
        return 0;
    if (o->label_pid && st->pid >= 0 && !num_label(b, L_PID, st->pid, &l[n++]))
        return 0;
    if (o->label_tid && st->tid >= 0 && !num_label(b, L_TID, st->tid, &l[n++]))
        return 0;
    if (o->label_cpu && st->cpu >= 0 && !num_label(b, L_CPU, st->cpu, &l[n++]))
        return 0;
    return prof_labelset_ids(b->prof, l, n);
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

/* named_like(frame fid, comm cid), remembered per frame for the last comm
 * asked (stacks of one program share their frames). */
static bool frame_named(builder *b, uint32_t fid, uint32_t cid)
{
    uint8_t fl = b->flags[fid];
    if ((fl & (FRAME_NAMED | FRAME_NOTNAMED)) && b->named_comm[fid] == cid)
        return (fl & FRAME_NAMED) != 0;
    bool named = named_like(ps_frame_get(b->p, fid), ps_comm_get(b->p, cid));
    b->flags[fid] = (uint8_t)((fl & ~(FRAME_NAMED | FRAME_NOTNAMED)) |
                              (named ? FRAME_NAMED : FRAME_NOTNAMED));
    b->named_comm[fid] = cid;
    return named;
}

/* pprof takes mapping 1 for the main binary: resolve first a frame of the
 * executable named like the comm of the most samples, else of the file
 * most often the outermost file-backed frame of a stack. Also returns the
 * number of frames of all stacks in *total and of the longest in *maxn. */
static int prime_main_mapping(builder *b, size_t *total, size_t *maxn)
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
    size_t nstacks = ps_stack_count(b->p), sum = 0, longest = 0;
    for (size_t i = 0; i < nstacks; i++) {
        ps_stack st;
        ps_stack_get(b->p, i, &st);
        sum += st.nframes;
        if (st.nframes > longest)
            longest = st.nframes;
        bool outer = true;
        for (uint32_t k = st.nframes; k-- > 0;) {
            uint32_t fid = st.frames[k];
            if (!(b->flags[fid] & FRAME_FILE))
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
            if (frame_named(b, fid, st.comm)) {
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
    *total = sum;
    *maxn = longest;
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

/* The location of a frame not in an inline run, from the cache when it
 * holds one for this process. 0 on OOM. */
static inline uint64_t cached_location(builder *b, uint32_t fid, uint32_t src, int64_t pid,
                                       bool adjusted)
{
    size_t slot = (size_t)fid * 2 + adjusted;
    uint32_t c = b->loc[slot];
    if (c && (!(c & LOC_PER_PID) || b->loc_pid[slot] == pid))
        return c & ~LOC_PER_PID;
    return frame_location(b, fid, src, pid, adjusted);
}

/* The common case of stack_locations, a leaf function so that it runs
 * from registers: frames in a DSO whose location is cached for every
 * process, from frames[k] on, into out. Returns the frame index it stopped
 * at; *prev_kernel follows the last frame done. */
__attribute__((noinline)) static uint32_t cached_run(const uint32_t *frames, uint32_t k, uint32_t n,
                                                     const uint8_t *flags, const uint32_t *cache,
                                                     bool *prev_kernel, uint64_t *out)
{
    bool prev = *prev_kernel;
    uint32_t start = k;
    for (; k < n; k++) {
        uint32_t fid = frames[k];
        uint8_t fl = flags[fid];
        bool kernel = (fl & FRAME_KERNEL) != 0;
        /* the leaf and the interrupted user ip after kernel frames are not
         * return addresses */
        bool adjusted = k > 0 && (kernel || !prev);
        uint32_t c = cache[(size_t)fid * 2 + adjusted];
        if (!(fl & FRAME_IN_DSO) || c == 0 || (c & LOC_PER_PID))
            break;
        out[k - start] = c;
        prev = kernel;
    }
    *prev_kernel = prev;
    return k;
}

/* The locations of stack st, leaf first, into lp (room for st->nframes);
 * their number in *nl. false on OOM. */
static bool stack_locations(builder *b, const ps_stack *st, uint64_t *lp, size_t *nl)
{
    const uint32_t *fr = st->frames;
    uint32_t n = st->nframes, k = 0;
    size_t m = 0;
    bool prev_kernel = false;
    for (;;) {
        uint32_t end = cached_run(fr, k, n, b->flags, b->loc, &prev_kernel, lp + m);
        m += end - k;
        k = end;
        if (k >= n)
            break;
        /* anything else, one frame (or inline run) at a time */
        uint32_t fid = fr[k];
        uint8_t fl = b->flags[fid];
        size_t run = fl & FRAME_IN_DSO ? 0 : inline_run(b, st, k);
        uint32_t real = k + (uint32_t)(run ? run - 1 : 0);
        bool kernel = ((run ? b->flags[fr[real]] : fl) & FRAME_KERNEL) != 0;
        /* as in cached_run (k > 0 exactly when m > 0) */
        bool adjusted = k > 0 && (kernel || !prev_kernel);
        prev_kernel = kernel;
        uint64_t loc = run ? inline_location(b, fr + k, st->srclines + k, run, st->pid, adjusted)
                           : cached_location(b, fid, st->srclines[k], st->pid, adjusted);
        if (!loc)
            return false;
        lp[m++] = loc;
        k = real + 1;
    }
    *nl = m;
    return true;
}

/* One sample ready to be added: its locations, values, label set and
 * key hash. */
typedef struct pending {
    uint64_t *locs;
    size_t nlocs;
    int64_t *values;
    uint64_t labelset, hash;
} pending;

/* Adds a sample per stack. Samples go in one behind: the next stack's
 * locations are made while the index slot of the current sample, whose
 * hash is known, is being fetched. */
static int add_samples(builder *b, const int *cols, size_t ncols, size_t total, size_t maxn)
{
    size_t ntypes = prof_num_sample_types(b->prof);
    size_t nstacks = ps_stack_count(b->p);
    size_t room = maxn ? maxn : 1;
    uint64_t *locs = malloc(2 * room * sizeof *locs);
    int64_t *values = calloc(2 * ntypes, sizeof *values);
    pending q[2] = {{.locs = locs, .values = values},
                    {.locs = locs ? locs + room : NULL, .values = values ? values + ntypes : NULL}};
    int rc = -1, cur = 0;
    bool queued = false;
    if (!locs || !values || prof_reserve_samples(b->prof, nstacks, total) != 0)
        goto out;
    for (size_t i = 0; i < nstacks; i++) {
        ps_stack st;
        ps_stack_get(b->p, i, &st);
        if (st.event && (st.event >= ncols || cols[st.event] < 0))
            continue;
        pending *s = &q[cur];
        if (!stack_locations(b, &st, s->locs, &s->nlocs))
            goto out;
        memset(s->values, 0, ntypes * sizeof *s->values);
        s->values[0] = (int64_t)st.count;
        if (st.event)
            s->values[cols[st.event]] = (int64_t)st.weight;
        if (!(s->labelset = stack_labels(b, &st)))
            goto out;
        s->hash = prof_sample_prepare(b->prof, s->locs, s->nlocs, s->labelset);
        const pending *prev = &q[cur ^ 1];
        if (queued && prof_add_sample_hashed(b->prof, prev->locs, prev->nlocs, prev->values,
                                             prev->labelset, prev->hash))
            goto out;
        queued = true;
        cur ^= 1;
    }
    const pending *last = &q[cur ^ 1];
    if (queued && prof_add_sample_hashed(b->prof, last->locs, last->nlocs, last->values,
                                         last->labelset, last->hash))
        goto out;
    rc = 0;
out:
    free(values);
    free(locs);
    return rc;
}

prof_profile *ps_build_profile(ps_parser *p, const ps_build_options *o, char *err, size_t errlen)
{
    builder b = {.p = p, .o = o};
    for (size_t i = 0; i < 5; i++)
        b.key_ids[i] = b.unit_ids[i] = UINT64_MAX;
    size_t ncols = ps_event_count(p) + 1;
    int *cols = calloc(ncols, sizeof *cols);
    size_t nf = ps_frame_count(p) + 1;
    b.func = calloc(nf, sizeof *b.func);
    b.loc = calloc(nf * 2, sizeof *b.loc);
    b.loc_pid = malloc(nf * 2 * sizeof *b.loc_pid);
    b.named_comm = malloc(nf * sizeof *b.named_comm);
    b.flags = calloc(nf, 1);
    for (uint32_t id = 1; b.flags && id < nf; id++) {
        const ps_frame *f = ps_frame_get(p, id);
        b.flags[id] = (uint8_t)((in_dso(f) ? FRAME_IN_DSO : 0) | (f->kernel ? FRAME_KERNEL : 0) |
                                (file_dso(f) ? FRAME_FILE : 0));
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
    size_t total = 0, maxn = 0;
    bool ok = cols && b.func && b.loc && b.loc_pid && b.named_comm && b.flags && b.prof && b.sm &&
              b.sm_raw && add_header(&b, cols, ncols) == 0 && feed_sideband(&b) == 0 &&
              prime_main_mapping(&b, &total, &maxn) == 0 &&
              add_samples(&b, cols, ncols, total, maxn) == 0 &&
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
    free(b.loc);
    free(b.loc_pid);
    free(b.named_comm);
    free(b.flags);
    free(b.comm_ids);
    free(b.name);
    return b.prof;
}
