/* The profile builder: merged stacks -> prof_profile. Work is per distinct
 * stack and per distinct (frame, position kind), never per input sample. */
#include <stdio.h>
#include <stdlib.h>

#include "builder_impl.h"

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
    n = snprintf(c, sizeof c, "converted by perfgo from %s: %llu samples",
                 b->o->perfdata ? "perf.data" : "perf script text",
                 (unsigned long long)st->samples);
    if (prof_add_comment(prof, c, (size_t)n))
        return -1;
    prof_set_skipped_lines(prof, st->unrecognized);
    return 0;
}

static int side_pid(int64_t pid)
{
    return pid < 0 || pid > INT32_MAX ? -1 : (int)pid;
}

/* An MMAP record for the symmap: the parser's strings outlive it, so they
 * are lent, not copied. */
static symmap_mmap side_mmap(const ps_mmap *m)
{
    return (symmap_mmap){
        .pid = side_pid(m->pid),
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
        .borrow = true,
    };
}

/* The side band into the symmap, each MMAP record's index lookups
 * prefetched while the one before is added. */
static int feed_sideband(builder *b)
{
    symmap *sm = b->sm;
    size_t n = ps_mmap_count(b->p);
    if (symmap_reserve(sm, n))
        return -1;
    symmap_mmap next = {0};
    bool have_next = false;
    for (size_t i = 0; i < n; i++) {
        const ps_mmap *m = ps_mmap_get(b->p, i);
        int pid = side_pid(m->pid);
        if (m->kind == PS_SB_MMAP) {
            symmap_mmap cur = have_next ? next : side_mmap(m);
            have_next = false;
            for (size_t j = i + 1; j < n && j < i + 4; j++) {
                const ps_mmap *mn = ps_mmap_get(b->p, j);
                if (mn->kind == PS_SB_MMAP) {
                    next = side_mmap(mn);
                    have_next = j == i + 1;
                    symmap_prefetch(sm, &next);
                    break;
                }
            }
            if (symmap_add_mmap(sm, &cur))
                return -1;
        } else if (m->kind == PS_SB_FORK) {
            if (symmap_add_fork(sm, side_pid(m->ppid), pid))
                return -1;
        } else if (m->kind == PS_SB_EXEC) {
            symmap_add_exec(sm, pid);
        }
    }
    return 0;
}

/* The string id of s, remembered in *id after the first call (interning
 * it then, at the same point as interning it every time would). */
static bool label_string(builder *b, uint64_t *id, const char *s, size_t n)
{
    if (*id == UINT64_MAX)
        *id = prof_string(b->prof, s, n);
    return *id != UINT64_MAX;
}

static bool label_cstr(builder *b, uint64_t *id, const char *s)
{
    return *id != UINT64_MAX || label_string(b, id, s, strlen(s));
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
    if (!label_cstr(b, &b->key_ids[k], label_keys[k]))
        return false;
    out->key = b->key_ids[k];
    return comm_string(b, cid, c, &out->str);
}

/* A numeric label: key k, value v, the unit named like the key. */
static bool num_label(builder *b, int k, int64_t v, prof_label_ids *out)
{
    *out = (prof_label_ids){.num = v};
    if (!label_cstr(b, &b->key_ids[k], label_keys[k]) ||
        !label_cstr(b, &b->unit_ids[k], label_keys[k]))
        return false;
    out->key = b->key_ids[k];
    out->num_unit = b->unit_ids[k];
    return true;
}

/* The label set of a stack (vals: its stack label values). Strings are
 * interned in the order the labels are listed (key, then value or unit),
 * as prof_labelset does. 0 on OOM. */
static uint64_t make_labels(builder *b, const ps_stack *st, const uint32_t *vals)
{
    const ps_build_options *o = b->o;
    prof_label_ids l[5 + PS_MAX_STACK_LABELS];
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
    for (size_t r = 0; r < o->nstack_labels && r < PS_MAX_STACK_LABELS; r++)
        if (vals[r] && !psb_stack_label_add(b, r, vals[r], &l[n++]))
            return 0;
    return prof_labelset_ids(b->prof, l, n);
}

/* make_labels through the cache: the same comm, pid, tid and cpu give the
 * same labels, and a set met before has all its strings interned. */
static uint64_t stack_labels(builder *b, const ps_stack *st)
{
    const ps_build_options *o = b->o;
    uint32_t vals[PS_MAX_STACK_LABELS] = {0};
    if (o->nstack_labels)
        psb_stack_label_values(b, st, vals);
    else if (!o->label_comm && !o->label_thread_comm && !o->label_pid && !o->label_tid &&
             !o->label_cpu)
        return 1; /* the empty set */
    uint64_t v = 0;
    for (size_t r = 0; r < PS_MAX_STACK_LABELS; r++)
        v = v * 0x9e3779b97f4a7c15ull + vals[r];
    uint64_t h = ps_hash_mix(((uint64_t)st->comm << 32 ^ (uint64_t)(uint32_t)st->cpu) ^
                             ps_hash_mix((uint64_t)st->pid * 31 + (uint64_t)st->tid) ^ v);
    size_t i = (size_t)h & (sizeof b->lsets / sizeof b->lsets[0] - 1);
    if (b->lsets[i].id && b->lsets[i].comm == st->comm && b->lsets[i].cpu == st->cpu &&
        b->lsets[i].pid == st->pid && b->lsets[i].tid == st->tid &&
        memcmp(b->lsets[i].vals, vals, sizeof vals) == 0)
        return b->lsets[i].id;
    uint64_t id = make_labels(b, st, vals);
    if (id) {
        b->lsets[i].comm = st->comm;
        b->lsets[i].cpu = st->cpu;
        b->lsets[i].pid = st->pid;
        b->lsets[i].tid = st->tid;
        memcpy(b->lsets[i].vals, vals, sizeof vals);
        b->lsets[i].id = id;
    }
    return id;
}

/* True when the DSO's file name starts with the comm (perf cuts comms to
 * 15 bytes): the process's own executable. */
static bool named_like(ps_str dso, ps_str comm)
{
    size_t bs = dso.len;
    while (bs > 0 && dso.ptr[bs - 1] != '/')
        bs--;
    return comm.len && dso.len - bs >= comm.len && memcmp(dso.ptr + bs, comm.ptr, comm.len) == 0;
}

/* prime_main_mapping's tallies, for the frames it visits (few: the
 * outermost file-backed frames of the stacks): index + 1 by frame id. */
typedef struct tally {
    uint32_t fid;
    uint32_t comm; /* the comm `is_named` holds for, 0 = not asked yet */
    bool is_named;
    uint64_t votes, named;
} tally;

typedef struct tallies {
    ps_imap index;
    ps_vec list; /* tally */
} tallies;

/* The tally of frame fid, added when new; NULL on OOM. */
static tally *tally_get(tallies *m, uint32_t fid)
{
    uint64_t i = ps_imap_get(&m->index, fid);
    if (i)
        return &PS_VEC_AT(&m->list, tally, i - 1);
    tally t = {.fid = fid};
    tally *e = ps_vec_push(&m->list, &t);
    if (!e || !ps_imap_put(&m->index, fid, m->list.len))
        return NULL;
    return e;
}

static void tallies_free(tallies *m)
{
    ps_imap_free(&m->index);
    ps_vec_free(&m->list);
}

/* named_like(frame fid, comm cid), remembered in its tally for the last
 * comm asked (stacks of one program share their frames). */
static bool frame_named(builder *b, tally *t, uint32_t cid)
{
    if (t->comm != cid || !cid) {
        ps_str dso = ps_strtab_get(&b->dsos, b->frames[t->fid].dso);
        if (b->flags[t->fid] & FRAME_DELETED)
            dso.len -= sizeof " (deleted)" - 1;
        t->is_named = named_like(dso, ps_comm_get(b->p, cid));
        t->comm = cid;
    }
    return t->is_named;
}

/* pprof takes mapping 1 for the main binary: resolve first a frame of the
 * executable named like the comm of the most samples, else of the file
 * most often the outermost file-backed frame of a stack. Also returns the
 * number of frames of all stacks in *total and of the longest in *maxn. */
static int prime_main_mapping(builder *b, size_t *total, size_t *maxn)
{
    tallies m = {0};
    ps_vec_init(&m.list, sizeof(tally));
    uint32_t best = 0, best_named = 0, best_src = 0, named_src = 0;
    uint64_t best_votes = 0, best_named_votes = 0;
    int64_t best_pid = -1, named_pid = -1;
    size_t sum = 0, longest = 0, nstacks = ps_stack_count(b->p);
    for (size_t i = 0; i < nstacks; i++) {
        ps_stack stack;
        ps_stack_get(b->p, i, &stack);
        const ps_stack *st = &stack;
        sum += st->nframes;
        if (st->nframes > longest)
            longest = st->nframes;
        bool outer = true;
        for (uint32_t k = st->nframes; k-- > 0;) {
            uint32_t fid = st->frames[k];
            if (!(b->flags[fid] & FRAME_FILE))
                continue;
            tally *t = tally_get(&m, fid);
            if (!t) {
                tallies_free(&m);
                return -1;
            }
            if (outer) {
                t->votes += st->count;
                if (fid == best) {
                    best_votes = t->votes;
                } else if (!best || t->votes > best_votes) {
                    best = fid;
                    best_votes = t->votes;
                    best_pid = st->pid;
                    best_src = st->srclines[k];
                }
                outer = false;
            }
            if (frame_named(b, t, st->comm)) {
                t->named += st->count;
                if (fid == best_named) {
                    best_named_votes = t->named;
                } else if (!best_named || t->named > best_named_votes) {
                    best_named = fid;
                    best_named_votes = t->named;
                    named_pid = st->pid;
                    named_src = st->srclines[k];
                }
                break;
            }
        }
    }
    tallies_free(&m);
    *total = sum;
    *maxn = longest;
    if (best_named) {
        best = best_named;
        best_pid = named_pid;
        best_src = named_src;
    }
    if (!best)
        return 0;
    uint64_t loc = psb_frame_location(b, best, best_src, best_pid, false);
    prof_location_info li;
    if (!loc || !prof_get_location(b->prof, loc, &li))
        return -1;
    if (li.mapping_id)
        prof_set_main_mapping(b->prof, li.mapping_id);
    return 0;
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
        if (!psb_stack_locations(b, &st, s->locs, &s->nlocs))
            goto out;
        memset(s->values, 0, ntypes * sizeof *s->values);
        /* pprof values are signed: sums beyond INT64_MAX saturate */
        s->values[0] = st.count > INT64_MAX ? INT64_MAX : (int64_t)st.count;
        if (st.event)
            s->values[cols[st.event]] = st.weight > INT64_MAX ? INT64_MAX : (int64_t)st.weight;
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
    b.frames = malloc(nf * sizeof *b.frames);
    b.nslots = nf * 2;
    b.loc = calloc(b.nslots, sizeof *b.loc);
    b.flags = calloc(nf, 1);
    ps_strtab_init(&b.names, &b.arena);
    ps_strtab_init(&b.dsos, &b.arena);
    b.prof = prof_new();
    symmap_options so = {
        .binary_root = o->binary_root,
        .path_map = o->path_map,
        .npath_map = o->npath_map,
        .remote = o->remote,
        .addr_kind = o->addr_kind,
    };
    if (b.prof)
        b.sm = symmap_new(b.prof, &so);
    size_t total = 0, maxn = 0;
    bool ok = cols && b.frames && b.loc && b.flags && b.prof && b.sm &&
              psb_gather_frames(&b, nf) == 0 && psb_labels_init(&b, nf) == 0 &&
              /* about one location per frame (some get two) */
              prof_reserve_locations(b.prof, nf + nf / 8) == 0 &&
              add_header(&b, cols, ncols) == 0 && feed_sideband(&b) == 0 &&
              prime_main_mapping(&b, &total, &maxn) == 0 &&
              add_samples(&b, cols, ncols, total, maxn) == 0 && symmap_finish(b.sm) == 0;
    for (size_t i = 0; ok && i < symmap_num_warnings(b.sm); i++)
        if (ps_warn(p, "%s", symmap_warning(b.sm, i)))
            ok = false;
    if (!ok) {
        snprintf(err, errlen, "out of memory while building the profile");
        prof_free(b.prof);
        b.prof = NULL;
    }
    symmap_free(b.sm);
    free(cols);
    free(b.frames);
    free(b.name_func);
    ps_strtab_free(&b.names);
    ps_strtab_free(&b.dsos);
    ps_arena_free(&b.arena);
    free(b.loc);
    free(b.loc_pid);
    free(b.flags);
    free(b.comm_ids);
    psb_labels_free(&b);
    return b.prof;
}
