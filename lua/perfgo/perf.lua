--- The perf modes: how a command is wrapped in perf, and what is collected
--- afterwards. Modes: run (no perf), stat, profile, c2c.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"

local M = {}

M.modes = { run = true, stat = true, profile = true, c2c = true }

--- Environment for every perf invocation: numbers in the C locale.
M.env = require("perfgo.perfcheck").ENV

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
    -- `perf stat record` keeps the counts for two reports (perf's own
    -- table, then CSV); it cannot repeat, so -r writes CSV directly.
    if opts["repeat"] then
      out = { "perf", "stat", "-x,", "-o", ctx.target:scratch("stat.csv"), "-r", tostring(opts["repeat"]) }
    else
      out = { "perf", "stat", "record", "--quiet", "-o", ctx.target:scratch("stat.data") }
    end
    for _, e in ipairs(opts.event or {}) do out[#out + 1] = "-e"; out[#out + 1] = e end
    if opts.detail then out[#out + 1] = "-d" end
  elseif mode == "profile" then
    out = { "perf", "record", "-o", ctx.target:scratch("perf.data") }
    if opts.call_graph then
      out[#out + 1] = "--call-graph"; out[#out + 1] = opts.call_graph
    else
      out[#out + 1] = "-g"
    end
    for _, e in ipairs(opts.event or {}) do out[#out + 1] = "-e"; out[#out + 1] = e end
    -- Wall-clock sample times, so the profile's time_nanos is a real date
    -- (unless the user picked a clock with --perf-arg).
    local has_clock = false
    for _, a in ipairs(opts.perf_arg or {}) do
      if a == "-k" or a:match("^%-%-clockid") or a:match("^%-k") then has_clock = true end
    end
    if not has_clock then out[#out + 1] = "-k"; out[#out + 1] = "CLOCK_REALTIME" end
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
  local json = require "perfgo.json"
  local o = ctx.opts
  return {
    mode = ctx.mode,
    events = json.array(o.event or {}),
    count = o.count,
    freq = o.freq,
    call_graph = ctx.mode == "profile" and (o.call_graph or "fp") or nil,
    detail = o.detail or nil,
    ["repeat"] = o["repeat"],
    extra_args = json.array(o.perf_arg or {}),
    argv = ctx.wrapped_argv and json.array(ctx.wrapped_argv) or nil,
  }
end

local function text_of(r)
  return ((r.stdout or "") .. (r.stderr or "")):gsub("%s+$", "")
end

--- Checks before the test runs that perf can do what was asked on the
--- target: perf installed, perf_event_paranoid permissive enough, every
--- event supported. Raises a user error naming the problem and the fix;
--- prints warnings (kptr_restrict) and goes on.
---@param ctx table
function M.preflight(ctx)
  if ctx.mode == "run" then return end
  local check = require "perfgo.perfcheck"
  local t = ctx.target
  local function read(path)
    local r = t:run({ "cat", path }, { stdin = "null" })
    return r.code == 0 and r.stdout or nil
  end
  local found = t:run({ "sh", "-c", "command -v perf" }, { stdin = "null" })
  local uid = t:run({ "id", "-u" }, { stdin = "null" })
  local facts = {
    perf_found = found.code == 0 and (found.stdout or "") ~= "",
    paranoid = read("/proc/sys/kernel/perf_event_paranoid"),
    kptr_restrict = ctx.mode == "profile" and read("/proc/sys/kernel/kptr_restrict") or nil,
    root = tonumber(uid.stdout) == 0,
    system_wide = ctx.mode == "c2c",
  }
  local events = ctx.opts.event or {}
  if facts.perf_found and #events > 0 then
    facts.probe = t:run(check.probe_argv(events), { stdin = "null", env = M.env })
  end
  local err, warnings = check.preflight(facts)
  if err then errors.fail(2, err) end
  for _, w in ipairs(warnings or {}) do ui.warn("%s", w) end
  if ctx.mode == "c2c" then M.probe_c2c(ctx) end
end

--- perf c2c samples memory accesses (mem-loads/mem-stores), which needs a
--- hardware PMU: try it on `true` before the test runs.
---@param ctx table
function M.probe_c2c(ctx)
  local t = ctx.target
  local data = "/tmp/perfgo-c2c-probe." .. ctx.run_id:sub(1, 12) .. ".data"
  local r = t:run({ "perf", "c2c", "record", "-o", data, "--", "true" }, { stdin = "null", env = M.env })
  t:run({ "rm", "-f", data }, { stdin = "null" })
  if r.code ~= 0 then
    errors.fail(2, string.format("perf c2c cannot record on %s: %s. It samples memory accesses "
      .. "(mem-loads/mem-stores), which need hardware PMU access (not available in most VMs); "
      .. "use perfgo test stat or profile -e cpu-clock instead", t.description, text_of(r)))
  end
end

--- After a stat run: perf's own table (stat.txt) and the numbers
--- (stat.json), then the table on stdout.
---@param ctx table
function M.collect_stat(ctx)
  local perfstat = require "perfgo.perfstat"
  local json = require "perfgo.json"
  local history = require "perfgo.history"
  local run = ctx.run
  local csv_text, human_text
  if ctx.opts["repeat"] then
    local csv = ctx.target:run({ "cat", ctx.target:scratch("stat.csv") }, { stdin = "null" })
    if csv.code ~= 0 then
      ui.warn("perf stat wrote no results (%s)", text_of(csv))
      return
    end
    csv_text = csv.stdout or ""
  else
    local data = ctx.target:scratch("stat.data")
    local human = ctx.target:run({ "perf", "stat", "report", "-i", data }, { stdin = "null", env = M.env })
    local csv = ctx.target:run({ "perf", "stat", "-x,", "report", "-i", data }, { stdin = "null", env = M.env })
    if human.code ~= 0 or csv.code ~= 0 then
      ui.warn("perf stat report failed: %s", text_of(human.code ~= 0 and human or csv))
      return
    end
    human_text = (human.stdout or "") .. (human.stderr or "")
    csv_text = (csv.stdout or "") .. (csv.stderr or "")
  end
  local counters = perfstat.parse(csv_text)
  -- perf's own table; with -r (no report possible) the same numbers as a table
  fs.write_atomic(fs.join(run.dir, "stat.txt"), human_text or perfstat.render(counters))
  history.add_artifact(run, "stat-text", "stat.txt")
  local problems = perfstat.check(counters, fs.read(fs.join(run.dir, "stderr.txt")) or "",
    { requested = ctx.opts.event or {} })
  local list = json.array({})
  for _, c in ipairs(counters) do
    c.metrics = json.array(c.metrics or {})
    list[#list + 1] = c
  end
  local notes = json.array({})
  for _, p in ipairs(problems) do notes[#notes + 1] = p end
  fs.write_atomic(fs.join(run.dir, "stat.json"), json.encode({
    events = list,
    problems = notes,
    command = json.array(ctx.wrapped_argv or {}),
    ["repeat"] = ctx.opts["repeat"],
  }))
  history.add_artifact(run, "stat", "stat.json")
  io.stdout:write(perfstat.render(counters))
  for _, p in ipairs(problems) do ui.warn("%s", p.message) end
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
