--- The programs perfgo runs, and the Debian packages that provide them: a
--- missing program is one line saying what to install (exit 2), never a
--- traceback. perfgo.proc reports a program it cannot start as a result
--- (run: code 127 and `error`) or nil and a message (spawn); the functions
--- here turn that into the user error.
local errors = require "perfgo.errors"

local M = {}

--- Program name -> the Debian package that provides it.
M.PACKAGES = {
  go = "golang-go", gofmt = "golang-go",
  perf = "linux-perf",
  rsync = "rsync",
  ssh = "openssh-client", scp = "openssh-client", sftp = "openssh-client",
  sshd = "openssh-server",
  git = "git",
  gzip = "gzip",
  tar = "tar",
  pprof = "golang-go",
}

--- The Debian package that provides a program, or nil.
---@param name string a program name or path
---@return string|nil
function M.package(name)
  return M.PACKAGES[(tostring(name):match("([^/]+)$"))]
end

--- The message for a program that is not installed.
---@param name string
---@param where? string the host it is missing on (nil: this machine)
---@return string
function M.missing_message(name, where)
  local base = tostring(name):match("([^/]+)$") or tostring(name)
  local msg = string.format("%s is not installed%s (no '%s' in PATH)", base,
    where and (" on " .. where) or "", name)
  local pkg = M.package(name)
  if pkg then
    msg = msg .. string.format(": install the Debian package %s (apt-get install %s)", pkg, pkg)
  end
  return msg
end

--- Raises the user error (exit 2) for a program that is not installed.
---@param name string
---@param where? string
function M.missing(name, where)
  errors.fail(2, M.missing_message(name, where))
end

--- The path of a program on this machine; raises the user error when it
--- is not in PATH.
---@param name string
---@return string path
function M.require(name)
  local path = require("perfgo.proc").which(name)
  if not path then M.missing(name) end
  return path
end

--- For a proc.run result: raises the user error when the program could not
--- be started (not found: exit 2 naming the package; otherwise exit 1 with
--- the reason), else returns the result.
---@param r table the result of proc.run (or target:run)
---@param name string the program
---@param where? string the host
---@return table r
function M.check(r, name, where)
  if r and r.error then
    if r.code == 127 then M.missing(name, where) end
    errors.fail(1, r.error)
  end
  return r
end

return M
