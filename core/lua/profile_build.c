/* Builder methods of the profile userdata: make a profile from Lua (tests,
 * workflow comments, hand-made profiles). Part of the shared profile
 * metatable (profile_udata.c). Ids are the C API's pprof ids. */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "profile_udata.h"

static int oom(lua_State *L)
{
    return luaL_error(L, "out of memory");
}

static int b_add_sample_type(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    const char *type = luaL_checkstring(L, 2), *unit = luaL_checkstring(L, 3);
    if (prof_num_samples(p) > 0)
        return luaL_error(L, "add_sample_type: the profile already has samples");
    int col = prof_add_sample_type(p, type, unit);
    if (col < 0)
        return oom(L);
    lua_pushinteger(L, col + 1);
    return 1;
}

static int b_set_default_sample_type(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    if (prof_set_default_sample_type(p, luaL_optstring(L, 2, NULL)) != 0)
        return oom(L);
    return 0;
}

static int b_set_period(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    if (prof_set_period(p, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
                        luaL_checkinteger(L, 4)) != 0)
        return oom(L);
    return 0;
}

static int b_set_time(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    prof_set_time(p, luaL_checkinteger(L, 2), luaL_optinteger(L, 3, 0));
    return 0;
}

static int b_add_comment(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    if (prof_add_comment(p, s, len) != 0)
        return oom(L);
    return 0;
}

static int b_set_skipped_lines(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0, 2, "must be >= 0");
    prof_set_skipped_lines(p, (uint64_t)n);
    return 0;
}

static uint64_t int_field(lua_State *L, int t, const char *k, uint64_t dflt)
{
    uint64_t v = dflt;
    int ty = lua_getfield(L, t, k);
    if (ty != LUA_TNIL) {
        int ok;
        lua_Integer i = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "field '%s' must be an integer", k);
        v = (uint64_t)i;
    }
    lua_pop(L, 1);
    return v;
}

static bool bool_field(lua_State *L, int t, const char *k)
{
    return opts_bool(L, t, "profile:mapping", k, false);
}

/* mapping{start, limit, offset, file, build_id, has_functions, ...} -> id */
static int b_mapping(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const keys[] = {"start",
                                       "limit",
                                       "offset",
                                       "file",
                                       "build_id",
                                       "has_functions",
                                       "has_filenames",
                                       "has_line_numbers",
                                       "has_inline_frames",
                                       NULL};
    opts_check(L, 2, "profile:mapping", keys);
    prof_mapping_spec m = {0};
    m.start = int_field(L, 2, "start", 0);
    m.limit = int_field(L, 2, "limit", PROF_NO_LIMIT);
    m.offset = int_field(L, 2, "offset", 0);
    lua_getfield(L, 2, "file");
    m.file = luaL_optlstring(L, -1, "", &m.file_len);
    lua_getfield(L, 2, "build_id");
    m.build_id = luaL_optlstring(L, -1, "", &m.build_id_len);
    m.has_functions = bool_field(L, 2, "has_functions");
    m.has_filenames = bool_field(L, 2, "has_filenames");
    m.has_line_numbers = bool_field(L, 2, "has_line_numbers");
    m.has_inline_frames = bool_field(L, 2, "has_inline_frames");
    uint64_t id = prof_mapping(p, &m);
    if (!id)
        return oom(L);
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

/* func(name [, file]) -> id */
static int b_func(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    size_t nl, fl = 0;
    const char *name = luaL_checklstring(L, 2, &nl);
    const char *file = luaL_optlstring(L, 3, NULL, &fl);
    uint64_t id = prof_function(p, name, nl, file, fl);
    if (!id)
        return oom(L);
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

/* location(mapping_id, address, {{func_id, line}, ...}) -> id; lines[1]
 * is the innermost inlined function. */
static int b_location(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    lua_Integer mid = luaL_checkinteger(L, 2);
    lua_Integer addr = luaL_checkinteger(L, 3);
    size_t n = 0;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        n = (size_t)lua_rawlen(L, 4);
    }
    luaL_argcheck(L, mid >= 0 && (uint64_t)mid <= prof_num_mappings(p), 2, "no such mapping");
    prof_line *lines = bind_scratch(L, n * sizeof *lines);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 4, (lua_Integer)i + 1);
        luaL_argcheck(L, lua_istable(L, -1), 4, "each line must be {func_id, line}");
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        lua_Integer f = lua_tointeger(L, -2);
        luaL_argcheck(L, f >= 1 && (uint64_t)f <= prof_num_functions(p), 4, "no such function");
        lines[i].function_id = (uint64_t)f;
        lines[i].line = lua_tointeger(L, -1);
        lua_pop(L, 3);
    }
    uint64_t id = prof_location(p, (uint64_t)mid, (uint64_t)addr, lines, n);
    if (!id)
        return oom(L);
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

/* add_sample({loc_id, ...} leaf first, {value, ...}, [{{key=, str=} |
 * {key=, num=, unit=}, ...}]) */
static int b_add_sample(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    size_t nt = prof_num_sample_types(p);
    if (nt == 0)
        return luaL_error(L, "add_sample: add sample types first");
    luaL_argcheck(L, (size_t)lua_rawlen(L, 3) == nt, 3, "need one value per sample type");
    size_t n = (size_t)lua_rawlen(L, 2);
    size_t nl = lua_isnoneornil(L, 4) ? 0 : (luaL_checktype(L, 4, LUA_TTABLE), lua_rawlen(L, 4));
    uint64_t *locs = bind_scratch(L, n * sizeof *locs);
    int64_t *vals = bind_scratch(L, nt * sizeof *vals);
    prof_label *labels = bind_scratch(L, nl * sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (lua_Integer)i + 1);
        lua_Integer id = lua_tointeger(L, -1);
        luaL_argcheck(L, id >= 1 && (uint64_t)id <= prof_num_locations(p), 2, "no such location");
        locs[i] = (uint64_t)id;
        lua_pop(L, 1);
    }
    for (size_t i = 0; i < nt; i++) {
        lua_rawgeti(L, 3, (lua_Integer)i + 1);
        vals[i] = luaL_checkinteger(L, -1);
        lua_pop(L, 1);
    }
    int top = lua_gettop(L);
    for (size_t i = 0; i < nl; i++) {
        lua_rawgeti(L, 4, (lua_Integer)i + 1); /* kept on the stack: strings stay alive */
        int t = lua_gettop(L);
        luaL_argcheck(L, lua_istable(L, t), 4, "each label must be a table");
        static const char *const keys[] = {"key", "str", "num", "unit", NULL};
        opts_check(L, t, "profile:add_sample label", keys);
        memset(&labels[i], 0, sizeof labels[i]);
        lua_getfield(L, t, "key");
        labels[i].key = luaL_checkstring(L, -1);
        if (lua_getfield(L, t, "str") != LUA_TNIL) {
            labels[i].str = luaL_checklstring(L, -1, &labels[i].str_len);
        } else {
            lua_getfield(L, t, "num");
            labels[i].num = luaL_checkinteger(L, -1);
            lua_getfield(L, t, "unit");
            labels[i].num_unit = luaL_optstring(L, -1, NULL);
        }
    }
    if (prof_add_sample(p, locs, n, vals, labels, nl) != 0)
        return oom(L);
    lua_settop(L, top);
    return 0;
}

static int b_set_main_mapping(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    if (prof_set_main_mapping(p, (uint64_t)luaL_checkinteger(L, 2)) != 0)
        return luaL_argerror(L, 2, "no such mapping");
    return 0;
}

const luaL_Reg perfgo_profile_build_methods[] = {
    {"add_sample_type", b_add_sample_type},
    {"set_default_sample_type", b_set_default_sample_type},
    {"set_period", b_set_period},
    {"set_time", b_set_time},
    {"add_comment", b_add_comment},
    {"set_skipped_lines", b_set_skipped_lines},
    {"mapping", b_mapping},
    {"func", b_func},
    {"location", b_location},
    {"add_sample", b_add_sample},
    {"set_main_mapping", b_set_main_mapping},
    {NULL, NULL},
};
