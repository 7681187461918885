/*
 * perfgo.proc: spawn programs (no shell), stream or tee their output, wait
 * with timeouts, forward Ctrl-C. A child is a full userdata
 * "perfgo.proc.child"; __gc and __close end and reap a child still running.
 * A program that cannot be started is not an error: spawn returns nil and
 * the reason, run a result with code 127 (not found) or 126 and `error`.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "binding.h"
#include "proc/proc.h"

#define CHILD_MT "perfgo.proc.child"
#define GC_GRACE 1.0 /* seconds a child gets after SIGTERM at collection */

struct lchild {
    struct proc_child *c;
};

static struct proc_child *live_child(lua_State *L, int idx)
{
    struct lchild *u = bind_live(L, idx, CHILD_MT, "child");
    return u->c;
}

/* Keeps a string alive for the duration of the call: stored in the anchor
 * table at index anchor. */
static const char *anchored(lua_State *L, int anchor, int idx)
{
    const char *s = lua_tostring(L, idx);
    lua_pushvalue(L, idx);
    lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
    return s;
}

static void *scratch(lua_State *L, int anchor, size_t size)
{
    void *p = bind_scratch(L, size);
    lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
    return p;
}

static const char *opt_string(lua_State *L, int opts, int anchor, const char *key)
{
    if (opts == 0)
        return NULL;
    lua_getfield(L, opts, key);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "opts.%s must be a string", key);
        s = anchored(L, anchor, -1);
    }
    lua_pop(L, 1);
    return s;
}

static void parse_stdin(lua_State *L, int opts, int anchor, struct proc_io_spec *io)
{
    lua_getfield(L, opts, "stdin");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        static const char *const keys[] = {"file", NULL};
        opts_check(L, -1, "opts.stdin", keys);
        lua_getfield(L, -1, "file");
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "opts.stdin: a table needs file=path");
        io->mode = PROC_FILE;
        io->path = anchored(L, anchor, -1);
        lua_pop(L, 2);
        return;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "opts.stdin must be \"null\", \"inherit\", \"pipe\" or a path");
    const char *s = lua_tostring(L, -1);
    if (strcmp(s, "null") == 0)
        io->mode = PROC_NULL;
    else if (strcmp(s, "inherit") == 0)
        io->mode = PROC_INHERIT;
    else if (strcmp(s, "pipe") == 0)
        io->mode = PROC_PIPE;
    else if (strcmp(s, "hold") == 0)
        io->mode = PROC_HOLD;
    else {
        io->mode = PROC_FILE;
        io->path = anchored(L, anchor, -1);
    }
    lua_pop(L, 1);
}

/* opts.stdout or opts.stderr (key); what names it in errors. */
static void parse_output(lua_State *L, int opts, int anchor, const char *key, const char *what,
                         struct proc_io_spec *io)
{
    lua_getfield(L, opts, key);
    int t = lua_type(L, -1);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        if (strcmp(s, "inherit") == 0)
            io->mode = PROC_INHERIT;
        else if (strcmp(s, "null") == 0)
            io->mode = PROC_NULL;
        else if (strcmp(s, "pipe") == 0)
            io->mode = PROC_PIPE;
        else
            luaL_error(L, "opts.%s: unknown mode '%s' (inherit, null, pipe, {file=}, {tee=})", key,
                       s);
        lua_pop(L, 1);
        return;
    }
    if (t != LUA_TTABLE)
        luaL_error(L, "opts.%s must be a mode string or {file=path} / {tee=path}", key);
    static const char *const keys[] = {"file", "tee", "append", NULL};
    opts_check(L, -1, what, keys);
    lua_getfield(L, -1, "tee");
    if (lua_type(L, -1) == LUA_TSTRING) {
        io->mode = PROC_TEE;
        io->path = anchored(L, anchor, -1);
        lua_pop(L, 2);
        return;
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "file");
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "opts.%s: a table needs file=path or tee=path", key);
    io->mode = PROC_FILE;
    io->path = anchored(L, anchor, -1);
    io->append = opts_bool(L, -2, what, "append", false);
    lua_pop(L, 2);
}

static void parse_env(lua_State *L, int opts, int anchor, struct proc_opts *o)
{
    lua_getfield(L, opts, "env_mode");
    if (!lua_isnil(L, -1)) {
        const char *m = lua_tostring(L, -1);
        if (m != NULL && strcmp(m, "replace") == 0)
            o->env_replace = true;
        else if (m == NULL || strcmp(m, "merge") != 0)
            luaL_error(L, "opts.env_mode must be \"merge\" or \"replace\"");
    }
    lua_pop(L, 1);
    lua_getfield(L, opts, "env");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    luaL_argexpected(L, lua_istable(L, -1), 2, "opts.env as a table");
    int env = lua_gettop(L);
    size_t n = 0;
    for (lua_pushnil(L); lua_next(L, env); lua_pop(L, 1))
        n++;
    struct proc_env *e = scratch(L, anchor, n * sizeof *e);
    size_t i = 0;
    for (lua_pushnil(L); lua_next(L, env); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "opts.env: names must be strings");
        e[i].name = anchored(L, anchor, -2);
        if (strchr(e[i].name, '=') != NULL || e[i].name[0] == '\0')
            luaL_error(L, "opts.env: bad variable name '%s'", e[i].name);
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
            e[i].value = NULL;
        } else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
            luaL_tolstring(L, -1, NULL);
            e[i].value = anchored(L, anchor, -1);
            lua_pop(L, 1);
        } else {
            luaL_error(L, "opts.env.%s must be a string, a number or false", e[i].name);
        }
        i++;
    }
    o->env = e;
    o->n_env = n;
    lua_pop(L, 1);
}

/* The options of proc.spawn; proc.run also takes input and timeout. */
#define SPAWN_KEYS "cwd", "env", "env_mode", "stdin", "stdout", "stderr", "pgroup"
static const char *const spawn_keys[] = {SPAWN_KEYS, NULL};
static const char *const run_keys[] = {SPAWN_KEYS, "input", "timeout", NULL};

/* Fills o from argv (a list of strings) at index 1 and the opts table at
 * index 2 (its keys among keys; fn names the function in errors);
 * everything it points to is kept alive by the anchor table. */
static int check_spawn_args(lua_State *L, struct proc_opts *o, const char *fn,
                            const char *const *keys)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int opts = opts_table(L, 2, fn, keys) ? 2 : 0;
    lua_settop(L, 2);
    lua_newtable(L);
    int anchor = lua_gettop(L);
    lua_Integer n = (lua_Integer)luaL_len(L, 1);
    luaL_argcheck(L, n >= 1, 1, "argv must have a program name");
    const char **argv = scratch(L, anchor, ((size_t)n + 1) * sizeof *argv);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "argv[%d] must be a string", (int)i);
        luaL_tolstring(L, -1, NULL);
        argv[i - 1] = anchored(L, anchor, -1);
        lua_pop(L, 2);
    }
    o->argv = argv;
    if (opts != 0) {
        o->cwd = opt_string(L, opts, anchor, "cwd");
        parse_env(L, opts, anchor, o);
        parse_stdin(L, opts, anchor, &o->in);
        parse_output(L, opts, anchor, "stdout", "opts.stdout", &o->out);
        parse_output(L, opts, anchor, "stderr", "opts.stderr", &o->err);
        o->same_pgroup = !opts_bool(L, opts, fn, "pgroup", true);
    }
    return anchor;
}

/* The PATH the child will search: its own environment's. */
static const char *child_path(const struct proc_opts *o)
{
    for (size_t i = o->n_env; i-- > 0;) {
        if (strcmp(o->env[i].name, "PATH") == 0)
            return o->env[i].value;
    }
    return o->env_replace ? NULL : getenv("PATH");
}

/* Starts the child, or leaves a userdata holding none and writes why into
 * err (a program that is not there, a directory or file that cannot be
 * used: nothing a caller could have checked for). *code is what a shell
 * would exit with: 127 when the program is not found, else 126. */
static struct lchild *spawn_child(lua_State *L, const struct proc_opts *o, char *err, size_t errlen,
                                  int *code)
{
    struct lchild *u = bind_new(L, sizeof *u, CHILD_MT, 0);
    char path[PATH_MAX];
    int ferr = proc_find_program(o->argv[0], child_path(o), path, sizeof path);
    if (ferr != 0) {
        snprintf(err, errlen, "cannot run '%s': %s", o->argv[0], strerror(ferr));
        *code = ferr == ENOENT ? 127 : 126;
        return u;
    }
    u->c = proc_spawn(o, err, errlen);
    *code = 126;
    return u;
}

/* proc.spawn(argv, opts) -> child | nil, message */
static int l_spawn(lua_State *L)
{
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    check_spawn_args(L, &o, "proc.spawn", spawn_keys);
    char err[1024];
    int code;
    struct lchild *u = spawn_child(L, &o, err, sizeof err, &code);
    if (u->c == NULL) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

static void push_status(lua_State *L, const struct proc_status *st)
{
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, st->code);
    lua_setfield(L, -2, "code");
    if (st->signal != 0) {
        lua_pushinteger(L, st->signal);
        lua_setfield(L, -2, "signal");
    }
    lua_pushnumber(L, st->duration);
    lua_setfield(L, -2, "duration");
    lua_pushboolean(L, st->interrupted);
    lua_setfield(L, -2, "interrupted");
}

static void push_captured(lua_State *L, struct proc_child *c, int stream, const char *key)
{
    const char *data = "";
    size_t len = 0;
    if (proc_read_all(c, stream, &data, &len) != 0)
        data = "", len = 0;
    lua_pushlstring(L, data, len);
    lua_setfield(L, -2, key);
}

/* What proc.run returns for a program that could not be started: the
 * code a shell would give, the reason as `error` and on stderr. */
static int push_not_started(lua_State *L, int code, const char *err)
{
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "code");
    lua_pushnumber(L, 0);
    lua_setfield(L, -2, "duration");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "interrupted");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "stdout");
    lua_pushfstring(L, "%s\n", err);
    lua_setfield(L, -2, "stderr");
    lua_pushstring(L, err);
    lua_setfield(L, -2, "error");
    return 1;
}

/* proc.run(argv, opts) -> {code, signal, duration, stdout, stderr, interrupted, timed_out, error}
 */
static int l_run(lua_State *L)
{
    struct proc_opts o;
    memset(&o, 0, sizeof o);
    o.in.mode = PROC_NULL;
    o.out.mode = PROC_PIPE;
    o.err.mode = PROC_PIPE;
    o.capture_tee = true;
    check_spawn_args(L, &o, "proc.run", run_keys);
    size_t input_len = 0;
    const char *input = NULL;
    double timeout = -1;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "input");
        if (!lua_isnil(L, -1)) {
            input = luaL_checklstring(L, -1, &input_len);
            lua_rawseti(L, 3, (lua_Integer)lua_rawlen(L, 3) + 1);
            o.in.mode = PROC_PIPE;
        } else {
            lua_pop(L, 1);
        }
        lua_getfield(L, 2, "timeout");
        if (!lua_isnil(L, -1))
            timeout = luaL_checknumber(L, -1);
        lua_pop(L, 1);
    }
    char err[1024];
    int code;
    struct lchild *u = spawn_child(L, &o, err, sizeof err, &code);
    if (u->c == NULL)
        return push_not_started(L, code, err);
    if (input != NULL) {
        proc_write(u->c, input, input_len); /* EPIPE: the child did not want it all */
        proc_close_stdin(u->c);
    }
    struct proc_status st;
    bool timed_out = false;
    int r = proc_wait(u->c, timeout, &st);
    if (r == 1) {
        timed_out = true;
        proc_kill(u->c, SIGTERM);
        if (proc_wait(u->c, 2.0, &st) == 1) {
            proc_kill(u->c, SIGKILL);
            r = proc_wait(u->c, -1, &st);
        }
    }
    if (r < 0)
        return luaL_error(L, "perfgo: waiting for '%s': %s", o.argv[0], strerror(errno));
    push_status(L, &st);
    push_captured(L, u->c, PROC_STDOUT, "stdout");
    push_captured(L, u->c, PROC_STDERR, "stderr");
    if (timed_out) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "timed_out");
    }
    proc_free(u->c, 0);
    u->c = NULL;
    return 1;
}

/* child:wait([timeout_s]) -> {code, signal, duration, interrupted} | nil, "timeout" */
static int l_wait(lua_State *L)
{
    struct proc_child *c = live_child(L, 1);
    double timeout = luaL_optnumber(L, 2, -1);
    struct proc_status st;
    int r = proc_wait(c, timeout, &st);
    if (r == 1) {
        lua_pushnil(L);
        lua_pushliteral(L, "timeout");
        return 2;
    }
    if (r < 0)
        return luaL_error(L, "perfgo: wait: %s", strerror(errno));
    push_status(L, &st);
    return 1;
}

static int signal_arg(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return SIGTERM;
    if (lua_type(L, idx) == LUA_TNUMBER)
        return (int)luaL_checkinteger(L, idx);
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"TERM", SIGTERM}, {"INT", SIGINT},   {"KILL", SIGKILL}, {"HUP", SIGHUP},
                 {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"PIPE", SIGPIPE}, {"USR2", SIGUSR2},
                 {"STOP", SIGSTOP}, {"CONT", SIGCONT}};
    const char *s = luaL_checkstring(L, idx);
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].sig;
    return luaL_argerror(L, idx, "unknown signal name");
}

/* child:kill([sig]) -> true | nil, message (sig: number or "TERM", "INT", ...) */
static int l_kill(lua_State *L)
{
    struct proc_child *c = live_child(L, 1);
    int sig = signal_arg(L, 2);
    if (proc_kill(c, sig) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, errno == ESRCH ? "process has exited" : strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int stream_arg(lua_State *L, int idx)
{
    static const char *const names[] = {"stdout", "stderr", NULL};
    return luaL_checkoption(L, idx, NULL, names) == 0 ? PROC_STDOUT : PROC_STDERR;
}

/* child:read(stream [, n]) -> chunk as it arrives | nil at end of file */
static int l_read(lua_State *L)
{
    struct proc_child *c = live_child(L, 1);
    int stream = stream_arg(L, 2);
    lua_Integer n = luaL_optinteger(L, 3, 65536);
    luaL_argcheck(L, n > 0, 3, "must be positive");
    luaL_Buffer b;
    char *buf = luaL_buffinitsize(L, &b, (size_t)n);
    ssize_t got = proc_read(c, stream, buf, (size_t)n);
    if (got < 0) {
        if (errno == EINVAL)
            return luaL_argerror(L, 2, "stream is not a pipe");
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    if (got == 0) {
        lua_pushnil(L);
        return 1;
    }
    luaL_pushresultsize(&b, (size_t)got);
    return 1;
}

static int lines_next(lua_State *L)
{
    struct proc_child *c = live_child(L, lua_upvalueindex(1));
    int stream = (int)lua_tointeger(L, lua_upvalueindex(2));
    const char *line;
    size_t len;
    int r = proc_read_line(c, stream, &line, &len);
    if (r < 0)
        return luaL_error(L, "perfgo: reading %s: %s", stream == PROC_STDOUT ? "stdout" : "stderr",
                          strerror(errno));
    if (r == 0)
        return 0;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    lua_pushlstring(L, line, len);
    return 1;
}

/* child:lines(stream) -> iterator over lines without their "\n" */
static int l_lines(lua_State *L)
{
    live_child(L, 1);
    int stream = stream_arg(L, 2);
    lua_settop(L, 1);
    lua_pushinteger(L, stream);
    lua_pushcclosure(L, lines_next, 2);
    return 1;
}

/* child:write(s) -> true | nil, message */
static int l_write(lua_State *L)
{
    struct proc_child *c = live_child(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    if (proc_write(c, s, len) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, errno == EBADF ? "stdin is not a pipe" : strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_close_stdin(lua_State *L)
{
    proc_close_stdin(live_child(L, 1));
    return 0;
}

static int l_pid(lua_State *L)
{
    lua_pushinteger(L, proc_pid(live_child(L, 1)));
    return 1;
}

static int l_running(lua_State *L)
{
    struct proc_child *c = live_child(L, 1);
    struct proc_status st;
    lua_pushboolean(L, proc_wait(c, 0, &st) == 1);
    return 1;
}

/* __gc / __close: a child still running is sent SIGTERM, then SIGKILL. */
static int l_gc(lua_State *L)
{
    struct lchild *u = luaL_checkudata(L, 1, CHILD_MT);
    if (u->c != NULL) {
        proc_free(u->c, GC_GRACE);
        u->c = NULL;
    }
    return 0;
}

static int l_tostring(lua_State *L)
{
    struct lchild *u = luaL_checkudata(L, 1, CHILD_MT);
    if (u->c == NULL)
        lua_pushliteral(L, "perfgo.proc.child (closed)");
    else
        lua_pushfstring(L, "perfgo.proc.child (pid %d)", (int)proc_pid(u->c));
    return 1;
}

/* proc.interrupted() -> signal number, count | nil */
static int l_interrupted(lua_State *L)
{
    int sig = proc_interrupted();
    if (sig == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, sig);
    lua_pushinteger(L, proc_signal_count());
    return 2;
}

static int l_hold_signals(lua_State *L)
{
    proc_signals_hold();
    (void)L;
    return 0;
}

static int l_release_signals(lua_State *L)
{
    proc_signals_release();
    (void)L;
    return 0;
}

/* proc.interrupt(sig): as if sig had arrived while signals are held */
static int l_interrupt(lua_State *L)
{
    proc_signals_notify(signal_arg(L, 1));
    return 0;
}

/* proc.signal_name(n) -> "SIGINT", description | nil */
static int l_signal_name(lua_State *L)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},       {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
        {SIGILL, "SIGILL"},       {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
        {SIGBUS, "SIGBUS"},       {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
        {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"},     {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
        {SIGCHLD, "SIGCHLD"},     {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"},
        {SIGTSTP, "SIGTSTP"},     {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},
        {SIGURG, "SIGURG"},       {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
        {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"},
        {SIGSYS, "SIGSYS"},
    };
    lua_Integer n = luaL_checkinteger(L, 1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].sig == n) {
            lua_pushstring(L, names[i].name);
            lua_pushstring(L, strsignal((int)n));
            return 2;
        }
    }
    lua_pushnil(L);
    return 1;
}

static int l_clear_interrupted(lua_State *L)
{
    proc_clear_interrupted();
    return 0;
}

/* proc.which(name [, path]) -> absolute path | nil, message */
static int l_which(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *path = luaL_optstring(L, 2, getenv("PATH"));
    char out[PATH_MAX];
    int err = proc_find_program(name, path, out, sizeof out);
    if (err != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", name, strerror(err));
        return 2;
    }
    lua_pushstring(L, out);
    return 1;
}

int luaopen_perfgo_proc(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"wait", l_wait},   {"kill", l_kill},       {"read", l_read},
        {"lines", l_lines}, {"write", l_write},     {"close_stdin", l_close_stdin},
        {"pid", l_pid},     {"running", l_running}, {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"spawn", l_spawn},
        {"run", l_run},
        {"interrupted", l_interrupted},
        {"clear_interrupted", l_clear_interrupted},
        {"hold_signals", l_hold_signals},
        {"release_signals", l_release_signals},
        {"interrupt", l_interrupt},
        {"signal_name", l_signal_name},
        {"which", l_which},
        {NULL, NULL},
    };
    bind_class(L, CHILD_MT, methods, l_gc, l_tostring);
    lua_pushlightuserdata(L, (void *)&proc_api);
    lua_setfield(L, LUA_REGISTRYINDEX, "perfgo.proc.api");
    luaL_newlib(L, funcs);
    return 1;
}
