---@meta perfgo.host
-- luacheck: no unused
-- LuaLS definitions for perfgo.host (core/host/hostinfo.c). This module
-- exists only inside the perfgo binary (package.preload), not as a
-- loadable .so: use pcall(require, "perfgo.host") in code that may also run
-- under plain lua5.4. It is a table of strings and one function.

---@class perfgo.host
---@field version string perfgo's version, e.g. "0.1.0"
---@field lua_version string Lua's release, e.g. "Lua 5.4.6"
---@field protobuf_c_version string the protobuf-c library in use
---@field zlib_version string the zlib library in use
---@field libdeflate_version string the libdeflate release perfgo was built with (writes gzip)
---@field exe string absolute path of the running perfgo binary
---@field lua_dir string directory holding perfgo/cli.lua (the scripts in use)
---@field rules_dir string directory holding the shipped rules
---@field origin "PERFGO_LUA_DIR"|"install"|"source" where the scripts were found
---@field luac_dir string directory of the precompiled scripts ("" when none is used)
---@field luac_loaded fun(): integer how many modules were loaded precompiled so far
local M = {}

return M
