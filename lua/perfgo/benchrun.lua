--- Measures Go benchmarks per op (perfgo.perop's method) on a target: one
--- calibration run finds the benchmarks a -bench pattern selects (sub-
--- benchmarks included) and the b.N the testing package settles on; then,
--- for each of -count rounds and each benchmark, two processes under
--- `perf stat` run it at two iteration counts (-test.benchtime=<n>x), and
--- the difference of their counts over the difference of their ops gives
--- each event per op. Results are emitted as benchmark lines as they come
--- and gathered into a bench.txt in the Go benchmark format.
---
--- Finding the benchmarks (Go 1.19): -test.list prints only top-level
--- names and matches the whole pattern against them, so "Foo/bar" lists
--- nothing; a run with -test.bench is what names sub-benchmarks and shows
--- the b.N the testing package settles on for the -benchtime asked (its
--- result lines; with -benchtime=<n>x it runs each benchmark once, 1x).
--- -test.list=. is used only to name the package's benchmarks when the
--- pattern selected none. Each measuring run selects its benchmark by a
--- pattern anchored part by part and is checked to have run that
--- benchmark alone, at the count asked.
local benchfmt = require "perfgo.benchfmt"
local benchenv = require "perfgo.benchenv"
local perfstat = require "perfgo.perfstat"
local perop = require "perfgo.perop"
local errors = require "perfgo.errors"

local M = {}

M.METHOD = "per-op counts = (count(n) - count(n/10)) / (ops(n) - ops(n/10)), "
  .. "two processes per sample under perf stat at -test.benchtime=<n>x, n = the b.N of a calibration run"

---@class perfgo.BenchRunOptions
---@field target table target:run(argv, opts) with opts.cwd relative to the repository root
---@field binary string the test binary on the target
---@field cwd string the package directory, relative to the repository root
---@field flags string[] the rule's run flags (-test.bench=..., -test.count=..., ...)
---@field events string[]|nil perf events; nil: perf stat's default set
---@field stat_file string where perf stat writes its CSV on the target
---@field env table|nil environment of the runs
---@field info table<string, string>|nil host configuration (perfgo.benchenv); gathered when nil
---@field emit fun(line: string)|nil live output: result lines and failures
---@field progress fun(fmt: string, ...)|nil progress lines
---@field stop fun(): boolean|nil true to stop before the next process

---@class perfgo.BenchFailure
---@field name string the benchmark, or "calibration"
---@field why string
---@field output string what the process printed
---@field code integer|nil its exit code

---@class perfgo.BenchRunResult
---@field text string the bench.txt contents
---@field lines integer result lines written
---@field failures perfgo.BenchFailure[]
---@field benchmarks perfgo.BenchTarget[]
---@field stopped boolean stopped early (o.stop)

local function noop() end

local function argv_of(o, extra)
  local argv = { o.binary, "-test.run=^$" }
  for _, f in ipairs(extra) do argv[#argv + 1] = f end
  for _, f in ipairs(o.rest) do argv[#argv + 1] = f end
  return argv
end

local function output_of(r)
  return ((r.stdout or "") .. (r.stderr or "")):gsub("%s+$", "")
end

-- The last lines of a process's output, for a failure report.
local function tail(text, n)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  while #lines > 0 and lines[#lines] == "" do lines[#lines] = nil end
  local out = {}
  for i = math.max(1, #lines - n + 1), #lines do out[#out + 1] = lines[i] end
  return table.concat(out, "\n")
end

-- Runs the calibration: the benchmarks and their b.N.
local function calibrate(o, bench)
  local extra = { "-test.bench=" .. bench, "-test.count=1" }
  local fixed = perop.fixed_count(o.benchtime)
  -- with a fixed count the names are all that is needed: one op each
  extra[#extra + 1] = "-test.benchtime=" .. (fixed and "1x" or (o.benchtime or "1s"))
  if o.cpu then
    local list = {}
    for i, p in ipairs(o.cpu) do list[i] = tostring(p) end
    extra[#extra + 1] = "-test.cpu=" .. table.concat(list, ",")
  end
  o.progress("finding the benchmarks -bench=%s selects and their b.N", bench)
  local r = o.target:run(argv_of(o, extra), { cwd = o.cwd, env = o.env, stdin = "null" })
  if not r or r.error then
    errors.fail(1, "the test binary did not run: " .. tostring(r and r.error or "no result"))
  end
  local procs = o.cpu or { tonumber(o.info.nproc) or 1 }
  local found = perop.discover(r.stdout or "", procs)
  if fixed then
    for _, b in ipairs(found) do b.n = fixed end
  end
  return found, r
end

-- The benchmarks that failed in a run's output ("--- FAIL: Name").
local function failed_names(text)
  local out = {}
  for name in (text or ""):gmatch("%-%-%- FAIL: (Benchmark%S*)") do out[#out + 1] = name end
  return out
end

-- One process under perf stat: its counters and output, or nil and why.
local function measure(o, b, n)
  local argv = { "perf", "stat", "-x,", "-o", o.stat_file }
  for _, e in ipairs(o.events or {}) do argv[#argv + 1] = "-e"; argv[#argv + 1] = e end
  argv[#argv + 1] = "--"
  local extra = { "-test.bench=" .. perop.bench_pattern(b.base), "-test.benchtime=" .. n .. "x",
    "-test.count=1" }
  if b.procs then extra[#extra + 1] = "-test.cpu=" .. b.procs elseif o.cpu then
    extra[#extra + 1] = "-test.cpu=1"
  end
  for _, a in ipairs(argv_of(o, extra)) do argv[#argv + 1] = a end
  local env = {}
  for k, v in pairs(o.env or {}) do env[k] = v end
  env.LC_ALL = "C"
  local r = o.target:run(argv, { cwd = o.cwd, env = env, stdin = "null" })
  if not r or r.error then return nil, "perf stat did not run: " .. tostring(r and r.error) end
  local res = benchfmt.parse(r.stdout or "").results
  local mine
  for _, x in ipairs(res) do
    if x.name ~= b.name then
      return nil, string.format("-bench=%s also ran %s", perop.bench_pattern(b.base), x.name), r
    end
    mine = x
  end
  if r.code ~= 0 or not mine then
    return nil, r.code ~= 0 and string.format("exit code %d", r.code) or "it printed no result", r
  end
  if mine.iterations ~= n then
    return nil, string.format("it ran %d iterations, not %d", mine.iterations, n), r
  end
  local csv = o.target:run({ "cat", o.stat_file }, { stdin = "null" })
  local counters = perfstat.parse(csv and csv.code == 0 and csv.stdout or "")
  if #counters == 0 then return nil, "perf stat wrote no counters: " .. tail(r.stderr or "", 3), r end
  return { n = n, counters = counters, result = mine }, nil, r
end

--- Measures every benchmark the flags' -bench pattern selects.
---@param o perfgo.BenchRunOptions
---@return perfgo.BenchRunResult
function M.run(o)
  local flags = perop.split_flags(o.flags or {})
  if not flags.bench or flags.bench == "" then
    errors.user("perfgo test bench needs -bench=REGEX (the benchmarks to measure)")
  end
  local run = {
    target = o.target, binary = o.binary, cwd = o.cwd, env = o.env, events = o.events,
    stat_file = o.stat_file, rest = flags.rest, cpu = flags.cpu, benchtime = flags.benchtime,
    emit = o.emit or noop, progress = o.progress or noop, stop = o.stop or function() return false end,
    info = o.info or benchenv.gather(o.target),
  }
  local benchmarks, cal = calibrate(run, flags.bench)
  local out = { failures = {}, benchmarks = benchmarks, lines = 0, stopped = false }
  -- stopped while finding the benchmarks: nothing was measured
  if run.stop() then
    out.stopped, out.text = true, ""
    return out
  end
  local cal_text = output_of(cal)
  for _, name in ipairs(failed_names(cal.stdout)) do
    out.failures[#out.failures + 1] = { name = name, why = "it failed", output = tail(cal_text, 20), code = cal.code }
    run.emit(string.format("%s failed (exit %d):\n%s", name, cal.code, tail(cal_text, 20)))
  end
  if #benchmarks == 0 then
    local listed = o.target:run({ o.binary, "-test.list=." }, { cwd = o.cwd, env = o.env, stdin = "null" })
    local names = perop.listed_benchmarks(listed and listed.stdout)
    errors.fail(#out.failures > 0 and 1 or 2, string.format("-bench=%s: no benchmark printed a result%s%s",
      flags.bench, #names > 0 and (" (the package has " .. table.concat(names, ", ") .. ")")
        or " (the package has no benchmarks)", cal_text ~= "" and (":\n" .. tail(cal_text, 15)) or ""))
  end
  -- configuration: the testing package's (goos, goarch, pkg, cpu), then
  -- the host's; one cpu line, the testing package's when it printed one
  -- (on x86 the CPU's own brand string), else /proc/cpuinfo's
  local lines, info = {}, {}
  for k, v in pairs(run.info) do info[k] = v end
  local go_config = {}
  for _, kv in ipairs(benchfmt.parse(cal.stdout or "").config) do
    if not go_config[kv.key] then
      go_config[kv.key] = true
      if kv.key == "cpu" and kv.value ~= "" then
        info.cpu = kv.value
      elseif kv.key ~= "cpu" then
        lines[#lines + 1] = benchfmt.config_line(kv.key, kv.value)
      end
    end
  end
  local events = o.events and #o.events > 0 and table.concat(o.events, ",") or "perf stat default"
  for _, l in ipairs(benchenv.config_lines(info, { { "perf-events", events }, { "method", M.METHOD } })) do
    lines[#lines + 1] = l
  end
  local width = 0
  for _, b in ipairs(benchmarks) do width = math.max(width, #b.name) end
  local dead = {}
  local count = flags.count or 1
  for round = 1, count do
    for i, b in ipairs(benchmarks) do
      if run.stop() then
        out.stopped = true
        break
      end
      if not dead[b.name] then
        local small, large = perop.counts(b.n)
        run.progress("%s (%d of %d), round %d of %d: b.N = %d and %d", b.name, i, #benchmarks, round, count,
          small, large)
        local s, why, r = measure(run, b, small)
        local l
        if s then l, why, r = measure(run, b, large) end
        if not (s and l) and run.stop() then
          -- the process was stopped with the run: not a failure of the benchmark
          out.stopped = true
          break
        elseif not (s and l) then
          dead[b.name] = true
          local text = r and output_of(r) or ""
          out.failures[#out.failures + 1] = { name = b.name, why = why, output = tail(text, 20),
            code = r and r.code }
          run.emit(string.format("%s: not measured: %s%s", b.name, why,
            text ~= "" and (":\n" .. tail(text, 20)) or ""))
        else
          local values = {}
          for _, v in ipairs(l.result.values) do values[#values + 1] = v end
          local per = perop.per_op(s, l)
          for _, v in ipairs(per) do values[#values + 1] = { value = v.value, unit = v.unit } end
          local line = benchfmt.result_line(b.name, large, values, width)
          lines[#lines + 1] = line
          out.lines = out.lines + 1
          run.emit(line)
        end
      end
    end
    if out.stopped then break end
  end
  out.text = table.concat(lines, "\n") .. "\n"
  return out
end

return M
