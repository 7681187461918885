/* The profile builder: a finished perfscript parser's merged stacks ->
 * a prof_profile (core/profile), with mappings and addresses from symmap
 * (core/profile/README.md §3). */
#ifndef PERFGO_PS_BUILDER_H
#define PERFGO_PS_BUILDER_H

#include "perfscript.h"
#include "profile/profile.h"
#include "profile/symmap.h"

/* A label read off the stack (a rule declares it; rules/go.lua's
 * `benchmark`): a sample whose stack holds a frame of function `caller`
 * gets the label key = the function that frame called (the next frame
 * toward the leaf; the innermost such frame when there are several),
 * without its Go package path when strip_package ("a/b.BenchmarkX.func1"
 * -> "BenchmarkX.func1"), if that name begins with `prefix` (NULL or ""
 * = any). A sample without such a frame has no such label. */
#define PS_MAX_STACK_LABELS 4
typedef struct ps_stack_label {
    const char *key;
    const char *caller;
    const char *prefix;
    bool strip_package;
} ps_stack_label;

typedef struct ps_build_options {
    /* labels on each sample */
    bool label_comm;                      /* process comm (str) */
    bool label_thread_comm;               /* thread comm as perf printed it (str) */
    bool label_pid, label_tid, label_cpu; /* numbers with a unit */
    const ps_stack_label *stack_labels;   /* at most PS_MAX_STACK_LABELS */
    size_t nstack_labels;
    /* NULL: one column per event; else only that event's column */
    const char *event_filter;
    size_t event_filter_len;
    /* where binaries are read (symmap options) */
    const char *binary_root;
    const symmap_path *path_map;
    size_t npath_map;
    bool remote;
    const char *source; /* named in a comment, e.g. the input path */
    /* how callchain addresses were printed: AUTO decides (text); RAW for
     * input read from perf.data, whose addresses are the ips themselves */
    symmap_addr_kind addr_kind;
    bool perfdata; /* the input came from perf.data (named in a comment) */
} ps_build_options;

/* Builds the profile. The parser must have been created with keep_pid (for
 * per-process mappings) and, for the tid/cpu labels, keep_tid/keep_cpu.
 * Warnings (unreadable binaries, an event filter that matched nothing) are
 * added to the parser's warnings. NULL with a message in err on failure. */
prof_profile *ps_build_profile(ps_parser *p, const ps_build_options *o, char *err, size_t errlen);

/* The unit of an event's period: "nanoseconds" for cpu-clock and
 * task-clock (with or without modifiers), else "count". */
const char *ps_event_unit(const char *name, size_t len);

#endif
