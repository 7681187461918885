/*
 * perfscript: a streaming parser of `perf script` text.
 *
 * Feed the text in chunks of any size (ps_feed); nothing of the input is
 * kept except the bytes of each *distinct* frame line, event name and comm.
 * Samples are merged as they arrive into a table of distinct stacks
 * (hash-merged), so memory grows with distinct stacks, not with input.
 *
 * After ps_finish(), the table can be folded (ps_folded, README.md) or
 * walked by a profile builder (ps_stack_count/ps_stack_get, ps_frame_get,
 * ps_mmap_get).
 *
 * Pure C: no Lua, no pprof. Not thread-safe per parser; parsers are
 * independent.
 */
#ifndef PERFGO_PERFSCRIPT_H
#define PERFGO_PERFSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ps_parser ps_parser;

enum {
    PS_OK = 0,
    PS_ERR_NOMEM = -1,  /* allocation failed; the parser is unusable */
    PS_ERR_STRICT = -2, /* strict mode met an unrecognized line */
    PS_ERR_STATE = -3,  /* feed after finish */
};

/* What the parser keeps apart while merging samples. Identical stacks of
 * different threads merge unless the tid is kept. */
typedef struct ps_options {
    bool strict;    /* stop at the first unrecognized line */
    bool keep_pid;  /* keep samples of different pids apart */
    bool keep_tid;  /* keep samples of different tids apart (implies pid) */
    bool keep_cpu;  /* keep samples of different cpus apart */
    bool infer_pid; /* with keep_pid: when perf printed only a tid, take
                     * the pid from side-band records (for the profile
                     * builder; the folded --pid root stays comm-?) */
} ps_options;

/* A byte string inside parser-owned memory (not NUL-terminated). */
typedef struct ps_str {
    const char *ptr;
    size_t len;
} ps_str;

/* One distinct frame line, parsed (README §4.1). */
typedef struct ps_frame {
    ps_str line; /* the frame line as read (no newline) */
    ps_str addr; /* the address token as printed (hex, no 0x) */
    uint64_t address;
    ps_str sym; /* symbol, `+0x<off>` removed; may be empty */
    ps_str dso; /* DSO, ` (deleted)` removed; valid if has_dso */
    bool has_dso;
    bool deleted;   /* the DSO ended in ` (deleted)` */
    bool kernel;    /* kernel DSO (README §4.2) */
    bool jit;       /* JIT map DSO (README §4.2) */
    bool header_ip; /* read from a sample header (no callchain): perf
                     * prints that ip raw, not as a DSO offset */
} ps_frame;

/* One distinct merged stack. Frames are leaf first, as perf prints them.
 * srclines[i] is the source line that followed frame i (0 = none); pass it
 * to ps_srcline_get. */
typedef struct ps_stack {
    uint32_t comm;     /* comm id (ps_comm_get); 0 = empty comm */
    int64_t pid;       /* -1 when not printed or not kept */
    bool pid_inferred; /* pid not printed, taken from side-band records */
    int64_t tid;       /* -1 when not printed or not kept */
    int32_t cpu;       /* -1 when not printed or not kept */
    uint32_t event;    /* event id (ps_event_get), 0 = no event named */
    uint32_t nframes;
    const uint32_t *frames;   /* frame ids, leaf first */
    const uint32_t *srclines; /* srcline ids, one per frame */
    uint64_t count;           /* number of samples */
    uint64_t weight;          /* sum of periods (1 per sample without period) */
    uint64_t period_samples;  /* samples that printed a period */
} ps_stack;

/* A side-band line the profile builder needs: PERF_RECORD_MMAP/MMAP2,
 * FORK (pid = child, ppid = parent) or COMM exec (pid). */
enum { PS_SB_MMAP = 0, PS_SB_FORK, PS_SB_EXEC };
typedef struct ps_mmap {
    int kind;
    int64_t pid, tid, ppid;
    uint64_t start, len, pgoff;
    uint64_t time_ns;
    bool has_time;
    bool mmap2;
    ps_str prot; /* "r-xp" (MMAP2) or "x" (MMAP) */
    ps_str path;
    ps_str build_id; /* hex, when perf printed `<id>` */
    bool dev_known;  /* MMAP2 printed maj:min ino */
    unsigned maj, min;
    uint64_t ino;
    uint64_t after_samples; /* samples read before this record */
} ps_mmap;

typedef struct ps_stats {
    uint64_t bytes;                       /* input bytes fed */
    uint64_t lines;                       /* input lines seen */
    uint64_t samples;                     /* samples read */
    uint64_t frames;                      /* frame lines read */
    uint64_t sideband;                    /* PERF_RECORD_* lines */
    uint64_t unrecognized;                /* lines that fit nothing (skipped) */
    uint64_t first_unrecognized;          /* line number of the first, 0 = none */
    uint64_t headerless_blocks;           /* blocks skipped for lack of a header */
    uint64_t time_first_ns, time_last_ns; /* sample time range */
    bool has_time;
    bool truncated; /* input ended inside a sample */
} ps_stats;

ps_parser *ps_new(const ps_options *opts);
void ps_free(ps_parser *p);

/* Feeds the next chunk of text. Returns PS_OK, PS_ERR_NOMEM, PS_ERR_STRICT
 * (ps_error tells the line) or PS_ERR_STATE. */
int ps_feed(ps_parser *p, const char *data, size_t len);
/* Ends the input: a last line without newline and an open sample count. */
int ps_finish(ps_parser *p);
/* The message of the last error ("line N: unrecognized line: ..."). */
const char *ps_error(const ps_parser *p);

const ps_stats *ps_get_stats(const ps_parser *p);

/* Warnings collected while parsing (each once), in order. */
size_t ps_warning_count(const ps_parser *p);
const char *ps_warning(const ps_parser *p, size_t i);

/* Tables (valid until ps_free). Ids are 1-based; 0 means none. */
size_t ps_frame_count(const ps_parser *p);
const ps_frame *ps_frame_get(const ps_parser *p, uint32_t id);
size_t ps_event_count(const ps_parser *p);
ps_str ps_event_get(const ps_parser *p, uint32_t id);
/* The id of the first event named by a sample header (0 = none). */
uint32_t ps_first_event(const ps_parser *p);
uint32_t ps_event_find(const ps_parser *p, const char *name, size_t len);
ps_str ps_comm_get(const ps_parser *p, uint32_t id);
/* Per event: samples, sum of weights, and the period when all samples of
 * the event printed the same one (period_fixed). */
typedef struct ps_event_info {
    uint64_t samples, weight;
    uint64_t period;
    bool period_fixed;
} ps_event_info;
const ps_event_info *ps_event_info_get(const ps_parser *p, uint32_t id);
/* The comm of process pid (from a sample header or COMM record whose tid
 * equals the pid), 0 when unknown. */
uint32_t ps_process_comm(const ps_parser *p, int64_t pid);
/* The pid of thread tid from side-band records (MMAP2, COMM, FORK), -1
 * when unknown. */
int64_t ps_thread_pid(const ps_parser *p, int64_t tid);
ps_str ps_srcline_get(const ps_parser *p, uint32_t id);
size_t ps_stack_count(const ps_parser *p);
void ps_stack_get(const ps_parser *p, size_t i, ps_stack *out);
size_t ps_mmap_count(const ps_parser *p);
const ps_mmap *ps_mmap_get(const ps_parser *p, size_t i);

/* ---- direct input ----
 * For producers that know what perf script would print (core/perfdata):
 * the same tables as parsing the text gives, without the text. Frames are
 * frame lines as perf prints them ("ip sym+0xoff (dso)"), interned once;
 * samples name their frames leaf first. ps_finish ends the input. */

typedef struct ps_direct_header {
    const char *comm; /* NULL or comm_len bytes */
    size_t comm_len;
    bool has_pid, has_tid, has_cpu, has_time, has_period;
    int64_t pid, tid;
    int32_t cpu;
    uint64_t time_ns, period;
    const char *event; /* NULL = the sample names no event */
    size_t event_len;
} ps_direct_header;

/* The id of a frame line (header_ip: an ip printed on a sample's header
 * line, without callchain); 0 when the text is not a frame line;
 * UINT32_MAX when out of memory. */
uint32_t ps_direct_frame(ps_parser *p, const char *line, size_t len, bool header_ip);
/* The id of a source line text (what follows a frame line under `perf
 * script -F +srcline`, e.g. "inl.c:47"); UINT32_MAX when out of memory. */
uint32_t ps_direct_srcline(ps_parser *p, const char *text, size_t len);
/* One sample with frames[0..n) (ids from ps_direct_frame, leaf first) and
 * their source lines srcs[0..n) (ids from ps_direct_srcline, 0 = none;
 * srcs NULL = none at all). */
int ps_direct_sample(ps_parser *p, const ps_direct_header *h, const uint32_t *frames,
                     const uint32_t *srcs, size_t n);
/* A side-band record (ps_mmap's kind: MMAP, FORK or EXEC); strings are
 * copied. */
int ps_direct_sideband(ps_parser *p, const ps_mmap *m);
/* A warning of the producer, listed with the parser's own (once each). */
int ps_direct_warning(ps_parser *p, const char *text);
/* The name of a process (its main thread's COMM), for the comm label. */
int ps_direct_process_comm(ps_parser *p, int64_t pid, const char *comm, size_t len);

/* ---- folded output (README.md) ---- */

typedef struct ps_fold_options {
    bool pid, tid;            /* root comm-PID, comm-PID/TID */
    bool kernel, jit;         /* _[k], _[j] annotations */
    bool addrs;               /* [dso addr] for unknown symbols */
    bool srcline;             /* append :FILE:LINE */
    const char *event_filter; /* NULL: the first event seen */
    size_t event_filter_len;
} ps_fold_options;

/* Writes the folded text (sorted, merged) into a malloc'd buffer. Returns
 * PS_OK or PS_ERR_NOMEM. Warnings about filtering go to ps_warning. */
int ps_folded(ps_parser *p, const ps_fold_options *o, char **out, size_t *len);

/* Folds one frame piece by piece as README §4.2 says; for tests
 * and for builders that want the folded name of a frame. Appends to buf
 * (malloc'd, grown as needed); pieces are separated by ';' root first.
 * java: the root frame starts with "java". srcline may be NULL. */
int ps_fold_frame(const ps_frame *f, const ps_fold_options *o, bool java, const char *srcline,
                  size_t srcline_len, char **buf, size_t *len, size_t *cap);

/* The FILE and LINE of a `-F +srcline` text (`  inline.c:47`, `msort.c:64
 * (inlined)`); false for `??:0`, `libc.so.6[2629]` and the like. */
bool ps_srcline_split(const char *s, size_t n, ps_str *file, uint64_t *line);

/* DSO tests shared by the builders (README §4.2). */
bool ps_dso_is_kernel(const char *dso, size_t len);
bool ps_dso_is_jit(const char *dso, size_t len);

#endif
