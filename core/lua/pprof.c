/* perfgo.pprof: pprof profiles from Lua. Reading, writing (pprof, folded),
 * inspecting, rewriting mappings, building, and the symmap address rule.
 * Its LuaLS annotations, the reference for users, are in
 * core/lua/api/perfgo/pprof.lua (installed with the other stubs; a spec
 * checks that they name exactly what this module registers). */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "profile/symmap.h"
#include "profile_udata.h"

#define SYMMAP_MT "perfgo.pprof.symmap"

static bool looks_like_bytes(const char *s, size_t len)
{
    if (len >= 2 && (unsigned char)s[0] == 0x1f && (unsigned char)s[1] == 0x8b)
        return true;
    if (len == 0 || (unsigned char)s[0] < 0x20)
        return true;
    return memchr(s, '\0', len) != NULL;
}

static int push_result(lua_State *L, prof_profile *p, const char *err)
{
    if (!p) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    perfgo_profile_push(L, p);
    return 1;
}

/* The options of read and decode at index 2. */
static prof_decode_options decode_opts(lua_State *L, const char *fname)
{
    static const char *const names[] = {"max_size", NULL};
    prof_decode_options o = {0};
    if (opts_table(L, 2, fname, names)) {
        lua_Integer n = opts_integer(L, 2, fname, "max_size", 0, NULL);
        if (n < 1)
            luaL_error(L, "%s: option 'max_size' must be a positive number of bytes", fname);
        o.max_size = (size_t)n;
    }
    return o;
}

static int decode_bytes(lua_State *L, const char *fname)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    prof_decode_options o = decode_opts(L, fname);
    char err[512], msg[560];
    prof_profile *p = prof_decode_ex((const unsigned char *)s, len, &o, err, sizeof err);
    snprintf(msg, sizeof msg, "profile data: %s", err);
    return push_result(L, p, msg);
}

static int l_decode(lua_State *L)
{
    return decode_bytes(L, "pprof.decode");
}

static int l_read(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (looks_like_bytes(s, len))
        return decode_bytes(L, "pprof.read");
    prof_decode_options o = decode_opts(L, "pprof.read");
    char err[1024];
    prof_profile *p = prof_read_file_ex(s, &o, err, sizeof err);
    return push_result(L, p, err);
}

static int l_new(lua_State *L)
{
    prof_profile *p = prof_new();
    if (!p)
        return luaL_error(L, "out of memory");
    perfgo_profile_push(L, p);
    return 1;
}

/* ---- symmap userdata: uservalue 1 = the profile userdata ---- */

typedef struct symmap_ud {
    symmap *s;
} symmap_ud;

static symmap *check_symmap(lua_State *L)
{
    symmap_ud *u = bind_live(L, 1, SYMMAP_MT, "symmap");
    lua_getiuservalue(L, 1, 1);
    perfgo_profile_check(L, -1); /* raises if the profile was closed */
    lua_pop(L, 1);
    return u->s;
}

static int sm_gc(lua_State *L)
{
    symmap_ud *u = luaL_checkudata(L, 1, SYMMAP_MT);
    symmap_free(u->s);
    u->s = NULL;
    return 0;
}

static int l_symmap(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    symmap_options o = {0};
    symmap_path *pm = NULL;
    static const char *const keys[] = {"binary_root", "remote", "addresses", "path_map", NULL};
    const char *fn = "pprof.symmap";
    if (opts_table(L, 2, fn, keys)) {
        /* the strings live in the options table; symmap_new copies them */
        o.binary_root = opts_string(L, 2, fn, "binary_root", NULL);
        o.remote = opts_bool(L, 2, fn, "remote", false);
        const char *a = opts_string(L, 2, fn, "addresses", NULL);
        if (!a || strcmp(a, "auto") == 0)
            o.addr_kind = SYMMAP_ADDR_AUTO;
        else if (strcmp(a, "offset") == 0)
            o.addr_kind = SYMMAP_ADDR_OFFSET;
        else if (strcmp(a, "raw") == 0)
            o.addr_kind = SYMMAP_ADDR_RAW;
        else
            return luaL_error(L, "%s: addresses must be \"auto\", \"offset\" or \"raw\"", fn);
        if (lua_getfield(L, 2, "path_map") != LUA_TNIL) {
            if (!lua_istable(L, -1))
                return luaL_error(
                    L, "%s: option 'path_map' must be a table {[profiled_path] = local_path}", fn);
            int t = lua_gettop(L);
            size_t n = 0;
            for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1))
                n++;
            pm = bind_scratch(L, n * sizeof *pm);
            n = 0;
            for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
                if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                    return luaL_error(L, "path_map must map strings to strings");
                pm[n].from = lua_tostring(L, -2);
                pm[n].to = lua_tostring(L, -1);
                n++;
            }
            o.path_map = pm;
            o.npath_map = n;
        }
    }
    symmap_ud *u = bind_new(L, sizeof *u, SYMMAP_MT, 1);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    u->s = symmap_new(p, &o); /* copies the options */
    if (!u->s)
        return luaL_error(L, "out of memory");
    return 1;
}

static lua_Integer opt_int(lua_State *L, int t, const char *k, lua_Integer d, bool *present)
{
    lua_Integer v = d;
    if (lua_getfield(L, t, k) != LUA_TNIL) {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "mmap: field '%s' must be an integer", k);
        if (present)
            *present = true;
    }
    lua_pop(L, 1);
    return v;
}

static int sm_mmap(lua_State *L)
{
    symmap *s = check_symmap(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const keys[] = {"pid", "start", "len",  "pgoff",    "maj", "min",
                                       "ino", "path",  "exec", "build_id", NULL};
    opts_check(L, 2, "symmap:mmap", keys);
    symmap_mmap m = {0};
    m.pid = (int)opt_int(L, 2, "pid", -1, NULL);
    m.start = (uint64_t)opt_int(L, 2, "start", 0, NULL);
    m.len = (uint64_t)opt_int(L, 2, "len", 0, NULL);
    m.pgoff = (uint64_t)opt_int(L, 2, "pgoff", 0, NULL);
    m.maj = (unsigned)opt_int(L, 2, "maj", 0, &m.dev_known);
    m.min = (unsigned)opt_int(L, 2, "min", 0, NULL);
    m.ino = (uint64_t)opt_int(L, 2, "ino", 0, NULL);
    lua_getfield(L, 2, "path");
    m.path = luaL_checklstring(L, -1, &m.path_len);
    lua_getfield(L, 2, "build_id");
    m.build_id = luaL_optlstring(L, -1, NULL, &m.build_id_len);
    m.exec = opts_bool(L, 2, "symmap:mmap", "exec", true);
    if (symmap_add_mmap(s, &m) != 0)
        return luaL_error(L, "out of memory");
    return 0;
}

static int sm_fork(lua_State *L)
{
    symmap *s = check_symmap(L);
    if (symmap_add_fork(s, (int)luaL_checkinteger(L, 2), (int)luaL_checkinteger(L, 3)) != 0)
        return luaL_error(L, "out of memory");
    return 0;
}

static int sm_exec(lua_State *L)
{
    symmap_add_exec(check_symmap(L), (int)luaL_checkinteger(L, 2));
    return 0;
}

static int sm_build_id(lua_State *L)
{
    symmap *s = check_symmap(L);
    size_t pl, hl;
    const char *path = luaL_checklstring(L, 2, &pl), *hex = luaL_checklstring(L, 3, &hl);
    if (symmap_add_build_id(s, path, pl, hex, hl) != 0)
        return luaL_error(L, "out of memory");
    return 0;
}

static int sm_resolve(lua_State *L)
{
    symmap *s = check_symmap(L);
    size_t len;
    const char *dso = luaL_checklstring(L, 2, &len);
    uint64_t addr = (uint64_t)luaL_checkinteger(L, 3);
    int pid = (int)luaL_optinteger(L, 4, -1);
    symmap_result r;
    if (symmap_resolve(s, dso, len, addr, pid, &r) != 0)
        return luaL_error(L, "out of memory");
    static const char *const kinds[] = {"user", "kernel", "special", "unknown"};
    static const char *const modes[] = {"elf", "runtime", "names"};
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, (lua_Integer)r.mapping_id);
    lua_setfield(L, -2, "mapping_id");
    lua_pushinteger(L, (lua_Integer)r.address);
    lua_setfield(L, -2, "address");
    lua_pushstring(L, kinds[r.kind]);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, modes[r.mode]);
    lua_setfield(L, -2, "mode");
    lua_pushboolean(L, r.adjust_return);
    lua_setfield(L, -2, "adjust_return");
    return 1;
}

static int sm_finish(lua_State *L)
{
    if (symmap_finish(check_symmap(L)) != 0)
        return luaL_error(L, "out of memory");
    return 0;
}

static int sm_warnings(lua_State *L)
{
    symmap *s = check_symmap(L);
    size_t n = symmap_num_warnings(s);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, symmap_warning(s, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

int luaopen_perfgo_pprof(lua_State *L)
{
    perfgo_profile_register(L);
    static const luaL_Reg methods[] = {
        {"mmap", sm_mmap},         {"fork", sm_fork},       {"exec", sm_exec},
        {"build_id", sm_build_id}, {"resolve", sm_resolve}, {"finish", sm_finish},
        {"warnings", sm_warnings}, {"close", sm_gc},        {NULL, NULL},
    };
    bind_class(L, SYMMAP_MT, methods, sm_gc, NULL);
    static const luaL_Reg funcs[] = {
        {"read", l_read}, {"decode", l_decode}, {"new", l_new}, {"symmap", l_symmap}, {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    return 1;
}
