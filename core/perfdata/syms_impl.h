/* Private to the symbolizer (threads.c: address spaces and thread names;
 * symbolize.c: DSOs and resolving). */
#ifndef PERFGO_PD_SYMS_IMPL_H
#define PERFGO_PD_SYMS_IMPL_H

#include "elf/elf.h"
#include "symbolize.h"
#include "symtab.h"

typedef struct pd_map {
    uint64_t start, end, pgoff;
    uint32_t dso; /* index into dsos */
} pd_map;

typedef struct pd_proc {
    uint32_t pid;
    pd_map *maps; /* sorted by start, not overlapping */
    size_t n, cap;
    uint64_t gen;
} pd_proc;

typedef enum { DSO_NEW = 0, DSO_LOADED, DSO_NONE } dso_state;

typedef struct pd_dso {
    char *name; /* as perf prints it */
    size_t len;
    char build_id[41]; /* from the recording, "" = unknown */
    bool special;      /* nothing to read ([heap], //anon, memfd, deleted...) */
    bool vdso;
    bool jit; /* a JIT's /tmp/perf-PID.map: symbols by address, no ELF */
    dso_state state;
    pd_symtab *symtab;
    elfi_info elf;
} pd_dso;

/* An open-addressing map from a 32-bit key to a 32-bit value + 1. */
typedef struct pd_u32map {
    uint32_t *keys, *vals;
    size_t cap, n;
} pd_u32map;

struct pd_syms {
    pd_syms_options o;
    char *binary_root, *kallsyms_path, *debug_dir;
    pd_path_map *pmap;
    const pd_info *info;

    pd_proc *procs;
    size_t nprocs, procs_cap;
    pd_u32map proc_index; /* pid -> procs index */
    uint64_t gen;

    char **comms; /* distinct thread names */
    size_t ncomms, comms_cap;
    pd_u32map comm_of; /* tid -> comms index */

    pd_dso *dsos;
    size_t ndsos, dsos_cap;
    uint32_t *dslots; /* open addressing by name: dsos index + 1, 0 = empty */
    size_t ndslots;

    bool kernel_loaded;
    pd_symtab *kernel;
    uint64_t kernel_start; /* from the kernel MMAP record, 0 = none */
    uint64_t kernel_gen;   /* changes when kernel_start does */

    char **warnings;
    size_t nwarnings, warnings_cap;
};

/* threads.c */
bool pd_u32map_get(const pd_u32map *m, uint32_t key, uint32_t *val);
int pd_u32map_put(pd_u32map *m, uint32_t key, uint32_t val);
void pd_u32map_free(pd_u32map *m);
pd_proc *pd_proc_get(pd_syms *s, uint32_t pid, bool create);
int pd_proc_insert(pd_syms *s, pd_proc *p, const pd_map *m);
const pd_map *pd_proc_find(const pd_proc *p, uint64_t ip);
int pd_set_comm(pd_syms *s, uint32_t tid, const char *comm);
int pd_fork(pd_syms *s, uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid);
void pd_threads_free(pd_syms *s);

/* symbolize.c */
int pd_syms_warn(pd_syms *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The index of the DSO named name (created when new), or -1 (OOM). */
long pd_dso_get(pd_syms *s, const char *name, size_t len, uint32_t pid);

#endif
