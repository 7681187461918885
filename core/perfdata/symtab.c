/* Symbol tables with perf's rules, from an ELF file through elfutils'
 * libdwfl (which also finds the separate debug file by build id or debug
 * link, and its fuller .symtab), or from /proc/kallsyms text.
 *
 * perf's rules (tools/perf/util/symbol.c, symbol-elf.c), so that names
 * come out as `perf script` prints them:
 *   - kept: functions (STT_FUNC, STT_GNU_IFUNC) and objects with a name,
 *     not undefined; labels (STT_NOTYPE, not absolute, not hidden or
 *     internal) only in a section whose name has "text" or "data";
 *   - symbols at the same address: one is kept, preferring one with a
 *     size, then not weak, then global, then fewer leading underscores,
 *     then the longer name, then the first;
 *   - a symbol of size 0 reaches the next symbol (the last one the end of
 *     its page plus a page; in kallsyms, the last before a module's
 *     symbols only the end of the next page);
 *   - an address belongs to the last symbol starting at or below it when
 *     it lies below that symbol's end, else to none ("[unknown]"). */
#include <ctype.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include "demangle.h"
#include "symtab.h"
#include "sys/hugepage.h"

typedef struct sym {
    uint64_t start, end;
    uint32_t name; /* offset into names */
    uint32_t order;
    uint8_t bind, nonzero;
    uint8_t module; /* kallsyms: a module's symbol ("name\t[module]") */
    uint8_t plain;  /* shown as it is, even in a table that demangles */
} sym;

struct pd_symtab {
    sym *syms;
    size_t n, cap;
    char *names; /* NUL-terminated names; or a kallsyms text, each name ending at its newline */
    size_t names_len, names_cap;
    bool text;     /* names is a kallsyms text */
    bool mapped;   /* names is a mapped file */
    bool demangle; /* names are shown demangled (demangle.h) */
    bool lines;    /* the file the symbols came from has a line table */
    char **shown;  /* per symbol, once looked up: its demangled name, or NOT_MANGLED */
    Dwfl *dwfl; /* for source lines; NULL for kallsyms */
    Dwfl_Module *mod;
    uint64_t bias;
    /* the address ranges of the compile units, for files without
     * .debug_aranges (Go's), where libdwfl finds no unit for an address */
    struct curange *ranges;
    size_t nranges;
    bool ranges_read;
};

static int push_sym(pd_symtab *t, uint64_t start, uint64_t size, int bind, size_t name,
                    bool module)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        sym *s = realloc(t->syms, cap * sizeof *s);
        if (!s)
            return -1;
        t->syms = s;
        t->cap = cap;
    }
    if (name > UINT32_MAX)
        return -1;
    t->syms[t->n] = (sym){start, start + size, (uint32_t)name, (uint32_t)t->n, (uint8_t)bind,
                          size != 0, module, 0};
    t->n++;
    return 0;
}

static int add_sym(pd_symtab *t, uint64_t start, uint64_t size, int bind, const char *name,
                   size_t len)
{
    if (t->names_cap - t->names_len < len + 1) {
        size_t cap = t->names_cap ? t->names_cap : 1u << 16;
        while (cap - t->names_len < len + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return -1;
        char *b = realloc(t->names, cap);
        if (!b)
            return -1;
        t->names = b;
        t->names_cap = cap;
    }
    memcpy(t->names + t->names_len, name, len);
    t->names[t->names_len + len] = '\0';
    if (push_sym(t, start, size, bind, t->names_len, false))
        return -1;
    t->names_len += len + 1;
    return 0;
}

static int cmp_sym(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static size_t underscores(const char *s)
{
    size_t n = 0;
    while (s[n] == '_')
        n++;
    return n;
}

/* The length of a symbol's name (up to its NUL, or its newline in a
 * kallsyms text). */
static size_t name_len(const pd_symtab *t, const sym *s)
{
    const char *p = t->names + s->name;
    return t->text ? strcspn(p, "\n") : strlen(p);
}

/* A marker in shown[]: the name is shown as stored. */
static char not_mangled[1];
#define NOT_MANGLED not_mangled

/* The name perf shows for s, as demangled when the table demangles:
 * malloc'd in *own (to be freed) when it differs from the stored one. */
static const char *shown_name(const pd_symtab *t, const sym *s, size_t *len, char **own)
{
    const char *name = t->names + s->name;
    *own = NULL;
    *len = name_len(t, s);
    if (t->demangle && !s->plain && (*own = pd_demangle(name, *len))) {
        *len = strlen(*own);
        return *own;
    }
    return name;
}

/* perf's choose_best_symbol, on the names as shown: true when a is kept
 * over b. */
static bool better(const pd_symtab *t, const sym *a, const sym *b)
{
    if (a->nonzero != b->nonzero)
        return a->nonzero;
    bool aw = a->bind == STB_WEAK, bw = b->bind == STB_WEAK;
    if (aw != bw)
        return bw;
    bool ag = a->bind == STB_GLOBAL, bg = b->bind == STB_GLOBAL;
    if (ag != bg)
        return ag;
    char *ao, *bo;
    size_t al, bl;
    const char *an = shown_name(t, a, &al, &ao), *bn = shown_name(t, b, &bl, &bo);
    size_t au = underscores(an), bu = underscores(bn);
    free(ao);
    free(bo);
    if (au != bu)
        return au < bu;
    if (al != bl)
        return al > bl;
    return true;
}

/* Sorts, gives sizeless symbols their end, then drops duplicates: in
 * this order, as perf does (symbols__fixup_end, then
 * symbols__fixup_duplicate), so that of several sizeless symbols at one
 * address the last one, which alone reaches the next address, is kept. */
static void finish(pd_symtab *t, bool kallsyms)
{
    bool sorted = true;
    for (size_t i = 0; sorted && i + 1 < t->n; i++)
        sorted = t->syms[i].start <= t->syms[i + 1].start;
    if (!sorted) /* kallsyms is sorted already */
        qsort(t->syms, t->n, sizeof *t->syms, cmp_sym);
    for (size_t i = 0; i + 1 < t->n; i++) {
        sym *p = &t->syms[i], *c = &t->syms[i + 1];
        if (p->end != p->start)
            continue;
        if (kallsyms && p->module != c->module)
            p->end = ((p->start + 4096) + 4095) & ~(uint64_t)4095;
        else
            p->end = c->start;
    }
    if (t->n && t->syms[t->n - 1].end == t->syms[t->n - 1].start) {
        sym *l = &t->syms[t->n - 1];
        l->end = ((l->start + 4095) & ~(uint64_t)4095) + 4096;
    }
    for (size_t i = 0; i < t->n; i++)
        t->syms[i].nonzero = t->syms[i].end > t->syms[i].start;
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (k && t->syms[k - 1].start == t->syms[i].start) {
            if (!better(t, &t->syms[k - 1], &t->syms[i]))
                t->syms[k - 1] = t->syms[i];
            continue;
        }
        t->syms[k++] = t->syms[i];
    }
    t->n = k;
}

const char *pd_symtab_find(pd_symtab *t, uint64_t addr, uint64_t *start, size_t *len)
{
    if (!t || !t->n || addr < t->syms[0].start)
        return NULL;
    size_t lo = 0, hi = t->n; /* the last symbol with start <= addr */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].start <= addr)
            lo = mid;
        else
            hi = mid;
    }
    const sym *s = &t->syms[lo];
    if (addr >= s->end)
        return NULL;
    if (start)
        *start = s->start;
    if (t->demangle && (t->shown || (t->shown = calloc(t->n, sizeof *t->shown)))) {
        if (!t->shown[lo]) { /* demangled once, when first looked up */
            size_t n;
            char *own;
            shown_name(t, s, &n, &own);
            t->shown[lo] = own ? own : NOT_MANGLED;
        }
        if (t->shown[lo] != NOT_MANGLED) {
            if (len)
                *len = strlen(t->shown[lo]);
            return t->shown[lo];
        }
    }
    if (len)
        *len = name_len(t, s);
    return t->names + s->name;
}

size_t pd_symtab_count(const pd_symtab *t)
{
    return t ? t->n : 0;
}

void pd_symtab_free(pd_symtab *t)
{
    if (!t)
        return;
    if (t->dwfl)
        dwfl_end(t->dwfl);
    free(t->ranges);
    for (size_t i = 0; t->shown && i < t->n; i++)
        if (t->shown[i] != NOT_MANGLED)
            free(t->shown[i]);
    free(t->shown);
    free(t->syms);
    if (t->mapped)
        munmap(t->names, t->names_len);
    else
        free(t->names);
    free(t);
}

/* ---- ELF through libdwfl ---- */

static bool section_kind_ok(Elf *elf, GElf_Word shndx)
{
    Elf_Scn *scn = elf_getscn(elf, shndx);
    GElf_Shdr sh;
    size_t shstr;
    if (!scn || !gelf_getshdr(scn, &sh) || elf_getshdrstrndx(elf, &shstr) != 0)
        return false;
    const char *nm = elf_strptr(elf, shstr, sh.sh_name);
    return nm && (strstr(nm, "text") || strstr(nm, "data"));
}

static Elf_Scn *section_by_name(Elf *elf, const char *want, GElf_Shdr *out)
{
    size_t shstr;
    if (elf_getshdrstrndx(elf, &shstr) != 0)
        return NULL;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        const char *nm;
        if (gelf_getshdr(scn, out) && (nm = elf_strptr(elf, shstr, out->sh_name)) &&
            strcmp(nm, want) == 0)
            return scn;
    }
    return NULL;
}

/* perf's synthesized PLT symbols (dso__synthesize_plt_symbols, x86): one
 * "<name>@plt" per .rela.plt entry, entries of the .plt's entry size after
 * a header of that size, or from the start of .plt.sec when there is
 * one. -1 on OOM. */
static int plt_symbols(pd_symtab *t, Elf *elf)
{
    GElf_Ehdr eh;
    GElf_Shdr rel, plt, dyn;
    if (!gelf_getehdr(elf, &eh) || (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386))
        return 0;
    Elf_Scn *rs = section_by_name(elf, ".rela.plt", &rel);
    if (!rs)
        rs = section_by_name(elf, ".rel.plt", &rel);
    if (!rs || !section_by_name(elf, ".plt", &plt) || rel.sh_entsize == 0)
        return 0;
    Elf_Scn *ds = elf_getscn(elf, rel.sh_link);
    Elf_Data *rd = elf_getdata(rs, NULL), *dd = ds ? elf_getdata(ds, NULL) : NULL;
    if (!rd || !dd || !gelf_getshdr(ds, &dyn))
        return 0;
    uint64_t entry = plt.sh_entsize;
    if (entry != 8 && entry != 16)
        entry = plt.sh_addralign == 8 ? 8 : 16;
    uint64_t at = plt.sh_addr + entry;
    GElf_Shdr sec;
    if (section_by_name(elf, ".plt.sec", &sec))
        at = sec.sh_addr;
    size_t n = rel.sh_size / rel.sh_entsize;
    for (size_t i = 0; i < n; i++, at += entry) {
        size_t symi;
        if (rel.sh_type == SHT_RELA) {
            GElf_Rela r;
            if (!gelf_getrela(rd, (int)i, &r))
                break;
            symi = GELF_R_SYM(r.r_info);
        } else {
            GElf_Rel r;
            if (!gelf_getrel(rd, (int)i, &r))
                break;
            symi = GELF_R_SYM(r.r_info);
        }
        GElf_Sym sy;
        const char *nm = gelf_getsym(dd, (int)symi, &sy) ? elf_strptr(elf, dyn.sh_link, sy.st_name)
                                                         : NULL;
        /* perf demangles the name, then appends @plt */
        char *d = nm ? pd_demangle(nm, strlen(nm)) : NULL;
        char buf[512];
        int k = snprintf(buf, sizeof buf, "%s@plt", d ? d : nm ? nm : "");
        free(d);
        if (k > 0 && (size_t)k < sizeof buf) {
            if (add_sym(t, at, entry, STB_GLOBAL, buf, (size_t)k))
                return -1;
            t->syms[t->n - 1].plain = 1;
        }
    }
    return 0;
}

/* An open file whose build id is want (len bytes), or -1. */
static int open_with_build_id(const char *path, const unsigned char *want, int len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || len <= 0)
        return fd;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *id = NULL;
    ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
    bool same = n == len && memcmp(id, want, (size_t)len) == 0;
    if (elf)
        elf_end(elf);
    if (!same) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The separate debug file of a module, as libdwfl's standard search finds
 * it (by build id under /usr/lib/debug/.build-id, then by .gnu_debuglink
 * next to the file, in its .debug/ and under /usr/lib/debug), but never
 * from a debuginfod server: dwfl_standard_find_debuginfo falls back to
 * one, which loads libdebuginfod on first use (more than 10 ms) and, with
 * DEBUGINFOD_URLS set, downloads files, which perf script does not do. A
 * file found by its debug link must have the module's build id, when the
 * module has one. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                          GElf_Addr base, const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
    if (fd >= 0 || !file_name || !debuglink_file || strchr(debuglink_file, '/'))
        return fd;
    const unsigned char *id = NULL;
    GElf_Addr vaddr;
    int idlen = dwfl_module_build_id(mod, &id, &vaddr);
    const char *slash = strrchr(file_name, '/');
    int dirlen = slash ? (int)(slash - file_name) : 1;
    const char *dir = slash ? file_name : ".";
    char path[4096];
    for (int k = 0; k < 3; k++) {
        static const char *const fmt[] = {"%.*s/%s", "%.*s/.debug/%s", "/usr/lib/debug%.*s/%s"};
        if (k == 2 && dir[0] != '/')
            break;
        int n = snprintf(path, sizeof path, fmt[k], dirlen, dir, debuglink_file);
        if (n < 0 || (size_t)n >= sizeof path || strcmp(path, file_name) == 0)
            continue;
        if ((fd = open_with_build_id(path, id, idlen)) >= 0) {
            *debuginfo_file_name = strdup(path);
            return fd;
        }
    }
    return -1;
}

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

pd_symtab *pd_symtab_elf(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    pd_symtab *t = calloc(1, sizeof *t);
    if (!t || !(t->dwfl = dwfl_begin(&callbacks))) {
        close(fd);
        free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->demangle = true; /* perf demangles user-space symbols */
    dwfl_report_begin(t->dwfl);
    t->mod = dwfl_report_elf(t->dwfl, path, path, fd, 0, true); /* takes fd */
    dwfl_report_end(t->dwfl, NULL, NULL);
    if (!t->mod) {
        snprintf(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
        pd_symtab_free(t);
        return NULL;
    }
    GElf_Addr bias = 0;
    dwfl_module_getelf(t->mod, &bias);
    t->bias = bias;
    int n = dwfl_module_getsymtab(t->mod);
    Elf *sym_elf = NULL; /* the file the symbols come from: the file or its debug file */
    for (int i = 1; i < n; i++) {
        GElf_Sym s;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf;
        Dwarf_Addr sbias;
        const char *name = dwfl_module_getsym_info(t->mod, i, &s, &addr, &shndx, &elf, &sbias);
        if (!name || !*name || shndx == SHN_UNDEF || shndx == SHN_ABS)
            continue;
        int type = GELF_ST_TYPE(s.st_info), vis = GELF_ST_VISIBILITY(s.st_other);
        bool label = type == STT_NOTYPE && shndx != SHN_ABS && vis != STV_HIDDEN &&
                     vis != STV_INTERNAL;
        if (!label && type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT)
            continue;
        if (label && (!elf || !section_kind_ok(elf, shndx)))
            continue;
        if (add_sym(t, addr - bias, s.st_size, GELF_ST_BIND(s.st_info), name, strlen(name))) {
            snprintf(err, errlen, "out of memory");
            pd_symtab_free(t);
            return NULL;
        }
        if (!sym_elf)
            sym_elf = elf;
    }
    finish(t, false);
    size_t before = t->n;
    Elf *main_elf = dwfl_module_getelf(t->mod, &bias);
    /* perf asks addr2line for source lines only in a file with a line table */
    GElf_Shdr sh;
    Elf *src = sym_elf ? sym_elf : main_elf;
    t->lines = src && section_by_name(src, ".debug_line", &sh);
    if (main_elf && plt_symbols(t, main_elf)) {
        snprintf(err, errlen, "out of memory");
        pd_symtab_free(t);
        return NULL;
    }
    if (t->n != before) /* perf adds them after the others, without the duplicate pass */
        qsort(t->syms, t->n, sizeof *t->syms, cmp_sym);
    return t;
}

typedef struct curange {
    uint64_t lo, hi;
    Dwarf_Off cu; /* the unit's DIE */
} curange;

static int cmp_range(const void *a, const void *b)
{
    const curange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Reads the address ranges of every compile unit (DW_AT_ranges or
 * low/high pc), sorted by start. Without them nothing is found. */
static void read_ranges(pd_symtab *t, Dwarf *dw)
{
    t->ranges_read = true;
    size_t cap = 0, hsize;
    for (Dwarf_Off off = 0, next; dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0;
         off = next) {
        Dwarf_Die cu;
        if (!dwarf_offdie(dw, off + hsize, &cu))
            continue;
        Dwarf_Addr base, lo, hi;
        for (ptrdiff_t o = 0; (o = dwarf_ranges(&cu, o, &base, &lo, &hi)) > 0;) {
            if (t->nranges == cap) {
                cap = cap ? cap * 2 : 256;
                curange *r = realloc(t->ranges, cap * sizeof *r);
                if (!r)
                    return;
                t->ranges = r;
            }
            t->ranges[t->nranges++] = (curange){lo, hi, off + hsize};
        }
    }
    qsort(t->ranges, t->nranges, sizeof *t->ranges, cmp_range);
}

/* The line row holding addr (a module address), through the units' own
 * ranges; its unit in *cu. */
static Dwarf_Line *row_by_ranges(pd_symtab *t, uint64_t addr, Dwarf_Die *cu)
{
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(t->mod, &bias);
    if (!dw || addr < bias)
        return NULL;
    addr -= bias;
    if (!t->ranges_read)
        read_ranges(t, dw);
    size_t lo = 0, hi = t->nranges; /* the last range starting at or below addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->ranges[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) { /* ranges of several units may overlap */
        if (addr >= t->ranges[i].hi)
            continue;
        Dwarf_Line *l;
        if (dwarf_offdie(dw, t->ranges[i].cu, cu) && (l = dwarf_getsrc_die(cu, addr)))
            return l;
        break;
    }
    return NULL;
}

bool pd_symtab_srcline(pd_symtab *t, uint64_t vaddr, const char **file, int *line)
{
    if (!t || !t->mod || !t->lines)
        return false;
    int ln = 0;
    Dwarf_Die cu;
    Dwarf_Line *dl;
    Dwarf_Addr bias;
    Dwfl_Line *l = dwfl_module_getsrc(t->mod, vaddr + t->bias);
    if (l)
        dl = dwfl_dwarf_line(l, &bias);
    else
        dl = row_by_ranges(t, vaddr + t->bias, &cu);
    if (!dl)
        return false;
    const char *f = dwarf_linesrc(dl, NULL, NULL);
    dwarf_lineno(dl, &ln);
    *file = f ? f : "??";
    *line = ln;
    return true;
}

/* ---- kallsyms ---- */

/* The whole of fd (a /proc file has no size to ask for), NUL-terminated;
 * NULL with errno on failure. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 8u << 20, n = 0;
    char *b = malloc(cap + 1);
    while (b) {
        if (n == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb)
                break;
            b = nb;
            cap *= 2;
        }
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            break;
        if (k == 0) {
            b[n] = '\0';
            *len = n;
            return b;
        }
        n += (size_t)k;
    }
    int e = b ? errno : ENOMEM;
    free(b);
    errno = e;
    return NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A kallsyms file is mapped (or, for /proc/kallsyms, read whole), and its
 * lines are the names: each ends at its newline, nothing is copied. */
pd_symtab *pd_symtab_kallsyms(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode))) {
        snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    pd_symtab *t = calloc(1, sizeof *t);
    size_t len = 0;
    char *text = NULL;
    /* /proc files have no size: read those */
    if (t && st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX) {
        len = (size_t)st.st_size;
        text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (text == MAP_FAILED)
            text = NULL;
        t->mapped = text != NULL;
    }
    if (t && !text)
        text = read_all(fd, &len);
    int e = errno;
    close(fd);
    if (!t || !text) {
        snprintf(err, errlen, "%s: %s", path, !t || !e ? "out of memory" : strerror(e));
        free(t);
        return NULL;
    }
    t->names = text;
    t->names_len = t->names_cap = len;
    t->text = true;
    /* one entry per line at most, allocated at once (on huge pages when
     * large: 120,000 symbols take 4 MB) */
    size_t lines = 1;
    for (const char *p = text, *stop = text + len; (p = memchr(p, '\n', (size_t)(stop - p))); p++)
        lines++;
    size_t bytes = lines * sizeof *t->syms;
    if (lines > SIZE_MAX / sizeof *t->syms ||
        !(t->syms = bytes >= SYS_HUGE_PAGE ? sys_alloc_huge(bytes) : malloc(bytes))) {
        snprintf(err, errlen, "out of memory");
        pd_symtab_free(t);
        return NULL;
    }
    t->cap = lines;
    bool nonzero = false;
    for (size_t i = 0; i < len;) {
        /* "addr type name[\t[module]]\n" */
        size_t line = i;
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        i = end + 1;
        uint64_t addr = 0;
        size_t k = line;
        for (int h; k < end && (h = hexval((unsigned char)text[k])) >= 0; k++)
            addr = addr << 4 | (uint64_t)h;
        if (k == line || k + 3 > end || text[k] != ' ' || text[k + 2] != ' ')
            continue;
        char type = text[k + 1];
        size_t name = k + 3;
        char u = (char)toupper((unsigned char)type);
        if ((u != 'T' && u != 'W' && u != 'D' && u != 'B') || text[name] == '$' || !nl)
            continue; /* a last line without newline is cut off */
        int bind = u == 'W' ? STB_WEAK : isupper((unsigned char)type) ? STB_GLOBAL : STB_LOCAL;
        nonzero |= addr != 0;
        /* a module's symbols end in "\t[module]" */
        bool module = end > name && text[end - 1] == ']' && memchr(text + name, '\t', end - name);
        if (push_sym(t, addr, 0, bind, name, module)) {
            snprintf(err, errlen, "out of memory");
            pd_symtab_free(t);
            return NULL;
        }
    }
    if (!nonzero) { /* kptr_restrict: every address reads 0 */
        snprintf(err, errlen, "%s: all addresses are 0 (kernel.kptr_restrict)", path);
        pd_symtab_free(t);
        return NULL;
    }
    finish(t, true);
    return t;
}
