---@meta perfgo.sys
-- luacheck: no unused
-- LuaLS definitions for perfgo.sys (core/lua/sys.c): random ids, clocks,
-- the host name, terminals, output files, trust in configuration files.
-- require "perfgo.sys" loads the C module, never this file.

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

--- Writes an output file as `-o FILE` should: a regular file is replaced
--- whole (a temporary file renamed over it, so a failure leaves the old
--- one), a new file gets 0666 & ~umask, a replaced one keeps its mode; a
--- device or FIFO is written in place; a symbolic link is followed unless
--- the kernel's protected_symlinks rule would refuse it (a link in a
--- sticky, world-writable directory owned by someone else). Every write
--- error is reported.
---@param path string
---@param data string
---@return true|nil ok
---@return string? err names the path
function M.write_file(path, data) end

--- Why the file at an absolute path must not be run as code by this user,
--- or nil when it may: it, a directory above it, or the same on its real
--- path when a symbolic link leads elsewhere, belongs to someone other than
--- the user or root, or is writable by its group or others (a sticky
--- directory such as /tmp apart), or cannot be examined.
---@param path string
---@return string|nil why e.g. "/x/perfgo.lua is writable by others"
function M.untrusted(path) end

return M
