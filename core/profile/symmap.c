/* symmap: README §3 in one place. See symmap.h for the rule.
 * mmap side band lives in one vector with a per-pid chain (newest first);
 * DSO decisions (which local file, which mode) are cached per DSO name. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profile/symmap_impl.h"

symmap *symmap_new(prof_profile *p, const symmap_options *o)
{
    symmap *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    if (o) {
        s->remote = o->remote;
        s->addr_kind = o->addr_kind;
        if (o->binary_root &&
            !(s->binary_root = symmap_dupn(o->binary_root, strlen(o->binary_root))))
            goto fail;
        if (o->npath_map) {
            s->pmap = calloc(o->npath_map, sizeof *s->pmap);
            if (!s->pmap)
                goto fail;
            for (size_t i = 0; i < o->npath_map; i++, s->npmap++) {
                const symmap_path *e = &o->path_map[i];
                char *f = symmap_dupn(e->from, strlen(e->from)),
                     *t = symmap_dupn(e->to, strlen(e->to));
                s->pmap[i].from = f;
                s->pmap[i].to = t;
                if (!f || !t) {
                    s->npmap++;
                    goto fail;
                }
            }
        }
    }
    return s;
fail:
    symmap_free(s);
    return NULL;
}

void symmap_free(symmap *s)
{
    if (!s)
        return;
    free(s->binary_root);
    for (size_t i = 0; i < s->npmap; i++) {
        free((char *)s->pmap[i].from);
        free((char *)s->pmap[i].to);
    }
    free(s->pmap);
    for (size_t i = 0; i < s->nrecs; i++) {
        if (s->recs[i].owned) {
            free((char *)s->recs[i].path);
            free((char *)s->recs[i].build_id);
        }
    }
    free(s->recs);
    free(s->pids);
    ph_free(&s->pindex);
    free(s->path_heads);
    ph_free(&s->path_index);
    free(s->pp_heads);
    ph_free(&s->pp_index);
    ph_free(&s->bid_index);
    for (size_t i = 0; i < s->nbids; i++) {
        free((char *)s->bids[i].from);
        free((char *)s->bids[i].to);
    }
    free(s->bids);
    for (size_t i = 0; i < s->ndsos; i++) {
        free(s->dsos[i].name);
        free(s->dsos[i].why);
        if (s->dsos[i].file)
            free(s->dsos[i].file->local);
        free(s->dsos[i].file);
    }
    free(s->dsos);
    ph_free(&s->dindex);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    free(s);
}

/* ---- warnings ---- */

static void warn(symmap *s, dso *d)
{
    if (d->warned)
        return;
    d->warned = true;
    char buf[1600];
    snprintf(buf, sizeof buf,
             "%s: %s%s; its frames keep perf's names only (go tool pprof -lines/-list cannot "
             "resolve them)",
             d->name, d->why ? d->why : "its local file is not used",
             d->state == D_READABLE ? "" : ", and no --show-mmap-events record places them");
    char *w = symmap_dupn(buf, strlen(buf));
    if (!w || ph_grow((void **)&s->warnings, &s->warnings_cap, s->nwarnings + 1,
                      sizeof *s->warnings) != 0) {
        free(w);
        return; /* a lost warning under OOM is acceptable */
    }
    s->warnings[s->nwarnings++] = w;
}

size_t symmap_num_warnings(const symmap *s)
{
    return s->nwarnings;
}

const char *symmap_warning(const symmap *s, size_t i)
{
    return i < s->nwarnings ? s->warnings[i] : "";
}

/* Sets why d's local file is not used (lost under OOM: a warning then
 * gives no reason). */
__attribute__((format(printf, 2, 3))) static void set_why(dso *d, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(d->why);
    d->why = symmap_dupn(buf, strlen(buf));
}

/* ---- DSO classification and local files ---- */

static bool starts(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    return n >= k && memcmp(s, pre, k) == 0;
}

static bool ends(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

static symmap_kind classify(const char *n, size_t len)
{
    if (len == 0 || (len == 9 && memcmp(n, "[unknown]", 9) == 0))
        return SYMMAP_UNKNOWN;
    if (starts(n, len, "[kernel.kallsyms]") || starts(n, len, "[guest.kernel.kallsyms"))
        return SYMMAP_KERNEL;
    static const char *const special[] = {"[vdso]",  "[vsyscall]", "[uprobes]", "[heap]",
                                          "[stack]", "[vvar]",     "[anon",     "//anon",
                                          "/memfd:", "[vectors]",  "[sigpage]", "/dev/"};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (starts(n, len, special[i]))
            return SYMMAP_SPECIAL;
    if (n[0] == '[')
        return SYMMAP_KERNEL; /* a kernel module: [nf_tables] */
    if (ends(n, len, " (deleted)") || ends(n, len, ".map"))
        return SYMMAP_SPECIAL; /* gone, or perf-PID.map JIT symbols */
    return SYMMAP_USER;
}

/* Whether the path map names a file for exactly this DSO name: then it is
 * a file to read even when its name says it is gone ("... (deleted)"). */
static bool mapped_exactly(const symmap *s, const char *name)
{
    for (size_t i = 0; i < s->npmap; i++)
        if (strcmp(s->pmap[i].from, name) == 0)
            return true;
    return false;
}

/* Opens the local file for d, first found of: the path map (an exact
 * entry names the file; a directory entry, ending in "/", holds the rest
 * of the name, which resolves inside it), the binary root (the name
 * resolves inside it), the path itself (unless remote). Files are opened
 * as core/elf/elf.h says (a DSO name is input). 0 with f open, 1 when
 * there is nothing to read (d->why says why); *own tells the path itself
 * was opened. -1 on OOM. */
static int open_local(symmap *s, dso *d, elfi_file *f, bool *own)
{
    char err[600];
    *own = false;
    for (size_t i = 0; i < s->npmap; i++) {
        const char *from = s->pmap[i].from, *to = s->pmap[i].to;
        size_t fl = strlen(from);
        int rc;
        if (strcmp(from, d->name) == 0)
            rc = elfi_open(NULL, to, f, err, sizeof err);
        else if (fl > 0 && from[fl - 1] == '/' && strncmp(from, d->name, fl) == 0)
            rc = elfi_open(to, d->name + fl, f, err, sizeof err);
        else
            continue;
        if (rc == 0)
            return 0;
        set_why(d, "cannot read it (%s)", err);
        return 1;
    }
    if (s->binary_root && d->name[0] == '/') {
        int rc = elfi_open(s->binary_root, d->name, f, err, sizeof err);
        if (rc == 0)
            return 0;
        if (rc != ENOENT) {
            set_why(d, "cannot read it under the binary root (%s)", err);
            return 1;
        }
    }
    if (s->remote) {
        set_why(d, "no local copy of this remote binary (not in the path map or under the "
                   "binary root)");
        return 1;
    }
    if (!elfi_path_is_normal(d->name)) { /* perf prints none: /../../usr/bin/true */
        set_why(d, "not read (a name with ., .. or empty components)");
        return 1;
    }
    if (elfi_open(NULL, d->name, f, err, sizeof err) != 0) {
        set_why(d, "cannot read it (%s)", err);
        return 1;
    }
    *own = true;
    return 0;
}

/* Finds and checks the local file for d: sets d->state and, when usable,
 * d->file; otherwise d->why. -1 only on OOM. */
static int decide(symmap *s, dso *d)
{
    d->state = D_UNREADABLE;
    struct stat pst;
    /* Whatever sits at the profiled path is, from here on, not the profiled
     * file unless it is accepted below: runtime-mode mappings then carry
     * has_functions so pprof does not symbolize from it. (stat opens
     * nothing: a FIFO there cannot block.) */
    d->foreign = d->name[0] == '/' && stat(d->name, &pst) == 0;
    elfi_file f;
    bool own;
    int rc = open_local(s, d, &f, &own);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    dso_file *file = malloc(sizeof *file);
    if (!file) {
        elfi_close(&f);
        return -1;
    }
    char err[512];
    rc = elfi_read_fd(f.fd, f.path, &file->elf, err, sizeof err);
    elfi_close(&f);
    if (rc != 0) {
        set_why(d, "cannot read it (%s)", err);
        free(file);
        return 0;
    }
    char *hex = file->build_hex;
    elfi_build_id_hex(&file->elf, hex, sizeof file->build_hex);
    const char *want = symmap_known_build_id(s, d->name);
    if (want && strcmp(want, hex) != 0) {
        set_why(d, "the local %s has build id %s but the profiled file had %s, so it is not used",
                f.path, hex[0] ? hex : "(none)", want);
        free(file);
        return 0;
    }
    const mrec *dr = want ? NULL : symmap_dev_record(s, d->name);
    /* The inode decides; devices differ legitimately on overlay file
     * systems (containers), where the kernel records the real layer. */
    if (own && dr && f.ino != dr->ino) {
        set_why(d, "the file on disk is not the profiled one (its inode changed since)");
        free(file);
        return 0;
    }
    if (!(file->local = symmap_dupn(f.path, strlen(f.path)))) {
        free(file);
        return -1;
    }
    d->file = file;
    d->state = D_READABLE;
    d->foreign = false;
    return 0;
}

static dso *get_dso(symmap *s, const char *name, size_t len)
{
    if (s->last_dso < s->ndsos && s->dsos[s->last_dso].len == len &&
        memcmp(s->dsos[s->last_dso].name, name, len) == 0)
        return &s->dsos[s->last_dso];
    uint64_t h = ph_bytes(name, len, 0xd50);
    size_t pos = SIZE_MAX, i;
    while ((i = ph_probe(&s->dindex, h, &pos)) != SIZE_MAX)
        if (s->dsos[i].len == len && memcmp(s->dsos[i].name, name, len) == 0) {
            s->last_dso = i;
            return &s->dsos[i];
        }
    if (ph_grow((void **)&s->dsos, &s->dsos_cap, s->ndsos + 1, sizeof *s->dsos) != 0)
        return NULL;
    dso *d = &s->dsos[s->ndsos];
    memset(d, 0, sizeof *d);
    d->name = symmap_dupn(name, len);
    if (!d->name || ph_insert(&s->dindex, h, s->ndsos) != 0) {
        free(d->name);
        return NULL;
    }
    d->len = len;
    d->kind = classify(name, len);
    if (d->kind == SYMMAP_SPECIAL && mapped_exactly(s, d->name))
        d->kind = SYMMAP_USER; /* e.g. a deleted binary, read through /proc/PID/exe */
    s->last_dso = s->ndsos++;
    return d;
}

/* ---- resolving ---- */

static uint64_t names_mapping(symmap *s, dso *d)
{
    if (!d->names_map) {
        prof_mapping_spec m = {.start = 0,
                               .limit = PROF_NO_LIMIT,
                               .file = d->name,
                               .file_len = d->len,
                               .has_functions = true};
        const char *bid = d->kind == SYMMAP_USER ? symmap_known_build_id(s, d->name) : NULL;
        if (bid) {
            m.build_id = bid;
            m.build_id_len = strlen(bid);
        }
        d->names_map = prof_mapping(s->p, &m);
    }
    return d->names_map;
}

static int names_only(symmap *s, dso *d, uint64_t addr, symmap_result *out)
{
    out->mapping_id = names_mapping(s, d);
    out->address = addr;
    out->mode = SYMMAP_MODE_NAMES;
    out->adjust_return = false;
    return out->mapping_id ? 0 : -1;
}

static int kernel(symmap *s, dso *d, uint64_t addr, symmap_result *out)
{
    out->address = addr;
    out->mode = SYMMAP_MODE_NAMES;
    out->adjust_return = false;
    const mrec *r = symmap_find_kernel(s, d->name, d->len, addr);
    if (r) {
        prof_mapping_spec m = {r->start,
                               r->start + r->len,
                               r->pgoff,
                               r->path,
                               strlen(r->path),
                               r->build_id,
                               r->build_id ? strlen(r->build_id) : 0,
                               true,
                               false,
                               false,
                               false};
        out->mapping_id = prof_mapping(s->p, &m);
        return out->mapping_id ? 0 : -1;
    }
    if (!d->span_map) {
        prof_mapping_spec m = {
            .limit = PROF_NO_LIMIT, .file = d->name, .file_len = d->len, .has_functions = true};
        if (!(d->span_map = prof_mapping(s->p, &m)))
            return -1;
    }
    if (!d->seen_addr || addr < d->kmin)
        d->kmin = addr;
    if (!d->seen_addr || addr > d->kmax)
        d->kmax = addr;
    d->seen_addr = true;
    out->mapping_id = d->span_map;
    return 0;
}

/* is_offset's decision once both records are known. */
static bool is_offset_by(symmap *s, dso *d, uint64_t addr, const mrec *by_off, const mrec *by_ip)
{
    if (by_off && !by_ip) {
        s->verdict = SYMMAP_ADDR_OFFSET;
        return true;
    }
    if (by_ip && !by_off) {
        s->verdict = SYMMAP_ADDR_RAW;
        return false;
    }
    /* 2. The file itself: a value past its file-backed segments is no
     *    file offset (e.g. a -G sample ip, raw in every perf version). */
    uint64_t v;
    if (d->state == D_READABLE && !elfi_offset_to_vaddr(&d->file->elf, addr, &v))
        return false;
    /* 3. The verdict so far; else perf 5.16 - 6.3 (this machine's). */
    if (s->verdict != SYMMAP_ADDR_AUTO)
        return s->verdict == SYMMAP_ADDR_OFFSET;
    return true;
}

/* Decides whether addr (printed for a frame of d in pid) is a file offset.
 * *rec is the MMAP record that places addr read that way, when the
 * decision looked it up (else it is left as is). */
static bool is_offset(symmap *s, dso *d, uint64_t addr, int pid, symmap_addr_kind kind,
                      const mrec **rec, bool *found)
{
    if (kind != SYMMAP_ADDR_AUTO)
        return kind == SYMMAP_ADDR_OFFSET;
    /* 1. This frame's own MMAP evidence, when unambiguous; it also sets the
     *    verdict for the whole input (one perf version printed it). */
    const mrec *by_off = symmap_find_map(s, pid, d->name, d->len, addr, true);
    const mrec *by_ip = symmap_find_map(s, pid, d->name, d->len, addr, false);
    bool off = is_offset_by(s, d, addr, by_off, by_ip);
    *rec = off ? by_off : by_ip;
    *found = true;
    return off;
}

static int resolve(symmap *s, dso *d, uint64_t addr, int pid, symmap_addr_kind kind,
                   symmap_result *out);

int symmap_resolve(symmap *s, const char *dso_name, size_t dso_len, uint64_t addr, int pid,
                   symmap_result *out)
{
    return symmap_resolve_as(s, dso_name, dso_len, addr, pid, SYMMAP_ADDR_AUTO, out);
}

int symmap_resolve_as(symmap *s, const char *dso_name, size_t dso_len, uint64_t addr, int pid,
                      symmap_addr_kind kind, symmap_result *out)
{
    memset(out, 0, sizeof *out);
    dso *d = get_dso(s, dso_name, dso_len);
    if (!d)
        return -1;
    int rc = resolve(s, d, addr, pid, kind == SYMMAP_ADDR_AUTO ? s->addr_kind : kind, out);
    if (rc == 0 && !d->first_map)
        d->first_map = out->mapping_id;
    return rc;
}

static int resolve(symmap *s, dso *d, uint64_t addr, int pid, symmap_addr_kind kind,
                   symmap_result *out)
{
    out->kind = d->kind;
    switch (d->kind) {
    case SYMMAP_UNKNOWN:
        out->address = addr;
        out->mode = SYMMAP_MODE_NAMES;
        return 0;
    case SYMMAP_KERNEL:
        return kernel(s, d, addr, out);
    case SYMMAP_SPECIAL:
        return names_only(s, d, addr, out);
    case SYMMAP_USER:
        break;
    }
    if (d->state == D_UNDECIDED && decide(s, d) != 0)
        return -1;
    const mrec *r = NULL;
    bool found = false;
    bool off = is_offset(s, d, addr, pid, kind, &r, &found);
    if (!found)
        r = symmap_find_map(s, pid, d->name, d->len, addr, off);
    if (d->state == D_READABLE) {
        uint64_t vaddr = 0, fo;
        bool ok = false;
        if (off)
            ok = elfi_offset_to_vaddr(&d->file->elf, addr, &vaddr);
        else if (r)
            ok = elfi_offset_to_vaddr(&d->file->elf, addr - r->start + r->pgoff, &vaddr);
        else if (d->file->elf.type == 2 /* ET_EXEC: the raw ip is the vaddr */) {
            vaddr = addr;
            ok = elfi_vaddr_to_offset(&d->file->elf, addr, &fo);
        }
        if (ok) {
            if (!d->elf_map) {
                prof_mapping_spec m = {.limit = PROF_NO_LIMIT,
                                       .file = d->file->local,
                                       .file_len = strlen(d->file->local),
                                       .build_id = d->file->build_hex,
                                       .build_id_len = strlen(d->file->build_hex)};
                if (!(d->elf_map = prof_mapping(s->p, &m)))
                    return -1;
            }
            out->mapping_id = d->elf_map;
            out->address = vaddr;
            out->mode = SYMMAP_MODE_ELF;
            out->adjust_return = true;
            return 0;
        }
    }
    if (r) {
        uint64_t ip = off ? addr - r->pgoff + r->start : addr;
        prof_mapping_spec m = {r->start,
                               r->start + r->len,
                               r->pgoff,
                               r->path,
                               strlen(r->path),
                               r->build_id,
                               r->build_id ? strlen(r->build_id) : 0,
                               d->foreign,
                               false,
                               false,
                               false};
        out->mapping_id = prof_mapping(s->p, &m);
        out->address = ip;
        out->mode = SYMMAP_MODE_RUNTIME;
        out->adjust_return = true;
        return out->mapping_id ? 0 : -1;
    }
    if (!d->warned && d->state == D_READABLE && off)
        set_why(d, "0x%llx is no file offset in %s", (unsigned long long)addr, d->file->local);
    else if (!d->warned && d->state == D_READABLE)
        set_why(d,
                "0x%llx is a runtime address (not a file offset) and this process has no "
                "MMAP record to place it",
                (unsigned long long)addr);
    warn(s, d);
    return names_only(s, d, addr, out);
}

/* A shared object by its name: "libc.so.6", "ld-linux-x86-64.so.2". */
static bool is_shared_object(const dso *d)
{
    if (d->state == D_READABLE)
        return d->file->elf.type == 3 && strstr(d->name, ".so") != NULL;
    return strstr(d->name, ".so") != NULL;
}

int symmap_finish(symmap *s)
{
    /* pprof takes mapping[0] for the main binary: the first user DSO seen
     * that is not a shared object, unless the caller chose one. */
    if (s->p->main_mapping == 0) {
        for (size_t i = 0; i < s->ndsos; i++) {
            const dso *d = &s->dsos[i];
            if (d->kind == SYMMAP_USER && d->first_map && !is_shared_object(d)) {
                s->p->main_mapping = d->first_map;
                break;
            }
        }
    }
    for (size_t i = 0; i < s->ndsos; i++) {
        dso *d = &s->dsos[i];
        if (d->span_map && d->seen_addr &&
            prof_set_mapping_range(s->p, d->span_map, d->kmin,
                                   d->kmax == UINT64_MAX ? d->kmax : d->kmax + 1) != 0)
            return -1;
    }
    return 0;
}
