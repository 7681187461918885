/*
 * perfgo.ssh channels: session:channel(script, {heartbeat=}) runs a sh
 * script on the host that perfgo talks to through its stdin and stdout
 * (core/ssh/channel.c). A channel is a full userdata
 * "perfgo.ssh.channel"; __gc and __close close it. Also the module's
 * script helpers: login_command, base64.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "binding.h"
#include "ssh/ssh.h"
#include "ssh_lua.h"

#define CHANNEL_MT "perfgo.ssh.channel"

struct lchannel {
    struct ssh_channel *c;
};

static struct ssh_channel *open_channel(lua_State *L)
{
    struct lchannel *u = bind_live(L, 1, CHANNEL_MT, "channel");
    return u->c;
}

static const char *why(int e)
{
    if (e == ETIMEDOUT)
        return "timeout";
    if (e == EINTR)
        return "interrupted";
    if (e == EPIPE)
        return "eof";
    return strerror(e);
}

/* channel:write(s[, timeout]) -> true | nil, "timeout"|"interrupted"|"eof"|msg */
static int l_write(lua_State *L)
{
    struct ssh_channel *c = open_channel(L);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    double timeout = luaL_optnumber(L, 3, -1);
    if (ssh_channel_write(c, s, n, timeout) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, why(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* channel:read([timeout]) -> chunk | nil, "eof"|"timeout"|"interrupted"|msg */
static int l_read(lua_State *L)
{
    struct ssh_channel *c = open_channel(L);
    double timeout = luaL_optnumber(L, 2, -1);
    luaL_Buffer b;
    char *buf = luaL_buffinitsize(L, &b, 65536);
    ssize_t n = ssh_channel_read(c, buf, 65536, timeout);
    if (n <= 0) {
        int e = errno;
        lua_pushnil(L);
        lua_pushstring(L, n == 0 ? "eof" : why(e));
        return 2;
    }
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

/* channel:stderr() -> what the script wrote on stderr so far */
static int l_stderr(lua_State *L)
{
    struct lchannel *u = luaL_checkudata(L, 1, CHANNEL_MT);
    if (u->c == NULL) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t len;
    const char *s = ssh_channel_stderr(u->c, &len);
    lua_pushlstring(L, s, len);
    return 1;
}

/* channel:close([grace[, wait_exit]]) -> exit code | nil. Idempotent; the
 * userdata stays valid for stderr(). */
static int l_close(lua_State *L)
{
    struct lchannel *u = luaL_checkudata(L, 1, CHANNEL_MT);
    double grace = luaL_optnumber(L, 2, 5);
    bool wait_exit = lua_isnoneornil(L, 3) ? true : lua_toboolean(L, 3);
    if (u->c == NULL) {
        lua_pushnil(L);
        return 1;
    }
    int code = ssh_channel_close(u->c, grace, wait_exit);
    if (code < 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, code);
    return 1;
}

static int l_gc(lua_State *L)
{
    struct lchannel *u = luaL_checkudata(L, 1, CHANNEL_MT);
    if (u->c != NULL) {
        ssh_channel_free(u->c);
        u->c = NULL;
    }
    return 0;
}

static int l_running(lua_State *L)
{
    struct lchannel *u = luaL_checkudata(L, 1, CHANNEL_MT);
    lua_pushboolean(L, u->c != NULL && ssh_channel_running(u->c));
    return 1;
}

int perfgo_ssh_push_channel(lua_State *L, struct ssh_session *s, const char *script,
                            double heartbeat)
{
    struct lchannel *u = bind_new(L, sizeof *u, CHANNEL_MT, 0);
    char err[2048];
    u->c = ssh_channel_open(s, script, heartbeat, err, sizeof err);
    if (u->c == NULL) {
        lua_pop(L, 1);
        return bind_fail(L, err);
    }
    return 1;
}

/* ssh.login_command(script) -> what the remote login shell gets to run the
 * sh script (words appended become its "$@") */
static int l_login_command(lua_State *L)
{
    const char *script = luaL_checkstring(L, 1);
    struct ssh_str out = {0};
    if (ssh_login_command(&out, script) != 0) {
        ssh_str_free(&out);
        return luaL_error(L, "out of memory");
    }
    lua_pushlstring(L, out.p, out.len);
    ssh_str_free(&out);
    return 1;
}

/* ssh.base64(s) -> s in base64 */
static int l_base64(lua_State *L)
{
    size_t n;
    const char *data = luaL_checklstring(L, 1, &n);
    struct ssh_str out = {0};
    if (ssh_base64(&out, data, n) != 0) {
        ssh_str_free(&out);
        return luaL_error(L, "out of memory");
    }
    lua_pushlstring(L, out.p ? out.p : "", out.len);
    ssh_str_free(&out);
    return 1;
}

void perfgo_ssh_script_funcs(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"login_command", l_login_command},
        {"base64", l_base64},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}

void perfgo_ssh_channel_register(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"write", l_write}, {"read", l_read},       {"stderr", l_stderr},
        {"close", l_close}, {"running", l_running}, {NULL, NULL},
    };
    bind_class(L, CHANNEL_MT, methods, l_gc, NULL);
}
