/*
 * perfgo.ssh: sessions over one OpenSSH control master. A session is a
 * full userdata "perfgo.ssh.session"; __gc and __close run `ssh -O exit`.
 * Remote commands are argv lists, quoted here, run through `sh -c` on the
 * remote; :run and :spawn hand the local ssh argv to perfgo.proc, so the
 * stream options, Ctrl-C forwarding and cleanup are proc's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "binding.h"
#include "proc/proc.h"
#include "ssh/ssh.h"
#include "ssh_lua.h"

#define SESSION_MT "perfgo.ssh.session"

struct lsession {
    struct ssh_session *s;
    const struct proc_api *api;
};

static struct lsession *check_session(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, SESSION_MT);
}

static struct ssh_session *open_session(lua_State *L, int idx)
{
    struct lsession *u = bind_live(L, idx, SESSION_MT, "session");
    return u->s;
}

/* A list of strings at idx as a NULL-terminated array; the strings stay
 * alive as long as the list (at idx) does. Pushes the array's userdata. */
static const char **string_list(lua_State *L, int idx, const char *what, size_t *n_out)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, idx);
    const char **v = bind_scratch(L, (n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, idx, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s[%d] must be a string", what, (int)i + 1);
        v[i] = lua_tostring(L, -1);
        lua_pop(L, 1); /* still referenced by the list */
    }
    if (n_out)
        *n_out = n;
    return v;
}

/* ssh.connect{host, user, port, identity, config, options, control_dir,
 * connect_timeout, persist} -> session | nil, message */
static int l_connect(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const names[] = {"host",    "user",        "port",    "identity",
                                        "config",  "control_dir", "options", "connect_timeout",
                                        "persist", NULL};
    opts_check(L, 1, "ssh.connect", names);
    lua_settop(L, 1);
    struct ssh_connect_opts o;
    memset(&o, 0, sizeof o);
    /* Keep every string we point to in one anchor table. */
    lua_newtable(L);
    int anchor = 2;
    static const char *const keys[] = {"host", "user", "port", "identity", "config", "control_dir"};
    const char *vals[6] = {0};
    for (int i = 0; i < 6; i++) {
        lua_getfield(L, 1, keys[i]);
        if (lua_type(L, -1) == LUA_TNUMBER)
            luaL_tolstring(L, -1, NULL), lua_remove(L, -2);
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "ssh.connect: %s must be a string", keys[i]);
            vals[i] = lua_tostring(L, -1);
            lua_rawseti(L, anchor, i + 1);
        } else {
            lua_pop(L, 1);
        }
    }
    if (vals[0] == NULL)
        return luaL_error(L, "ssh.connect: host is required");
    o.host = vals[0], o.user = vals[1], o.port = vals[2];
    o.identity = vals[3], o.config = vals[4], o.control_dir = vals[5];
    lua_getfield(L, 1, "connect_timeout");
    o.connect_timeout = (int)luaL_optinteger(L, -1, 10);
    lua_getfield(L, 1, "persist");
    o.persist = (int)luaL_optinteger(L, -1, 120);
    lua_pop(L, 2);

    /* options: {Key = "value"} or {"Key=value", ...} */
    lua_getfield(L, 1, "options");
    if (!lua_isnil(L, -1)) {
        luaL_argexpected(L, lua_istable(L, -1), 1, "options as a table");
        int t = lua_gettop(L);
        size_t n = 0;
        for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1))
            n++;
        const char **opts = bind_scratch(L, (n + 1) * sizeof *opts);
        lua_rawseti(L, anchor, 100);
        size_t i = 0;
        for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
            if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TSTRING) {
                lua_pushvalue(L, -1);
            } else if (lua_type(L, -2) == LUA_TSTRING) {
                const char *v = luaL_tolstring(L, -1, NULL);
                lua_pushfstring(L, "%s=%s", lua_tostring(L, -3), v);
                lua_remove(L, -2); /* the converted value, now copied */
            } else {
                return luaL_error(L, "ssh.connect: options must be {Key = value} or "
                                     "{\"Key=value\"}");
            }
            opts[i++] = lua_tostring(L, -1);
            lua_rawseti(L, anchor, 200 + (lua_Integer)i);
        }
        o.options = opts;
    }
    lua_settop(L, 2);

    lua_getfield(L, lua_upvalueindex(1), "api");
    const struct proc_api *api = lua_touserdata(L, -1);
    lua_pop(L, 1);
    struct lsession *u = bind_new(L, sizeof *u, SESSION_MT, 1);
    u->api = api;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setiuservalue(L, -2, 1);
    char err[2048];
    u->s = ssh_connect(&o, api, err, sizeof err);
    if (u->s == NULL)
        return bind_fail(L, err);
    return 1;
}

/* Reads cwd/env (remote side) from opts at idx. */
static struct ssh_env *remote_env(lua_State *L, int opts, const char **cwd, size_t *n_env)
{
    *cwd = NULL;
    *n_env = 0;
    if (opts == 0)
        return NULL;
    lua_getfield(L, opts, "cwd");
    if (!lua_isnil(L, -1))
        *cwd = luaL_checkstring(L, -1);
    lua_pop(L, 1); /* the string stays reachable from opts */
    lua_getfield(L, opts, "env");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    luaL_argexpected(L, lua_istable(L, -1), 3, "opts.env as a table");
    int t = lua_gettop(L);
    size_t n = 0;
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1))
        n++;
    struct ssh_env *e = bind_scratch(L, n * sizeof *e);
    size_t i = 0;
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "opts.env: names must be strings");
        e[i].name = lua_tostring(L, -2);
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))
            e[i].value = NULL;
        else if (lua_type(L, -1) == LUA_TSTRING)
            e[i].value = lua_tostring(L, -1);
        else
            luaL_error(L, "opts.env.%s must be a string or false", e[i].name);
        i++;
    }
    *n_env = n;
    lua_remove(L, t); /* the env table stays reachable from opts */
    return e;
}

/* Pushes the local argv (a Lua list) for cmd at idx with opts at oidx. */
static void push_argv(lua_State *L, struct ssh_session *s, int idx, int oidx, enum ssh_wrap wrap)
{
    const char **argv = string_list(L, idx, "argv", NULL);
    int keep = lua_gettop(L);
    if (argv[0] == NULL)
        luaL_argerror(L, idx, "argv must have a program name");
    const char *cwd;
    size_t n_env;
    struct ssh_env *env = remote_env(L, oidx, &cwd, &n_env);
    struct ssh_argv a = {0};
    if (ssh_command_argv(s, &a, argv, cwd, env, n_env, wrap) != 0) {
        ssh_argv_free(&a);
        if (errno == EINVAL)
            luaL_error(L, "opts.env: bad variable name");
        luaL_error(L, "out of memory");
    }
    lua_settop(L, keep - 1);
    lua_createtable(L, (int)a.n, 0);
    for (size_t i = 0; i < a.n; i++) {
        lua_pushstring(L, a.v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    ssh_argv_free(&a);
}

static bool wants_stdin(lua_State *L, int oidx)
{
    if (oidx == 0)
        return false;
    lua_getfield(L, oidx, "stdin");
    lua_getfield(L, oidx, "input");
    bool r = !lua_isnil(L, -2) || !lua_isnil(L, -1);
    lua_pop(L, 2);
    return r;
}

/* The local opts for proc: the stream options of opts, stdin held open for
 * the watchdog unless the caller feeds stdin. */
static void push_local_opts(lua_State *L, int oidx, bool feeds_stdin)
{
    static const char *const pass[] = {"stdin", "stdout", "stderr", "input", "timeout", NULL};
    lua_newtable(L);
    for (int i = 0; oidx != 0 && pass[i]; i++) {
        lua_getfield(L, oidx, pass[i]);
        lua_setfield(L, -2, pass[i]);
    }
    if (!feeds_stdin) {
        lua_pushliteral(L, "hold");
        lua_setfield(L, -2, "stdin");
    }
}

/* Calls perfgo.proc's fn(argv, opts); returns what it returns (run: the
 * result; spawn: the child, or nil and a message). */
static int call_proc(lua_State *L, const char *fn, int argv_idx, int opts_idx)
{
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "module");
    lua_getfield(L, -1, fn);
    lua_pushvalue(L, argv_idx);
    lua_pushvalue(L, opts_idx);
    int base = lua_gettop(L) - 3;
    lua_call(L, 2, LUA_MULTRET);
    return lua_gettop(L) - base;
}

/* session:run(argv, opts) -> like proc.run | nil, message when the
 * connection is gone */
static int l_run(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    static const char *const keys[] = {"cwd",    "env",   "stdin",   "stdout",
                                       "stderr", "input", "timeout", NULL};
    int oidx = opts_table(L, 3, "session:run", keys) ? 3 : 0;
    lua_settop(L, 3);
    bool feeds = wants_stdin(L, oidx);
    push_argv(L, s, 2, oidx, feeds ? SSH_PLAIN : SSH_WATCHDOG);
    push_local_opts(L, oidx, feeds);
    call_proc(L, "run", 4, 5);
    lua_getfield(L, -1, "code");
    if (lua_tointeger(L, -1) == 255 && !ssh_alive(s)) {
        /* What the client said is about its refused fallback (it never
         * connects by itself): the news is that the master is gone. */
        lua_pushfstring(L, "connection to %s lost (its SSH master has ended)", ssh_target(s));
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pop(L, 1);
    return 1;
}

/* session:spawn(argv, opts) -> proc child (stdin held open: see README) */
static int l_spawn(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    static const char *const keys[] = {"cwd", "env", "stdin", "stdout", "stderr", NULL};
    int oidx = opts_table(L, 3, "session:spawn", keys) ? 3 : 0;
    lua_settop(L, 3);
    bool feeds = wants_stdin(L, oidx);
    push_argv(L, s, 2, oidx, feeds ? SSH_PLAIN : SSH_WATCHDOG);
    push_local_opts(L, oidx, feeds);
    return call_proc(L, "spawn", 4, 5);
}

/* session:argv(argv, opts) -> local argv; opts.watchdog = true wraps the
 * command so it dies with the connection (spawn it with stdin = "hold"). */
static int l_argv(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    static const char *const keys[] = {"cwd", "env", "watchdog", NULL};
    int oidx = opts_table(L, 3, "session:argv", keys) ? 3 : 0;
    lua_settop(L, 3);
    bool watchdog = oidx && opts_bool(L, oidx, "session:argv", "watchdog", false);
    push_argv(L, s, 2, oidx, watchdog ? SSH_WATCHDOG : SSH_PLAIN);
    return 1;
}

static int ok_or_fail(lua_State *L, int rc, const char *err)
{
    if (rc != 0)
        return bind_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_put(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    char err[2048];
    int rc = ssh_put(s, luaL_checkstring(L, 2), luaL_checkstring(L, 3), err, sizeof err);
    return ok_or_fail(L, rc, err);
}

static int l_get(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    char err[2048];
    int rc = ssh_get(s, luaL_checkstring(L, 2), luaL_checkstring(L, 3), err, sizeof err);
    return ok_or_fail(L, rc, err);
}

/* session:put_tree(files, remote_dir, {base=, method="rsync"|"tar"})
 * -> {method=, sent={...}} | nil, message */
static int l_put_tree(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    const char *remote = luaL_checkstring(L, 3);
    static const char *const keys[] = {"base", "method", NULL};
    int oidx = opts_table(L, 4, "session:put_tree", keys) ? 4 : 0;
    lua_settop(L, 4);
    size_t n;
    const char **files = string_list(L, 2, "files", &n);
    for (size_t i = 0; i < n; i++)
        if (files[i][0] == '/' || strcmp(files[i], "..") == 0 || strncmp(files[i], "../", 3) == 0 ||
            strstr(files[i], "/../") != NULL)
            luaL_argerror(L, 2, "paths must be relative to the base and stay inside it");
    const char *base = ".";
    enum ssh_tree_method method = SSH_TREE_AUTO;
    if (oidx) {
        lua_getfield(L, oidx, "base");
        if (!lua_isnil(L, -1))
            base = luaL_checkstring(L, -1);
        lua_getfield(L, oidx, "method");
        if (!lua_isnil(L, -1)) {
            static const char *const names[] = {"auto", "rsync", "tar", NULL};
            method = (enum ssh_tree_method)luaL_checkoption(L, -1, NULL, names);
        }
        lua_pop(L, 1); /* base stays on the stack, alive */
    }
    struct ssh_argv sent = {0};
    enum ssh_tree_method used;
    char err[4096];
    int rc = ssh_put_tree(s, files, n, base, remote, method, &used, &sent, err, sizeof err);
    if (rc != 0) {
        ssh_argv_free(&sent);
        return bind_fail(L, err);
    }
    lua_createtable(L, 0, 2);
    lua_pushstring(L, used == SSH_TREE_RSYNC ? "rsync" : "tar");
    lua_setfield(L, -2, "method");
    lua_createtable(L, (int)sent.n, 0);
    for (size_t i = 0; i < sent.n; i++) {
        lua_pushstring(L, sent.v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    ssh_argv_free(&sent);
    lua_setfield(L, -2, "sent");
    return 1;
}

static int l_platform(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    const char *os, *arch;
    char err[2048];
    if (ssh_platform(s, &os, &arch, err, sizeof err) != 0)
        return bind_fail(L, err);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, os);
    lua_setfield(L, -2, "os");
    lua_pushstring(L, arch);
    lua_setfield(L, -2, "arch");
    return 1;
}

static int l_home(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    char err[2048];
    const char *home = ssh_home(s, err, sizeof err);
    if (home == NULL)
        return bind_fail(L, err);
    lua_pushstring(L, home);
    return 1;
}

static int simple(lua_State *L, const char *const *argv, const char *what)
{
    struct ssh_session *s = open_session(L, 1);
    struct ssh_result r;
    char err[2048];
    int rc = ssh_exec_ok(s, argv, NULL, NULL, &r, what, err, sizeof err);
    if (rc == 0)
        ssh_result_free(&r);
    return ok_or_fail(L, rc, err);
}

static int l_mkdir_p(lua_State *L)
{
    const char *argv[] = {"mkdir", "-p", "--", luaL_checkstring(L, 2), NULL};
    return simple(L, argv, "mkdir -p");
}

static int l_remove_tree(lua_State *L)
{
    const char *path = luaL_checkstring(L, 2);
    const char *p = path;
    while (*p == '/' || *p == '.')
        p++;
    luaL_argcheck(L, *p != '\0', 2, "refusing to remove '/', '.' or an empty path");
    const char *argv[] = {"rm", "-rf", "--", path, NULL};
    return simple(L, argv, "rm -rf");
}

/* session:channel(script, {heartbeat = seconds}) -> channel | nil, message */
static int l_channel(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    const char *script = luaL_checkstring(L, 2);
    double heartbeat = 1.0;
    static const char *const keys[] = {"heartbeat", NULL};
    if (opts_table(L, 3, "session:channel", keys)) {
        lua_getfield(L, 3, "heartbeat");
        heartbeat = luaL_optnumber(L, -1, 1.0);
        lua_pop(L, 1);
        luaL_argcheck(L, heartbeat > 0, 3, "heartbeat must be positive");
    }
    return perfgo_ssh_push_channel(L, s, script, heartbeat);
}

/* session:rsync_shell() -> the -e argument for rsync | nil, message */
static int l_rsync_shell(lua_State *L)
{
    struct ssh_session *s = open_session(L, 1);
    char err[512];
    char *rsh = ssh_rsync_shell(s, err, sizeof err);
    if (rsh == NULL)
        return bind_fail(L, err);
    lua_pushstring(L, rsh);
    free(rsh);
    return 1;
}

/* ssh.command_script(argv, {cwd=, env=, watchdog=}) -> the sh script that
 * runs argv */
static int l_command_script(lua_State *L)
{
    static const char *const keys[] = {"cwd", "env", "watchdog", NULL};
    int oidx = opts_table(L, 2, "ssh.command_script", keys) ? 2 : 0;
    lua_settop(L, 2);
    const char **argv = string_list(L, 1, "argv", NULL);
    if (argv[0] == NULL)
        luaL_argerror(L, 1, "argv must have a program name");
    bool watchdog = oidx && opts_bool(L, oidx, "ssh.command_script", "watchdog", false);
    const char *cwd;
    size_t n_env;
    struct ssh_env *env = remote_env(L, oidx, &cwd, &n_env);
    struct ssh_str out = {0};
    if (ssh_command_script(&out, argv, cwd, env, n_env, watchdog ? SSH_WATCHDOG : SSH_PLAIN) != 0) {
        ssh_str_free(&out);
        if (errno == EINVAL)
            return luaL_error(L, "opts.env: bad variable name");
        return luaL_error(L, "out of memory");
    }
    lua_pushlstring(L, out.p, out.len);
    ssh_str_free(&out);
    return 1;
}

static int l_alive(lua_State *L)
{
    struct lsession *u = check_session(L, 1);
    lua_pushboolean(L, u->s != NULL && ssh_alive(u->s));
    return 1;
}

static int l_target(lua_State *L)
{
    lua_pushstring(L, ssh_target(open_session(L, 1)));
    return 1;
}

static int l_destination(lua_State *L)
{
    lua_pushstring(L, ssh_destination(open_session(L, 1)));
    return 1;
}

static int l_control_path(lua_State *L)
{
    lua_pushstring(L, ssh_control_path(open_session(L, 1)));
    return 1;
}

/* session:close(); also __gc and __close. Idempotent. */
static int l_close(lua_State *L)
{
    struct lsession *u = check_session(L, 1);
    if (u->s != NULL) {
        ssh_free(u->s);
        u->s = NULL;
    }
    return 0;
}

static int l_tostring(lua_State *L)
{
    struct lsession *u = check_session(L, 1);
    if (u->s == NULL)
        lua_pushliteral(L, "perfgo.ssh.session (closed)");
    else
        lua_pushfstring(L, "perfgo.ssh.session (%s)", ssh_target(u->s));
    return 1;
}

/* ssh.quote(s) -> s quoted for a POSIX shell (and fish) */
static int l_quote(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    struct ssh_str out = {0};
    if (ssh_quote(&out, s) != 0) {
        ssh_str_free(&out);
        return luaL_error(L, "out of memory");
    }
    lua_pushlstring(L, out.p, out.len);
    ssh_str_free(&out);
    return 1;
}

/* ssh.goarch(uname_m), ssh.goos(uname_s) -> Go names */
static int l_goarch(lua_State *L)
{
    char out[64];
    ssh_goarch(luaL_checkstring(L, 1), out, sizeof out);
    lua_pushstring(L, out);
    return 1;
}

static int l_goos(lua_State *L)
{
    char out[64];
    ssh_goos(luaL_checkstring(L, 1), out, sizeof out);
    lua_pushstring(L, out);
    return 1;
}

int luaopen_perfgo_ssh(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"run", l_run},
        {"spawn", l_spawn},
        {"argv", l_argv},
        {"put", l_put},
        {"get", l_get},
        {"put_tree", l_put_tree},
        {"platform", l_platform},
        {"home", l_home},
        {"mkdir_p", l_mkdir_p},
        {"remove_tree", l_remove_tree},
        {"alive", l_alive},
        {"channel", l_channel},
        {"rsync_shell", l_rsync_shell},
        {"target", l_target},
        {"control_path", l_control_path},
        {"destination", l_destination},
        {"close", l_close},
        {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"connect", l_connect},
        {"quote", l_quote},
        {"goarch", l_goarch},
        {"goos", l_goos},
        {"command_script", l_command_script},
        {NULL, NULL},
    };
    /* The process layer: perfgo.proc's module table and its C API. */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "perfgo.proc");
    lua_call(L, 1, 1);
    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_setfield(L, -2, "module");
    lua_getfield(L, LUA_REGISTRYINDEX, "perfgo.proc.api");
    if (lua_type(L, -1) != LUA_TLIGHTUSERDATA)
        return luaL_error(L, "perfgo.ssh: perfgo.proc did not publish its API");
    lua_setfield(L, -2, "api");
    int procinfo = lua_gettop(L);

    perfgo_ssh_channel_register(L);
    bind_class(L, SESSION_MT, methods, l_close, l_tostring);
    luaL_newlibtable(L, funcs);
    lua_pushvalue(L, procinfo);
    luaL_setfuncs(L, funcs, 1);
    perfgo_ssh_script_funcs(L);
    return 1;
}
