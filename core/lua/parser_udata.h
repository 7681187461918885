/* The perfgo.parser userdata, shared by core/lua/parser.c and the
 * perf.data input (core/lua/parser_perfdata.c). */
#ifndef PERFGO_LUA_PARSER_UDATA_H
#define PERFGO_LUA_PARSER_UDATA_H

#include <lua.h>

#include "perfscript/builder.h"
#include "perfscript/perfscript.h"

typedef struct lparser {
    ps_parser *p;
    bool finished;
    bool want_profile;
    ps_options po;
    ps_fold_options fo;
    ps_build_options bo;
    char *event_filter, *binary_root, *source;
    char *kallsyms, *debug_dir; /* perf.data input: the recording's kallsyms, perf's cache */
    symmap_path *path_map;
    size_t npath_map;
    ps_stack_label stack_labels[PS_MAX_STACK_LABELS]; /* their strings in stack_label_text */
    char *stack_label_text;
    char *buf; /* read buffer for feed_file */
} lparser;

/* Reads the perf.data on fd (its first nhead bytes already read, in head)
 * into lp's parser; progress is the stack index of a progress function or
 * 0. Pushes true, "perf.data" | nil, message[, "unsupported"] and returns
 * their number. */
/* Reads option `stack_labels` of the options table at t into lp (a list
 * of {key=, caller=, prefix=, strip_package=}); raises on a bad one. */
void perfgo_parser_read_stack_labels(lua_State *L, int t, lparser *lp);

int perfgo_parser_feed_perfdata(lua_State *L, lparser *lp, int fd, const char *name,
                                const char *head, size_t nhead, int progress);

/* Streams the text input on fd (its first nhead bytes already read, in
 * head) into lp's parser, gunzipping it when it starts with the gzip
 * magic; binary input (a NUL byte in the first 64 KiB of text) is refused.
 * progress as above. Pushes true, "text" | nil, message and returns their
 * number; fd is left open. */
int perfgo_parser_feed_stream(lua_State *L, lparser *lp, int fd, const char *name, const char *head,
                              size_t nhead, int progress);

/* nil, "SOURCE:LINE: message" for a parse error (2 results); raises on
 * OOM. */
int perfgo_parser_error(lua_State *L, lparser *lp, int rc);

#endif
