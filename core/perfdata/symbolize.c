/* The symbolizer: records applied to the address spaces (threads.c), DSOs
 * found and read once each, kernel symbols from kallsyms, and addresses
 * resolved the way perf resolves them (symbolize.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "syms_impl.h"

int pd_syms_warn(pd_syms *s, const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < s->nwarnings; i++)
        if (strcmp(s->warnings[i], buf) == 0)
            return 0;
    if (s->nwarnings == s->warnings_cap) {
        size_t cap = s->warnings_cap ? s->warnings_cap * 2 : 8;
        char **w = realloc(s->warnings, cap * sizeof *w);
        if (!w)
            return -1;
        s->warnings = w;
        s->warnings_cap = cap;
    }
    if (!(s->warnings[s->nwarnings] = strdup(buf)))
        return -1;
    s->nwarnings++;
    return 0;
}

size_t pd_syms_warning_count(const pd_syms *s)
{
    return s->nwarnings;
}

const char *pd_syms_warning(const pd_syms *s, size_t i)
{
    return i < s->nwarnings ? s->warnings[i] : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

pd_syms *pd_syms_new(const pd_syms_options *o, const pd_info *info)
{
    pd_syms *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->o = *o;
    s->info = info;
    bool ok = true;
    if (o->binary_root)
        ok &= (s->binary_root = strdup(o->binary_root)) != NULL;
    if (o->kallsyms)
        ok &= (s->kallsyms_path = strdup(o->kallsyms)) != NULL;
    const char *home = getenv("HOME");
    if (o->debug_dir)
        ok &= (s->debug_dir = strdup(o->debug_dir)) != NULL;
    else if (!o->remote && home && *home) {
        size_t n = strlen(home) + sizeof "/.debug";
        if ((s->debug_dir = malloc(n)))
            snprintf(s->debug_dir, n, "%s/.debug", home);
        ok &= s->debug_dir != NULL;
    }
    s->o.npath_map = 0;
    if (ok && o->npath_map) {
        ok = (s->pmap = calloc(o->npath_map, sizeof *s->pmap)) != NULL;
        for (size_t i = 0; ok && i < o->npath_map; i++) {
            s->pmap[i].from = dup_or_null(o->path_map[i].from);
            s->pmap[i].to = dup_or_null(o->path_map[i].to);
            s->o.npath_map++;
            ok = s->pmap[i].from && s->pmap[i].to;
        }
    }
    if (!ok) {
        pd_syms_free(s);
        return NULL;
    }
    return s;
}

void pd_syms_free(pd_syms *s)
{
    if (!s)
        return;
    pd_threads_free(s);
    for (size_t i = 0; i < s->ndsos; i++) {
        free(s->dsos[i].name);
        pd_symtab_free(s->dsos[i].symtab);
    }
    free(s->dsos);
    free(s->dslots);
    pd_symtab_free(s->kernel);
    for (size_t i = 0; i < s->o.npath_map; i++) {
        free((char *)s->pmap[i].from);
        free((char *)s->pmap[i].to);
    }
    free(s->pmap);
    free(s->binary_root);
    free(s->kallsyms_path);
    free(s->debug_dir);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    free(s);
}

/* ---- DSOs ---- */

static uint64_t hash_str(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static bool has_prefix(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    return n >= k && memcmp(s, pre, k) == 0;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

static void set_build_id(pd_syms *s, pd_dso *d)
{
    const pd_info *in = s->info;
    for (size_t i = 0; in && i < in->nbuild_ids; i++)
        if (strcmp(in->build_ids[i].path, d->name) == 0) {
            snprintf(d->build_id, sizeof d->build_id, "%s", in->build_ids[i].hex);
            return;
        }
}

long pd_dso_get(pd_syms *s, const char *name, size_t len, uint32_t pid)
{
    (void)pid;
    uint64_t h = hash_str(name, len);
    if (s->dslots) {
        for (size_t i = (size_t)h & (s->ndslots - 1);; i = (i + 1) & (s->ndslots - 1)) {
            uint32_t k = s->dslots[i];
            if (!k)
                break;
            pd_dso *d = &s->dsos[k - 1];
            if (d->len == len && memcmp(d->name, name, len) == 0)
                return (long)(k - 1);
        }
    }
    if ((s->ndsos + 1) * 2 > s->ndslots) {
        size_t n = s->ndslots ? s->ndslots * 2 : 64;
        uint32_t *sl = calloc(n, sizeof *sl);
        if (!sl)
            return -1;
        for (size_t k = 0; k < s->ndsos; k++) {
            size_t i = (size_t)hash_str(s->dsos[k].name, s->dsos[k].len) & (n - 1);
            while (sl[i])
                i = (i + 1) & (n - 1);
            sl[i] = (uint32_t)(k + 1);
        }
        free(s->dslots);
        s->dslots = sl;
        s->ndslots = n;
    }
    if (s->ndsos == s->dsos_cap) {
        size_t cap = s->dsos_cap ? s->dsos_cap * 2 : 16;
        pd_dso *d = realloc(s->dsos, cap * sizeof *d);
        if (!d)
            return -1;
        s->dsos = d;
        s->dsos_cap = cap;
    }
    pd_dso *d = &s->dsos[s->ndsos];
    memset(d, 0, sizeof *d);
    if (!(d->name = malloc(len + 1)))
        return -1;
    memcpy(d->name, name, len);
    d->name[len] = '\0';
    d->len = len;
    d->vdso = len == 6 && memcmp(name, "[vdso]", 6) == 0;
    d->special = !d->vdso && (name[0] != '/' || has_prefix(name, len, "/memfd:") ||
                              has_suffix(name, len, " (deleted)") ||
                              has_prefix(name, len, "/tmp/perf-") || has_prefix(name, len, "//"));
    d->jit = has_prefix(name, len, "/tmp/perf-") && has_suffix(name, len, ".map");
    set_build_id(s, d);
    size_t i = (size_t)h & (s->ndslots - 1);
    while (s->dslots[i])
        i = (i + 1) & (s->ndslots - 1);
    s->dslots[i] = (uint32_t)(s->ndsos + 1);
    return (long)s->ndsos++;
}

/* Tries one candidate file for d: its symbols when it is ELF and, when
 * the recording names a build id, has that build id. fd >= 0: the file is
 * open there (our own vdso copy; elfi_read refuses /proc paths). */
static bool try_file(pd_dso *d, const char *path, int fd)
{
    char err[256];
    elfi_info e;
    struct stat st;
    if (fd >= 0
            ? elfi_read_fd(fd, path, &e, err, sizeof err) != 0
            : stat(path, &st) != 0 || !S_ISREG(st.st_mode) || elfi_read(path, &e, err, sizeof err))
        return false;
    if (d->build_id[0]) {
        char hex[2 * ELFI_MAX_BUILD_ID + 1];
        elfi_build_id_hex(&e, hex, sizeof hex);
        if (strcmp(hex, d->build_id) != 0)
            return false;
    }
    pd_symtab *t = pd_symtab_elf(path, err, sizeof err);
    if (!t)
        return false;
    d->elf = e;
    d->symtab = t;
    return true;
}

/* This process's own vdso, written to a memfd, as a candidate. */
static bool try_own_vdso(pd_dso *d)
{
    unsigned long base = getauxval(AT_SYSINFO_EHDR);
    FILE *f = base ? fopen("/proc/self/maps", "r") : NULL;
    if (!f)
        return false;
    char line[512];
    unsigned long lo = 0, hi = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
            break;
    fclose(f);
    if (lo != base || hi <= lo || hi - lo > (1u << 20))
        return false;
    int fd = memfd_create("perfgo-vdso", MFD_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, (const void *)lo, hi - lo) == (ssize_t)(hi - lo);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ok = ok && try_file(d, path, fd);
    close(fd);
    return ok;
}

/* A JIT's symbol map, read as perf reads it where perf script runs: the
 * file itself when the recording was made here, else a path-map entry or
 * the file under --binary-root (copied back with the recording), each
 * opened as safely as a DSO (elfi_open). No warning when there is none:
 * most anonymous memory has no map. */
static void load_perfmap(pd_syms *s, pd_dso *d)
{
    char err[256];
    elfi_file f;
    int rc = ENOENT;
    for (size_t i = 0; i < s->o.npath_map && rc == ENOENT; i++)
        if (strcmp(s->pmap[i].from, d->name) == 0)
            rc = elfi_open(NULL, s->pmap[i].to, &f, err, sizeof err);
    if (rc == ENOENT && s->binary_root)
        rc = elfi_open(s->binary_root, d->name, &f, err, sizeof err);
    if (rc == ENOENT && !s->o.remote)
        rc = elfi_open(NULL, d->name, &f, err, sizeof err);
    if (rc == ENOENT)
        return;
    if (rc == 0) {
        errno = 0;
        d->symtab = pd_symtab_perfmap(f.fd, d->name, err, sizeof err);
        elfi_close(&f);
    }
    if (!d->symtab) {
        pd_syms_warn(s, "%s; its frames are named [unknown]", err);
        return;
    }
    d->state = DSO_LOADED;
}

static void load_dso(pd_syms *s, pd_dso *d)
{
    d->state = DSO_NONE;
    if (d->jit) {
        load_perfmap(s, d);
        return;
    }
    if (d->special)
        return;
    char path[4096];
    for (size_t i = 0; i < s->o.npath_map; i++)
        if (strcmp(s->pmap[i].from, d->name) == 0 && try_file(d, s->pmap[i].to, -1)) {
            d->state = DSO_LOADED;
            return;
        }
    if (s->debug_dir && d->build_id[0]) {
        if (d->vdso)
            snprintf(path, sizeof path, "%s/[vdso]/%s/vdso", s->debug_dir, d->build_id);
        else
            snprintf(path, sizeof path, "%s/.build-id/%.2s/%s/elf", s->debug_dir, d->build_id,
                     d->build_id + 2);
        if (try_file(d, path, -1)) {
            d->state = DSO_LOADED;
            return;
        }
    }
    if (d->vdso) {
        if (!s->o.remote && try_own_vdso(d))
            d->state = DSO_LOADED;
        return;
    }
    if (s->binary_root && strstr(d->name, "/../") == NULL) {
        snprintf(path, sizeof path, "%s/%s", s->binary_root, d->name);
        if (try_file(d, path, -1)) {
            d->state = DSO_LOADED;
            return;
        }
    }
    if (!s->o.remote && try_file(d, d->name, -1)) {
        d->state = DSO_LOADED;
        return;
    }
    pd_syms_warn(s, "%s: %s; its frames are named [unknown]", d->name,
                 d->build_id[0] ? "no readable file with the recorded build id" : "cannot be read");
}

/* ---- kernel ---- */

/* The running kernel's build id from /sys/kernel/notes, into hex. */
static bool running_kernel_build_id(char *hex, size_t len)
{
    FILE *f = fopen("/sys/kernel/notes", "rb");
    if (!f)
        return false;
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i + 12 <= n;) {
        uint32_t nsz, dsz, type;
        memcpy(&nsz, buf + i, 4);
        memcpy(&dsz, buf + i + 4, 4);
        memcpy(&type, buf + i + 8, 4);
        size_t name = i + 12, desc = name + ((nsz + 3u) & ~3u);
        if (nsz > n || dsz > n || desc > n || dsz > n - desc)
            return false;
        if (type == 3 && nsz == 4 && memcmp(buf + name, "GNU", 4) == 0 && 2 * dsz < len) {
            for (size_t k = 0; k < dsz; k++)
                snprintf(hex + 2 * k, 3, "%02x", buf[desc + k]);
            return true;
        }
        i = desc + ((dsz + 3u) & ~3u);
    }
    return false;
}

static void load_kernel(pd_syms *s)
{
    s->kernel_loaded = true;
    char err[512], path[4096];
    const char *bid = NULL;
    for (size_t i = 0; s->info && i < s->info->nbuild_ids; i++)
        if (strcmp(s->info->build_ids[i].path, "[kernel.kallsyms]") == 0)
            bid = s->info->build_ids[i].hex;
    if (s->kallsyms_path) {
        if (!(s->kernel = pd_symtab_kallsyms(s->kallsyms_path, err, sizeof err)))
            pd_syms_warn(s, "kernel frames are named [unknown]: %s", err);
        return;
    }
    if (s->debug_dir && bid) {
        snprintf(path, sizeof path, "%s/[kernel.kallsyms]/%s/kallsyms", s->debug_dir, bid);
        if ((s->kernel = pd_symtab_kallsyms(path, err, sizeof err)))
            return;
    }
    if (s->o.remote) {
        pd_syms_warn(s, "kernel frames are named [unknown]: no kallsyms of the recording's host");
        return;
    }
    char hex[2 * 64 + 1];
    if (bid && running_kernel_build_id(hex, sizeof hex) && strcmp(hex, bid) != 0) {
        pd_syms_warn(s,
                     "kernel frames are named [unknown]: the recording was made under another "
                     "kernel (build id %s, running %s)",
                     bid, hex);
        return;
    }
    if (!(s->kernel = pd_symtab_kallsyms("/proc/kallsyms", err, sizeof err)))
        pd_syms_warn(s, "kernel frames are named [unknown]: %s", err);
}

/* ---- records and resolving ---- */

int pd_syms_record(pd_syms *s, const pd_record *r)
{
    switch (r->type) {
    case PD_MMAP:
    case PD_MMAP2: {
        const char *fn = r->u.mmap.filename;
        if (r->u.mmap.pid == UINT32_MAX) { /* the kernel's maps */
            if (strncmp(fn, "[kernel.kallsyms]", 17) == 0 && s->kernel_start != r->u.mmap.start) {
                s->kernel_start = r->u.mmap.start;
                s->kernel_gen = ++s->gen;
            }
            return 0;
        }
        char anon[64];
        if (strcmp(fn, "//anon") == 0 || strcmp(fn, "/dev/zero") == 0 ||
            strcmp(fn, "/anon_hugepage") == 0) {
            snprintf(anon, sizeof anon, "/tmp/perf-%u.map", r->u.mmap.pid);
            fn = anon;
        }
        long d = pd_dso_get(s, fn, strlen(fn), r->u.mmap.pid);
        pd_proc *p = pd_proc_get(s, r->u.mmap.pid, true);
        if (d < 0 || !p)
            return -1;
        pd_map m = {r->u.mmap.start, r->u.mmap.start + r->u.mmap.len, r->u.mmap.pgoff, (uint32_t)d};
        if (m.end < m.start)
            return 0;
        return pd_proc_insert(s, p, &m);
    }
    case PD_COMM:
        return pd_set_comm(s, r->u.comm.tid, r->u.comm.comm);
    case PD_FORK:
        return pd_fork(s, r->u.task.pid, r->u.task.ppid, r->u.task.tid, r->u.task.ptid);
    default:
        return 0;
    }
}

static const char unknown[] = "[unknown]";

int pd_syms_resolve(pd_syms *s, uint32_t pid, uint64_t ip, bool kernel, pd_frame *out)
{
    memset(out, 0, sizeof *out);
    out->dso = unknown;
    out->dso_len = sizeof unknown - 1;
    out->dso_id = -1;
    if (kernel) {
        if (s->kernel_start && ip < s->kernel_start)
            return 0;
        if (!s->kernel_loaded)
            load_kernel(s);
        out->kernel = out->has_map = true;
        out->dso = "[kernel.kallsyms]";
        out->dso_len = 17;
        uint64_t start;
        size_t len;
        const char *name = pd_symtab_find(s->kernel, ip, &start, &len);
        if (name) {
            const char *tab = memchr(name, '\t', len);
            out->sym = name;
            out->sym_len = tab ? (size_t)(tab - name) : len;
            out->symoff = ip - start;
            if (tab) {
                out->dso = tab + 1;
                out->dso_len = len - out->sym_len - 1;
            }
        }
        return 0;
    }
    pd_proc *p = pd_proc_get(s, pid, false);
    const pd_map *m = p ? pd_proc_find(p, ip) : NULL;
    if (!m)
        return 0;
    pd_dso *d = &s->dsos[m->dso];
    out->has_map = true;
    out->dso = d->name;
    out->dso_len = d->len;
    if (d->state == DSO_NEW)
        load_dso(s, d);
    if (d->state != DSO_LOADED)
        return 0;
    uint64_t start;
    size_t len;
    const char *name;
    if (d->jit) { /* symbols at the addresses themselves */
        if ((name = pd_symtab_find(d->symtab, ip, &start, &len))) {
            out->sym = name;
            out->sym_len = len;
            out->symoff = ip - start;
        }
        return 0;
    }
    uint64_t fo = ip - m->start + m->pgoff, vaddr;
    if (!elfi_offset_to_vaddr(&d->elf, fo, &vaddr))
        return 0;
    out->vaddr = vaddr;
    out->has_vaddr = true;
    out->dso_id = (int)m->dso;
    name = pd_symtab_find(d->symtab, vaddr, &start, &len);
    if (name) {
        out->sym = name;
        out->sym_len = len;
        out->symoff = vaddr - start;
    }
    return 0;
}

bool pd_syms_srcline(pd_syms *s, const pd_frame *f, const char **file, int *line)
{
    if (!f->has_vaddr || f->dso_id < 0 || (size_t)f->dso_id >= s->ndsos)
        return false;
    const pd_dso *d = &s->dsos[f->dso_id];
    if (d->vdso || d->special) /* perf asks only files: not [vdso], not perf-PID.map */
        return false;
    return pd_symtab_srcline(d->symtab, f->vaddr, file, line);
}
