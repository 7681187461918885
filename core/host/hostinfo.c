/* perfgo.host: what only the host knows (versions, script directories). */
#include <libdeflate.h>
#include <protobuf-c/protobuf-c.h>
#include <zlib.h>

#include "host.h"

int host_open_info(lua_State *L)
{
    const struct host_paths *paths = lua_touserdata(L, lua_upvalueindex(1));
    lua_createtable(L, 0, 8);
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
    }
    return 1;
}
