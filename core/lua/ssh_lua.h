/* Shared by the perfgo.ssh binding's files. */
#ifndef PERFGO_SSH_LUA_H
#define PERFGO_SSH_LUA_H

#include <lua.h>

#include "ssh/ssh.h"

/* Pushes a new channel running script on s (or nil, message): 1 or 2
 * results. */
int perfgo_ssh_push_channel(lua_State *L, struct ssh_session *s, const char *script,
                            double heartbeat);

/* Adds login_command and base64 to the module table on top of the stack. */
void perfgo_ssh_script_funcs(lua_State *L);

/* Creates the channel metatable. */
void perfgo_ssh_channel_register(lua_State *L);

#endif
