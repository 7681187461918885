-- `perfgo compare` of two benchmark runs (bench.txt in the Go benchmark
-- format): medians, intervals, changes and U-test p-values worked out by
-- hand for small fixed samples; a benchmark on one side only; --benchstat
-- with and without a benchstat program on PATH.
local t = require "testutil"

local A_ID = "bbbb0000000000000000000000000001"
local B_ID = "bbbb0000000000000000000000000002"

-- Fast: 10..14 vs 20..24 (fully separated: p = 2/C(10,5) = 0.008,
-- medians 12 and 22: +83.33%). Slow: 1,3,5,7,9 vs 2,4,6,8,10
-- (interleaved: U = 10, p = 2*87/252 = 0.690: "~"). getpid/op equal on
-- both sides (all samples equal). Gone only in A, New only in B.
local function lines(name, values, unit)
  local out = {}
  for _, v in ipairs(values) do
    out[#out + 1] = string.format("%s-2\t%8d\t%s %s", name, 1000, v, unit)
  end
  return table.concat(out, "\n")
end

local A = table.concat({
  "goos: linux", "cpu: test CPU",
  lines("BenchmarkFast", { 10, 11, 12, 13, 14 }, "ns/op"),
  lines("BenchmarkSlow", { 1000, 3000, 5000, 7000, 9000 }, "ns/op"),
  lines("BenchmarkGetpid", { 3, 3, 3, 3, 3 }, "syscalls:sys_enter_getpid/op"),
  lines("BenchmarkGone", { 5, 6, 7 }, "ns/op"),
}, "\n") .. "\nPASS\n"

local B = table.concat({
  "goos: linux",
  lines("BenchmarkFast", { 20, 21, 22, 23, 24 }, "ns/op"),
  lines("BenchmarkSlow", { 2000, 4000, 6000, 8000, 10000 }, "ns/op"),
  lines("BenchmarkGetpid", { 3, 3, 3, 3, 3 }, "syscalls:sys_enter_getpid/op"),
  lines("BenchmarkNew", { 8, 9, 10, 11, 12, 13 }, "ns/op"),
}, "\n") .. "\n"

local function record(id, ts)
  return string.format('{"id": "%s", "type": "bench", "status": "ok", "exit_code": 0, "timestamp": "%s", '
    .. '"artifacts": [{"kind": "bench", "file": "bench.txt"}]}', id, ts)
end

describe("perfgo compare of benchmark runs", function()
  local dir, env
  setup(function()
    dir = t.tmpdir()
    assert(os.execute("git init -q " .. t.quote(dir)))
    for _, r in ipairs({ { A_ID, A, "2026-12-01T10:00:00Z" }, { B_ID, B, "2026-12-01T11:00:00Z" } }) do
      local run = dir .. "/.perfgo/history/" .. r[1]
      assert(os.execute("mkdir -p " .. t.quote(run)))
      t.write(run .. "/testrun.json", record(r[1], r[3]))
      t.write(run .. "/bench.txt", r[2])
    end
    env = { PERFGO_PROGRESS = "0" }
  end)
  teardown(function() t.rmtree(dir) end)

  local function row(out, name)
    return out:match("\n(" .. name .. "%-2 [^\n]*)")
  end

  it("prints medians, intervals, changes and p-values as benchstat computes them", function()
    local r = t.perfgo({ "compare", "-1", "0" }, { cwd = dir, env = env })
    assert.equals(0, r.code, r.stderr)
    local fast = assert(row(r.stdout, "Fast"), r.stdout)
    -- 5 samples: the 95% interval of the median is unbounded below
    assert.matches("^Fast%-2%s+12%.00 ns ± ∞ ¹%s+22%.00 ns ± ∞ ¹%s+%+83%.33%%%s+%(p=0%.008 n=5%)$", fast)
    local slow = assert(row(r.stdout, "Slow"), r.stdout)
    assert.matches("^Slow%-2%s+5%.000 µs ± ∞ ¹%s+6%.000 µs ± ∞ ¹%s+~%s+%(p=0%.690 n=5%)$", slow)
    local getpid = assert(row(r.stdout, "Getpid"), r.stdout)
    assert.matches("^Getpid%-2%s+3 ± ∞ ¹%s+3 ± ∞ ¹%s+~%s+%(p=1%.000 n=5%) ²$", getpid)
    assert.matches("\n¹ need >= 6 samples for confidence interval at level 0%.95\n", r.stdout)
    assert.matches("\n² all samples are equal\n", r.stdout)
  end)

  it("lists the benchmarks on one side only", function()
    local r = t.perfgo({ "compare", "-1", "0" }, { cwd = dir, env = env })
    assert.equals(0, r.code, r.stderr)
    assert.matches("^Gone%-2%s+6%.000 ns ± ∞ ¹%s+%(only in A%)$", row(r.stdout, "Gone"))
    -- six samples: orders 1 and 6 bound the interval, 13/10.5 - 1 = 24%
    assert.matches("^New%-2%s+10%.50 ns ± 24%%%s+%(only in B%)$", row(r.stdout, "New"))
  end)

  it("--benchstat says so when benchstat is not installed", function()
    local r = t.perfgo({ "compare", "--benchstat", "-1", "0" }, { cwd = dir,
      env = { PERFGO_PROGRESS = "0", PATH = "/usr/bin:/bin" } })
    assert.equals(2, r.code)
    assert.matches("no benchstat program on PATH", r.stderr)
  end)

  it("--benchstat runs benchstat on the two bench.txt files", function()
    -- benchstat cannot be installed here (no network): a stand-in on PATH
    -- that prints its arguments and the files' first lines
    local bin = dir .. "/bin"
    assert(os.execute("mkdir -p " .. t.quote(bin)))
    t.write(bin .. "/benchstat", '#!/bin/sh\necho "benchstat $#: $1 $2"\nhead -n 1 "$1" "$2"\nexit 3\n')
    assert(os.execute("chmod +x " .. t.quote(bin .. "/benchstat")))
    local r = t.perfgo({ "compare", "--benchstat", "-1", "0" }, { cwd = dir,
      env = { PERFGO_PROGRESS = "0", PATH = bin .. ":/usr/bin:/bin" } })
    assert.equals(3, r.code, r.stderr)
    assert.matches("benchstat 2: " .. dir:gsub("%p", "%%%0") .. "/%.perfgo/history/" .. A_ID .. "/bench%.txt "
      .. dir:gsub("%p", "%%%0") .. "/%.perfgo/history/" .. B_ID .. "/bench%.txt", r.stdout)
    assert.matches("goos: linux", r.stdout)
  end)
end)
