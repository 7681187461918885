/* The perfgo.pprof profile userdata, for other bindings (perfgo.parser).
 *
 * Link the object library `perfgo_profile_udata` (core/lua/profile_udata.c)
 * and `perfgo_profile_core` into your module (perfgo_module(... CORE
 * perfgo_profile_core perfgo_profile_udata ...)); the host links them once.
 * The metatable "perfgo.pprof.profile" is created on first use by whichever
 * copy of the code runs first, so a profile made by perfgo.parser has every
 * method of a profile from pprof.read. */
#ifndef PERFGO_PROFILE_UDATA_H
#define PERFGO_PROFILE_UDATA_H

#include <lua.h>

#include "profile/profile.h"

#define PERFGO_PROFILE_MT "perfgo.pprof.profile"

/* Pushes a profile userdata that takes ownership of p (freed by __gc or
 * __close). If the userdata cannot be created, p is freed and a Lua error
 * is raised. p must not be NULL. */
void perfgo_profile_push(lua_State *L, prof_profile *p);

/* The profile of the userdata at idx (raises a type error if it is not
 * one, or "profile is closed" after __close). */
prof_profile *perfgo_profile_check(lua_State *L, int idx);

/* Registers the metatable (idempotent); leaves nothing on the stack. */
void perfgo_profile_register(lua_State *L);

#endif
