/* perfgo.perfdata: the perf.data reader (core/perfdata) for Lua.
 *
 *   local r = perfdata.open(path)   -- or nil, message
 *   r:info()                        -- header and feature sections
 *   for rec in r:records() do ... end   -- records in time order
 *   r:symbolize(pid, addr[, kernel])    -- as perf script names it
 *   perfdata.is_perfdata(path)      -- by its magic
 *   perfdata.parser(path, opts)     -- a perfgo.parser fed with the file
 */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binding.h"
#include "perfdata/perfdata.h"
#include "perfdata/symbolize.h"

#define READER_MT "perfgo.perfdata.reader"

typedef struct lreader {
    pd_reader *r;
    pd_syms *s;
    int fd;
    bool failed;
} lreader;

static lreader *check(lua_State *L)
{
    return bind_live(L, 1, READER_MT, "perf.data reader");
}

static int l_close(lua_State *L)
{
    lreader *lr = luaL_checkudata(L, 1, READER_MT);
    pd_syms_free(lr->s);
    pd_close(lr->r);
    if (lr->fd > 0)
        close(lr->fd);
    lr->s = NULL;
    lr->r = NULL;
    lr->fd = -1;
    return 0;
}

/* perfdata.open(path) -> reader | nil, message ("-" is stdin) */
static int l_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lreader *lr = bind_new(L, sizeof *lr, READER_MT, 0);
    lr->fd = -1;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    lr->fd = is_stdin ? -1 : fd;
    char err[640];
    lr->r = pd_open(fd, is_stdin ? "stdin" : path, err, sizeof err);
    if (!lr->r)
        return bind_fail(L, err);
    pd_syms_options so;
    memset(&so, 0, sizeof so);
    lr->s = pd_syms_new(&so, pd_get_info(lr->r));
    if (!lr->s)
        return luaL_error(L, "out of memory");
    return 1;
}

static void setstr(lua_State *L, const char *k, const char *v)
{
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

static void setint(lua_State *L, const char *k, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

static void setbool(lua_State *L, const char *k, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

/* r:info() -> {pipe, unfinished, hostname, os_release, version, arch,
 * cpu_desc, nr_cpus_online, nr_cpus_avail, clockid, clock_wall_ns,
 * clock_ref_ns (perf record -k: the time of day and the clock's time at
 * one moment), cmdline = {...}, events =
 * {{name, type, config, sample_type, sample_period, freq}...}, build_ids =
 * {{path, build_id, pid, kernel}...}} */
static int l_info(lua_State *L)
{
    const pd_info *in = pd_get_info(check(L)->r);
    lua_createtable(L, 0, 12);
    setbool(L, "pipe", in->pipe);
    setbool(L, "unfinished", in->unfinished);
    setstr(L, "hostname", in->hostname);
    setstr(L, "os_release", in->os_release);
    setstr(L, "version", in->version);
    setstr(L, "arch", in->arch);
    setstr(L, "cpu_desc", in->cpu_desc);
    setint(L, "nr_cpus_online", in->nr_cpus_online);
    setint(L, "nr_cpus_avail", in->nr_cpus_avail);
    if (in->has_clock_data) {
        setint(L, "clockid", in->clockid);
        setint(L, "clock_wall_ns", in->clock_wall_ns);
        setint(L, "clock_ref_ns", in->clock_ref_ns);
    }
    lua_createtable(L, (int)in->ncmdline, 0);
    for (size_t i = 0; i < in->ncmdline; i++) {
        lua_pushstring(L, in->cmdline[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "cmdline");
    lua_createtable(L, (int)in->nevents, 0);
    for (size_t i = 0; i < in->nevents; i++) {
        const pd_event *e = &in->events[i];
        lua_createtable(L, 0, 6);
        setstr(L, "name", e->name);
        setint(L, "type", e->type);
        setint(L, "config", e->config);
        setint(L, "sample_type", e->sample_type);
        setint(L, "sample_period", e->sample_period);
        setbool(L, "freq", e->freq);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "events");
    lua_createtable(L, (int)in->nbuild_ids, 0);
    for (size_t i = 0; i < in->nbuild_ids; i++) {
        const pd_build_id *b = &in->build_ids[i];
        lua_createtable(L, 0, 4);
        setstr(L, "path", b->path);
        setstr(L, "build_id", b->hex);
        setint(L, "pid", (uint64_t)(int64_t)b->pid);
        setbool(L, "kernel", b->kernel);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "build_ids");
    return 1;
}

static const char *type_name(uint32_t t)
{
    switch (t) {
    case PD_MMAP:
        return "mmap";
    case PD_LOST:
        return "lost";
    case PD_COMM:
        return "comm";
    case PD_EXIT:
        return "exit";
    case PD_THROTTLE:
        return "throttle";
    case PD_UNTHROTTLE:
        return "unthrottle";
    case PD_FORK:
        return "fork";
    case PD_READ:
        return "read";
    case PD_SAMPLE:
        return "sample";
    case PD_MMAP2:
        return "mmap2";
    case PD_LOST_SAMPLES:
        return "lost_samples";
    case PD_FINISHED_ROUND:
        return "finished_round";
    case PD_HEADER_ATTR:
        return "header_attr";
    case PD_HEADER_FEATURE:
        return "header_feature";
    case PD_HEADER_BUILD_ID:
        return "header_build_id";
    default:
        return "other";
    }
}

static void push_sample(lua_State *L, const pd_reader *r, const pd_record *rec)
{
    const pd_sample *s = &rec->u.sample;
    setstr(L, "event", pd_get_info(r)->events[s->event].name);
    setint(L, "ip", s->ip);
    setint(L, "pid", s->pid);
    setint(L, "tid", s->tid);
    setint(L, "cpu", s->cpu);
    setint(L, "period", s->period);
    setint(L, "addr", s->addr);
    lua_createtable(L, (int)s->nchain, 0);
    for (size_t i = 0; i < s->nchain; i++) {
        lua_pushinteger(L, (lua_Integer)pd_u64(s->chain + 8 * i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "callchain");
    if (s->raw_size) {
        lua_pushlstring(L, (const char *)s->raw, s->raw_size);
        lua_setfield(L, -2, "raw");
    }
}

/* r:next() -> record table | nil (end) | nil, message (error). Records of
 * address spaces and thread names are applied for r:symbolize. */
static int l_next(lua_State *L)
{
    lreader *lr = check(L);
    if (lr->failed)
        return luaL_error(L, "next after an error");
    pd_record rec;
    int rc = pd_next(lr->r, &rec);
    if (rc <= 0) {
        lua_pushnil(L);
        if (rc == 0)
            return 1;
        lr->failed = true;
        lua_pushstring(L, pd_error(lr->r));
        return 2;
    }
    if (pd_syms_record(lr->s, &rec))
        return luaL_error(L, "out of memory");
    lua_createtable(L, 0, 12);
    setstr(L, "type", type_name(rec.type));
    setint(L, "type_id", rec.type);
    setint(L, "misc", rec.misc);
    setint(L, "offset", rec.offset);
    if (rec.has_time)
        setint(L, "time", rec.time);
    switch (rec.type) {
    case PD_SAMPLE:
        push_sample(L, lr->r, &rec);
        break;
    case PD_MMAP:
    case PD_MMAP2:
        setint(L, "pid", rec.u.mmap.pid);
        setint(L, "tid", rec.u.mmap.tid);
        setint(L, "start", rec.u.mmap.start);
        setint(L, "len", rec.u.mmap.len);
        setint(L, "pgoff", rec.u.mmap.pgoff);
        setint(L, "prot", rec.u.mmap.prot);
        setstr(L, "filename", rec.u.mmap.filename);
        break;
    case PD_COMM:
        setint(L, "pid", rec.u.comm.pid);
        setint(L, "tid", rec.u.comm.tid);
        setstr(L, "comm", rec.u.comm.comm);
        setbool(L, "exec", rec.u.comm.exec);
        break;
    case PD_FORK:
    case PD_EXIT:
        setint(L, "pid", rec.u.task.pid);
        setint(L, "ppid", rec.u.task.ppid);
        setint(L, "tid", rec.u.task.tid);
        setint(L, "ptid", rec.u.task.ptid);
        break;
    case PD_LOST:
    case PD_LOST_SAMPLES:
        setint(L, "lost", rec.u.lost.lost);
        break;
    default:
        break;
    }
    return 1;
}

static int records_iter(lua_State *L)
{
    int n = l_next(L);
    if (n == 2)
        return lua_error(L);
    return 1;
}

/* r:records() -> iterator over records (raises on a corrupt file) */
static int l_records(lua_State *L)
{
    check(L);
    lua_pushcfunction(L, records_iter);
    lua_pushvalue(L, 1);
    return 2;
}

/* r:symbolize(pid, addr[, kernel]) -> {symbol, offset, dso, file, line}:
 * as perf script names it, with the maps of the records read so far;
 * symbol is nil when no symbol holds addr. */
static int l_symbolize(lua_State *L)
{
    lreader *lr = check(L);
    lua_Integer pid = luaL_checkinteger(L, 2);
    lua_Integer addr = luaL_checkinteger(L, 3);
    bool kernel = lua_toboolean(L, 4);
    pd_frame f;
    if (pd_syms_resolve(lr->s, (uint32_t)pid, (uint64_t)addr, kernel, &f))
        return luaL_error(L, "out of memory");
    lua_createtable(L, 0, 5);
    lua_pushlstring(L, f.dso, f.dso_len);
    lua_setfield(L, -2, "dso");
    if (f.sym) {
        lua_pushlstring(L, f.sym, f.sym_len);
        lua_setfield(L, -2, "symbol");
        setint(L, "offset", f.symoff);
    }
    const char *file;
    int line;
    if (pd_syms_srcline(lr->s, &f, &file, &line) && line > 0 && strcmp(file, "??") != 0) {
        setstr(L, "file", file);
        setint(L, "line", (uint64_t)line);
    }
    return 1;
}

/* r:mapped_files() -> {path...} | nil, message: the files of the
 * user-space executable mappings in the records not yet read (each once,
 * in the order first mapped), reading to the end. For a recording made
 * elsewhere: the files to copy back to symbolize it (perf record -z
 * writes no build-id list at its end). */
static int l_mapped_files(lua_State *L)
{
    lreader *lr = check(L);
    lua_settop(L, 1);
    lua_newtable(L); /* 2: the list */
    lua_newtable(L); /* 3: the paths seen */
    lua_Integer n = 0;
    pd_record rec;
    int got;
    while ((got = pd_next(lr->r, &rec)) == 1) {
        if ((rec.type != PD_MMAP && rec.type != PD_MMAP2) || rec.u.mmap.pid == UINT32_MAX ||
            (rec.misc & PD_MISC_COMM_EXEC) /* for mmaps: PERF_RECORD_MISC_MMAP_DATA */ ||
            (rec.type == PD_MMAP2 && !(rec.u.mmap.prot & 4 /* PROT_EXEC */)))
            continue;
        const char *fn = rec.u.mmap.filename;
        if (lua_getfield(L, 3, fn) != LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
        lua_setfield(L, 3, fn);
        lua_pushstring(L, fn);
        lua_rawseti(L, 2, ++n);
    }
    if (got < 0) {
        lua_pushnil(L);
        lua_pushstring(L, pd_error(lr->r));
        return 2;
    }
    lua_settop(L, 2);
    return 1;
}

/* r:warnings() -> {string...} */
static int l_warnings(lua_State *L)
{
    lreader *lr = check(L);
    size_t n = pd_warning_count(lr->r), m = pd_syms_warning_count(lr->s);
    lua_createtable(L, (int)(n + m), 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, pd_warning(lr->r, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    for (size_t i = 0; i < m; i++) {
        lua_pushstring(L, pd_syms_warning(lr->s, i));
        lua_rawseti(L, -2, (lua_Integer)(n + i) + 1);
    }
    return 1;
}

/* perfdata.is_perfdata(path) -> boolean (its first bytes are the magic) */
static int l_is_perfdata(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    char head[8];
    ssize_t n = fd >= 0 ? read(fd, head, sizeof head) : -1;
    if (fd >= 0)
        close(fd);
    lua_pushboolean(L, n == (ssize_t)sizeof head && pd_is_perfdata(head, sizeof head));
    return 1;
}

/* perfdata.parser(path, opts[, progress]) -> parser, "perf.data" | nil,
 * message[, "unsupported"]: perfgo.parser.new(opts) fed with the file. */
static int l_parser(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_settop(L, 3);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "perfgo.parser");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "new");
    lua_pushvalue(L, 2);
    lua_call(L, 1, 1); /* 5: the parser */
    lua_getfield(L, -1, "feed_file");
    lua_pushvalue(L, 5);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_call(L, 3, 3);
    if (lua_isnil(L, -3))
        return 3;
    lua_pop(L, 1);
    lua_pushvalue(L, 5);
    lua_replace(L, -3);
    return 2;
}

int luaopen_perfgo_perfdata(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"info", l_info},
        {"next", l_next},
        {"records", l_records},
        {"symbolize", l_symbolize},
        {"warnings", l_warnings},
        {"close", l_close},
        {"mapped_files", l_mapped_files},
        {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"open", l_open},
        {"is_perfdata", l_is_perfdata},
        {"parser", l_parser},
        {NULL, NULL},
    };
    bind_class(L, READER_MT, methods, l_close, NULL);
    luaL_newlib(L, funcs);
    return 1;
}
