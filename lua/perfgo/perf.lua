--- The perf modes: how a command is wrapped in perf, and what is collected
--- afterwards. Modes: run (no perf), stat, profile, c2c.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"

local M = {}

M.modes = { run = true, stat = true, profile = true, c2c = true }

--- Environment for every perf invocation: numbers in the C locale.
M.env = { LC_ALL = "C" }

--- The argv that runs `argv` under the mode's perf command, writing perf's
--- data into the target's scratch directory.
---@param ctx table
---@param argv string[]
---@return string[]
function M.wrap(ctx, argv)
  local opts, mode = ctx.opts, ctx.mode
  local out
  if mode == "run" then
    return argv
  elseif mode == "stat" then
    out = { "perf", "stat", "record", "--quiet", "-o", ctx.target:scratch("stat.data") }
    for _, e in ipairs(opts.event or {}) do out[#out + 1] = "-e"; out[#out + 1] = e end
    if opts.detail then out[#out + 1] = "-d" end
    if opts["repeat"] then out[#out + 1] = "-r"; out[#out + 1] = tostring(opts["repeat"]) end
  elseif mode == "profile" then
    out = { "perf", "record", "-o", ctx.target:scratch("perf.data") }
    if opts.call_graph then
      out[#out + 1] = "--call-graph"; out[#out + 1] = opts.call_graph
    else
      out[#out + 1] = "-g"
    end
    for _, e in ipairs(opts.event or {}) do out[#out + 1] = "-e"; out[#out + 1] = e end
    if opts.count then out[#out + 1] = "-c"; out[#out + 1] = tostring(opts.count) end
    if opts.freq then out[#out + 1] = "-F"; out[#out + 1] = tostring(opts.freq) end
  elseif mode == "c2c" then
    out = { "perf", "c2c", "record", "-o", ctx.target:scratch("perf.data") }
  else
    errors.user("unknown mode " .. tostring(mode))
  end
  for _, a in ipairs(opts.perf_arg or {}) do out[#out + 1] = a end
  out[#out + 1] = "--"
  for _, a in ipairs(argv) do out[#out + 1] = a end
  return out
end

--- Options recorded in testrun.json for the mode.
---@param ctx table
---@return table
function M.describe(ctx)
  local o = ctx.opts
  return {
    mode = ctx.mode,
    events = o.event or {},
    count = o.count,
    freq = o.freq,
    call_graph = ctx.mode == "profile" and (o.call_graph or "fp") or nil,
    detail = o.detail or nil,
    ["repeat"] = o["repeat"],
    extra_args = o.perf_arg,
    argv = ctx.wrapped_argv,
  }
end

local function text_of(r)
  return ((r.stdout or "") .. (r.stderr or "")):gsub("%s+$", "")
end

--- Checks before the test runs that perf can do what was asked on the
--- target: perf installed, perf_event_paranoid permissive enough, every
--- event supported. Raises a user error naming the problem and the fix.
---@param ctx table
function M.preflight(ctx)
  if ctx.mode == "run" then return end
  local check = require "perfgo.perfcheck"
  local t = ctx.target
  local version = t:run({ "perf", "--version" }, { stdin = "null", env = M.env })
  local msg = check.perf_missing(version.code, text_of(version), t.description)
  if msg then errors.fail(2, msg) end

  local paranoid = t:run({ "cat", "/proc/sys/kernel/perf_event_paranoid" }, { stdin = "null" })
  local uid = t:run({ "id", "-u" }, { stdin = "null" })
  msg = check.paranoid(tonumber(paranoid.stdout), tonumber(uid.stdout), ctx.mode)
  if msg then errors.fail(2, msg) end

  for _, event in ipairs(ctx.opts.event or {}) do
    local r = t:run(check.event_probe_argv(event), { stdin = "null", env = M.env })
    msg = check.event_unsupported(event, r.code, r.stdout or "", r.stderr or "")
    if msg then errors.fail(2, msg) end
  end

  if ctx.mode == "profile" then
    local kptr = t:run({ "cat", "/proc/sys/kernel/kptr_restrict" }, { stdin = "null" })
    local warn = check.kptr_restrict(tonumber(kptr.stdout), tonumber(uid.stdout))
    if warn then ui.warn("%s", warn) end
  end
end

--- After a stat run: perf's own table (stat.txt) and the numbers
--- (stat.json), then the table on stdout.
---@param ctx table
function M.collect_stat(ctx)
  local perfstat = require "perfgo.perfstat"
  local json = require "perfgo.json"
  local history = require "perfgo.history"
  local data = ctx.target:scratch("stat.data")
  local human = ctx.target:run({ "perf", "stat", "report", "-i", data }, { stdin = "null", env = M.env })
  local csv = ctx.target:run({ "perf", "stat", "-x,", "report", "-i", data }, { stdin = "null", env = M.env })
  if human.code ~= 0 or csv.code ~= 0 then
    ui.warn("perf stat report failed: %s", text_of(human.code ~= 0 and human or csv))
    return
  end
  local text = (human.stdout or "") .. (human.stderr or "")
  local run = ctx.run
  fs.write_atomic(fs.join(run.dir, "stat.txt"), text)
  history.add_artifact(run, "stat-text", "stat.txt")
  local counters = perfstat.parse((csv.stdout or "") .. (csv.stderr or ""))
  fs.write_atomic(fs.join(run.dir, "stat.json"), json.encode({
    events = json.array(counters),
    command = ctx.wrapped_argv,
  }))
  history.add_artifact(run, "stat", "stat.json")
  io.stdout:write(perfstat.render(counters))
  for _, w in ipairs(perfstat.problems(counters, text)) do ui.warn("%s", w) end
  ctx.stat = counters
end

--- After a c2c run: `perf c2c report --stdio` saved as c2c.txt.
---@param ctx table
function M.collect_c2c(ctx)
  local history = require "perfgo.history"
  local data = ctx.target:scratch("perf.data")
  local path = fs.join(ctx.run.dir, "c2c.txt")
  ui.step("writing the c2c report")
  local r = ctx.target:run({ "perf", "c2c", "report", "-i", data, "--stdio" },
    { stdin = "null", env = M.env, stdout = { file = path } })
  if r.code ~= 0 then
    ui.warn("perf c2c report failed (exit %s): %s", tostring(r.code), (r.stderr or ""):gsub("%s+$", ""))
  end
  history.add_artifact(ctx.run, "c2c", "c2c.txt")
  ui.info("c2c report: %s", path)
end

return M
