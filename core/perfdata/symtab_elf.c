/* Symbol tables from ELF files through elfutils' libdwfl, which also
 * finds the separate debug file (by build id or debug link) and its fuller
 * .symtab; and source lines from the file's DWARF line table. perf's
 * symbol rules are applied by symtab.c. */
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

#include <sys/stat.h>

#include "demangle.h"
#include "symtab_impl.h"

typedef struct curange {
    uint64_t lo, hi;
    Dwarf_Off cu; /* the unit's DIE */
} curange;

struct pd_elfsyms {
    Dwfl *dwfl;
    Dwfl_Module *mod;
    uint64_t bias;
    bool lines; /* the file the symbols came from has a line table */
    /* the address ranges of the compile units, for files without
     * .debug_aranges (Go's), where libdwfl finds no unit for an address */
    curange *ranges;
    size_t nranges;
    bool ranges_read;
};

void pd_elfsyms_free(pd_elfsyms *e)
{
    if (!e)
        return;
    if (e->dwfl)
        dwfl_end(e->dwfl);
    free(e->ranges);
    free(e);
}

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
        const char *nm =
            gelf_getsym(dd, (int)symi, &sy) ? elf_strptr(elf, dyn.sh_link, sy.st_name) : NULL;
        /* perf demangles the name, then appends @plt */
        char *d = nm ? pd_demangle(nm, strlen(nm)) : NULL;
        char buf[512];
        int k = snprintf(buf, sizeof buf, "%s@plt", d ? d : nm ? nm : "");
        free(d);
        if (k > 0 && (size_t)k < sizeof buf) {
            if (pd_symtab_add(t, at, entry, STB_GLOBAL, buf, (size_t)k))
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
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
                          const char *file_name, const char *debuglink_file,
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
    pd_elfsyms *e = t ? (t->elf = calloc(1, sizeof *e)) : NULL;
    if (!e || !(e->dwfl = dwfl_begin(&callbacks))) {
        close(fd);
        pd_symtab_free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->demangle = true; /* perf demangles user-space symbols */
    dwfl_report_begin(e->dwfl);
    e->mod = dwfl_report_elf(e->dwfl, path, path, fd, 0, true); /* takes fd */
    dwfl_report_end(e->dwfl, NULL, NULL);
    if (!e->mod) {
        snprintf(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
        pd_symtab_free(t);
        return NULL;
    }
    GElf_Addr bias = 0;
    dwfl_module_getelf(e->mod, &bias);
    e->bias = bias;
    int n = dwfl_module_getsymtab(e->mod);
    Elf *sym_elf = NULL; /* the file the symbols come from: the file or its debug file */
    for (int i = 1; i < n; i++) {
        GElf_Sym s;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf;
        Dwarf_Addr sbias;
        const char *name = dwfl_module_getsym_info(e->mod, i, &s, &addr, &shndx, &elf, &sbias);
        if (!name || !*name || shndx == SHN_UNDEF || shndx == SHN_ABS)
            continue;
        int type = GELF_ST_TYPE(s.st_info), vis = GELF_ST_VISIBILITY(s.st_other);
        bool label =
            type == STT_NOTYPE && shndx != SHN_ABS && vis != STV_HIDDEN && vis != STV_INTERNAL;
        if (!label && type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT)
            continue;
        if (label && (!elf || !section_kind_ok(elf, shndx)))
            continue;
        if (pd_symtab_add(t, addr - bias, s.st_size, GELF_ST_BIND(s.st_info), name, strlen(name))) {
            snprintf(err, errlen, "out of memory");
            pd_symtab_free(t);
            return NULL;
        }
        if (!sym_elf)
            sym_elf = elf;
    }
    pd_symtab_fixup(t, false);
    size_t before = t->n;
    Elf *main_elf = dwfl_module_getelf(e->mod, &bias);
    /* perf asks addr2line for source lines only in a file with a line table */
    GElf_Shdr sh;
    Elf *src = sym_elf ? sym_elf : main_elf;
    e->lines = src && section_by_name(src, ".debug_line", &sh);
    if (main_elf && plt_symbols(t, main_elf)) {
        snprintf(err, errlen, "out of memory");
        pd_symtab_free(t);
        return NULL;
    }
    if (t->n != before) /* perf adds them after the others, without the duplicate pass */
        pd_symtab_sort(t);
    return t;
}

static int cmp_range(const void *a, const void *b)
{
    const curange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Reads the address ranges of every compile unit (DW_AT_ranges or
 * low/high pc), sorted by start. Without them nothing is found. */
static void read_ranges(pd_elfsyms *t, Dwarf *dw)
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
static Dwarf_Line *row_by_ranges(pd_elfsyms *t, uint64_t addr, Dwarf_Die *cu)
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

bool pd_symtab_srcline(pd_symtab *s, uint64_t vaddr, const char **file, int *line)
{
    pd_elfsyms *t = s ? s->elf : NULL;
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
