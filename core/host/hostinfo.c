/* perfgo.host: what only the host knows (versions, script directories). */
#include <libdeflate.h>
#include <protobuf-c/protobuf-c.h>
#include <zlib.h>

#include "host.h"

/* host.luac_loaded(): how many modules came from precompiled chunks */
static int luac_loaded(lua_State *L)
{
    const struct host_paths *paths = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushinteger(L, paths->luac_loaded);
    return 1;
}

int host_open_info(lua_State *L)
{
    const struct host_paths *paths = lua_touserdata(L, lua_upvalueindex(1));
    lua_createtable(L, 0, 10);
    lua_pushliteral(L, PERFGO_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushliteral(L, LUA_RELEASE);
    lua_setfield(L, -2, "lua_version");
    lua_pushstring(L, protobuf_c_version());
    lua_setfield(L, -2, "protobuf_c_version");
    lua_pushstring(L, zlibVersion());
    lua_setfield(L, -2, "zlib_version");
    lua_pushliteral(L, LIBDEFLATE_VERSION_STRING);
    lua_setfield(L, -2, "libdeflate_version");
    if (paths != NULL) {
        lua_pushstring(L, paths->exe);
        lua_setfield(L, -2, "exe");
        lua_pushstring(L, paths->lua);
        lua_setfield(L, -2, "lua_dir");
        lua_pushstring(L, paths->rules);
        lua_setfield(L, -2, "rules_dir");
        lua_pushstring(L, paths->origin);
        lua_setfield(L, -2, "origin");
        lua_pushstring(L, paths->luac);
        lua_setfield(L, -2, "luac_dir");
        lua_pushlightuserdata(L, (void *)paths);
        lua_pushcclosure(L, luac_loaded, 1);
        lua_setfield(L, -2, "luac_loaded");
    }
    return 1;
}
