--- The test workflow: an ordered list of named steps over one context
--- table. Each step is looked up by name when it is called, so a project's
--- perfgo.lua can wrap or replace any of them (M.override) or hook before
--- and after them (M.hook), even after this module was loaded.
---
---   resolve  -> the repository, the rule, what to run, the run directory,
---               the target, and perf's preflight checks
---   build    -> the rule builds the binary for the target's platform
---   stage    -> the target receives the working tree and the binary
---   execute  -> the command runs (under perf for stat/profile/c2c),
---               stdout/stderr live and into the run directory
---   collect  -> stat and c2c results, Go's own profiles, perf's warnings
---   convert  -> perf script streamed into a pprof profile
---   archive  -> the profile, binary and script copied to the archive
---   record   -> testrun.json (always runs, even after a failure or Ctrl-C)
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local history = require "perfgo.history"

local M = {}

M.order = { "resolve", "build", "stage", "execute", "collect", "convert", "archive", "record" }

--- The built-in steps, by name.
M.steps = {}

local wrappers = {}
local hooks = { before = {}, after = {} }

--- Wraps step `name`: fn(ctx, base) is called instead, with base the step
--- it replaces (call it to keep the default behaviour).
---@param name string
---@param fn fun(ctx: table, base: fun(ctx: table))
function M.override(name, fn)
  if not M.steps[name] then
    errors.user(string.format("no workflow step named '%s' (steps: %s)", name, table.concat(M.order, ", ")))
  end
  wrappers[name] = wrappers[name] or {}
  table.insert(wrappers[name], fn)
end

--- Adds a hook called before or after step `name`.
---@param when "before"|"after"
---@param name string
---@param fn fun(ctx: table)
function M.hook(when, name, fn)
  if not M.steps[name] then
    errors.user(string.format("no workflow step named '%s' for %s_%s (steps: %s)", name, when, name,
      table.concat(M.order, ", ")))
  end
  hooks[when][name] = hooks[when][name] or {}
  table.insert(hooks[when][name], fn)
end

--- Forgets every override and hook (for tests).
function M.reset()
  wrappers, hooks = {}, { before = {}, after = {} }
end

--- Calls step `name` with its overrides and hooks.
---@param name string
---@param ctx table
function M.call(name, ctx)
  local fn = M.steps[name]
  for _, w in ipairs(wrappers[name] or {}) do
    local inner = fn
    fn = function(c) return w(c, inner) end
  end
  for _, h in ipairs(hooks.before[name] or {}) do h(ctx) end
  fn(ctx)
  for _, h in ipairs(hooks.after[name] or {}) do h(ctx) end
end

-- Steps ---------------------------------------------------------------

function M.steps.resolve(ctx)
  local git = require "perfgo.git"
  local rules = require "perfgo.rules"
  local target = require "perfgo.target"
  local perf = require "perfgo.perf"
  ctx.cwd = ctx.cwd or fs.abspath(".")
  local root = git.root(ctx.cwd)
  ctx.repo = { root = root or ctx.cwd, git = root ~= nil }
  if root then ctx.git = git.info(root) end
  ctx.rule = rules.load(ctx.rule_name, ctx.repo.root)
  ctx.rule.resolve(ctx)
  ctx.run_id = require("perfgo.sys").random_id()
  ctx.host_platform = target.new_local_platform()
  ctx.target = target.new(ctx)
  perf.preflight(ctx)
  -- From here on the run is recorded, whatever happens.
  ctx.run = history.new_run(ctx.repo.root, ctx.run_id)
end

function M.steps.build(ctx)
  ctx.rule.build(ctx)
  if ctx.binary then history.add_artifact(ctx.run, "binary", ctx.binary.name) end
end

function M.steps.stage(ctx)
  ctx.target:stage(ctx)
end

function M.steps.execute(ctx)
  local perf = require "perfgo.perf"
  local argv, rel = ctx.rule.command(ctx)
  if ctx.opts.go_profiles and ctx.rule.go_profile_flags then
    for _, f in ipairs(ctx.rule.go_profile_flags(ctx.target:scratch(""))) do argv[#argv + 1] = f end
  end
  ctx.wrapped_argv = perf.wrap(ctx, argv)
  ctx.workdir = ctx.target:path(rel)
  ui.step("running %s%s in %s", ctx.mode ~= "run" and ("perf " .. ctx.mode .. ": ") or "",
    table.concat(argv, " "), ctx.target.description)
  local run = ctx.run
  local r = ctx.target:run(ctx.wrapped_argv, {
    cwd = rel,
    stdin = "null",
    env = ctx.mode ~= "run" and perf.env or nil,
    stdout = { tee = fs.join(run.dir, "stdout.txt") },
    stderr = { tee = fs.join(run.dir, "stderr.txt") },
  })
  history.add_artifact(run, "stdout", "stdout.txt")
  history.add_artifact(run, "stderr", "stderr.txt")
  ctx.result = r
  ctx.interrupted = r.interrupted or false
  if ctx.interrupted then
    errors.fail(130, "interrupted: the run was stopped and recorded in " .. run.dir)
  end
end

function M.steps.collect(ctx)
  local perf = require "perfgo.perf"
  if ctx.mode == "stat" then perf.collect_stat(ctx) end
  if ctx.mode == "c2c" then perf.collect_c2c(ctx) end
  if ctx.mode ~= "run" then
    local check = require "perfgo.perfcheck"
    for _, w in ipairs(check.record_warnings(fs.read(fs.join(ctx.run.dir, "stderr.txt")) or "")) do
      if w:find("zero samples", 1, true) then ctx.warned_zero_samples = true end
      ui.warn("%s", w)
    end
  end
  if ctx.opts.go_profiles then
    for _, name in ipairs({ "go-cpu.pprof", "go-mem.pprof" }) do
      local dest = fs.join(ctx.run.dir, name)
      if ctx.target:get(ctx.target:scratch(name), dest) and fs.exists(dest) then
        history.add_artifact(ctx.run, "go-profile", name)
      else
        ui.warn("the test wrote no %s (did the test run at all?)", name)
      end
    end
  end
end

function M.steps.convert(ctx)
  if ctx.mode ~= "profile" then return end
  require("perfgo.profiling").convert(ctx)
end

function M.steps.archive(ctx)
  if ctx.mode ~= "profile" or not ctx.binary or not ctx.profile then return end
  ctx.archive_dir = require("perfgo.archive").save(ctx)
end

--- The exit code of the run: the test's, 128+signal, or 130 on Ctrl-C.
---@param ctx table
---@return integer
function M.exit_code(ctx)
  if ctx.interrupted then return 130 end
  local r = ctx.result
  if not r then
    if ctx.error and errors.is_user(ctx.error) then return ctx.error.exit_code end
    return 1
  end
  if r.signal and r.signal ~= 0 then return 128 + r.signal end
  return r.code or 1
end

local function round_ms(seconds)
  return math.floor(seconds * 1000 + 0.5) / 1000
end

function M.steps.record(ctx)
  local perf = require "perfgo.perf"
  local run = ctx.run
  if not run then return end
  local json = require "perfgo.json"
  local t = ctx.target
  local record = {
    id = run.id,
    type = ctx.mode,
    command = ctx.command_name,
    timestamp = history.timestamp(run.started),
    args = json.array(ctx.args or {}),
    workdir = ctx.cwd,
    package = ctx.package and {
      pattern = ctx.package.pattern, import_path = ctx.package.import_path, path = ctx.package.rel,
    } or nil,
    exit_code = M.exit_code(ctx),
    duration = round_ms(require("perfgo.sys").monotonic() - run.t0),
    test_duration = ctx.result and ctx.result.duration and round_ms(ctx.result.duration) or nil,
    interrupted = ctx.interrupted or false,
    status = ctx.interrupted and "interrupted" or (ctx.error and "error")
      or (M.exit_code(ctx) == 0 and "ok" or "failed"),
    error = ctx.error and errors.message(ctx.error) or nil,
    failed_step = ctx.error and ctx.current_step or nil,
    git = ctx.git and { commit = ctx.git.commit, branch = ctx.git.branch, dirty = ctx.git.dirty } or nil,
    target = t and {
      remote_host = t.host, os = t.platform.os, arch = t.platform.arch,
      workdir = ctx.workdir,
    } or nil,
    perf = perf.describe(ctx),
    archive = ctx.archive_dir,
    artifacts = run.artifacts,
  }
  history.write(run, record)
end

--- Runs every step in order. record always runs; the target is always
--- cleaned up. Returns the exit code; re-raises a step's error after the
--- run was recorded.
---@param ctx table
---@return integer
function M.run(ctx)
  local ok, err = true, nil
  for _, name in ipairs(M.order) do
    if name ~= "record" then
      ctx.current_step = name
      ok, err = xpcall(M.call, function(e)
        if errors.is_user(e) then return e end
        return debug.traceback(tostring(e), 2)
      end, name, ctx)
      if not ok then break end
    end
  end
  local sig = require("perfgo.proc").interrupted()
  if sig then
    ctx.interrupted = true
    if not ok then
      err = errors.new(string.format("interrupted (signal %d): the run was stopped%s", sig,
        ctx.run and (" and recorded in " .. ctx.run.dir) or ""), 130)
    end
  end
  if not ok then ctx.error = err end
  local rok, rerr = pcall(M.call, "record", ctx)
  if ctx.target then pcall(ctx.target.cleanup, ctx.target, ctx) end
  if not ok then error(err, 0) end
  if not rok then error(rerr, 0) end
  if ctx.run then ui.step("recorded run %s in %s", ctx.run.id:sub(1, 8), ctx.run.dir) end
  return M.exit_code(ctx)
end

return M
