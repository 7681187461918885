/* The profile builder's frames: what each distinct frame becomes (its
 * function, mapping and location address, profile/README §3), made once
 * per (frame, return address or not) and cached, and the walk that turns a
 * stack's frame ids into location ids. */
#include <stdlib.h>

#include "builder_impl.h"

/* A frame in a real DSO: not DSO-less, not `(inlined)` (older perf printed
 * inlined functions with that word in the DSO slot). */
static bool in_dso(const ps_frame *f)
{
    return f->has_dso && !(f->dso.len == 7 && memcmp(f->dso.ptr, "inlined", 7) == 0);
}

static bool file_dso(const ps_frame *f)
{
    return f->has_dso && !f->kernel && !f->jit && f->dso.len && f->dso.ptr[0] == '/';
}

/* The function name of a frame: its symbol, else "[<DSO base name>]", else
 * "[unknown]". buf has room for a DSO. */
static ps_str frame_name(const ps_frame *f, char *buf)
{
    const char *s = f->sym.ptr;
    size_t n = f->sym.len;
    if (!(n == 0 || (n == 9 && memcmp(s, "[unknown]", 9) == 0)))
        return (ps_str){s, n};
    if (f->has_dso && f->dso.len && !(f->dso.len == 9 && memcmp(f->dso.ptr, "[unknown]", 9) == 0)) {
        size_t bs = f->dso.len;
        while (bs > 0 && f->dso.ptr[bs - 1] != '/')
            bs--;
        size_t bl = f->dso.len - bs;
        buf[0] = '[';
        memcpy(buf + 1, f->dso.ptr + bs, bl);
        buf[bl + 1] = ']';
        return (ps_str){buf, bl + 2};
    }
    return (ps_str){"[unknown]", 9};
}

int psb_gather_frames(builder *b, size_t nf)
{
    char *buf = NULL;
    size_t cap = 0;
    const ps_frame *prev = NULL; /* the last frame with a DSO: runs share it */
    uint32_t prev_dso = 0;
    for (uint32_t id = 1; id < nf; id++) {
        const ps_frame *f = ps_frame_get(b->p, id);
        bool dso = in_dso(f);
        b->flags[id] =
            (uint8_t)((dso ? FRAME_IN_DSO : 0) | (f->kernel ? FRAME_KERNEL : 0) |
                      (file_dso(f) ? FRAME_FILE : 0) | (f->header_ip ? FRAME_HEADER_IP : 0) |
                      (f->deleted ? FRAME_DELETED : 0));
        if (f->has_dso && f->dso.len + 2 > cap) {
            char *nb = realloc(buf, f->dso.len + 2);
            if (!nb)
                goto oom;
            buf = nb;
            cap = f->dso.len + 2;
        }
        uint32_t init = (f->kernel ? LOC_KERNEL : 0) | (dso ? 0 : LOC_SLOW);
        b->loc[2 * (size_t)id] = b->loc[2 * (size_t)id + 1] = init;
        ps_str name = frame_name(f, buf);
        bframe *bf = &b->frames[id];
        bf->address = f->address;
        bf->name = ps_strtab_intern(&b->names, name.ptr, name.len);
        bf->dso = 0;
        if (dso) {
            /* the DSO text for symmap: with its " (deleted)" (symmap then
             * keeps perf's names instead of reading whatever file has that
             * path now) */
            size_t n = f->dso.len + (f->deleted ? sizeof " (deleted)" - 1 : 0);
            if (prev && prev->dso.len == f->dso.len && prev->deleted == f->deleted &&
                memcmp(prev->dso.ptr, f->dso.ptr, f->dso.len) == 0)
                bf->dso = prev_dso;
            else
                bf->dso = ps_strtab_intern(&b->dsos, f->dso.ptr, n);
            prev = f;
            prev_dso = bf->dso;
        }
        if (!bf->name || (dso && !bf->dso))
            goto oom;
    }
    free(buf);
    b->name_func = calloc(ps_strtab_count(&b->names) + 1, sizeof *b->name_func);
    return b->name_func ? 0 : -1;
oom:
    free(buf);
    return -1;
}

static uint64_t frame_function(builder *b, uint32_t fid)
{
    uint32_t name = b->frames[fid].name;
    if (!b->name_func[name]) {
        ps_str s = ps_strtab_get(&b->names, name);
        b->name_func[name] = prof_function(b->prof, s.ptr, s.len, NULL, 0);
    }
    return b->name_func[name];
}

/* The line of frame fid: its function, with the file and line of its
 * `-F +srcline` text src when there is one (profile/README §3, 1).
 * false on OOM. */
static bool frame_line(builder *b, uint32_t fid, uint32_t src, prof_line *out)
{
    uint64_t fn = frame_function(b, fid);
    out->function_id = fn;
    out->line = 0;
    if (!fn)
        return false;
    ps_str text = ps_srcline_get(b->p, src), file;
    uint64_t line;
    if (src && ps_srcline_split(text.ptr, text.len, &file, &line)) {
        ps_str name = ps_strtab_get(&b->names, b->frames[fid].name);
        out->function_id = prof_function(b->prof, name.ptr, name.len, file.ptr, file.len);
        out->line = line > INT64_MAX ? INT64_MAX : (int64_t)line;
    }
    return out->function_id != 0;
}

/* The mapping and location address of frame fid (symmap, profile/README
 * §3), with a return address moved back one byte when `adjusted` and the
 * mapping's mode wants it. false on OOM. */
static bool resolve(builder *b, uint32_t fid, int64_t pid, bool adjusted, symmap_result *r,
                    uint64_t *addr)
{
    int spid = pid < 0 || pid > INT32_MAX ? -1 : (int)pid;
    ps_str dso = ps_strtab_get(&b->dsos, b->frames[fid].dso);
    /* a header's ip (no callchain) is printed raw by every perf */
    symmap_addr_kind kind = b->flags[fid] & FRAME_HEADER_IP ? SYMMAP_ADDR_RAW : SYMMAP_ADDR_AUTO;
    if (symmap_resolve_as(b->sm, dso.ptr, dso.len, b->frames[fid].address, spid, kind, r) != 0)
        return false;
    *addr = r->address;
    if (adjusted && r->adjust_return && *addr > 0)
        (*addr)--;
    return true;
}

/* adjusted: a return address (profile/README §3, 6). */
uint64_t psb_frame_location(builder *b, uint32_t fid, uint32_t src, int64_t pid, bool adjusted)
{
    size_t slot = (size_t)fid * 2 + adjusted;
    prof_line line;
    if (!frame_line(b, fid, src, &line))
        return 0;
    uint64_t loc;
    bool per_pid = false;
    if (!(b->flags[fid] & FRAME_IN_DSO)) {
        /* perf --inline frames: no DSO, the address is the caller's */
        loc = prof_location(b->prof, 0, 0, &line, 1);
    } else {
        symmap_result r;
        uint64_t addr;
        if (!resolve(b, fid, pid, adjusted, &r, &addr))
            return 0;
        loc = prof_location(b->prof, r.mapping_id, addr, &line, 1);
        per_pid = r.mode == SYMMAP_MODE_RUNTIME;
    }
    if (per_pid && !b->loc_pid && !(b->loc_pid = calloc(b->nslots, sizeof *b->loc_pid)))
        return 0;
    if (loc && loc <= LOC_ID) {
        b->loc[slot] = (b->loc[slot] & LOC_KERNEL) | (uint32_t)loc |
                       (per_pid || !(b->flags[fid] & FRAME_IN_DSO) ? LOC_SLOW : 0);
        if (per_pid)
            b->loc_pid[slot] = pid;
    }
    return loc;
}

/* perf --inline prints a callchain entry's inlined functions first, as
 * DSO-less lines at the entry's address, then the real frame. Such a run
 * becomes one location whose lines run from the innermost inlined function
 * to the real frame's (pprof's model). 0 on OOM. */
__attribute__((noinline)) static uint64_t inline_location(builder *b, const uint32_t *fids,
                                                          const uint32_t *srcs, size_t n,
                                                          int64_t pid, bool adjusted)
{
    prof_line lines[64];
    for (size_t i = 0; i < n; i++)
        if (!frame_line(b, fids[i], srcs[i], &lines[i]))
            return 0;
    symmap_result r;
    uint64_t addr;
    if (!resolve(b, fids[n - 1], pid, adjusted, &r, &addr))
        return 0;
    return prof_location(b->prof, r.mapping_id, addr, lines, n);
}

/* The length of the inline run at frames[k]: DSO-less frames followed by
 * the real frame, all at one address; 0 when there is none. */
__attribute__((noinline)) static size_t inline_run(builder *b, const ps_stack *st, uint32_t k)
{
    if (b->flags[st->frames[k]] & FRAME_IN_DSO)
        return 0;
    uint64_t address = b->frames[st->frames[k]].address;
    uint32_t j = k;
    while (j < st->nframes && j - k < 63) {
        uint32_t g = st->frames[j];
        if (b->frames[g].address != address)
            return 0;
        if (b->flags[g] & FRAME_IN_DSO)
            return j - k + 1;
        j++;
    }
    return 0;
}

/* The location of a frame not in an inline run, from the cache when it
 * holds one for this process. 0 on OOM. */
static inline uint64_t cached_location(builder *b, uint32_t fid, uint32_t src, int64_t pid,
                                       bool adjusted)
{
    size_t slot = (size_t)fid * 2 + adjusted;
    uint32_t c = b->loc[slot];
    if ((c & LOC_ID) &&
        (!(c & LOC_SLOW) || !(b->flags[fid] & FRAME_IN_DSO) || b->loc_pid[slot] == pid))
        return c & LOC_ID;
    return psb_frame_location(b, fid, src, pid, adjusted);
}

/* The common case of stack_locations, a leaf function so that it runs
 * from registers: frames in a DSO whose location is cached for every
 * process, from frames[k] on, into out. Returns the frame index it stopped
 * at; *prev_kernel follows the last frame done. */
__attribute__((noinline)) static uint32_t cached_run(const uint32_t *frames, uint32_t k, uint32_t n,
                                                     const uint32_t *cache, bool *prev_kernel,
                                                     uint64_t *out)
{
    bool prev = *prev_kernel;
    uint32_t start = k;
    for (; k < n; k++) {
        const uint32_t *e = cache + (size_t)frames[k] * 2;
        bool kernel = (e[0] & LOC_KERNEL) != 0;
        /* the leaf and the interrupted user ip after kernel frames are not
         * return addresses */
        bool adjusted = k > 0 && (kernel || !prev);
        uint32_t c = e[adjusted] & ~LOC_KERNEL;
        if (c - 1 >= LOC_ID) /* not cached, or LOC_SLOW */
            break;
        out[k - start] = c;
        prev = kernel;
    }
    *prev_kernel = prev;
    return k;
}

bool psb_stack_locations(builder *b, const ps_stack *st, uint64_t *lp, size_t *nl)
{
    const uint32_t *fr = st->frames;
    uint32_t n = st->nframes, k = 0;
    size_t m = 0;
    bool prev_kernel = false;
    for (;;) {
        uint32_t end = cached_run(fr, k, n, b->loc, &prev_kernel, lp + m);
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
