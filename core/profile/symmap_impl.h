/* Private to core/profile: symmap's state, shared by symmap.c (DSO
 * decisions and resolving) and symmap_side.c (the mmap side band). */
#ifndef PERFGO_SYMMAP_IMPL_H
#define PERFGO_SYMMAP_IMPL_H

#include "elf/elf.h"
#include "profile/profile_impl.h"
#include "profile/symmap.h"

typedef struct mrec {
    int pid;
    uint64_t start, len, pgoff, ino;
    const char *path;
    const char *build_id; /* NULL or lowercase hex */
    bool owned;           /* path and build_id are copies the symmap frees */
    bool dev_known, exec;
    unsigned maj, min;
    size_t prev;      /* previous record of the same pid, SIZE_MAX = none */
    size_t prev_path; /* previous record of the same path, SIZE_MAX = none */
    size_t prev_pp;   /* previous record of the same pid and path, SIZE_MAX = none */
} mrec;

typedef struct pinfo {
    int pid;
    size_t head;     /* newest record, SIZE_MAX = none */
    size_t exec_seq; /* records below this index were reset by exec */
    int parent;      /* forked from, or INT32_MIN */
    size_t fork_seq; /* parent's records below this index are inherited */
} pinfo;

typedef enum dstate { D_UNDECIDED = 0, D_READABLE, D_UNREADABLE } dstate;

/* The local file of a readable DSO. */
typedef struct dso_file {
    elfi_info elf;
    char *local; /* the file read for ELF mode */
    char build_hex[2 * ELFI_MAX_BUILD_ID + 1];
} dso_file;

/* A DSO as named by the input: small, as inputs may name 100,000s (one
 * file per JIT-compiled function); what only some need is allocated. */
typedef struct dso {
    char *name;
    size_t len;
    symmap_kind kind;
    dstate state;
    dso_file *file; /* when state is D_READABLE */
    uint64_t elf_map, names_map, span_map;
    uint64_t first_map; /* the first mapping made for this DSO */
    uint64_t kmin, kmax;
    bool warned, seen_addr;
    bool foreign; /* a file at the profiled path that is not the profiled one */
    char *why;    /* why the local file is not used (NULL: not known) */
} dso;

struct symmap {
    prof_profile *p;
    char *binary_root;
    symmap_path *pmap;
    size_t npmap;
    bool remote;
    symmap_addr_kind addr_kind;
    symmap_addr_kind verdict; /* AUTO's evidence so far */

    mrec *recs;
    size_t nrecs, recs_cap;
    pinfo *pids;
    size_t npids, pids_cap;
    ph_index pindex;    /* pid -> pids[] */
    size_t *path_heads; /* newest record per distinct path */
    size_t npaths, paths_cap;
    ph_index path_index; /* path -> path_heads[] */
    size_t *pp_heads;    /* newest record per distinct (pid, path) */
    size_t npp, pp_cap;
    ph_index pp_index; /* (pid, path) -> pp_heads[] */
    symmap_path *bids; /* path -> build id hex, newest last */
    size_t nbids, bids_cap;
    ph_index bid_index; /* path -> the newest bids[] entry of that path */

    dso *dsos;
    size_t ndsos, dsos_cap;
    ph_index dindex;
    size_t last_dso; /* the DSO asked for last (frames come in runs); none if >= ndsos */

    char **warnings;
    size_t nwarnings, warnings_cap;
};

/* A NUL-terminated copy of s[0..n), or NULL. */
char *symmap_dupn(const char *s, size_t n);
/* The newest executable record of pid (or its fork ancestors) for path
 * (path_len bytes, NUL-terminated) whose range holds addr: by file offset
 * when by_offset, else by ip. When the process has none: by offset, any
 * process's record of path (a record and the ip computed from it always
 * agree); by ip, only when pid is not known to the side band at all (perf
 * printed no pid). */
const mrec *symmap_find_map(const symmap *s, int pid, const char *path, size_t path_len,
                            uint64_t addr, bool by_offset);
/* The newest kernel record (pid -1) whose path starts with prefix and
 * whose range holds addr, or NULL. */
const mrec *symmap_find_kernel(const symmap *s, const char *prefix, size_t len, uint64_t addr);
/* The build id known for path (buildid-list or MMAP2), or NULL. */
const char *symmap_known_build_id(const symmap *s, const char *path);
/* The newest record for path that carries device and inode, or NULL. */
const mrec *symmap_dev_record(const symmap *s, const char *path);

#endif
