/* perfgo.parser: the perf script parser (core/perfscript) for Lua.
 *
 *   local p = parser.new(opts)      -- a streaming parser
 *   p:feed(chunk) / p:feed_file(path_or_dash, progress)
 *   local prof = p:finish()         -- a perfgo.pprof profile
 *   local text = p:folded(opts)     -- folded text (core/perfscript/README.md)
 *   parser.parse_file(path, opts) / parser.parse_string(s, opts)
 *   parser.fold(s, opts)
 */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "perfscript/builder.h"
#include "perfscript/perfscript.h"
#include "binding.h"
#include "parser_udata.h"
#include "perfdata/perfdata.h"
#include "profile_udata.h"

#define PARSER_MT "perfgo.parser.parser"

static void lparser_release(lparser *lp)
{
    ps_free(lp->p);
    lp->p = NULL;
    free(lp->event_filter);
    free(lp->binary_root);
    free(lp->source);
    free(lp->kallsyms);
    free(lp->debug_dir);
    for (size_t i = 0; i < lp->npath_map; i++) {
        free((char *)lp->path_map[i].from);
        free((char *)lp->path_map[i].to);
    }
    free(lp->path_map);
    free(lp->buf);
    free(lp->stack_label_text);
    lp->stack_label_text = NULL;
    lp->bo.nstack_labels = 0;
    lp->event_filter = lp->binary_root = lp->source = lp->buf = NULL;
    lp->kallsyms = lp->debug_dir = NULL;
    lp->path_map = NULL;
    lp->npath_map = 0;
}

static lparser *check(lua_State *L, int idx)
{
    return bind_live(L, idx, PARSER_MT, "parser");
}

static char *dup_or_die(lua_State *L, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        luaL_error(L, "out of memory");
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* The options parser.new (and parse_file, parse_string, fold) and
 * p:folded take; any other key is an error (binding.h). */
#define FOLD_KEYS "pid", "tid", "kernel", "jit", "all", "addrs", "srcline", "event_filter"
static const char *const new_keys[] = {
    FOLD_KEYS, "profile",  "strict",   "remote",    "labels",       "binary_root",
    "source",  "path_map", "kallsyms", "debug_dir", "stack_labels", NULL,
};
static const char *const folded_keys[] = {FOLD_KEYS, NULL};

static void set_label(lua_State *L, ps_build_options *bo, const char *s, size_t n)
{
    if (n == 4 && memcmp(s, "comm", 4) == 0)
        bo->label_comm = true;
    else if (n == 11 && memcmp(s, "thread_comm", 11) == 0)
        bo->label_thread_comm = true;
    else if (n == 3 && memcmp(s, "pid", 3) == 0)
        bo->label_pid = true;
    else if (n == 3 && memcmp(s, "tid", 3) == 0)
        bo->label_tid = true;
    else if (n == 3 && memcmp(s, "cpu", 3) == 0)
        bo->label_cpu = true;
    else if (n > 0)
        luaL_error(L, "unknown label '%s' (labels: comm, thread_comm, pid, tid, cpu)",
                   lua_pushlstring(L, s, n));
}

static void read_labels(lua_State *L, int t, ps_build_options *bo)
{
    int ty = lua_getfield(L, t, "labels");
    if (ty == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        size_t i = 0;
        while (i <= len) {
            size_t j = i;
            while (j < len && s[j] != ',')
                j++;
            size_t a = i, b = j;
            while (a < b && s[a] == ' ')
                a++;
            while (b > a && s[b - 1] == ' ')
                b--;
            set_label(L, bo, s + a, b - a);
            i = j + 1;
        }
    } else if (ty == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            if (!s)
                luaL_error(L, "option 'labels' must list strings");
            set_label(L, bo, s, len);
            lua_pop(L, 1);
        }
    } else if (ty != LUA_TNIL) {
        luaL_error(L, "option 'labels' must be a string or a list");
    }
    lua_pop(L, 1);
}

static void read_fold_options(lua_State *L, int t, const char *fn, ps_fold_options *fo)
{
    fo->pid = opts_bool(L, t, fn, "pid", fo->pid);
    fo->tid = opts_bool(L, t, fn, "tid", fo->tid);
    fo->kernel = opts_bool(L, t, fn, "kernel", fo->kernel);
    fo->jit = opts_bool(L, t, fn, "jit", fo->jit);
    if (opts_bool(L, t, fn, "all", false))
        fo->kernel = fo->jit = true;
    fo->addrs = opts_bool(L, t, fn, "addrs", fo->addrs);
    fo->srcline = opts_bool(L, t, fn, "srcline", fo->srcline);
}

static void read_path_map(lua_State *L, int t, lparser *lp)
{
    int ty = lua_getfield(L, t, "path_map");
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (ty != LUA_TTABLE)
        luaL_error(L, "option 'path_map' must be a table {[profiled_path] = local_path}");
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    lp->path_map = calloc(n ? n : 1, sizeof *lp->path_map);
    if (!lp->path_map)
        luaL_error(L, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "option 'path_map' must map strings to strings");
        size_t fl, tl;
        const char *from = lua_tolstring(L, -2, &fl);
        const char *to = lua_tolstring(L, -1, &tl);
        lp->path_map[lp->npath_map].from = dup_or_die(L, from, fl);
        lp->npath_map++;
        lp->path_map[lp->npath_map - 1].to = dup_or_die(L, to, tl);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Pushes a new parser made with the options table at index t (or none);
 * fn names the function in errors. */
static void new_parser(lua_State *L, int t, const char *fn)
{
    bool has_opts = opts_table(L, t, fn, new_keys);
    lparser *lp = bind_new(L, sizeof *lp, PARSER_MT, 0);
    lp->want_profile = true;
    if (has_opts) {
        size_t len;
        const char *s;
        lp->po.strict = opts_bool(L, t, fn, "strict", false);
        lp->want_profile = opts_bool(L, t, fn, "profile", true);
        lp->bo.remote = opts_bool(L, t, fn, "remote", false);
        read_labels(L, t, &lp->bo);
        read_fold_options(L, t, fn, &lp->fo);
        if ((s = opts_string(L, t, fn, "event_filter", &len))) {
            lp->event_filter = dup_or_die(L, s, len);
            lp->fo.event_filter = lp->bo.event_filter = lp->event_filter;
            lp->fo.event_filter_len = lp->bo.event_filter_len = len;
        }
        if ((s = opts_string(L, t, fn, "binary_root", &len)))
            lp->binary_root = dup_or_die(L, s, len);
        if ((s = opts_string(L, t, fn, "source", &len)))
            lp->source = dup_or_die(L, s, len);
        if ((s = opts_string(L, t, fn, "kallsyms", &len)))
            lp->kallsyms = dup_or_die(L, s, len);
        if ((s = opts_string(L, t, fn, "debug_dir", &len)))
            lp->debug_dir = dup_or_die(L, s, len);
        read_path_map(L, t, lp);
        perfgo_parser_read_stack_labels(L, t, lp);
    }
    lp->bo.binary_root = lp->binary_root;
    lp->bo.source = lp->source;
    lp->bo.path_map = lp->path_map;
    lp->bo.npath_map = lp->npath_map;
    lp->po.keep_pid = lp->want_profile || lp->fo.pid || lp->bo.label_pid || lp->bo.label_comm;
    lp->po.keep_tid = lp->fo.tid || lp->bo.label_tid;
    lp->po.keep_cpu = lp->bo.label_cpu;
    lp->po.infer_pid = lp->want_profile;
    lp->p = ps_new(&lp->po);
    if (!lp->p)
        luaL_error(L, "out of memory");
}

/* parser.new(opts) -> parser */
static int l_new(lua_State *L)
{
    new_parser(L, 1, "parser.new");
    return 1;
}

int perfgo_parser_error(lua_State *L, lparser *lp, int rc)
{
    if (rc == PS_ERR_NOMEM)
        return luaL_error(L, "out of memory while parsing");
    lua_pushnil(L);
    lua_pushfstring(L, "%s:%s", lp->source ? lp->source : "input", ps_error(lp->p));
    return 2;
}

/* p:feed(chunk) -> true | nil, message */
static int l_feed(lua_State *L)
{
    lparser *lp = check(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    if (lp->finished)
        return luaL_error(L, "feed after finish");
    int rc = ps_feed(lp->p, s, len);
    if (rc)
        return perfgo_parser_error(L, lp, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* p:feed_file(path, progress) -> true, kind | nil, message[, "unsupported"].
 * path "-" is stdin; progress(bytes, samples) is called every 16 MB (8 MB
 * of perf.data) when given. The input is streamed, never held whole. A
 * perf.data file (its magic) is read natively: kind is "perf.data", else
 * "text"; a recording only perf script can read gives nil, why,
 * "unsupported". */
static int l_feed_file(lua_State *L)
{
    lparser *lp = check(L, 1);
    const char *path = luaL_checkstring(L, 2);
    bool progress = !lua_isnoneornil(L, 3);
    if (progress)
        luaL_checktype(L, 3, LUA_TFUNCTION);
    if (lp->finished)
        return luaL_error(L, "feed after finish");
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    if (!lp->source)
        lp->source = strdup(is_stdin ? "stdin" : path);
    lp->bo.source = lp->source;
    /* the first bytes tell perf.data (its magic) from text */
    char head[8];
    size_t nhead = 0;
    while (nhead < sizeof head) {
        ssize_t n = read(fd, head + nhead, sizeof head - nhead);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        nhead += (size_t)n;
    }
    if (pd_is_perfdata(head, nhead)) {
        int nret = perfgo_parser_feed_perfdata(L, lp, fd, is_stdin ? "stdin" : path, head, nhead,
                                               progress ? 3 : 0);
        if (!is_stdin)
            close(fd);
        return nret;
    }
    int nret = perfgo_parser_feed_stream(L, lp, fd, is_stdin ? "stdin" : path, head, nhead,
                                         progress ? 3 : 0);
    if (!is_stdin)
        close(fd);
    return nret;
}

/* p:finish() -> profile (or true when created with profile = false) |
 * nil, message */
static int l_finish(lua_State *L)
{
    lparser *lp = check(L, 1);
    if (lp->finished)
        return luaL_error(L, "parser already finished");
    int rc = ps_finish(lp->p);
    if (rc)
        return perfgo_parser_error(L, lp, rc);
    lp->finished = true;
    if (!lp->want_profile) {
        lua_pushboolean(L, 1);
        return 1;
    }
    char err[256];
    prof_profile *prof = ps_build_profile(lp->p, &lp->bo, err, sizeof err);
    if (!prof)
        return luaL_error(L, "%s", err);
    perfgo_profile_push(L, prof);
    return 1;
}

/* p:folded([opts]) -> string: the folded stacks (core/perfscript/README.md), options as
 * for parser.new overriding those given there. */
static int l_folded(lua_State *L)
{
    lparser *lp = check(L, 1);
    if (!lp->finished)
        return luaL_error(L, "folded: call finish() first");
    ps_fold_options fo = lp->fo;
    if (opts_table(L, 2, "folded", folded_keys)) {
        read_fold_options(L, 2, "folded", &fo);
        size_t len;
        const char *ef = opts_string(L, 2, "folded", "event_filter", &len);
        if (ef) {
            fo.event_filter = ef;
            fo.event_filter_len = len;
        }
    }
    if ((fo.pid && !lp->po.keep_pid) || (fo.tid && !lp->po.keep_tid))
        return luaL_error(L, "folded: pass pid/tid to parser.new to keep threads apart");
    char *out;
    size_t len;
    if (ps_folded(lp->p, &fo, &out, &len))
        return luaL_error(L, "out of memory while folding");
    lua_pushlstring(L, out, len);
    free(out);
    return 1;
}

static void setint(lua_State *L, const char *k, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

/* p:stats() -> {bytes, lines, samples, frames, sideband, unrecognized,
 * first_unrecognized, distinct_frames, distinct_stacks, truncated,
 * time_first_ns, time_last_ns, events = {{name, samples, weight, unit}...}} */
static int l_stats(lua_State *L)
{
    lparser *lp = check(L, 1);
    const ps_stats *st = ps_get_stats(lp->p);
    lua_createtable(L, 0, 16);
    setint(L, "bytes", st->bytes);
    setint(L, "lines", st->lines);
    setint(L, "samples", st->samples);
    setint(L, "frames", st->frames);
    setint(L, "sideband", st->sideband);
    setint(L, "unrecognized", st->unrecognized);
    setint(L, "first_unrecognized", st->first_unrecognized);
    setint(L, "distinct_frames", ps_frame_count(lp->p));
    setint(L, "distinct_stacks", ps_stack_count(lp->p));
    lua_pushboolean(L, st->truncated);
    lua_setfield(L, -2, "truncated");
    if (st->has_time) {
        setint(L, "time_first_ns", st->time_first_ns);
        setint(L, "time_last_ns", st->time_last_ns);
    }
    lua_createtable(L, (int)ps_event_count(lp->p), 0);
    for (uint32_t e = 1; e <= ps_event_count(lp->p); e++) {
        ps_str name = ps_event_get(lp->p, e);
        const ps_event_info *ev = ps_event_info_get(lp->p, e);
        lua_createtable(L, 0, 4);
        lua_pushlstring(L, name.ptr, name.len);
        lua_setfield(L, -2, "name");
        setint(L, "samples", ev ? ev->samples : 0);
        setint(L, "weight", ev ? ev->weight : 0);
        lua_pushstring(L, ps_event_unit(name.ptr, name.len));
        lua_setfield(L, -2, "unit");
        lua_rawseti(L, -2, e);
    }
    lua_setfield(L, -2, "events");
    return 1;
}

/* p:warnings() -> {string...} */
static int l_warnings(lua_State *L)
{
    lparser *lp = check(L, 1);
    size_t n = ps_warning_count(lp->p);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, ps_warning(lp->p, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_gc(lua_State *L)
{
    lparser *lp = luaL_checkudata(L, 1, PARSER_MT);
    lparser_release(lp);
    return 0;
}

static int l_tostring(lua_State *L)
{
    lparser *lp = luaL_checkudata(L, 1, PARSER_MT);
    if (!lp->p)
        lua_pushliteral(L, "perfgo.parser (closed)");
    else
        lua_pushfstring(L, "perfgo.parser (%I samples)", (lua_Integer)ps_get_stats(lp->p)->samples);
    return 1;
}

/* Runs new(opts), feed or feed_file, finish; returns result, parser. */
static int parse_whole(lua_State *L, bool file, const char *fn)
{
    lua_settop(L, 2);
    new_parser(L, 2, fn); /* 3 */
    lua_pushcfunction(L, file ? l_feed_file : l_feed);
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 1);
    lua_call(L, 2, 2);
    if (lua_isnil(L, -2))
        return 2;
    lua_pop(L, 2);
    lua_pushcfunction(L, l_finish);
    lua_pushvalue(L, 3);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2))
        return 2;
    lua_pop(L, 1);
    lua_pushvalue(L, 3);
    return 2;
}

/* parser.parse_file(path, opts) -> profile, parser | nil, message */
static int l_parse_file(lua_State *L)
{
    luaL_checkstring(L, 1);
    return parse_whole(L, true, "parser.parse_file");
}

/* parser.parse_string(s, opts) -> profile, parser | nil, message */
static int l_parse_string(lua_State *L)
{
    luaL_checkstring(L, 1);
    return parse_whole(L, false, "parser.parse_string");
}

/* parser.fold(s, opts) -> folded text, parser | nil, message */
static int l_fold(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_settop(L, 2);
    lua_newtable(L); /* copy opts with profile = false */
    if (opts_table(L, 2, "parser.fold", new_keys)) {
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, 3);
        }
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, 3, "profile");
    lua_replace(L, 2);
    int n = parse_whole(L, false, "parser.fold");
    if (lua_isnil(L, -n))
        return n;
    lua_pushcfunction(L, l_folded);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    lua_insert(L, -2);
    return 2;
}

int luaopen_perfgo_parser(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"feed", l_feed},   {"feed_file", l_feed_file}, {"finish", l_finish}, {"folded", l_folded},
        {"stats", l_stats}, {"warnings", l_warnings},   {"close", l_gc},      {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"new", l_new},
        {"parse_file", l_parse_file},
        {"parse_string", l_parse_string},
        {"fold", l_fold},
        {NULL, NULL},
    };
    bind_class(L, PARSER_MT, methods, l_gc, l_tostring);
    perfgo_profile_register(L);
    luaL_newlib(L, funcs);
    return 1;
}
