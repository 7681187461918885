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
---   target:get_many({{path, local_path}, ...})  several at once; returns the
---                          paths that could not be read
---   target:perf_facts()    what perf.preflight decides on (perfcheck)
---   target:cleanup(ctx)    remove what the run left there
---
--- Commands whose output is only captured are helpers: they have a time
--- limit (PERFGO_HELPER_TIMEOUT, default 300 s) and a clear error when
--- they outlive it, locally and remotely.
local proc = require "perfgo.proc"
local ssh = require "perfgo.ssh"
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"

local M = {}

--- GOOS/GOARCH names for `uname -s` / `uname -m` values (perfgo.ssh's
--- table, core/ssh/argv.c, the one list of them).
---@param sysname string
---@param machine string
---@return {os: string, arch: string}
function M.platform_from_uname(sysname, machine)
  return { os = ssh.goos(sysname), arch = ssh.goarch(machine) }
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

-- A helper command: output only captured (or written to a file), nothing
-- live, nothing fed on stdin. Helpers get a time limit; remotely the agent
-- runs them, without a new SSH session.
local function captured(opts)
  local function ok(s) return s == nil or s == "pipe" or (type(s) == "table" and s.file ~= nil) end
  return ok(opts.stdout) and (opts.stderr == nil or opts.stderr == "pipe") and opts.input == nil
    and (opts.stdin == nil or opts.stdin == "null")
end

--- Seconds a helper command may take ($PERFGO_HELPER_TIMEOUT, default 300).
function M.helper_timeout()
  return tonumber(os.getenv("PERFGO_HELPER_TIMEOUT") or "") or 300
end

--- The platform of the machine perfgo runs on.
---@return {os: string, arch: string}
function M.new_local_platform()
  local r = proc.run({ "uname", "-sm" }, { stdin = "null", timeout = 30 })
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
  opts = opts or {}
  local o = local_opts(self, opts)
  local limit
  if captured(opts) then
    limit = opts.timeout or M.helper_timeout()
    o.timeout = limit
  end
  local r = proc.run(argv, o)
  if r.timed_out and limit then
    errors.fail(1, string.format("'%s' did not finish within %d s on %s (PERFGO_HELPER_TIMEOUT sets the limit)",
      table.concat({ argv[1], argv[2] }, " "), limit, self.description))
  end
  return r
end

--- The facts perf.preflight decides on (perfcheck.preflight), gathered
--- here with time limits.
---@param o {events?: string[], kptr?: boolean}
function Local:perf_facts(o)
  local check = require "perfgo.perfcheck"
  local function read(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local v = f:read("a")
    f:close()
    return v
  end
  local found = proc.which("perf") ~= nil
  local facts = {
    perf_found = found,
    paranoid = read("/proc/sys/kernel/perf_event_paranoid"),
    kptr_restrict = o.kptr and read("/proc/sys/kernel/kptr_restrict") or nil,
    root = tonumber((self:run({ "id", "-u" }, { stdin = "null" }).stdout or "")) == 0,
  }
  if found and o.events and #o.events > 0 then
    local r = proc.run(check.probe_argv(o.events), { stdin = "null", env = check.ENV, timeout = 30 })
    if r.timed_out then
      errors.fail(1, "perf did not answer within 30 s on this machine while checking the events")
    end
    facts.probe = r
  end
  return facts
end

function Local:get_many(list)
  local missing = {}
  for _, p in ipairs(list) do
    if not self:get(p[1], p[2]) then missing[#missing + 1] = p[1] end
  end
  return missing
end

function Local:spawn(argv, opts)
  local child, err = proc.spawn(argv, local_opts(self, opts))
  if not child then errors.fail(1, err) end
  return child
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

-- What each workflow step is doing, for "connection to H lost while ...".
local STEP_WORDS = {
  resolve = "connecting", build = "building", stage = "syncing", execute = "executing",
  collect = "collecting", convert = "converting", archive = "archiving", record = "cleaning up",
}

--- The name of a repository's files on a host: its directory name and a
--- hash of this machine and its path, so checkouts never share them.
---@param root string
---@return string
function M.repo_key(root)
  local sys = require "perfgo.sys"
  local name = fs.basename(root):gsub("[^%w._-]", "_")
  return string.format("%s-%s", name, M.short_hash((sys.hostname() or "") .. ":" .. root))
end

--- A remote Linux host: its own SSH master, and an agent that lives as
--- long as the run (perfgo.remote).
---@param ctx table
function M.new_remote(ctx)
  local remote = require "perfgo.remote"
  local opts = ctx.opts
  ui.step("connecting to %s", opts.remote_host)
  local options = remote.ssh_options(opts.ssh_option)
  local events
  if ctx.mode and ctx.mode.perf then events = opts.event or {} end
  local host = remote.connect({
    host = opts.remote_host, config = opts.ssh_config, options = options,
    key = M.repo_key(ctx.repo.root), run_id = ctx.run_id, keep = opts.keep, events = events,
    step = function() return STEP_WORDS[ctx.current_step] or ctx.current_step or "working" end,
  })
  local self = setmetatable({ kind = "remote", host = opts.remote_host, remote = host, keep = opts.keep }, Remote)
  self.platform = host.platform
  self.description = string.format("%s (%s/%s)", self.host, host.platform.os, host.platform.arch)
  self.scratch_dir = host.run_dir
  self.root = host.run_dir .. "/tree"
  local f = host.facts
  ui.step("%s: %s/%s, %s, run directory %s", self.host, host.platform.os, host.platform.arch,
    (f.perf or "") ~= "" and f.perf or "no perf", host.run_dir)
  return self
end

--- perf facts for perf.preflight (see perfcheck.preflight): gathered by
--- the agent when it started, the event probe included.
---@param o {events?: string[], kptr?: boolean}
function Remote:perf_facts(o)
  local facts = self.remote:perf_facts()
  if not o.kptr then facts.kptr_restrict = nil end
  return facts
end

function Remote:stage(ctx)
  local git = require "perfgo.git"
  local files, err = git.files(ctx.repo.root)
  if not files then errors.fail(1, err) end
  local what = ctx.binary and (" and " .. ctx.binary.name) or ""
  ui.step("syncing %d file%s%s to %s", #files, #files == 1 and "" or "s", what, self.host)
  local r = self.remote:sync(files, ctx.repo.root, ctx.binary)
  local bin = ""
  if ctx.binary then
    ctx.staged_binary = self.scratch_dir .. "/bin/" .. ctx.binary.name
    bin = string.format("; %s: %s of %s", ctx.binary.name, ui.bytes(r.binary_sent or 0),
      ui.bytes(fs.size(ctx.binary.path) or 0))
  end
  ui.step("synced to %s: %d of %d file%s changed, %s sent%s", self.host, r.changed, r.files,
    r.files == 1 and "" or "s", ui.bytes(r.sent), bin)
  ctx.sync = r
end

function Remote:path(rel)
  if rel == nil or rel == "." or rel == "" then return self.root end
  return self.root .. "/" .. rel
end

function Remote:scratch(name)
  if name == nil or name == "" then return self.scratch_dir end
  return self.scratch_dir .. "/" .. name
end

function Remote:run(argv, opts)
  opts = opts or {}
  local o = remote_opts(opts)
  if opts.cwd then o.cwd = self:path(opts.cwd) end
  if captured(opts) then return self.remote:run(argv, o) end
  return self.remote:run_session(argv, o)
end

function Remote:spawn(argv, opts)
  opts = opts or {}
  local o = remote_opts(opts)
  if opts.cwd then o.cwd = self:path(opts.cwd) end
  return self.remote:spawn_session(argv, o)
end

--- Copies one remote file here; nil, message when it cannot be read.
function Remote:get(path, local_path)
  local missing = self.remote:fetch({ { path, local_path } }, "copying " .. path)
  if #missing > 0 then return nil, "cannot read " .. path end
  return true
end

--- Copies several remote files here in one go: {{remote, local}, ...};
--- returns the remote paths that could not be read.
function Remote:get_many(list)
  return self.remote:fetch(list, "copying files")
end

function Remote:cleanup(_ctx)
  if not self.remote then return end
  if self.keep then
    ui.info("kept the remote working directory %s:%s", self.host, self.scratch_dir)
  end
  self.remote:close()
  self.remote = nil
end

--- The target the options ask for.
---@param ctx table
function M.new(ctx)
  if ctx.opts.remote_host and ctx.opts.remote_host ~= "" then return M.new_remote(ctx) end
  return M.new_local(ctx)
end

return M
