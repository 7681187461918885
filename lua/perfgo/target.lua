--- Where a run happens. A target offers one interface, so workflow steps
--- never branch on local versus remote:
---   target.platform        {os=, arch=} in GOOS/GOARCH names
---   target.description     "local linux/amd64" or "user@host (linux/arm64)"
---   target:stage(ctx)      make the repository and binary available there
---   target:path(rel)       absolute path on the target of a repo-relative path
---   target:scratch(name)   a path in the run's scratch directory there
---   target:run(argv, opts) like proc.run, opts.cwd relative to the repo root
---   target:spawn(argv, opts) like proc.spawn (for streaming output)
---   target:get(path, local_path)  copy a target file here
---   target:cleanup(ctx)    remove what the run left there
local proc = require "perfgo.proc"
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"

local M = {}

--- GOOS/GOARCH names for `uname -s` / `uname -m` values.
---@param sysname string
---@param machine string
---@return {os: string, arch: string}
function M.platform_from_uname(sysname, machine)
  local arches = {
    x86_64 = "amd64", amd64 = "amd64", aarch64 = "arm64", arm64 = "arm64",
    i386 = "386", i686 = "386", armv7l = "arm", armv6l = "arm",
    riscv64 = "riscv64", ppc64le = "ppc64le", s390x = "s390x",
  }
  return { os = sysname:lower(), arch = arches[machine] or machine }
end

--- A short stable hash (FNV-1a, 32 bits, hex) of a string.
---@param s string
---@return string
function M.short_hash(s)
  local h = 0x811c9dc5
  for i = 1, #s do
    h = ((h ~ s:byte(i)) * 0x01000193) & 0xffffffff
  end
  return string.format("%08x", h)
end

local function copy_without_cwd(opts)
  local out = {}
  for k, v in pairs(opts or {}) do
    if k ~= "cwd" then out[k] = v end
  end
  return out
end

-- Options for a remote command: no cwd (the command is wrapped), and no
-- stdin="null": perfgo.ssh holds the channel's stdin open itself so that
-- the remote command ends when the connection (or Ctrl-C) ends it.
local function remote_opts(opts)
  local out = copy_without_cwd(opts)
  if out.stdin == "null" then out.stdin = nil end
  return out
end

--- The platform of the machine perfgo runs on.
---@return {os: string, arch: string}
function M.new_local_platform()
  local r = proc.run({ "uname", "-sm" }, { stdin = "null" })
  local sysname, machine = (r.stdout or ""):match("^(%S+)%s+(%S+)")
  return M.platform_from_uname(sysname or "linux", machine or "x86_64")
end

-- Local ---------------------------------------------------------------

local Local = {}
Local.__index = Local

--- The machine perfgo runs on.
---@param ctx table
function M.new_local(ctx)
  local self = setmetatable({ kind = "local", root = ctx.repo.root }, Local)
  self.platform = ctx.host_platform or M.new_local_platform()
  self.description = string.format("local %s/%s", self.platform.os, self.platform.arch)
  local t = proc.run({ "mktemp", "-d", "/tmp/perfgo-run.XXXXXX" }, { stdin = "null" })
  if t.code ~= 0 then errors.fail(1, "cannot create a scratch directory in /tmp: " .. (t.stderr or "")) end
  self.scratch_dir = t.stdout:gsub("%s+$", "")
  return self
end

function Local:stage(ctx)
  if ctx.binary then ctx.staged_binary = ctx.binary.path end
end

function Local:path(rel)
  if rel == nil or rel == "." or rel == "" then return self.root end
  return fs.join(self.root, rel)
end

function Local:scratch(name)
  return fs.join(self.scratch_dir, name)
end

local function local_opts(self, opts)
  local out = copy_without_cwd(opts)
  if opts and opts.cwd then out.cwd = self:path(opts.cwd) end
  return out
end

function Local:run(argv, opts)
  return proc.run(argv, local_opts(self, opts))
end

function Local:spawn(argv, opts)
  return proc.spawn(argv, local_opts(self, opts))
end

function Local:get(path, local_path)
  if path == local_path then return true end
  return fs.copy(path, local_path)
end

function Local:cleanup(_ctx)
  if self.scratch_dir then fs.remove_tree(self.scratch_dir) end
end

-- Remote --------------------------------------------------------------

local Remote = {}
Remote.__index = Remote

--- A remote Linux host reached over one SSH control master.
---@param ctx table
function M.new_remote(ctx)
  local ssh = require "perfgo.ssh"
  local opts = ctx.opts
  ui.step("connecting to %s", opts.remote_host)
  local options = {}
  for _, kv in ipairs(opts.ssh_option or {}) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if not k then errors.user(string.format("--ssh-option %s: expected KEY=VALUE", kv)) end
    options[k] = v
  end
  local session, err = ssh.connect({ host = opts.remote_host, config = opts.ssh_config, options = options })
  if not session then
    errors.fail(1, string.format("cannot connect to %s: %s", opts.remote_host, err))
  end
  local self = setmetatable({ kind = "remote", session = session, host = opts.remote_host,
    keep = opts.keep }, Remote)
  local platform, perr = session:platform()
  if not platform then errors.fail(1, string.format("%s: cannot detect the platform: %s", self.host, perr)) end
  self.platform = platform
  self.description = string.format("%s (%s/%s)", self.host, platform.os, platform.arch)
  local r = session:run({ "sh", "-c", 'printf %s "${XDG_CACHE_HOME:-$HOME/.cache}"' })
  if r.code ~= 0 or r.stdout == "" then
    errors.fail(1, string.format("%s: cannot find the cache directory: %s", self.host, r.stderr or ""))
  end
  local name = fs.basename(ctx.repo.root):gsub("[^%w._-]", "_")
  self.root = string.format("%s/perfgo/repositories/%s-%s", r.stdout, name, M.short_hash(ctx.repo.root))
  self.scratch_dir = self.root .. "/.perfgo-run-" .. ctx.run_id:sub(1, 8)
  return self
end

local function check(r, what)
  if r.code ~= 0 then
    errors.fail(1, string.format("%s failed: %s", what, (r.stderr or ""):gsub("%s+$", "")))
  end
  return r
end

function Remote:stage(ctx)
  local git = require "perfgo.git"
  local files, err = git.files(ctx.repo.root)
  if not files then errors.fail(1, err) end
  ui.step("syncing %d files to %s:%s", #files, self.host, self.root)
  local ok, perr = self.session:put_tree(files, self.root, { base = ctx.repo.root })
  if not ok then errors.fail(1, string.format("syncing to %s failed: %s", self.host, perr)) end
  check(self.session:run({ "mkdir", "-p", self.scratch_dir }), "creating " .. self.scratch_dir)
  if ctx.binary then
    local remote_bin = self.scratch_dir .. "/" .. ctx.binary.name
    ui.step("copying %s (%s)", ctx.binary.name, ui.bytes(fs.size(ctx.binary.path) or 0))
    local pok, perr2 = self.session:put(ctx.binary.path, remote_bin)
    if not pok then errors.fail(1, string.format("copying the test binary failed: %s", perr2)) end
    check(self.session:run({ "chmod", "+x", remote_bin }), "chmod " .. remote_bin)
    ctx.staged_binary = remote_bin
  end
end

function Remote:path(rel)
  if rel == nil or rel == "." or rel == "" then return self.root end
  return self.root .. "/" .. rel
end

function Remote:scratch(name)
  return self.scratch_dir .. "/" .. name
end

function Remote:run(argv, opts)
  local o = remote_opts(opts)
  if opts and opts.cwd then o.cwd = self:path(opts.cwd) end
  return self.session:run(argv, o)
end

function Remote:spawn(argv, opts)
  local o = remote_opts(opts)
  if opts and opts.cwd then o.cwd = self:path(opts.cwd) end
  return self.session:spawn(argv, o)
end

function Remote:get(path, local_path)
  return self.session:get(path, local_path)
end

function Remote:cleanup(_ctx)
  if not self.session then return end
  if self.keep then
    ui.info("kept the remote working directory %s:%s", self.host, self.root)
    self.session:run({ "rm", "-rf", self.scratch_dir })
  else
    self.session:run({ "rm", "-rf", self.root })
  end
  self.session:close()
  self.session = nil
end

--- The target the options ask for.
---@param ctx table
function M.new(ctx)
  if ctx.opts.remote_host and ctx.opts.remote_host ~= "" then return M.new_remote(ctx) end
  return M.new_local(ctx)
end

return M
