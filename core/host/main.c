/*
 * perfgo: a Lua 5.4 host. It preloads the native modules, finds the Lua
 * scripts, runs require("perfgo.cli").main(args) in one protected call and
 * exits with the code the Lua side returns.
 *
 * Errors reach stderr in two tiers. A user error (a table raised by
 * perfgo.errors, with user_error = true) prints one line, "perfgo: MESSAGE",
 * and exits with its code (2 unless it says otherwise). Anything else is an
 * internal error: message and traceback, exit code 70. With --debug or
 * PERFGO_DEBUG=1 every error prints its traceback.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "host.h"

#define EXIT_INTERNAL 70
#define EXIT_USER 2

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A candidate Lua directory counts only if its entry script exists. */
static bool has_entry(const char *dir)
{
    char path[PATH_MAX + 32];
    int n = snprintf(path, sizeof path, "%s/perfgo/cli.lua", dir);
    return n > 0 && (size_t)n < sizeof path && is_file(path);
}

static bool set_path(char *dst, size_t size, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na + nb >= size)
        return false;
    memmove(dst, a, na);
    memcpy(dst + na, b, nb + 1);
    return true;
}

static void parent_dir(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash == path)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
}

/* Finds the scripts: PERFGO_LUA_DIR, then <bin>/../share/perfgo/lua,
 * then the source tree this binary was built from. */
static bool find_scripts(struct host_paths *paths, FILE *err)
{
    ssize_t n = readlink("/proc/self/exe", paths->exe, sizeof paths->exe - 1);
    if (n < 0)
        n = 0;
    paths->exe[n] = '\0';

    const char *env = getenv("PERFGO_LUA_DIR");
    if (env != NULL && env[0] != '\0') {
        if (has_entry(env) && set_path(paths->lua, sizeof paths->lua, env, "")) {
            const char *rules = getenv("PERFGO_RULES_DIR");
            if (rules != NULL && rules[0] != '\0') {
                set_path(paths->rules, sizeof paths->rules, rules, "");
            } else {
                char up[sizeof paths->lua];
                set_path(up, sizeof up, paths->lua, "");
                parent_dir(up);
                set_path(paths->rules, sizeof paths->rules, up, "/rules");
            }
            paths->origin = "PERFGO_LUA_DIR";
            return true;
        }
        fprintf(err, "perfgo: PERFGO_LUA_DIR=%s has no perfgo/cli.lua; ignoring it\n", env);
    }

    if (paths->exe[0] != '\0') {
        char prefix[sizeof paths->exe];
        set_path(prefix, sizeof prefix, paths->exe, "");
        parent_dir(prefix); /* bin/ */
        parent_dir(prefix); /* the prefix */
        char lua[sizeof paths->lua];
        if (set_path(lua, sizeof lua, prefix, "/" PERFGO_LUA_REL) && has_entry(lua)) {
            set_path(paths->lua, sizeof paths->lua, lua, "");
            set_path(paths->rules, sizeof paths->rules, prefix, "/" PERFGO_RULES_REL);
            set_path(paths->luac, sizeof paths->luac, prefix, "/" PERFGO_LUAC_REL);
            paths->origin = "install";
            return true;
        }
    }

    if (has_entry(PERFGO_SOURCE_DIR "/lua")) {
        set_path(paths->lua, sizeof paths->lua, PERFGO_SOURCE_DIR "/lua", "");
        set_path(paths->rules, sizeof paths->rules, PERFGO_SOURCE_DIR "/rules", "");
        set_path(paths->luac, sizeof paths->luac, PERFGO_LUAC_DIR, "");
        paths->origin = "source";
        return true;
    }

    fprintf(err,
            "perfgo: cannot find the Lua scripts (perfgo/cli.lua): looked in "
            "$PERFGO_LUA_DIR, %s/../%s and %s/lua\n",
            paths->exe[0] ? paths->exe : "<bin>", PERFGO_LUA_REL, PERFGO_SOURCE_DIR);
    return false;
}

static bool debug_requested(int argc, char **argv)
{
    const char *env = getenv("PERFGO_DEBUG");
    if (env != NULL && env[0] != '\0' && strcmp(env, "0") != 0)
        return true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--debug") == 0)
            return true;
    }
    return false;
}

static bool is_user_error(lua_State *L, int idx)
{
    if (!lua_istable(L, idx))
        return false;
    lua_getfield(L, idx, "user_error");
    bool user = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return user;
}

/* Message handler: user errors pass through (with a traceback attached
 * for --debug); everything else becomes "message\ntraceback". */
static int message_handler(lua_State *L)
{
    if (is_user_error(L, 1)) {
        luaL_traceback(L, L, NULL, 1);
        lua_setfield(L, 1, "traceback");
        lua_settop(L, 1);
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Reports the error on top of the stack; returns the exit code. */
static int report_error(lua_State *L, bool debug)
{
    if (is_user_error(L, -1)) {
        lua_getfield(L, -1, "message");
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "perfgo: %s\n", msg ? msg : "error");
        lua_pop(L, 1);
        if (debug) {
            lua_getfield(L, -1, "traceback");
            if (lua_isstring(L, -1))
                fprintf(stderr, "%s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        lua_getfield(L, -1, "exit_code");
        int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : EXIT_USER;
        lua_pop(L, 1);
        return code;
    }
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "perfgo: internal error: %s\n", msg ? msg : "(no message)");
    return EXIT_INTERNAL;
}

static void preload(lua_State *L, struct host_paths *paths)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *m = host_native_modules; m->name != NULL; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    lua_pushlightuserdata(L, paths);
    lua_pushcclosure(L, host_open_info, 1);
    lua_setfield(L, -2, "perfgo.host");
    lua_pop(L, 1);
}

/* package.path: the perfgo scripts first, then Lua's defaults. */
static void set_package_path(lua_State *L, const struct host_paths *paths)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    const char *old = lua_tostring(L, -1);
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", paths->lua, paths->lua, old ? old : "");
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

/* Runs require("perfgo.cli").main(args); the result is the exit code. */
static int run_cli(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "perfgo.cli");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "main");
    lua_createtable(L, argc > 1 ? argc - 1 : 0, 1);
    lua_pushstring(L, argv[0]);
    lua_rawseti(L, -2, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_call(L, 1, 1);
    return 1;
}

int main(int argc, char **argv)
{
    host_prepare_heap();
    struct host_paths paths = {.origin = ""};
    if (!find_scripts(&paths, stderr))
        return EXIT_INTERNAL;
    bool debug = debug_requested(argc, argv);

    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "perfgo: cannot create the Lua state: out of memory\n");
        return EXIT_INTERNAL;
    }
    luaL_openlibs(L);
    preload(L, &paths);
    set_package_path(L, &paths);
    host_add_bytecode_searcher(L, &paths);

    int code;
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, run_cli);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    if (lua_pcall(L, 2, 1, 1) != LUA_OK)
        code = report_error(L, debug);
    else if (lua_isinteger(L, -1))
        code = (int)lua_tointeger(L, -1);
    else if (lua_isboolean(L, -1))
        code = lua_toboolean(L, -1) ? 0 : 1;
    else
        code = 0;
    /* What was written to stdout and not yet flushed: a full disk or
     * /dev/full makes a success a failure (a reader that went away,
     * EPIPE, is not worth a message; a run that failed said why) */
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && errno != EPIPE && code == 0) {
        fprintf(stderr, "perfgo: cannot write to stdout: %s\n", strerror(errno ? errno : EIO));
        code = 1;
    }
    lua_close(L);
    return code;
}
