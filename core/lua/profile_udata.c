/* The perfgo.pprof profile userdata: one metatable shared by every binding
 * that returns profiles (perfgo.pprof, perfgo.parser). See profile_udata.h.
 *
 * Methods (LuaLS annotations for users: core/lua/api/perfgo/pprof.lua):
 *   write, encode, summary, mappings, rewrite_mappings, samples, close,
 *   and the builder methods add_sample_type, mapping, func, location,
 *   add_sample, set_default_sample_type, set_period, set_time, add_comment,
 *   set_main_mapping. */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "profile_udata.h"

typedef struct profile_ud {
    prof_profile *p;
} profile_ud;

prof_profile *perfgo_profile_check(lua_State *L, int idx)
{
    profile_ud *u = bind_live(L, idx, PERFGO_PROFILE_MT, "profile");
    return u->p;
}

static int p_close(lua_State *L)
{
    profile_ud *u = luaL_checkudata(L, 1, PERFGO_PROFILE_MT);
    prof_free(u->p);
    u->p = NULL;
    return 0;
}

static int p_tostring(lua_State *L)
{
    profile_ud *u = luaL_checkudata(L, 1, PERFGO_PROFILE_MT);
    if (!u->p)
        lua_pushliteral(L, "perfgo.pprof profile (closed)");
    else
        lua_pushfstring(L, "perfgo.pprof profile (%I samples, %I locations)",
                        (lua_Integer)prof_num_samples(u->p), (lua_Integer)prof_num_locations(u->p));
    return 1;
}

static void push_str(lua_State *L, const prof_profile *p, uint64_t id)
{
    size_t len;
    const char *s = prof_str(p, id, &len);
    lua_pushlstring(L, s, len);
}

/* Column for opts.sample_type (name or 1-based index); default: the
 * default sample type, else the last column (pprof's rule). */
static size_t column_opt(lua_State *L, const prof_profile *p, int opts)
{
    size_t n = prof_num_sample_types(p);
    int t = opts ? lua_getfield(L, opts, "sample_type") : LUA_TNIL;
    size_t col = n ? n - 1 : 0;
    if (t == LUA_TNUMBER) {
        lua_Integer i = lua_tointeger(L, -1);
        if (i < 1 || (size_t)i > n)
            luaL_error(L, "sample_type index %d out of range (profile has %d)", (int)i, (int)n);
        col = (size_t)i - 1;
    } else if (t == LUA_TSTRING) {
        int i = prof_sample_type_index(p, lua_tostring(L, -1));
        if (i < 0)
            luaL_error(L, "no sample type named '%s'", lua_tostring(L, -1));
        col = (size_t)i;
    } else if (t != LUA_TNIL) {
        luaL_error(L, "sample_type must be a name or an index");
    } else if (prof_default_sample_type(p)) {
        int i = prof_sample_type_index(p, prof_str(p, prof_default_sample_type(p), NULL));
        if (i >= 0)
            col = (size_t)i;
    }
    if (opts)
        lua_pop(L, 1);
    return col;
}

static bool bool_opt(lua_State *L, int opts, const char *fn, const char *key, bool dflt)
{
    return opts ? opts_bool(L, opts, fn, key, dflt) : dflt;
}

/* "pprof" (default) or "folded". */
static bool folded_opt(lua_State *L, int opts, const char *fn)
{
    const char *f = opts ? opts_string(L, opts, fn, "format", NULL) : NULL;
    if (!f)
        return false;
    bool folded = strcmp(f, "folded") == 0;
    if (!folded && strcmp(f, "pprof") != 0)
        luaL_error(L, "%s: format must be \"pprof\" or \"folded\", not \"%s\"", fn, f);
    return folded;
}

/* The options of write and encode: the table at idx (0 when there is
 * none), its keys checked. */
static int opts_index(lua_State *L, int idx, const char *fn)
{
    static const char *const keys[] = {"format", "gzip", "sample_type", NULL};
    return opts_table(L, idx, fn, keys) ? idx : 0;
}

static int p_write(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const char *fn = "profile:write";
    int opts = opts_index(L, 3, fn);
    bool folded = folded_opt(L, opts, fn);
    char err[512];
    int rc;
    if (folded)
        rc = prof_write_folded_file(p, column_opt(L, p, opts), path, err, sizeof err);
    else
        rc = prof_write_file(p, path, bool_opt(L, opts, fn, "gzip", true), err, sizeof err);
    if (rc != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int push_lstring(lua_State *L)
{
    const char *buf = lua_touserdata(L, 1);
    size_t len = (size_t)lua_tointeger(L, 2);
    lua_pushlstring(L, buf, len);
    return 1;
}

/* Pushes buf[0..len) as a string and frees buf, also when Lua runs out of
 * memory (then the error is re-raised). */
static void push_owned(lua_State *L, void *buf, size_t len)
{
    lua_pushcfunction(L, push_lstring);
    lua_pushlightuserdata(L, buf);
    lua_pushinteger(L, (lua_Integer)len);
    int rc = lua_pcall(L, 2, 1, 0);
    free(buf);
    if (rc != LUA_OK)
        lua_error(L);
}

static int p_encode(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    const char *fn = "profile:encode";
    int opts = opts_index(L, 2, fn);
    if (folded_opt(L, opts, fn)) {
        char *buf;
        size_t len;
        if (prof_encode_folded(p, column_opt(L, p, opts), &buf, &len) != 0)
            return luaL_error(L, "encode: out of memory");
        push_owned(L, buf, len);
        return 1;
    }
    unsigned char *buf;
    size_t len;
    char err[256];
    if (prof_encode(p, bool_opt(L, opts, fn, "gzip", true), &buf, &len, err, sizeof err) != 0)
        return luaL_error(L, "%s", err);
    push_owned(L, buf, len);
    return 1;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const prof_profile *p, const char *k, uint64_t id)
{
    push_str(L, p, id);
    lua_setfield(L, -2, k);
}

static int p_summary(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    lua_createtable(L, 0, 14);
    set_int(L, "samples", (lua_Integer)prof_num_samples(p));
    set_int(L, "locations", (lua_Integer)prof_num_locations(p));
    set_int(L, "functions", (lua_Integer)prof_num_functions(p));
    set_int(L, "mappings", (lua_Integer)prof_num_mappings(p));
    set_int(L, "strings", (lua_Integer)prof_num_strings(p));
    set_int(L, "skipped_lines", (lua_Integer)prof_skipped_lines(p));
    size_t n = prof_num_sample_types(p);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t t, u;
        prof_sample_type(p, i, &t, &u);
        lua_createtable(L, 0, 3);
        set_str(L, p, "type", t);
        set_str(L, p, "unit", u);
        set_int(L, "total", (lua_Integer)prof_total(p, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "sample_types");
    if (prof_default_sample_type(p))
        set_str(L, p, "default_sample_type", prof_default_sample_type(p));
    uint64_t pt, pu;
    int64_t period, tn, dn;
    prof_period(p, &pt, &pu, &period);
    if (pt || pu) {
        lua_createtable(L, 0, 2);
        set_str(L, p, "type", pt);
        set_str(L, p, "unit", pu);
        lua_setfield(L, -2, "period_type");
    }
    set_int(L, "period", period);
    prof_time(p, &tn, &dn);
    set_int(L, "time_nanos", tn);
    set_int(L, "duration_nanos", dn);
    n = prof_num_comments(p);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_str(L, p, prof_comment(p, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "comments");
    return 1;
}

static void push_mapping(lua_State *L, const prof_profile *p, uint64_t id)
{
    prof_mapping_info m;
    prof_get_mapping(p, id, &m);
    lua_createtable(L, 0, 10);
    set_int(L, "id", (lua_Integer)id);
    set_int(L, "start", (lua_Integer)m.start);
    set_int(L, "limit", (lua_Integer)m.limit);
    set_int(L, "offset", (lua_Integer)m.offset);
    set_str(L, p, "file", m.file);
    set_str(L, p, "build_id", m.build_id);
    lua_pushboolean(L, m.has_functions);
    lua_setfield(L, -2, "has_functions");
    lua_pushboolean(L, m.has_filenames);
    lua_setfield(L, -2, "has_filenames");
    lua_pushboolean(L, m.has_line_numbers);
    lua_setfield(L, -2, "has_line_numbers");
    lua_pushboolean(L, m.has_inline_frames);
    lua_setfield(L, -2, "has_inline_frames");
}

static int p_mappings(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    size_t n = prof_num_mappings(p);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 1; i <= n; i++) {
        push_mapping(L, p, i);
        lua_rawseti(L, -2, (lua_Integer)i);
    }
    return 1;
}

/* rewrite_mappings(table old->new | function(m) -> new or nil) -> count */
static int p_rewrite_mappings(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, 1);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TFUNCTION, 2, "table or function");
    size_t n = prof_num_mappings(p);
    lua_Integer changed = 0;
    for (size_t i = 1; i <= n; i++) {
        prof_mapping_info m;
        prof_get_mapping(p, i, &m);
        if (t == LUA_TTABLE) {
            push_str(L, p, m.file);
            lua_gettable(L, 2);
        } else {
            lua_pushvalue(L, 2);
            push_mapping(L, p, i);
            lua_call(L, 1, 1);
        }
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "rewrite_mappings: new file for mapping %d must be a string",
                                  (int)i);
            size_t len;
            const char *f = lua_tolstring(L, -1, &len);
            if (prof_set_mapping_file(p, i, f, len) != 0)
                return luaL_error(L, "rewrite_mappings: out of memory");
            changed++;
        }
        lua_pop(L, 1);
    }
    lua_pushinteger(L, changed);
    return 1;
}

/* The iterator behind samples(): upvalue 1 = profile, 2 = next index. */
static int samples_next(lua_State *L)
{
    prof_profile *p = perfgo_profile_check(L, lua_upvalueindex(1));
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
    prof_sample_info s;
    if (!prof_get_sample(p, (size_t)i, &s))
        return 0;
    lua_pushinteger(L, i + 1);
    lua_replace(L, lua_upvalueindex(2));
    lua_createtable(L, (int)s.nlocations, 0);
    lua_Integer k = 0;
    for (size_t j = 0; j < s.nlocations; j++) {
        prof_location_info l;
        prof_get_location(p, s.locations[j], &l);
        prof_mapping_info m = {0};
        bool has_map = l.mapping_id && prof_get_mapping(p, l.mapping_id, &m);
        size_t nl = l.nlines ? l.nlines : 1;
        for (size_t q = 0; q < nl; q++) {
            lua_createtable(L, 0, 7);
            if (l.nlines) {
                prof_function_info f;
                prof_get_function(p, l.lines[q].function_id, &f);
                set_str(L, p, "func", f.name);
                set_str(L, p, "file", f.filename);
                set_int(L, "line", l.lines[q].line);
            }
            set_int(L, "address", (lua_Integer)l.address);
            set_int(L, "location", (lua_Integer)s.locations[j]);
            if (has_map) {
                set_str(L, p, "mapping", m.file);
                set_int(L, "mapping_id", (lua_Integer)l.mapping_id);
            }
            if (q > 0) {
                lua_pushboolean(L, 1);
                lua_setfield(L, -2, "inlined_into"); /* this frame's caller was inlined */
            }
            lua_rawseti(L, -2, ++k);
        }
    }
    size_t nt = prof_num_sample_types(p);
    lua_createtable(L, (int)nt, 0);
    for (size_t c = 0; c < nt; c++) {
        lua_pushinteger(L, s.values[c]);
        lua_rawseti(L, -2, (lua_Integer)c + 1);
    }
    lua_createtable(L, 0, (int)s.nlabels);
    for (size_t j = 0; j < s.nlabels; j++) {
        push_str(L, p, s.labels[j].key);
        if (s.labels[j].str)
            push_str(L, p, s.labels[j].str);
        else
            lua_pushinteger(L, s.labels[j].num);
        lua_settable(L, -3);
    }
    return 3;
}

static int p_samples(lua_State *L)
{
    perfgo_profile_check(L, 1);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, samples_next, 2);
    return 1;
}

/* Builder methods live in profile_build.c. */
extern const luaL_Reg perfgo_profile_build_methods[];

void perfgo_profile_register(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"write", p_write},
        {"encode", p_encode},
        {"summary", p_summary},
        {"mappings", p_mappings},
        {"rewrite_mappings", p_rewrite_mappings},
        {"samples", p_samples},
        {"close", p_close},
        {NULL, NULL},
    };
    if (bind_class(L, PERFGO_PROFILE_MT, methods, p_close, p_tostring))
        bind_methods(L, PERFGO_PROFILE_MT, perfgo_profile_build_methods);
}

static int new_ud(lua_State *L)
{
    perfgo_profile_register(L);
    bind_new(L, sizeof(profile_ud), PERFGO_PROFILE_MT, 0);
    return 1;
}

void perfgo_profile_push(lua_State *L, prof_profile *p)
{
    /* Make the userdata under pcall so that p is freed, not leaked, when
     * Lua runs out of memory; then hand p over. */
    if (!lua_checkstack(L, 2)) {
        prof_free(p);
        luaL_error(L, "out of Lua stack");
    }
    lua_pushcfunction(L, new_ud);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        prof_free(p);
        lua_error(L);
    }
    profile_ud *u = lua_touserdata(L, -1);
    u->p = p;
}
