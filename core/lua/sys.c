/* perfgo.sys: random ids, clocks, host name, terminals, output files, trust
 * in configuration files. */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>
#include <unistd.h>

#include "binding.h"
#include "sys/sys.h"
#include "sys/trust.h"
#include "sys/writefile.h"

/* sys.random_id() -> 32 lowercase hex digits (16 random bytes). */
static int l_random_id(lua_State *L)
{
    char id[SYS_ID_HEX_LEN + 1];
    int err = sys_random_id(id);
    if (err != 0)
        return luaL_error(L, "random_id: getrandom failed: %s", strerror(err));
    lua_pushlstring(L, id, SYS_ID_HEX_LEN);
    return 1;
}

/* sys.monotonic() -> seconds on a monotonic clock (for durations). */
static int l_monotonic(lua_State *L)
{
    lua_pushnumber(L, sys_monotonic());
    return 1;
}

/* sys.realtime() -> seconds since the epoch, with sub-second precision. */
static int l_realtime(lua_State *L)
{
    lua_pushnumber(L, sys_realtime());
    return 1;
}

/* sys.hostname() -> the machine's host name, or nil, message. */
static int l_hostname(lua_State *L)
{
    char name[256];
    int err = sys_hostname(name, sizeof name);
    if (err != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "gethostname: %s", strerror(err));
        return 2;
    }
    lua_pushstring(L, name);
    return 1;
}

/* sys.isatty(fd) -> true when file descriptor fd (0, 1 or 2) is a terminal. */
static int l_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    luaL_argcheck(L, fd >= 0 && fd <= 1024, 1, "file descriptor out of range");
    lua_pushboolean(L, sys_isatty((int)fd));
    return 1;
}

/* sys.write_file(path, data) -> true | nil, message: replaced whole (or
 * written in place when it is a device or FIFO), modes kept, symbolic
 * links followed as the kernel's protected_symlinks rule allows
 * (core/sys/writefile.h). */
static int l_write_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    char err[1024];
    if (sys_write_file(path, data, len, err, sizeof err) != 0)
        return bind_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.untrusted(path) -> nil when the file at the absolute path may be run
 * as code by this user, else why not: it or a directory on its path (or
 * on its real path) belongs to someone other than the user or root, or is
 * writable by group or others (sticky directories apart), or cannot be
 * examined (core/sys/trust.h). */
static int l_untrusted(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char why[1024];
    int rc = sys_untrusted(path, geteuid(), why, sizeof why);
    if (rc == 0) {
        lua_pushnil(L);
    } else if (rc > 0) {
        lua_pushstring(L, why);
    } else {
        lua_pushfstring(L, "it cannot be examined (%s)", why);
    }
    return 1;
}

int luaopen_perfgo_sys(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"random_id", l_random_id}, {"monotonic", l_monotonic},
        {"realtime", l_realtime},   {"hostname", l_hostname},
        {"isatty", l_isatty},       {"write_file", l_write_file},
        {"untrusted", l_untrusted}, {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    return 1;
}
