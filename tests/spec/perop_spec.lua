-- perfgo.perop: the per-op method. The arithmetic on hand-made counts,
-- then the method end to end on a real Go test binary under a real
-- `perf stat`: benchmarks that call getpid k times per op (and a few
-- times more in their set-up) measure k getpid per op.
local perop = require "perfgo.perop"
local perfstat = require "perfgo.perfstat"
local t = require "testutil"

local function counter(event, value, unit, state)
  return { event = event, value = value, unit = unit, state = state or "counted", multiplexed = false }
end

describe("perop arithmetic", function()
  it("counts the ops the testing package runs for -benchtime=<n>x", function()
    -- run1 calls the function with b.N = 1; n > 1 calls it again with n
    assert.equal(1, perop.executed(1))
    assert.equal(3, perop.executed(2))
    assert.equal(1001, perop.executed(1000))
  end)

  it("picks two counts of at least 2 and 3", function()
    assert.same({ 100, 1000 }, { perop.counts(1000) })
    assert.same({ 2, 3 }, { perop.counts(1) })
    assert.same({ 2, 25 }, { perop.counts(25) })
    assert.same({ 5368765, 53687654 }, { perop.counts(53687654) })
  end)

  it("divides the difference of the counts by the difference of the ops", function()
    local values, notes = perop.per_op(
      { n = 100, counters = { counter("syscalls:sys_enter_getpid", 353), counter("task-clock", 2.5, "msec"),
        counter("cycles", nil, nil, "not supported"), counter("page-faults", 120) } },
      { n = 1000, counters = { counter("syscalls:sys_enter_getpid", 3053), counter("task-clock", 4.3, "msec"),
        counter("cycles", nil, nil, "not supported"), counter("page-faults", nil, nil, "not counted") } })
    -- (3053 - 353) / (1001 - 101) = 3; (4.3 - 2.5) ms / 900 = 2000 ns
    assert.same({ event = "syscalls:sys_enter_getpid", unit = "syscalls:sys_enter_getpid/op", value = 3,
      multiplexed = false }, values[1])
    assert.equal("task-clock-ns/op", values[2].unit)
    assert.is_true(math.abs(values[2].value - 2000) < 1e-9)
    assert.equal(2, #values)
    assert.same({ "page-faults: not counted in the long run" }, notes)
  end)

  it("names units as the benchmark format wants them", function()
    assert.same({ "page-faults/op", 1 }, { perop.unit("page-faults", "") })
    assert.same({ "cpu-clock-ns/op", 1e6 }, { perop.unit("cpu-clock", "msec") })
    assert.same({ "power/energy-pkg/-Joules/op", 1 }, { perop.unit("power/energy-pkg/", "Joules") })
  end)
end)

describe("perop names and flags", function()
  it("selects exactly one benchmark, part by part", function()
    assert.equal("^BenchmarkA$", perop.bench_pattern("BenchmarkA"))
    assert.equal("^BenchmarkA$/^size=10$", perop.bench_pattern("BenchmarkA/size=10"))
    assert.equal("^BenchmarkA$/^x\\.y\\*\\(1\\)\\|2#01$", perop.bench_pattern("BenchmarkA/x.y*(1)|2#01"))
  end)

  it("finds the benchmarks and their b.N in a run's output", function()
    local out = table.concat({
      "goos: linux", "BenchmarkA-2   \t 1000000\t      1050 ns/op",
      "BenchmarkB/n-3-2 \t   50000\t     24.31 ns/op", "BenchmarkA-2   \t 1200000\t      1020 ns/op",
      "BenchmarkC/k-4   \t   7\t     24.31 ns/op", "PASS" }, "\n")
    assert.same({
      { name = "BenchmarkA-2", base = "BenchmarkA", procs = 2, n = 1000000 },
      { name = "BenchmarkB/n-3-2", base = "BenchmarkB/n-3", procs = 2, n = 50000 },
      { name = "BenchmarkC/k-4", base = "BenchmarkC/k-4", n = 7 },
    }, perop.discover(out, { 2 }))
  end)

  it("splits the run flags it sets from the rest", function()
    local f = perop.split_flags({ "-test.bench=Sum", "-test.count", "5", "-test.benchmem", "-test.run=^$",
      "-test.benchtime=200x", "-test.cpu=1,2", "-test.timeout", "1m", "-test.v", "extra" })
    assert.equal("Sum", f.bench)
    assert.equal(5, f.count)
    assert.equal("200x", f.benchtime)
    assert.same({ 1, 2 }, f.cpu)
    assert.same({ "-test.benchmem", "-test.timeout", "1m", "-test.v", "extra" }, f.rest)
    assert.equal(200, perop.fixed_count(f.benchtime))
    assert.is_nil(perop.fixed_count("2s"))
    assert.has_error(function() perop.split_flags({ "-test.count=0" }) end)
  end)
end)

describe("perop on a real benchmark under perf stat", function()
  local dir, bin
  setup(function()
    dir = t.tmpdir()
    t.write(dir .. "/go.mod", "module perop.test/getpid\n\ngo 1.19\n")
    -- k getpid per op, and a few in each call's set-up that the method
    -- must not count
    t.write(dir .. "/getpid_test.go", [[
package getpid

import (
	"syscall"
	"testing"
)

func calls(b *testing.B, k int) {
	for i := 0; i < 7; i++ {
		syscall.Getpid()
	}
	for i := 0; i < b.N; i++ {
		for j := 0; j < k; j++ {
			syscall.Getpid()
		}
	}
}

func BenchmarkGetpid1(b *testing.B) { calls(b, 1) }

func BenchmarkGetpid(b *testing.B) {
	syscall.Getpid()
	b.Run("k=3", func(b *testing.B) { calls(b, 3) })
}
]])
    bin = dir .. "/getpid.test"
    local r = t.run({ "go", "test", "-c", "-o", bin, "." }, { cwd = dir })
    assert(r.code == 0, r.stderr)
  end)
  teardown(function() t.rmtree(dir) end)

  local ENV = { GODEBUG = "asyncpreemptoff=1", LC_ALL = "C" }

  local function stat(pattern, n)
    local csv = dir .. "/stat.csv"
    local r = t.run({ "perf", "stat", "-x,", "-o", csv, "-e", "syscalls:sys_enter_getpid", "--", bin,
      "-test.run=^$", "-test.bench=" .. pattern, "-test.benchtime=" .. n .. "x", "-test.count=1" },
      { cwd = dir, env = ENV })
    assert(r.code == 0, r.stderr)
    return { n = n, counters = perfstat.parse(t.read(csv)), stdout = r.stdout }
  end

  it("measures k getpid per op for k = 1 and k = 3 (sub-benchmark)", function()
    local cal = t.run({ bin, "-test.run=^$", "-test.bench=Getpid", "-test.benchtime=2000x" },
      { cwd = dir, env = ENV })
    assert(cal.code == 0, cal.stderr)
    local found = perop.discover(cal.stdout, { tonumber(t.run({ "nproc" }).stdout) })
    assert.equal(2, #found)
    assert.equal("BenchmarkGetpid1", found[1].base)
    assert.equal("BenchmarkGetpid/k=3", found[2].base)
    for i, k in ipairs({ 1, 3 }) do
      local small, large = perop.counts(found[i].n)
      local pattern = perop.bench_pattern(found[i].base)
      local s, l = stat(pattern, small), stat(pattern, large)
      -- the runs ran that benchmark and no other
      local ran = perop.discover(l.stdout)
      assert.equal(1, #ran)
      assert.equal(found[i].name, ran[1].name)
      assert.equal(large, ran[1].n)
      local values = perop.per_op(s, l)
      assert.equal("syscalls:sys_enter_getpid/op", values[1].unit)
      assert.is_true(math.abs(values[1].value - k) <= 0.01 * k,
        string.format("k=%d: %.6f getpid per op", k, values[1].value))
      -- the whole process counts more than k per op
      assert.is_true(l.counters[1].value > k * perop.executed(large))
    end
  end)
end)
