/* What every binding in core/lua/ shares, so that each binding file holds
 * only its functions. Header-only: every binding includes it, and the host,
 * which links them all, gets no duplicate symbols.
 *
 * Classes: a userdata type is a named metatable (luaL_newmetatable sets
 * __name, which luaL_checkudata's messages use) whose __index is the method
 * table, with one idempotent close function as __gc, __close (and usually
 * the `close` method). Userdata are zeroed at birth, so close must accept
 * a half-built one; a userdata whose first member is a pointer to what it
 * owns (NULL once closed) gets the "is closed" check from bind_live.
 *
 * Options: strict readers for the option tables the bindings take
 * (parser.new{...}, profile:write(path, {...}), proc.spawn(argv, {...}),
 * ...): a key no function knows raises an error naming it, and an option
 * of the wrong type raises naming the option, so a misspelt or mistyped
 * option is never silently ignored. t is the stack index of the options
 * table; fname names the function in messages ("parser.new"). Errors are
 * raised with luaL_error. */
#ifndef PERFGO_LUA_BINDING_H
#define PERFGO_LUA_BINDING_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <string.h>

/* ---- classes ---- */

/* Registers class name: its metatable with methods as __index, close as
 * __gc and __close, tostring (may be NULL) as __tostring. Returns true when
 * it was registered now (false: it already was; nothing is changed);
 * leaves nothing on the stack. */
static inline bool bind_class(lua_State *L, const char *name, const luaL_Reg *methods,
                              lua_CFunction close, lua_CFunction tostring)
{
    if (!luaL_newmetatable(L, name)) {
        lua_pop(L, 1);
        return false;
    }
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
    if (tostring) {
        lua_pushcfunction(L, tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    return true;
}

/* Adds methods to the method table of class name (registered before). */
static inline void bind_methods(lua_State *L, const char *name, const luaL_Reg *methods)
{
    luaL_getmetatable(L, name);
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 2);
}

/* Pushes a new userdata of class name (registered before): size bytes,
 * zeroed, with nuv user values. */
static inline void *bind_new(lua_State *L, size_t size, const char *name, int nuv)
{
    void *u = lua_newuserdatauv(L, size, nuv);
    memset(u, 0, size);
    luaL_setmetatable(L, name);
    return u;
}

/* The userdata of class name at idx, whose first member is the pointer to
 * what it owns: raises "<what> is closed" when that is NULL. */
static inline void *bind_live(lua_State *L, int idx, const char *name, const char *what)
{
    void *u = luaL_checkudata(L, idx, name);
    void *handle;
    memcpy(&handle, u, sizeof handle);
    if (!handle)
        luaL_error(L, "%s is closed", what);
    return u;
}

/* ---- arguments and results ---- */

/* Scratch memory the Lua error path cannot leak: a zeroed userdata left on
 * the stack (collected once unreachable). */
static inline void *bind_scratch(lua_State *L, size_t size)
{
    void *p = lua_newuserdatauv(L, size ? size : 1, 0);
    memset(p, 0, size ? size : 1);
    return p;
}

/* Whether argument idx is a function; raises when it is neither a function
 * nor nil/absent. */
static inline bool bind_optfunction(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return false;
    luaL_checktype(L, idx, LUA_TFUNCTION);
    return true;
}

/* An environmental failure: pushes nil and msg, returns 2. */
static inline int bind_fail(lua_State *L, const char *msg)
{
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
}

/* ---- options ---- */

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
