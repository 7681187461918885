-- perfgo.benchrun: Go benchmarks measured per op on this machine, with a
-- real go test binary under a real perf stat: getpid calls per op exactly
-- (k = 1 and 3, sub-benchmarks), one page fault per op for a benchmark
-- that touches one fresh page per op, task-clock per op close to Go's
-- ns/op for a single-threaded CPU-bound benchmark, a failing benchmark
-- reported while the others go on, and a bench.txt in the Go benchmark
-- format with every configuration key.
local benchrun = require "perfgo.benchrun"
local benchenv = require "perfgo.benchenv"
local proc = require "perfgo.proc"
local t = require "testutil"

local GO = [[
package perop

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
)

func BenchmarkGetpid(b *testing.B) {
	for _, k := range []int{1, 3} {
		k := k
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for j := 0; j < k; j++ {
					syscall.Getpid()
				}
			}
		})
	}
}

// One fresh page per op: an anonymous mapping without huge pages, page i
// written by op i.
func BenchmarkPageFault(b *testing.B) {
	page := os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, (b.N+1)*page, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Madvise(mem, 15 /* MADV_NOHUGEPAGE */); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mem[i*page] = 1
	}
}

var sink uint64

func cpuNanos() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// CPU-bound on one thread, about 10 us per op, so that the 18,000 ops
// between the two runs outweigh how much the processes' start-up varies;
// it reports the CPU time its thread got per op,
// to tell a busy machine (wall-clock ns/op stretched by waiting for a CPU)
// from a wrong measurement.
func BenchmarkSpin(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := cpuNanos()
	s := uint64(1)
	for i := 0; i < b.N; i++ {
		for j := 0; j < 10000; j++ {
			s = s*6364136223846793005 + uint64(j)
		}
	}
	sink = s
	b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "thread-cpu-ns/op")
}

func BenchmarkFails(b *testing.B) {
	b.Fatal("this benchmark fails on purpose")
}
]]

-- The format, from its text (golang.org/design/14313-benchmark-data).
local function spec_read(text)
  local out = { config = {}, results = {} }
  for line in text:gmatch("([^\n]*)\n") do
    local f = {}
    for w in line:gmatch("%S+") do f[#f + 1] = w end
    local key, sep = line:match("^(%S-):(.?)")
    if key and key ~= "" and not key:find("%u") and (sep == "" or sep:match("%s")) then
      out.config[key] = line:match("^%S-:%s*(.-)%s*$")
    elseif #f >= 4 and #f % 2 == 0 and f[1]:find("^Benchmark") and f[2]:find("^%d+$") then
      local r = { name = f[1], n = tonumber(f[2]), units = {} }
      for i = 3, #f, 2 do r.units[f[i + 1]] = assert(tonumber(f[i]), f[i]) end
      out.results[#out.results + 1] = r
    else
      error("neither a configuration nor a result line: " .. line)
    end
  end
  return out
end

describe("benchrun on a real benchmark", function()
  local dir, res, emitted
  setup(function()
    dir = t.tmpdir()
    t.write(dir .. "/go.mod", "module perop.test/bench\n\ngo 1.19\n")
    t.write(dir .. "/bench_test.go", GO)
    local r = t.run({ "go", "test", "-c", "-o", dir .. "/bench.test", "." }, { cwd = dir })
    assert(r.code == 0, r.stderr)
    -- this machine as the target, as perfgo.target's local one runs, at
    -- the highest priority: Go's ns/op is wall-clock time, which other
    -- jobs on a shared machine would stretch while task-clock does not
    local target = {
      run = function(_, argv, opts)
        local o = {}
        for k, v in pairs(opts or {}) do o[k] = v end
        o.cwd = dir .. "/" .. (opts.cwd or ".")
        return proc.run({ "nice", "-n", "-20", table.unpack(argv) }, o)
      end,
    }
    emitted = {}
    res = benchrun.run({
      target = target, binary = dir .. "/bench.test", cwd = ".",
      flags = { "-test.bench=.", "-test.benchtime=20000x", "-test.count=2" },
      events = { "syscalls:sys_enter_getpid", "page-faults", "task-clock" },
      stat_file = dir .. "/stat.csv",
      -- the runtime's preemption signals call getpid too
      env = { GODEBUG = "asyncpreemptoff=1" },
      emit = function(line) emitted[#emitted + 1] = line end,
    })
  end)
  teardown(function() t.rmtree(dir) end)

  local function results(name)
    local out = {}
    for _, r in ipairs(spec_read(res.text).results) do
      if r.name:gsub("%-%d+$", "") == name then out[#out + 1] = r end
    end
    return out
  end

  it("writes bench.txt in the Go benchmark format with every configuration key", function()
    local f = spec_read(res.text)
    for _, kv in ipairs(benchenv.KEYS) do assert.is_string(f.config[kv[1]], kv[1]) end
    for _, k in ipairs({ "goos", "goarch", "pkg", "perf-events", "method" }) do
      assert.is_string(f.config[k], k)
    end
    assert.equals("syscalls:sys_enter_getpid,page-faults,task-clock", f.config["perf-events"])
    -- -count=2: two lines per benchmark, each with b.N and Go's ns/op
    for _, name in ipairs({ "BenchmarkGetpid/k=1", "BenchmarkGetpid/k=3", "BenchmarkPageFault", "BenchmarkSpin" }) do
      local rs = results(name)
      assert.equals(2, #rs, name)
      assert.equals(20000, rs[1].n)
      assert.is_number(rs[1].units["ns/op"])
    end
    assert.equals(8, res.lines)
    -- and live, as they were measured
    local live = 0
    for _, e in ipairs(emitted) do
      if e:match("^Benchmark%S+%s+%d+%s") then live = live + 1 end
    end
    assert.equals(8, live)
  end)

  it("counts k getpid per op, for k = 1 and k = 3", function()
    for _, k in ipairs({ 1, 3 }) do
      for _, r in ipairs(results("BenchmarkGetpid/k=" .. k)) do
        local v = r.units["syscalls:sys_enter_getpid/op"]
        assert.is_true(math.abs(v - k) <= 0.01 * k, string.format("k=%d: %s per op", k, v))
      end
    end
  end)

  it("counts one page fault per op for a fresh page per op", function()
    for _, r in ipairs(results("BenchmarkPageFault")) do
      local v = r.units["page-faults/op"]
      assert.is_true(v > 0.95 and v < 1.1, string.format("%s page faults per op", v))
    end
  end)

  it("gives task-clock per op within 15% of Go's ns/op for a CPU-bound benchmark", function()
    local busy = {}
    for _, r in ipairs(results("BenchmarkSpin")) do
      local ns, tc, cpu = r.units["ns/op"], r.units["task-clock-ns/op"], r.units["thread-cpu-ns/op"]
      -- the CPU time the benchmark's thread got, as it measured it itself
      assert.is_true(math.abs(tc - cpu) <= 0.15 * cpu, string.format("task-clock %s ns/op, thread CPU %s", tc, cpu))
      if cpu >= 0.9 * ns then
        assert.is_true(math.abs(tc - ns) <= 0.15 * ns, string.format("task-clock %s ns/op, Go %s ns/op", tc, ns))
      else
        busy[#busy + 1] = string.format("%.0f of %.0f ns", cpu, ns)
      end
    end
    if #busy > 0 then
      -- Go's ns/op is wall-clock time: on a machine busy with other jobs
      -- the benchmark waited for a CPU, which task-clock rightly leaves out
      pending("the machine was busy: the benchmark's thread had the CPU for only "
        .. table.concat(busy, ", ") .. " per op")
    end
  end)

  it("reports a failing benchmark with its output and measures the others", function()
    assert.equals(1, #res.failures)
    assert.equals("BenchmarkFails", res.failures[1].name)
    assert.matches("this benchmark fails on purpose", res.failures[1].output)
    assert.matches("BenchmarkFails failed", table.concat(emitted, "\n"))
    assert.equals(0, #results("BenchmarkFails"))
  end)
end)
