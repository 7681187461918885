--- `perfgo compare A B`: what changed between two runs. Benchmark runs
--- (a bench.txt): per benchmark and unit the medians with their 95%
--- intervals, the change and the U test's p-value, as benchstat computes
--- them (the bench mode's compare, perfgo.benchcompare); --benchstat runs
--- benchstat itself (M.run_benchstat). Two
--- runs of one mode compare as the mode says (mode.compare: stat runs
--- counter by counter, profiles function by function, values in their
--- units).
local fs = require "perfgo.fs"
local errors = require "perfgo.errors"
local runsel = require "perfgo.select"

local M = {
  name = "compare",
  summary = "Compare two recorded runs (stat counters or profile functions).",
}

function M.define(cmd)
  cmd:usage("Usage: perfgo compare A B [--top N] [--bench NAME] [--benchstat]\n"
    .. "       perfgo compare --group ID [--top N]")
  cmd:description("A and B are run selectors as for view: 0 (latest), -N, or an id prefix. "
    .. "B is compared against A (the base). --group compares the hosts of one group of runs "
    .. "(perfgo test --remote-host a,b,...): stat counters side by side, each profile's top functions.")
  cmd:argument("a", "The base run."):args("?")
  cmd:argument("b", "The run compared with the base."):args("?")
  cmd:option("--group", "Compare the hosts of this group: 0 (latest), -N or a prefix of its id.")
    :argname("<id>")
  cmd:option("--top", "Profile runs: how many functions to show.")
    :convert(require("perfgo.runopts").count_option("--top")):default("15")
  cmd:option("--bench", "Profile runs of Go benchmarks: compare only this benchmark's samples "
    .. "(NAME with or without its Benchmark prefix, sub-benchmark closures included).")
    :argname("<name>")
  cmd:flag("--benchstat", "Benchmark runs: run benchstat (when on PATH) on the two bench.txt files.")
end

-- Selectors like -1 look like flags to argparse: protect them.
M.split_args = function(argv)
  local own = {}
  for i, a in ipairs(argv) do
    if a:match("^%-%d+$") then own[i] = "N" .. a:sub(2) else own[i] = a end
  end
  return own, {}
end

local function load(sel, runs)
  local e = runsel.pick(runs, (sel:gsub("^N", "-")))
  if not e.record then
    errors.user(string.format("run %s cannot be read: %s", e.id:sub(1, 8), e.problem))
  end
  return e
end

-- The bench.txt of a run, or nil when it has none.
local function bench_file(e)
  local path = fs.join(e.dir, "bench.txt")
  return fs.is_file(path) and path or nil
end

--- Runs benchstat on two bench.txt files; its exit code.
function M.run_benchstat(fa, fb)
  local proc = require "perfgo.proc"
  if not proc.which("benchstat") then
    errors.user("--benchstat: no benchstat program on PATH (install it with "
      .. "'go install golang.org/x/perf/cmd/benchstat@latest', or leave out --benchstat for perfgo's own table)")
  end
  local r = proc.run({ "benchstat", fa, fb }, { stdin = "null", stdout = "inherit", stderr = "inherit" })
  require("perfgo.programs").check(r, "benchstat")
  return r.code
end

function M.run(args)
  local modes = require "perfgo.modes"
  local runs = runsel.runs(runsel.repo_root())
  if args.group then
    if args.a or args.b then errors.user("compare: give two runs A B, or --group ID, not both") end
    local group = require "perfgo.group"
    io.stdout:write(group.compare(group.pick(runs, (args.group:gsub("^N", "-"))), args.top or 15))
    return 0
  end
  if not (args.a and args.b) then
    errors.user("compare: give two runs A B (0, -N or id prefixes), or --group ID")
  end
  local a, b = load(args.a, runs), load(args.b, runs)
  local ta, tb = modes.of_record(a.record), modes.of_record(b.record)
  local ma, mb = modes.get(ta), modes.get(tb)
  local fa, fb = bench_file(a), bench_file(b)
  if args.benchstat and not (fa and fb) then
    errors.user(string.format("--benchstat compares benchmark runs (perfgo test bench); %s is a %s run",
      (fa and b or a).id:sub(1, 8), tostring(fa and tb or ta)))
  end
  if args.bench and not (ma and mb and ma.writes_profile and mb.writes_profile) then
    errors.user("--bench is for comparing two profiles of Go benchmarks")
  end
  print(string.format("A: %s %s %s", a.id:sub(1, 8), tostring(ta), tostring(a.record.timestamp)))
  print(string.format("B: %s %s %s", b.id:sub(1, 8), tostring(tb), tostring(b.record.timestamp)))
  if ta == tb and ma then return ma.compare(a, b, args) end
  modes.cannot_compare(ta, tb)
end

return M
