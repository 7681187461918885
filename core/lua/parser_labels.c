/* perfgo.parser's `stack_labels` option: labels read off each stack by
 * the profile builder (core/perfscript/builder.h, ps_stack_label).
 *
 *   stack_labels = {
 *     { key = "benchmark", caller = "testing.(*B).runN",
 *       prefix = "Benchmark", strip_package = true },
 *   }
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "parser_udata.h"

static const char *const fields[] = {"key", "caller", "prefix", "strip_package", NULL};

/* The string field `name` of the table on top, or NULL when absent and
 * optional; raises when it is not a non-empty string. */
static const char *field_str(lua_State *L, int i, const char *name, bool required, size_t *len)
{
    const char *s = NULL;
    *len = 0;
    int ty = lua_getfield(L, -1, name);
    if (ty == LUA_TSTRING) {
        s = lua_tolstring(L, -1, len);
        if (*len == 0 || memchr(s, '\0', *len))
            luaL_error(L, "option 'stack_labels'[%d].%s must be a non-empty string", i, name);
    } else if (ty != LUA_TNIL || required) {
        luaL_error(L, "option 'stack_labels'[%d].%s must be a string", i, name);
    }
    lua_pop(L, 1); /* the string stays alive in the options table */
    return s;
}

void perfgo_parser_read_stack_labels(lua_State *L, int t, lparser *lp)
{
    if (lua_getfield(L, t, "stack_labels") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(
            L, "option 'stack_labels' must be a list of {key=, caller=, prefix=, strip_package=}");
    size_t n = (size_t)lua_rawlen(L, -1);
    if (n > PS_MAX_STACK_LABELS)
        luaL_error(L, "option 'stack_labels' lists %d labels (at most %d)", (int)n,
                   PS_MAX_STACK_LABELS);
    const char *text[PS_MAX_STACK_LABELS][3];
    size_t lens[PS_MAX_STACK_LABELS][3], total = 0;
    bool strip[PS_MAX_STACK_LABELS];
    for (size_t i = 0; i < n; i++) {
        if (lua_rawgeti(L, -1, (lua_Integer)i + 1) != LUA_TTABLE)
            luaL_error(L, "option 'stack_labels'[%d] must be a table", (int)i + 1);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            bool known = false;
            for (const char *const *f = fields; *f && lua_type(L, -2) == LUA_TSTRING; f++)
                known = known || strcmp(lua_tostring(L, -2), *f) == 0;
            if (!known)
                luaL_error(L,
                           "option 'stack_labels'[%d] has an unknown field (fields: key, caller, "
                           "prefix, strip_package)",
                           (int)i + 1);
            lua_pop(L, 1);
        }
        text[i][0] = field_str(L, (int)i + 1, "key", true, &lens[i][0]);
        text[i][1] = field_str(L, (int)i + 1, "caller", true, &lens[i][1]);
        text[i][2] = field_str(L, (int)i + 1, "prefix", false, &lens[i][2]);
        int ty = lua_getfield(L, -1, "strip_package");
        if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
            luaL_error(L, "option 'stack_labels'[%d].strip_package must be a boolean", (int)i + 1);
        strip[i] = lua_toboolean(L, -1);
        lua_pop(L, 2);
        total += lens[i][0] + lens[i][1] + lens[i][2] + 3;
    }
    char *buf = malloc(total ? total : 1);
    if (!buf)
        luaL_error(L, "out of memory");
    free(lp->stack_label_text);
    lp->stack_label_text = buf;
    for (size_t i = 0; i < n; i++) {
        const char *dst[3];
        for (int k = 0; k < 3; k++) {
            dst[k] = text[i][k] ? buf : NULL;
            if (text[i][k]) {
                memcpy(buf, text[i][k], lens[i][k]);
                buf[lens[i][k]] = '\0';
                buf += lens[i][k] + 1;
            }
        }
        lp->stack_labels[i] = (ps_stack_label){
            .key = dst[0], .caller = dst[1], .prefix = dst[2], .strip_package = strip[i]};
    }
    lp->bo.stack_labels = lp->stack_labels;
    lp->bo.nstack_labels = n;
    lua_pop(L, 1);
}
