---@meta perfgo.sys
-- luacheck: no unused
-- LuaLS definitions for perfgo.sys (core/lua/sys.c): random ids, clocks,
-- the host name. require "perfgo.sys" loads the C module, never this file.

---@class perfgo.sys
local M = {}

--- A random id: 32 lowercase hex digits (16 bytes from getrandom).
--- Raises if getrandom fails.
---@return string id
function M.random_id() end

--- Seconds on a monotonic clock, with sub-second precision; use it for
--- durations (the origin is arbitrary).
---@return number seconds
function M.monotonic() end

--- Seconds since the Unix epoch, with sub-second precision.
---@return number seconds
function M.realtime() end

--- The machine's host name.
---@return string|nil name
---@return string? err "gethostname: ..." on failure
function M.hostname() end

--- Whether a file descriptor is a terminal. Raises if fd is outside 0..1024.
---@param fd integer 0 (stdin), 1 (stdout), 2 (stderr), ...
---@return boolean
function M.isatty(fd) end

return M
