-- What the benchmark label costs a conversion (a benchmark: prints,
-- asserts nothing).
--
--   LUA_CPATH="build/?.so;;" lua5.4 tests/bench/labels_cost.lua FILE [RUNS]
--
-- Converts FILE (a perf script or perf.data of Go benchmarks) RUNS times
-- (default 11) without and with the Go rule's stack label, interleaved,
-- and prints the medians of building the profile (p:finish, where the
-- label is applied) and of the whole conversion (read, parse, build,
-- encode).
local parser = require "perfgo.parser"
local sys = require "perfgo.sys"

local path, runs = arg[1], tonumber(arg[2] or "11")
if not path then
  io.stderr:write("usage: lua5.4 tests/bench/labels_cost.lua FILE [RUNS]\n")
  os.exit(2)
end
local RULES = { { key = "benchmark", caller = "testing.(*B).runN", prefix = "Benchmark", strip_package = true } }
local res = { plain = { finish = {}, total = {} }, labels = { finish = {}, total = {} } }
for _ = 1, runs do
  for _, mode in ipairs({ "plain", "labels" }) do
    local t0 = sys.monotonic()
    local p = parser.new(mode == "labels" and { stack_labels = RULES } or {})
    assert(p:feed_file(path))
    local t1 = sys.monotonic()
    local prof = assert(p:finish())
    local t2 = sys.monotonic()
    prof:encode()
    local t3 = sys.monotonic()
    table.insert(res[mode].finish, (t2 - t1) * 1e3)
    table.insert(res[mode].total, (t3 - t0) * 1e3)
    p:close()
    prof:close()
    collectgarbage()
  end
end
local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end
local fp, fl = median(res.plain.finish), median(res.labels.finish)
local tp, tl = median(res.plain.total), median(res.labels.total)
print(string.format("%s, %d runs each, medians", path, runs))
print(string.format("without labels: build %.2f ms, conversion %.1f ms", fp, tp))
print(string.format("with benchmark: build %.2f ms, conversion %.1f ms", fl, tl))
print(string.format("added build time: %.2f ms = %.1f%% of the conversion", fl - fp, (fl - fp) / tp * 100))
