-- `perfgo test bench` end to end: a real go test binary under a real perf
-- stat, locally and over the loopback sshd. Exact getpid counts per op
-- (k = 1 and 3) where the whole-process count of `perfgo test stat` is
-- larger; a failing benchmark reported while the others are measured; no
-- -bench; Ctrl-C between benchmarks; list, view and compare of bench runs.
-- The statistics and the method's details are the engine's specs
-- (tests/spec/benchrun_spec.lua, stats_spec.lua).
local t = require "testutil"
local fixture = require "fixture"
local proc = require "perfgo.proc"

local GO = [[
package perop

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
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

// Fails when measured (b.N > 1) if BENCH_FAIL is set.
func BenchmarkFails(b *testing.B) {
	if os.Getenv("BENCH_FAIL") != "" && b.N > 1 {
		b.Fatal("broken on purpose")
	}
	for i := 0; i < b.N; i++ {
		syscall.Getpid()
	}
}

// Sleeps a minute when measured (b.N > 1) if BENCH_SLOW is set.
func BenchmarkZSlow(b *testing.B) {
	if os.Getenv("BENCH_SLOW") != "" && b.N > 1 {
		time.Sleep(time.Minute)
	}
	for i := 0; i < b.N; i++ {
		syscall.Getpid()
	}
}
]]

local GETPID = "syscalls:sys_enter_getpid"

-- The per-op getpid count of a benchmark line in text.
local function getpid_per_op(text, name)
  local line = text:match("\n(" .. name:gsub("%p", "%%%0") .. "%-%d+%s[^\n]*)") or
    text:match("^(" .. name:gsub("%p", "%%%0") .. "%-%d+%s[^\n]*)")
  return line and tonumber(line:match("([%d.]+) " .. GETPID:gsub("%p", "%%%0") .. "/op"))
end

local function wait_for(fn, seconds)
  local deadline = os.time() + seconds
  while os.time() <= deadline do
    local v = fn()
    if v then return v end
    os.execute("sleep 0.1")
  end
  return nil
end

describe("perfgo test bench", function()
  local repo, env
  setup(function()
    repo = fixture.repo()
    assert(os.execute("mkdir -p " .. t.quote(repo.root .. "/app/perop")))
    t.write(repo.root .. "/app/perop/perop_test.go", GO)
    env = { GODEBUG = "asyncpreemptoff=1" }
    for k, v in pairs(repo.env) do env[k] = v end
  end)
  teardown(function() fixture.cleanup(repo) end)

  local function bench(args, extra_env)
    local e = {}
    for k, v in pairs(env) do e[k] = v end
    for k, v in pairs(extra_env or {}) do e[k] = v end
    local argv = { "test", "bench" }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local r = t.perfgo(argv, { cwd = repo.root, env = e })
    local dir = fixture.latest(repo)
    return r, dir, dir and fixture.record(dir)
  end

  local first_id
  it("counts getpid per op exactly; stat's whole-process count is larger", function()
    local r, dir, rec = bench({ "-e", GETPID, "./app/perop", "-bench=Getpid", "-benchtime=2000x", "-count=2" })
    assert.equals(0, r.code, r.stderr)
    first_id = rec.id
    assert.equals("bench", rec.type)
    assert.equals("ok", rec.status)
    assert.equals(0, rec.exit_code)
    assert.equals(4, rec.perf.results)
    local text = assert(t.read(dir .. "/bench.txt"))
    assert.matches("\nperf%-events: " .. GETPID:gsub("%p", "%%%0") .. "\n", text)
    for _, k in ipairs({ 1, 3 }) do
      local n = 0
      for v in text:gmatch("BenchmarkGetpid/k=" .. k .. "%-%d+%s+2000%s[^\n]-([%d.]+) " .. GETPID:gsub("%p", "%%%0")
        .. "/op") do
        n = n + 1
        assert.is_true(math.abs(tonumber(v) - k) <= 0.01 * k, v)
      end
      assert.equals(2, n, text)
    end
    -- the same lines were shown live
    assert.equals(getpid_per_op(text, "BenchmarkGetpid/k=3"), getpid_per_op(r.stdout, "BenchmarkGetpid/k=3"))

    -- perf stat counts the whole process: b.N = 1 and 2000 of both
    -- sub-benchmarks, 1 + 2000 + 3 * (1 + 2000) calls at least
    local s = t.perfgo({ "test", "stat", "-e", GETPID, "./app/perop", "-bench=Getpid", "-benchtime=2000x" },
      { cwd = repo.root, env = env })
    assert.equals(0, s.code, s.stderr)
    assert.matches("perfgo test bench", s.stderr)
    local stat = fixture.record(fixture.latest(repo))
    assert.equals("stat", stat.type)
    local counted = t.read(fixture.latest(repo) .. "/stat.json"):match('"value":%s*([%d.e+]+)')
    assert.is_true(tonumber(counted) >= 4 * 2001, counted)
  end)

  it("reports a failing benchmark with its output, measures the others, ends failed", function()
    local r, dir, rec = bench({ "-e", GETPID, "./app/perop", "-bench=Getpid/k=1|Fails", "-benchtime=2000x" },
      { BENCH_FAIL = "1" })
    assert.equals(1, r.code, r.stderr)
    assert.matches("BenchmarkFails%-%d+: not measured: exit code 1", r.stdout)
    assert.matches("broken on purpose", r.stdout)
    assert.equals("failed", rec.status)
    assert.equals(1, rec.exit_code)
    assert.equals(1, rec.test_exit_code)
    assert.matches("^BenchmarkFails%-%d+$", rec.perf.not_measured[1].name)
    assert.equals(1, rec.perf.results)
    local text = assert(t.read(dir .. "/bench.txt"))
    assert.is_true(math.abs(getpid_per_op(text, "BenchmarkGetpid/k=1") - 1) <= 0.01)
    assert.is_nil(text:match("BenchmarkFails"))
    -- view: bench.txt and what was not measured
    local v = t.perfgo({ "view", "0" }, { cwd = repo.root, env = env })
    assert.equals(0, v.code, v.stderr)
    assert.matches("BenchmarkGetpid/k=1%-%d+%s+2000", v.stdout)
    assert.matches("not measured: BenchmarkFails%-%d+: exit code 1", v.stdout)
  end)

  it("lists and compares bench runs", function()
    assert.is_string(first_id, "the first run did not happen")
    local l = t.perfgo({ "list" }, { cwd = repo.root, env = env })
    assert.equals(0, l.code, l.stderr)
    assert.matches("failed%s+%S+ %S+ %x+ bench ", l.stdout)
    assert.matches("bench%.txt", l.stdout)
    local c = t.perfgo({ "compare", first_id:sub(1, 8), "0" }, { cwd = repo.root, env = env })
    assert.equals(0, c.code, c.stderr)
    -- k=1 on both sides (2 and 1 samples), k=3 only in A
    assert.matches("\nGetpid/k=1%-%d+%s+1 ± ∞ ¹%s+1 ± ∞ ¹%s+~", c.stdout)
    assert.matches("\nGetpid/k=3%-%d+%s+3 ± ∞ ¹%s+%(only in A%)", c.stdout)
  end)

  it("needs -bench: a usage error, exit 2, nothing recorded", function()
    local before = #fixture.runs(repo)
    local r = bench({ "./app/perop", "-benchtime=2000x" })
    assert.equals(2, r.code)
    assert.matches("needs %-bench=REGEX", r.stderr)
    assert.equals(before, #fixture.runs(repo))
  end)

  it("Ctrl-C keeps what was measured and records the run as interrupted", function()
    local out = repo.dir .. "/bench-int.txt"
    local e = { BENCH_SLOW = "1" }
    for k, v in pairs(env) do e[k] = v end
    local child = proc.spawn({ t.bin(), "test", "bench", "-e", GETPID, "./app/perop", "-bench=Getpid/k=1|ZSlow",
      "-benchtime=2000x" }, { cwd = repo.root, env = e, stdout = { file = out }, stderr = { file = out .. ".err" } })
    local seen = wait_for(function()
      return (t.read(out) or ""):match("BenchmarkGetpid/k=1") or (not child:running() and "exited")
    end, 120)
    assert.equals("BenchmarkGetpid/k=1", seen, t.read(out .. ".err"))
    local t0 = os.time()
    child:kill("INT")
    local res = child:wait(30)
    assert.is_table(res)
    assert.equals(130, res.code, t.read(out .. ".err"))
    assert.is_true(os.time() - t0 < 30)
    local dir = fixture.latest(repo)
    local rec = fixture.record(dir)
    assert.equals("interrupted", rec.status)
    assert.equals(130, rec.exit_code)
    assert.is_true(rec.perf.stopped)
    assert.same({}, rec.perf.not_measured)
    local text = assert(t.read(dir .. "/bench.txt"))
    assert.is_true(math.abs(getpid_per_op(text, "BenchmarkGetpid/k=1") - 1) <= 0.01)
    assert.is_nil(text:match("ZSlow"))
  end)

  it("measures on a remote host (loopback sshd)", function()
    local sshd = require "sshd"
    local server = sshd.start()
    local ok, err = pcall(function()
      local r, dir, rec = bench({ "--remote-host", server.alias, "--ssh-config", server.config, "-e", GETPID,
        "./app/perop", "-bench=Getpid/k=3", "-benchtime=20000x" })
      assert.equals(0, r.code, r.stderr)
      assert.equals(server.alias, rec.target.remote_host)
      assert.equals("ok", rec.status)
      local v = getpid_per_op(assert(t.read(dir .. "/bench.txt")), "BenchmarkGetpid/k=3")
      assert.is_true(math.abs(v - 3) <= 0.03, tostring(v))
    end)
    sshd.stop(server)
    assert(ok, err)
  end)
end)
