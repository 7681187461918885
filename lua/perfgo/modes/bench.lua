--- The bench mode: Go benchmarks measured per op (perfgo.benchrun). Every
--- benchmark the -bench pattern selects runs in processes of its own under
--- `perf stat`, at two iteration counts, and each event's count per op is
--- appended to Go's benchmark line. The lines are shown as they come and
--- kept as bench.txt, in the Go benchmark format (benchstat reads it); two
--- bench runs compare with benchstat's statistics.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local json = require "perfgo.json"
local perf = require "perfgo.perf"
local history = require "perfgo.history"

local M = {
  name = "bench",
  description = "Go benchmarks per op: each event's count per benchmark op, Go's benchmark format; bench.txt.",
  order = 25,
  perf = true,
  options = { perf.options.event },
}

--- The benchmarks to measure are named by -bench; the events are checked
--- as stat checks them. Both before anything is built or recorded.
---@param ctx perfgo.Context
function M.preflight(ctx)
  if ctx.command_name == "exec" then
    errors.user("mode bench measures Go benchmarks: perfgo test bench PKG -bench=REGEX")
  end
  local flags = require("perfgo.perop").split_flags(ctx.run_flags or {})
  if not flags.bench or flags.bench == "" then
    errors.user("perfgo test bench needs -bench=REGEX (the benchmarks to measure)")
  end
  if ctx.opts.go_profiles then
    errors.user("--go-profiles: not with bench (its processes each run one benchmark; use perfgo test run)")
  end
  perf.preflight(ctx)
end

--- Runs the measurement (several processes, not one wrapped command): the
--- result lines and the failing benchmarks' output go to the terminal and
--- stdout.txt as they come. A benchmark that fails is reported and the
--- others go on; the run then ends `failed` (exit 1). Ctrl-C stops it
--- before the next process; what was measured is kept.
---@param ctx perfgo.Context
---@param _workload perfgo.Workload
function M.execute(ctx, _workload)
  local sys = require "perfgo.sys"
  local proc = require "perfgo.proc"
  local run = ctx.run
  ctx.workdir = ctx.target:path(ctx.package.rel)
  local env = {}
  for k, v in pairs(perf.env) do env[k] = v end
  local out_path = fs.join(run.dir, "stdout.txt")
  local f = io.open(out_path, "w")
  if not f then errors.fail(1, "cannot write " .. out_path) end
  local t0 = sys.monotonic()
  local ok, res = pcall(require("perfgo.benchrun").run, {
    target = ctx.target, binary = ctx.staged_binary, cwd = ctx.package.rel, flags = ctx.run_flags,
    events = ctx.opts.event, stat_file = ctx.target:scratch("stat.csv"), env = env,
    emit = function(line)
      ui.out(line .. "\n")
      f:write(line, "\n")
      f:flush()
    end,
    progress = ui.step,
    stop = function() return proc.interrupted() ~= nil end,
  })
  f:close()
  history.add_artifact(run, "stdout", "stdout.txt")
  if not ok then error(res, 0) end
  ctx.bench = res
  local code = #res.failures > 0 and 1 or 0
  ctx.result = { code = code, duration = sys.monotonic() - t0 }
  ctx.test = { code = code }
end

--- bench.txt: the configuration lines and the result lines measured, also
--- when the run was stopped or a benchmark failed.
---@param ctx perfgo.Context
function M.collect(ctx)
  local res = ctx.bench
  if not res or res.text == "" then return end
  local ok, werr = fs.write_atomic(fs.join(ctx.run.dir, "bench.txt"), res.text)
  if not ok then errors.fail(1, "cannot write bench.txt: " .. tostring(werr)) end
  history.add_artifact(ctx.run, "bench", "bench.txt")
  if #res.failures > 0 then
    local names = {}
    for i, x in ipairs(res.failures) do names[i] = x.name end
    ui.warn("not measured: %s (their output is above and in stdout.txt)", table.concat(names, ", "))
  end
end

--- The record's perf section: the events, the method, the result lines
--- and the benchmarks that were not measured.
---@param ctx perfgo.Context
---@param base fun(ctx: perfgo.Context): table
---@return table
function M.describe(ctx, base)
  local out = base(ctx)
  local res = ctx.bench
  if res then
    out.method = require("perfgo.benchrun").METHOD
    out.results = res.lines
    local failed = json.array({})
    for _, x in ipairs(res.failures) do failed[#failed + 1] = { name = x.name, why = x.why } end
    out.not_measured = failed
    out.stopped = res.stopped or nil
  end
  return out
end

--- bench.txt as it is.
---@param entry perfgo.RunEntry
---@return integer|nil
function M.view(entry)
  local path = fs.join(entry.dir, "bench.txt")
  if not fs.is_file(path) then return nil end
  io.stdout:write(fs.read(path) or "")
  local perf_rec = entry.record.perf
  if type(perf_rec) == "table" and type(perf_rec.not_measured) == "table" and #perf_rec.not_measured > 0 then
    local names = {}
    for i, x in ipairs(perf_rec.not_measured) do names[i] = tostring(x.name) .. ": " .. tostring(x.why) end
    print("not measured: " .. table.concat(names, "; "))
  end
  if entry.status ~= "ok" then print(string.format("(the run ended %s)", entry.status)) end
  return 0
end

--- Two bench runs: per benchmark and unit the medians with their 95%
--- intervals, the change and the U test's p-value, as benchstat computes
--- them (perfgo.benchcompare); --benchstat runs benchstat itself.
---@param a perfgo.RunEntry
---@param b perfgo.RunEntry
---@param args table
---@return integer
function M.compare(a, b, args)
  local files = {}
  for i, e in ipairs({ a, b }) do
    files[i] = fs.join(e.dir, "bench.txt")
    if not fs.is_file(files[i]) then
      errors.user(string.format("run %s has no bench.txt (it ended %s%s)", e.id:sub(1, 8), tostring(e.status),
        e.record.error and (": " .. tostring(e.record.error)) or ""))
    end
  end
  if args.benchstat then
    io.stdout:flush()
    return require("perfgo.commands.compare").run_benchstat(files[1], files[2])
  end
  io.stdout:write(require("perfgo.benchcompare").render(fs.read(files[1]) or "", fs.read(files[2]) or ""))
  return 0
end

return M
