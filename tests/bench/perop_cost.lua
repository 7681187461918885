-- What measuring per op costs, and how much its numbers spread (a
-- benchmark: prints, asserts nothing).
--
--   LUA_CPATH="build/?.so;;" LUA_PATH="lua/?.lua;;" \
--     lua5.4 tests/bench/perop_cost.lua [PKG_DIR] [COUNT] [EVENTS]
--
-- Builds the Go test binary of PKG_DIR (default examples/false-sharing),
-- then times, interleaved, the binary with -test.bench=. -test.run=^$
-- -test.count=COUNT (default 10), i.e. `go test -bench` without the build,
-- and perfgo.benchrun on the same flags with EVENTS (default
-- task-clock,page-faults) under perf stat; prints both times and their
-- ratio, then for each benchmark and unit of the per-op run the spread of
-- its COUNT values: median, 95% interval of the median (as benchstat
-- computes it), min and max.
local benchrun = require "perfgo.benchrun"
local benchfmt = require "perfgo.benchfmt"
local stats = require "perfgo.stats"
local proc = require "perfgo.proc"
local sys = require "perfgo.sys"

local dir = arg[1] or "examples/false-sharing"
local count = tonumber(arg[2] or "10")
local events = {}
for e in (arg[3] or "task-clock,page-faults"):gmatch("[^,]+") do events[#events + 1] = e end
local abs = proc.run({ "realpath", dir }).stdout:gsub("%s+$", "")
local bin = os.tmpname()
local b = proc.run({ "go", "test", "-c", "-o", bin, "." }, { cwd = abs })
assert(b.code == 0, b.stderr)

local target = {
  run = function(_, argv, opts)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.cwd = abs
    return proc.run(argv, o)
  end,
}
local flags = { "-test.bench=.", "-test.count=" .. count }

local t0 = sys.monotonic()
local plain = proc.run({ bin, "-test.run=^$", "-test.bench=.", "-test.count=" .. count }, { cwd = abs })
local t1 = sys.monotonic()
local res = benchrun.run({ target = target, binary = bin, cwd = ".", flags = flags, events = events,
  stat_file = bin .. ".csv" })
local t2 = sys.monotonic()
os.remove(bin)
os.remove(bin .. ".csv")
assert(plain.code == 0, plain.stderr)

print(string.format("%s, -count=%d, events %s, %s", dir, count, table.concat(events, ","), os.date("!%Y-%m-%dT%H:%MZ")))
print(string.format("go test -bench (binary):  %6.1f s", t1 - t0))
print(string.format("per op (benchrun):        %6.1f s   ratio %.2f", t2 - t1, (t2 - t1) / (t1 - t0)))
for _, f in ipairs(res.failures) do print("not measured: " .. f.name .. ": " .. f.why) end

local by, order = {}, {}
for _, r in ipairs(benchfmt.parse(res.text).results) do
  for _, v in ipairs(r.values) do
    local key = r.name .. "  " .. v.unit
    if not by[key] then by[key] = {}; order[#order + 1] = key end
    table.insert(by[key], v.value)
  end
end
print(string.format("%-48s %12s %8s %12s %12s", "benchmark, unit", "median", "95% CI", "min", "max"))
for _, key in ipairs(order) do
  local xs = by[key]
  local s = stats.summary(xs)
  table.sort(xs)
  print(string.format("%-48s %12.4g %8s %12.4g %12.4g", key, s.center, "± " .. stats.pct_range(s), xs[1], xs[#xs]))
end
