--- The test workflow: an ordered list of named steps over one context
--- (perfgo.Context). Each step is looked up by name when it is called, so
--- a project's perfgo.lua can wrap or replace any of them (M.override) or
--- hook before and after them (M.hook), even after this module was loaded.
--- What a step does that depends on the perf mode, the mode does
--- (ctx.mode, perfgo.modes); what depends on the project, the rule
--- (ctx.rule, perfgo.rules).
---
---   resolve  -> the repository, the rule, the mode and its options, what
---               to run, the target, the rule's and the mode's checks
---               there, the run directory
---   build    -> the rule builds the binary for the target's platform
---   stage    -> the target receives the working tree and the binary (as
---               the rule says: attach sends nothing)
---   execute  -> the rule's command runs as the mode runs it (perf stat,
---               record, ...), stdout/stderr live and into the run directory
---   collect  -> the mode's results (stat.json, c2c.txt), Go's own profiles
---   convert  -> the mode's conversion (perf script into a pprof profile)
---   archive  -> what the mode keeps (a profile, with its binary)
---   record   -> testrun.json (always runs, even after a failure or Ctrl-C)
---
--- A run ends with one status (history.STATUSES) and an exit code that
--- agree everywhere (M.outcome): the record, what perfgo exits with and
--- what `perfgo list` shows. testrun.json is written with status "running"
--- as soon as the run has a directory, and replaced when it ends.
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
---@param ctx perfgo.Context
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

---@param ctx perfgo.Context
function M.steps.resolve(ctx)
  local git = require "perfgo.git"
  local rules = require "perfgo.rules"
  local target = require "perfgo.target"
  ctx.mode = require("perfgo.modes").require(ctx.mode_name)
  require("perfgo.runopts").validate(ctx.mode, ctx.opts)
  ctx.cwd = ctx.cwd or fs.abspath(".")
  local root = git.root(ctx.cwd)
  ctx.repo = { root = root or ctx.cwd, git = root ~= nil }
  if root then ctx.git = git.info(root) end
  ctx.rule = rules.load(ctx.rule_name, ctx.repo.root)
  ctx.rule.resolve(ctx)
  -- one host of a group (perfgo.fanout) was given its run id
  ctx.run_id = ctx.group and ctx.group.run_id or require("perfgo.sys").random_id()
  ctx.host_platform = target.new_local_platform()
  ctx.target = target.new(ctx)
  ctx.rule.preflight(ctx)
  ctx.mode.preflight(ctx)
  -- From here on the run is recorded, whatever happens.
  local run, err = history.new_run(ctx.repo.root, ctx.run_id)
  if not run then errors.fail(1, err) end
  ctx.run = run
end

---@param ctx perfgo.Context
function M.steps.build(ctx)
  -- one host of several: a binary built for its platform is shared
  if ctx.group then require("perfgo.fanout").build(ctx) else ctx.rule.build(ctx) end
  if ctx.binary then history.add_artifact(ctx.run, "binary", ctx.binary.name) end
end

---@param ctx perfgo.Context
function M.steps.stage(ctx)
  ctx.rule.stage(ctx)
end

--- What runs: the rule's command (argv and its directory, or a
--- perfgo.Workload), with the flags of Go's own profiles when asked for.
---@param ctx perfgo.Context
---@return perfgo.Workload
function M.workload(ctx)
  local argv, rel = ctx.rule.command(ctx)
  if type(argv) ~= "table" then
    errors.user(string.format("rule %s (%s): command() returned no command", ctx.rule.name, ctx.rule.origin))
  end
  local w = argv
  if argv.argv == nil and argv.pids == nil then w = { argv = argv, cwd = rel } end
  if ctx.opts.go_profiles and w.argv then
    for _, f in ipairs(ctx.rule.go_profile_flags(ctx.target:scratch(""))) do w.argv[#w.argv + 1] = f end
  end
  return w
end

---@param ctx perfgo.Context
function M.steps.execute(ctx)
  ctx.workload = M.workload(ctx)
  ctx.mode.execute(ctx, ctx.workload)
end

---@param ctx perfgo.Context
function M.steps.collect(ctx)
  ctx.mode.collect(ctx)
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

---@param ctx perfgo.Context
function M.steps.convert(ctx)
  ctx.mode.convert(ctx)
end

---@param ctx perfgo.Context
function M.steps.archive(ctx)
  ctx.mode.archive(ctx)
end

-- Outcome --------------------------------------------------------------

--- The signal number's name ("SIGINT"), or "signal N".
---@param sig integer
---@return string
function M.signal_name(sig)
  return require("perfgo.proc").signal_name(sig) or ("signal " .. tostring(sig))
end

--- How a run ended, decided in one place:
---   interrupted  perfgo got SIGINT, SIGTERM, SIGHUP or SIGPIPE while the
---                run was in progress: 128 + the signal's number
---   error        perfgo, perf or a step failed (ctx.error): the error's
---                exit code (2 a usage or input mistake, 127 a command that
---                is not there, 75 a lost connection, 1 otherwise), or 70
---                for an internal error (a bug in perfgo)
---   failed/ok    the test ran: its own exit code, non-zero or 0
---@param ctx perfgo.Context
---@return perfgo.Outcome
function M.outcome(ctx)
  local err = ctx.error
  local msg
  if err ~= nil then
    if errors.is_user(err) then
      msg = errors.message(err)
    else
      msg = "internal error: " .. (tostring(err):match("^[^\n]*") or "?")
    end
  end
  if ctx.signal then
    return { status = "interrupted", exit_code = 128 + ctx.signal, signal = M.signal_name(ctx.signal), error = msg }
  end
  if err ~= nil then
    local code = errors.is_user(err) and err.exit_code or 70
    if math.type(code) ~= "integer" or code == 0 then code = 1 end
    return { status = "error", exit_code = code, error = msg }
  end
  local test = ctx.test
  if not test and ctx.result then test = { code = ctx.result.code, signal = ctx.result.signal } end
  if not test or math.type(test.code) ~= "integer" then
    return { status = "error", exit_code = 1, error = "the command did not run (no step ran it)" }
  end
  return { status = test.code == 0 and "ok" or "failed", exit_code = test.code }
end

--- The exit code of the run (see M.outcome).
---@param ctx perfgo.Context
---@return integer
function M.exit_code(ctx)
  return M.outcome(ctx).exit_code
end

local function round_ms(seconds)
  return math.floor(seconds * 1000 + 0.5) / 1000
end

--- The record of the run: while it runs (status "running", no exit code)
--- or as it ended.
---@param ctx perfgo.Context
---@param out perfgo.Outcome|{status: "running"}
---@return table
function M.record_of(ctx, out)
  local json = require "perfgo.json"
  local run = ctx.run
  local t = ctx.target
  local test = ctx.test
  local me = ctx.process or history.self()
  ctx.process = me
  local running = out.status == "running"
  local attach = ctx.attach and require("perfgo.attach").record(ctx.attach)
  local interrupted
  if not running then interrupted = out.status == "interrupted" end
  return {
    id = run.id,
    type = ctx.record_type or ctx.mode_name,
    mode = ctx.record_type and ctx.mode_name or nil,
    command = ctx.command_name,
    timestamp = history.timestamp(run.started),
    args = json.array(ctx.args or {}),
    workdir = ctx.cwd,
    package = ctx.package and {
      pattern = ctx.package.pattern, import_path = ctx.package.import_path, path = ctx.package.rel,
    } or nil,
    status = out.status,
    exit_code = out.exit_code,
    error = out.error,
    signal = out.signal,
    interrupted = interrupted,
    failed_step = out.error and ctx.failed_step or nil,
    test_exit_code = test and test.code or nil,
    test_signal = test and test.signal and M.signal_name(test.signal) or nil,
    duration = not running and round_ms(require("perfgo.sys").monotonic() - run.t0) or nil,
    test_duration = ctx.result and ctx.result.duration and round_ms(ctx.result.duration) or nil,
    host = me.host, pid = me.pid, pid_start = me.pid_start, boot_id = me.boot_id,
    git = ctx.git and { commit = ctx.git.commit, branch = ctx.git.branch, dirty = ctx.git.dirty } or nil,
    target = t and {
      remote_host = t.host, os = t.platform.os, arch = t.platform.arch,
      workdir = ctx.workdir,
      pids = attach and attach.pids, names = attach and attach.names,
    } or nil,
    attach = attach and attach.section,
    perf = ctx.mode and ctx.mode.describe(ctx) or nil,
    archive = ctx.archive_dir,
    group = ctx.group and require("perfgo.group").record_field(ctx.group) or nil,
    artifacts = run.artifacts,
  }
end

-- Writes the run's record for this outcome; a user error when it cannot.
local function write_record(ctx, out)
  local ok, err = history.write(ctx.run, M.record_of(ctx, out))
  if not ok then errors.fail(1, err) end
end

function M.steps.record(ctx)
  if not ctx.run then return end
  write_record(ctx, ctx.outcome or M.outcome(ctx))
end

-- Steps that still run after a signal stopped the test: they keep what it
-- measured (perf wrote its data when it stopped). A signal after the test
-- ended stops them too.
local KEEPS = { collect = true, convert = true, archive = true }

local function traceback(e)
  if errors.is_user(e) then return e end
  return debug.traceback(tostring(e), 2)
end

--- Runs every step but record, in order, until one fails or a signal
--- stops the run; writes the "running" record once the run has a
--- directory.
---@param ctx perfgo.Context
function M.run_steps(ctx)
  local proc = require "perfgo.proc"
  local seen_by_execute
  for _, name in ipairs(M.order) do
    if name ~= "record" then
      local sig, count = proc.interrupted()
      if sig and not (KEEPS[name] and seen_by_execute and count <= seen_by_execute) then return end
      ctx.current_step = name
      local ok, err = xpcall(M.call, traceback, name, ctx)
      if ok and name == "resolve" and ctx.run then
        ok, err = xpcall(write_record, traceback, ctx, { status = "running" })
      end
      if not ok then
        ctx.error, ctx.failed_step = err, name
        return
      end
      if name == "execute" then seen_by_execute = select(2, proc.interrupted()) or 0 end
    end
  end
end

--- Runs the workflow: every step in order, then record (always), then the
--- target's clean-up. SIGINT, SIGTERM, SIGHUP and SIGPIPE are held for the
--- whole run (perfgo.proc): the first stops the test (what perf measured
--- is still collected and converted), a second stops what follows, a
--- third ends perfgo at once (the run then reads as abandoned). Returns the
--- exit code; a failed run re-raises its error after it was recorded.
---@param ctx perfgo.Context
---@return integer
function M.run(ctx)
  local proc = require "perfgo.proc"
  proc.hold_signals()
  local ok, err = xpcall(M.run_steps, traceback, ctx)
  if not ok and ctx.error == nil then ctx.error = err end
  ctx.signal = proc.interrupted()
  local out = M.outcome(ctx)
  ctx.outcome = out
  local rok, rerr = xpcall(M.call, traceback, "record", ctx)
  if ctx.target then pcall(ctx.target.cleanup, ctx.target, ctx) end
  proc.release_signals()
  if not rok then ui.warn("the run could not be recorded: %s", errors.message(rerr)) end
  if out.status == "error" then
    if errors.is_user(ctx.error) then error(errors.new(errors.message(ctx.error), out.exit_code), 0) end
    error(ctx.error, 0)
  end
  local where = ctx.run and ok and rok and (" and recorded in " .. ctx.run.dir) or ""
  if out.status == "interrupted" then
    ui.info("interrupted by %s: the run was stopped%s", out.signal, where)
  elseif ctx.run then
    ui.step("recorded run %s in %s", ctx.run.id:sub(1, 8), ctx.run.dir)
  end
  return out.exit_code
end

return M
