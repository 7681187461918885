/* Precompiled scripts: a package searcher, tried before Lua's own, that
 * loads <luac dir>/<module path>.luac instead of compiling the module's
 * script. The build compiles every script under lua/ and argparse with
 * luac and gives each .luac its source's modification time; a .luac is
 * taken only when
 *   - the script Lua's searcher would load (package.searchpath) has
 *     exactly that time (an edited script is read from source), and
 *   - the chunk was compiled from a file of that module path (its chunk
 *     name is a path suffix of the script).
 * Anything else (no .luac, another Lua version, a different script found
 * first) leaves the module to Lua's searcher. */
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"

static bool same_mtime(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* "@perfgo/cli.lua" names "/x/lua/perfgo/cli.lua" */
static bool chunk_names(const char *chunk, const char *path)
{
    if (chunk == NULL || chunk[0] != '@')
        return false;
    size_t nc = strlen(chunk + 1), np = strlen(path);
    return nc > 0 && nc < np && path[np - nc - 1] == '/' && strcmp(path + np - nc, chunk + 1) == 0;
}

static int bytecode_searcher(lua_State *L)
{
    struct host_paths *paths = lua_touserdata(L, lua_upvalueindex(1));
    const char *name = luaL_checkstring(L, 1);

    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchpath");
    lua_pushvalue(L, 1);
    lua_getfield(L, -3, "path");
    lua_call(L, 2, 1);
    const char *script = lua_tostring(L, -1);
    if (script == NULL)
        return 0;

    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, paths->luac);
    luaL_addchar(&b, '/');
    for (const char *c = name; *c; c++)
        luaL_addchar(&b, *c == '.' ? '/' : *c);
    luaL_addstring(&b, ".luac");
    luaL_pushresult(&b);
    const char *compiled = lua_tostring(L, -1);

    struct stat ss, cs;
    if (stat(script, &ss) != 0 || stat(compiled, &cs) != 0 || !same_mtime(&ss, &cs))
        return 0;
    if (luaL_loadfilex(L, compiled, "b") != LUA_OK)
        return 0;
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    if (!chunk_names(ar.source, script))
        return 0;
    paths->luac_loaded++;
    lua_pushstring(L, script); /* the loader's data, as Lua's searcher gives */
    return 2;
}

void host_add_bytecode_searcher(lua_State *L, struct host_paths *paths)
{
    if (paths->luac[0] == '\0')
        return;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = n; i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushlightuserdata(L, paths);
    lua_pushcclosure(L, bytecode_searcher, 1);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}
