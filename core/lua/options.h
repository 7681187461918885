/* Strict readers for the option tables the bindings take (parser.new{...},
 * profile:write(path, {...}), proc.spawn(argv, {...}), ...): a key no
 * function knows raises an error naming it, and a boolean option must be
 * true or false (nil = the default), so a misspelt or mistyped option is
 * never silently ignored. Header-only: every binding includes it, and the
 * host, which links them all, gets no duplicate symbols.
 *
 * t is the stack index of the options table; fname names the function in
 * messages ("parser.new"). Errors are raised with luaL_error. */
#ifndef PERFGO_LUA_OPTIONS_H
#define PERFGO_LUA_OPTIONS_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <string.h>

/* Raises unless every key of table t is a string in names (a NULL-ended
 * list): "fname: unknown option 'stirct' (options: a, b, c)". */
static inline void opts_check(lua_State *L, int t, const char *fname, const char *const *names)
{
    t = lua_absindex(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        bool known = false;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -1);
            for (const char *const *n = names; *n && !known; n++)
                known = strcmp(k, *n) == 0;
        }
        if (!known) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (const char *const *n = names; *n; n++) {
                if (n != names)
                    luaL_addstring(&b, ", ");
                luaL_addstring(&b, *n);
            }
            luaL_pushresult(&b);
            if (lua_type(L, -2) == LUA_TSTRING)
                luaL_error(L, "%s: unknown option '%s' (options: %s)", fname, lua_tostring(L, -2),
                           lua_tostring(L, -1));
            luaL_error(L, "%s: option names must be strings, not %s (options: %s)", fname,
                       luaL_typename(L, -2), lua_tostring(L, -1));
        }
    }
}

/* opts_check for an optional table at t: nothing to check when it is nil
 * or absent; raises when it is something else. Returns whether there is a
 * table. */
static inline bool opts_table(lua_State *L, int t, const char *fname, const char *const *names)
{
    if (lua_isnoneornil(L, t))
        return false;
    if (!lua_istable(L, t))
        luaL_error(L, "%s: options must be a table, not %s", fname, luaL_typename(L, t));
    opts_check(L, t, fname, names);
    return true;
}

/* Boolean option key (def when nil). "yes", 1 or "false" raise. */
static inline bool opts_bool(lua_State *L, int t, const char *fname, const char *key, bool def)
{
    bool v = def;
    int ty = lua_getfield(L, t, key);
    if (ty == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (ty != LUA_TNIL)
        luaL_error(L, "%s: option '%s' must be true or false, not %s", fname, key,
                   lua_typename(L, ty));
    lua_pop(L, 1);
    return v;
}

/* String option key: NULL when nil. The string stays alive in the table. */
static inline const char *opts_string(lua_State *L, int t, const char *fname, const char *key,
                                      size_t *len)
{
    const char *s = NULL;
    int ty = lua_getfield(L, t, key);
    if (ty == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    else if (ty != LUA_TNIL)
        luaL_error(L, "%s: option '%s' must be a string, not %s", fname, key, lua_typename(L, ty));
    lua_pop(L, 1);
    return s;
}

/* Integer option key (def when nil); *present (may be NULL) tells. */
static inline lua_Integer opts_integer(lua_State *L, int t, const char *fname, const char *key,
                                       lua_Integer def, bool *present)
{
    lua_Integer v = def;
    int ty = lua_getfield(L, t, key), ok = 0;
    if (ty != LUA_TNIL) {
        v = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "%s: option '%s' must be an integer, not %s", fname, key,
                       ty == LUA_TNUMBER ? "a fraction" : lua_typename(L, ty));
    }
    if (present)
        *present = ty != LUA_TNIL;
    lua_pop(L, 1);
    return v;
}

#endif
