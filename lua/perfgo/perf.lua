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
    -- CSV straight into a file: it works for every kind of event and with
    -- -r (`perf stat record` + `report` refuses some tracepoints), and the
    -- table is rendered from it (perfstat.render).
    out = { "perf", "stat", "-x,", "-o", ctx.target:scratch("stat.csv") }
    if opts["repeat"] then out[#out + 1] = "-r"; out[#out + 1] = tostring(opts["repeat"]) end
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
    -- Sample times on CLOCK_MONOTONIC, which every kind of event accepts
    -- (the kernel refuses CLOCK_REALTIME for tracepoints); perf stores a
    -- reference time of day with it, from which the profile's date comes
    -- (profiling.clock_offset). Unless the user picked a clock.
    local has_clock = false
    for _, a in ipairs(opts.perf_arg or {}) do
      if a == "-k" or a:match("^%-%-clockid") or a:match("^%-k") then has_clock = true end
    end
    if not has_clock then out[#out + 1] = "-k"; out[#out + 1] = "CLOCK_MONOTONIC" end
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

-- The name a command is shown by in messages.
local function command_name(ctx, argv)
  return ctx.exec_argv and ctx.exec_argv[1] or argv[1] or "the command"
end

-- The error for a command that could not be started: 127 when it is not
-- there, 126 otherwise, as a shell says it.
local function not_started(ctx, argv, reason)
  local cmd = command_name(ctx, argv)
  local where = ctx.target and ctx.target.kind == "remote" and (" on " .. ctx.target.host) or ""
  if reason:find("No such file or directory", 1, true) or reason:find("not found", 1, true) then
    errors.fail(127, string.format("%s: command not found%s", cmd, where))
  end
  errors.fail(126, string.format("cannot run %s%s: %s", cmd, where, reason))
end

--- What became of the command, from perf's result and its stderr: the
--- command's own exit ({code=, signal=}), or an error raised when perf or
--- the command never ran (perf refused its options or events, the command
--- is not there, ...): then nothing of the run is a result.
---@param ctx table
---@param argv string[] the command (before wrapping)
---@param r table|nil the result of target:run
---@param err? string why there is no result
---@return {code: integer, signal?: integer}
function M.outcome(ctx, argv, r, err)
  if not r then errors.fail(1, "the command did not run: " .. tostring(err)) end
  local check = require "perfgo.perfcheck"
  local mode = ctx.mode
  if r.error then
    if mode == "run" then not_started(ctx, argv, r.error) end
    require("perfgo.programs").check(r, "perf")
  end
  local stderr = fs.read(fs.join(ctx.run.dir, "stderr.txt")) or ""
  if mode == "run" then
    -- a remote shell that could not find the command
    if r.code == 127 and ctx.target.kind == "remote" then
      local last = stderr:match("([^\n]*)\n?$") or ""
      if last:find("not found", 1, true) then not_started(ctx, argv, last) end
    end
    return { code = r.code, signal = r.signal }
  end
  local failed = check.workload_failure(stderr)
  if failed then not_started(ctx, argv, failed) end
  if mode == "stat" then
    local csv = ctx.target:run({ "cat", ctx.target:scratch("stat.csv") }, { stdin = "null" })
    ctx.stat_csv = csv and csv.code == 0 and csv.stdout or ""
    if #require("perfgo.perfstat").parse(ctx.stat_csv) == 0 then
      errors.fail(1, check.perf_failure("perf stat", r.code, stderr, r.signal))
    end
    -- perf stat exits 0 when a signal ended the command, and says so
    local sig = r.code == 0 and check.stat_signal(stderr, argv[1], M.signal_descriptions()) or nil
    if sig then return { code = 128 + sig, signal = sig } end
    return { code = r.code }
  end
  if not stderr:find("[ perf record: Captured and wrote", 1, true) then
    errors.fail(1, check.perf_failure(mode == "c2c" and "perf c2c record" or "perf record", r.code, stderr,
      r.signal))
  end
  -- perf record exits as the command did (128+N after a signal)
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

--- Options recorded in testrun.json for the mode.
---@param ctx table
---@return table
function M.describe(ctx)
  local json = require "perfgo.json"
  local o = ctx.opts or {}
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
  return (((r.stdout or "") .. (r.stderr or "")):gsub("%s+$", ""))
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
  local events = ctx.opts.event or {}
  local facts = t:perf_facts({ events = events, kptr = ctx.mode == "profile" })
  facts.system_wide = ctx.mode == "c2c"
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
  if ctx.mode == "c2c" then M.probe_c2c(ctx) end
end

--- perf c2c samples memory accesses (mem-loads/mem-stores), which needs a
--- hardware PMU: try it on `true` before the test runs.
---@param ctx table
function M.probe_c2c(ctx)
  local t = ctx.target
  local r = t:run({ "perf", "c2c", "record", "-o", t:scratch("c2c-probe.data"), "--", "true" },
    { stdin = "null", env = M.env, timeout = 60 })
  if r.code ~= 0 then
    errors.fail(2, string.format("perf c2c cannot record on %s: %s. It samples memory accesses "
      .. "(mem-loads/mem-stores), which need hardware PMU access (not available in most VMs); "
      .. "use perfgo test stat or profile -e cpu-clock instead", t.description, text_of(r)))
  end
end

--- After a stat run: the numbers (stat.json) and the table (stat.txt,
--- also shown on stdout), from the CSV perf wrote (read by M.outcome).
---@param ctx table
function M.collect_stat(ctx)
  local perfstat = require "perfgo.perfstat"
  local json = require "perfgo.json"
  local history = require "perfgo.history"
  local run = ctx.run
  local counters = perfstat.parse(ctx.stat_csv or "")
  local table_text = perfstat.render(counters)
  local ok, werr = fs.write_atomic(fs.join(run.dir, "stat.txt"), table_text)
  if not ok then errors.fail(1, "cannot write stat.txt: " .. tostring(werr)) end
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
  ok, werr = fs.write_atomic(fs.join(run.dir, "stat.json"), json.encode({
    events = list,
    problems = notes,
    command = json.array(ctx.wrapped_argv or {}),
    ["repeat"] = ctx.opts["repeat"],
  }))
  if not ok then errors.fail(1, "cannot write stat.json: " .. tostring(werr)) end
  history.add_artifact(run, "stat", "stat.json")
  require("perfgo.ui").out(table_text)
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
