/* symmap: from "DSO and address as perf script printed them" to a pprof
 * Mapping id and Location address, per README §3.
 *
 * Modes, chosen per DSO (and, for runtime mode, per process mapping):
 *   ELF address mode  - the very file that was profiled can be read: the
 *       file offset is turned into an ELF vaddr through its PT_LOAD headers;
 *       Mapping {0, PROF_NO_LIMIT, 0, file, build_id}, has_* false, one per
 *       (file, build id) across all processes. adjust_return = true.
 *   runtime mode      - the file cannot be read (or is not provably the
 *       profiled one) but an MMAP/MMAP2 record covers the frame: address =
 *       runtime ip, Mapping {start, start+len, pgoff, path, build_id} as
 *       recorded, has_functions true when a file that is not the profiled
 *       one sits at that path (so pprof does not symbolize from it).
 *       adjust_return = true.
 *   names only        - neither: Mapping {0, PROF_NO_LIMIT, 0, path},
 *       has_functions true, address as printed; one warning per DSO.
 *       adjust_return = false.
 * Kernel ([kernel.kallsyms], [module]) frames: raw addresses, the mapping
 * from the kernel MMAP record when there is one (its name verbatim, e.g.
 * "[kernel.kallsyms]_text"), else one "[kernel.kallsyms]" mapping spanning
 * the addresses seen (fixed by symmap_finish); has_functions true.
 * [vdso], [vsyscall], [uprobes], //anon, /memfd:, perf-PID.map, "(deleted)"
 * files: names only, address raw as printed, no warning (nothing to read).
 * [unknown]: mapping_id 0, address as printed.
 *
 * The return-address rule (-1 on every callchain entry except the leaf and
 * the first user entry after kernel entries) is applied by the caller, by
 * stack position, when out->adjust_return is true: the location address
 * must then be created with address-1 (symmap_resolve returns the address
 * before that adjustment).
 *
 * Which files may be read: a path in the path map is read from the file it
 * maps to (a directory entry, ending in "/", holds the rest of the path,
 * resolved inside it); otherwise, with binary_root set, <binary_root>/<path>
 * resolved inside the root, when it exists; otherwise (unless remote is
 * set) the path itself, when it is a normal absolute path. Files are opened
 * as core/elf/elf.h says: never under /proc, /sys or /dev, never a FIFO or
 * device, never outside a root. A file is used
 * only when it is provably the profiled one: the build id from an MMAP2
 * record (perf record --buildid-mmap) or symmap_add_build_id must equal the
 * file's NT_GNU_BUILD_ID; when no build id is known and the file is read at
 * its own path, the inode from the MMAP2 record must match (the device is
 * not compared: overlay file systems report another one). With
 * remote set, only path-map entries and binary_root files are read. */
#ifndef PERFGO_SYMMAP_H
#define PERFGO_SYMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile/profile.h"

typedef struct symmap symmap;

/* How perf printed user-space callchain addresses. */
typedef enum symmap_addr_kind {
    SYMMAP_ADDR_AUTO = 0, /* decide from MMAP records and the ELF file (default) */
    SYMMAP_ADDR_OFFSET,   /* DSO file offsets (perf 5.16 - 6.3, e.g. 6.1) */
    SYMMAP_ADDR_RAW,      /* raw ips (perf >= 6.4, < 5.16, -G sample ips) */
} symmap_addr_kind;

typedef struct symmap_path {
    const char *from; /* the path as profiled (as perf prints it) */
    const char *to;   /* the local file that stands for it */
} symmap_path;

typedef struct symmap_options {
    const char *binary_root;     /* NULL or a directory holding <root>/<path> */
    const symmap_path *path_map; /* npath_map entries (copied by symmap_new) */
    size_t npath_map;
    bool remote; /* profiled on another machine: read only mapped/rooted files */
    symmap_addr_kind addr_kind;
} symmap_options;

typedef enum symmap_kind {
    SYMMAP_USER = 0, /* a file-backed user DSO */
    SYMMAP_KERNEL,   /* kernel or kernel module frame */
    SYMMAP_SPECIAL,  /* [vdso], JIT, anon, memfd, deleted: names only */
    SYMMAP_UNKNOWN,  /* [unknown] or no DSO: mapping_id 0 */
} symmap_kind;

typedef enum symmap_mode {
    SYMMAP_MODE_ELF = 0, /* address is an ELF vaddr, mapping 0/max/0 */
    SYMMAP_MODE_RUNTIME, /* address is the runtime ip, mapping as recorded */
    SYMMAP_MODE_NAMES,   /* address as printed, has_functions true */
} symmap_mode;

typedef struct symmap_result {
    uint64_t mapping_id; /* 0 = no mapping ([unknown]) */
    uint64_t address;    /* before the return-address -1 */
    symmap_kind kind;
    symmap_mode mode;
    bool adjust_return; /* the caller subtracts 1 for return addresses */
} symmap_result;

/* A symmap that creates mappings in p (p must outlive it). Options are
 * copied. NULL when out of memory. */
symmap *symmap_new(prof_profile *p, const symmap_options *o);
void symmap_free(symmap *s);

/* Side band from `perf script --show-mmap-events` (PERF_RECORD_MMAP/MMAP2):
 * pid (-1 for the kernel), start, len, pgoff, the path, and when printed the
 * build id (hex, MMAP2 with --buildid-mmap) or device major/minor and inode
 * (dev_known false when not printed). exec is true for r-xp (or MMAP
 * records, which are executable). 0, or -1 on OOM. */
typedef struct symmap_mmap {
    int pid;
    uint64_t start, len, pgoff;
    const char *path;
    size_t path_len;
    const char *build_id; /* NULL or hex */
    size_t build_id_len;
    bool dev_known;
    unsigned maj, min;
    uint64_t ino;
    bool exec;
    bool borrow; /* path and build_id outlive the symmap: kept, not copied */
} symmap_mmap;
int symmap_add_mmap(symmap *s, const symmap_mmap *m);
/* Prefetches what adding m will look up: calling it for the next record
 * before adding this one hides the index's cache misses. */
void symmap_prefetch(const symmap *s, const symmap_mmap *m);
/* Makes room for n more MMAP records, so that adding them grows nothing.
 * 0, or -1 on OOM. */
int symmap_reserve(symmap *s, size_t n);
/* PERF_RECORD_FORK: child inherits the parent's maps. 0 or -1 (OOM). */
int symmap_add_fork(symmap *s, int parent_pid, int child_pid);
/* PERF_RECORD_COMM exec: the process's maps are reset. */
void symmap_add_exec(symmap *s, int pid);
/* A build id known for a path (e.g. from `perf buildid-list`). 0 or -1. */
int symmap_add_build_id(symmap *s, const char *path, size_t path_len, const char *hex,
                        size_t hex_len);

/* Resolves one frame: dso is the text inside perf's parentheses (may be
 * empty or "[unknown]"), addr the address as printed, pid the sample's pid
 * (-1 when unknown). 0, or -1 on OOM. Cheap to call repeatedly: DSO state is
 * cached. */
int symmap_resolve(symmap *s, const char *dso, size_t dso_len, uint64_t addr, int pid,
                   symmap_result *out);
/* symmap_resolve for an address printed as kind says (SYMMAP_ADDR_AUTO:
 * as the options say), e.g. the raw sample ip of a header without
 * callchain in an input whose callchains are offsets. */
int symmap_resolve_as(symmap *s, const char *dso, size_t dso_len, uint64_t addr, int pid,
                      symmap_addr_kind kind, symmap_result *out);

/* Call once after the last sample: fixes ranges of mappings that span the
 * addresses seen (kernel without an MMAP record), and, unless
 * prof_set_main_mapping was called, makes the first user DSO that is not a
 * shared object the main binary (pprof's mapping[0]). 0 or -1 (OOM). */
int symmap_finish(symmap *s);

/* Warnings (one per DSO that could be neither read nor placed, or whose
 * local copy was refused): count and the i-th message (NUL-terminated). */
size_t symmap_num_warnings(const symmap *s);
const char *symmap_warning(const symmap *s, size_t i);

#endif
