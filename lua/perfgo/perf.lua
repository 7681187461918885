--- What the modes that run perf share (lua/perfgo/modes/): perf's
--- environment, the options several of them take, the command line around
--- the workload, the checks before perf runs and after it ran.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"

local M = {}

--- Environment for every perf invocation: numbers in the C locale.
M.env = require("perfgo.perfcheck").ENV

local function list_of_strings(v, what)
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" then return nil, "must be a string or a list of strings" end
  local out = {}
  for _, x in ipairs(v) do
    if type(x) ~= "string" then return nil, "must be a string or a list of strings" end
    if what then
      local why = what(x)
      if why then return nil, why end
    end
    out[#out + 1] = x
  end
  return out
end

local function event_problem(e)
  if e == "" then return "an event name is empty" end
  if e:match("^%-") then return string.format("'%s' is not an event name", e) end
  if e:match("[%s%c]") then return string.format("event '%s' has a space or control character in it", e) end
  return nil
end

--- Options several modes take (perfgo.ModeOption).
M.options = {
  event = {
    name = "event", flags = "-e --event", many = true, argname = "<event>", record = "events",
    help = "perf event (repeatable for stat; profile: the sampled event).",
    check = function(v) return list_of_strings(v, event_problem) end,
  },
  perf_arg = {
    name = "perf_arg", flags = "--perf-arg", many = true, argname = "<arg>", record = "extra_args",
    help = "An extra argument for perf record/stat (repeatable).",
    check = function(v) return list_of_strings(v) end,
  },
}

--- perf's command line around the workload: perf_argv (perf's own
--- arguments, chosen by the mode), the --perf-arg arguments, then the
--- processes (-p) and the command (after --).
---@param ctx perfgo.Context
---@param perf_argv string[]
---@param workload perfgo.Workload
---@return string[]
function M.command(ctx, perf_argv, workload)
  local out = {}
  for _, a in ipairs(perf_argv) do out[#out + 1] = a end
  for _, a in ipairs(ctx.opts.perf_arg or {}) do out[#out + 1] = a end
  if workload.pids then
    local pids = {}
    for i, p in ipairs(workload.pids) do pids[i] = tostring(p) end
    out[#out + 1] = "-p"
    out[#out + 1] = table.concat(pids, ",")
  end
  if workload.argv then
    out[#out + 1] = "--"
    for _, a in ipairs(workload.argv) do out[#out + 1] = a end
  end
  return out
end

-- The name a command is shown by in messages.
local function command_name(ctx, argv)
  return ctx.exec_argv and ctx.exec_argv[1] or argv and argv[1] or "the command"
end

--- Raises the error for a command that could not be started: 127 when
--- it is not there, 126 otherwise, as a shell says it.
---@param ctx perfgo.Context
---@param argv string[]|nil the command
---@param reason string
function M.not_started(ctx, argv, reason)
  local cmd = command_name(ctx, argv)
  local where = ctx.target and ctx.target.kind == "remote" and (" on " .. ctx.target.host) or ""
  if reason:find("No such file or directory", 1, true) or reason:find("not found", 1, true) then
    errors.fail(127, string.format("%s: command not found%s", cmd, where))
  end
  errors.fail(126, string.format("cannot run %s%s: %s", cmd, where, reason))
end

--- The checks every perf mode makes of perf's result before its own: perf
--- and the command started (else an error is raised: perf missing, the
--- command not there). Returns perf's stderr as the run directory holds
--- it.
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@param r perfgo.proc.Result|nil the result of target:run
---@param err? string why there is no result
---@return string stderr
function M.started(ctx, workload, r, err)
  if not r then errors.fail(1, "the command did not run: " .. tostring(err)) end
  if r.error then require("perfgo.programs").check(r, "perf") end
  local stderr = fs.read(fs.join(ctx.run.dir, "stderr.txt")) or ""
  local failed = require("perfgo.perfcheck").workload_failure(stderr)
  if failed then M.not_started(ctx, workload.argv, failed) end
  return stderr
end

--- The outcome of a `perf record` (or `perf c2c record`) run: as
--- `started`, and a recording without perf's "Captured and wrote" line is a
--- perf failure (exit 1) named after `what`.
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@param r perfgo.proc.Result|nil
---@param err? string
---@param what string the perf command, for the message ("perf record")
---@return perfgo.TestExit
function M.recorded(ctx, workload, r, err, what)
  local stderr = M.started(ctx, workload, r, err)
  if not stderr:find("[ perf record: Captured and wrote", 1, true) then
    errors.fail(1, require("perfgo.perfcheck").perf_failure(what, r.code, stderr, r.signal))
  end
  return { code = r.code }
end

--- Signal number -> description ("Segmentation fault"), as strsignal(3)
--- words it here.
---@return table<integer, string>
function M.signal_descriptions()
  local proc = require "perfgo.proc"
  local out = {}
  for n = 1, 64 do
    local name, desc = proc.signal_name(n)
    if name then out[n] = desc end
  end
  return out
end

--- Checks before the test runs that perf can do what was asked on the
--- target: perf installed, perf_event_paranoid permissive enough, every
--- event supported. Raises a user error naming the problem and the fix;
--- prints warnings (kptr_restrict) and goes on.
---@param ctx perfgo.Context
---@param o? {kernel_symbols?: boolean, system_wide?: boolean} what the mode needs beyond counting
function M.preflight(ctx, o)
  o = o or {}
  local check = require "perfgo.perfcheck"
  local t = ctx.target
  local events = ctx.opts.event or {}
  local facts = t:perf_facts({ events = events, kptr = o.kernel_symbols })
  facts.system_wide = o.system_wide
  if facts.probe then
    facts.events = events
    if #events > 1 and check.probe(facts.probe) then
      -- name the event perf refuses as it was given: probe them one by one
      for _, e in ipairs(events) do
        local one = t:run(check.probe_argv({ e }), { stdin = "null", env = M.env, timeout = 30 })
        if check.probe(one) then facts.probe, facts.events = one, { e } break end
      end
    end
  end
  local err, warnings = check.preflight(facts)
  if err then
    local from = #(facts.events or {}) == 1 and require("perfgo.runopts").origin(ctx.opts, "event")
    errors.fail(2, from and (from .. ": defaults.event: " .. err) or err)
  end
  for _, w in ipairs(warnings or {}) do ui.warn("%s", w) end
end

--- Warns about what perf's stderr says went wrong while recording (lost
--- or throttled samples, ...), but for warnings `skip` matches.
---@param ctx perfgo.Context
---@param skip? fun(warning: string): boolean
function M.warn_recording(ctx, skip)
  local check = require "perfgo.perfcheck"
  for _, w in ipairs(check.record_warnings(fs.read(fs.join(ctx.run.dir, "stderr.txt")) or "")) do
    if not (skip and skip(w)) then ui.warn("%s", w) end
  end
end

return M
