/* The symbolizer: address spaces from MMAP/MMAP2/FORK records, thread
 * names from COMM records, and addresses turned into what `perf script`
 * prints for a frame (symbol, offset, DSO), the way perf turns them:
 *   - a user address belongs to the map of its process that holds it (a
 *     new map replaces the parts of older ones it overlaps, as perf's
 *     maps__fixup_overlappings does; a forked child copies its parent's
 *     maps; an exec keeps them, as perf keeps them);
 *   - its symbol comes from the DSO's symbol table (symtab.c) at the ELF
 *     address of its file offset (through the PT_LOAD headers);
 *   - the file read for a DSO: a path-map entry, perf's build-id cache
 *     (~/.debug), <binary_root>/<path>, the path itself (not when remote);
 *     when the recording names the DSO's build id, only a file with that
 *     build id; [vdso] from perf's cache or this process's own vdso;
 *   - kernel addresses from a kallsyms file captured when the recording
 *     was made (or /proc/kallsyms of this machine when local and its
 *     kernel's build id matches the recording's);
 *   - anonymous executable memory is named /tmp/perf-PID.map, as perf
 *     names it.
 * Pure C. */
#ifndef PERFGO_PD_SYMBOLIZE_H
#define PERFGO_PD_SYMBOLIZE_H

#include "perfdata.h"

typedef struct pd_syms pd_syms;

typedef struct pd_path_map {
    const char *from, *to;
} pd_path_map;

typedef struct pd_syms_options {
    const char *binary_root;
    const pd_path_map *path_map;
    size_t npath_map;
    bool remote;           /* recorded elsewhere: read only mapped or rooted files */
    const char *kallsyms;  /* the recording's kallsyms; NULL: see above */
    const char *debug_dir; /* perf's build-id cache; NULL: $HOME/.debug unless remote */
} pd_syms_options;

typedef struct pd_frame {
    const char *dso; /* as perf prints it; "[unknown]" when no map holds it */
    size_t dso_len;
    bool has_map;
    const char *sym; /* NULL: no symbol ("[unknown]") */
    size_t sym_len;
    uint64_t symoff;
    uint64_t vaddr; /* the ELF address (user DSOs whose file was read) */
    bool has_vaddr;
    bool kernel;
    int dso_id; /* for pd_syms_srcline; -1 = none */
} pd_frame;

/* Options are copied. info gives build ids. NULL when out of memory. */
pd_syms *pd_syms_new(const pd_syms_options *o, const pd_info *info);
void pd_syms_free(pd_syms *s);

/* Applies an MMAP, MMAP2, COMM, FORK or EXIT record (others are
 * ignored). 0 or -1 (out of memory). */
int pd_syms_record(pd_syms *s, const pd_record *r);

/* The thread's name as perf prints it (its last COMM, inherited through
 * FORK), or NULL when no record named it. */
const char *pd_syms_comm(const pd_syms *s, uint32_t tid);
/* A number that changes whenever process pid's maps change (pid
 * PD_SYMS_KERNEL: the kernel's). */
#define PD_SYMS_KERNEL UINT32_MAX
uint64_t pd_syms_generation(const pd_syms *s, uint32_t pid);

/* Resolves ip of process pid (kernel: a kernel-mode address). 0 or -1
 * (out of memory). Strings live as long as s. */
int pd_syms_resolve(pd_syms *s, uint32_t pid, uint64_t ip, bool kernel, pd_frame *out);
/* The source position perf's addr2line gives a resolved frame
 * (pd_symtab_srcline): for frames in a file whose symbols have a line
 * table; the file as the table names it, the line possibly 0. */
bool pd_syms_srcline(pd_syms *s, const pd_frame *f, const char **file, int *line);

/* Warnings (each once): DSOs whose file could not be read, a missing
 * kallsyms. */
size_t pd_syms_warning_count(const pd_syms *s);
const char *pd_syms_warning(const pd_syms *s, size_t i);

#endif
