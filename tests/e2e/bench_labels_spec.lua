-- Profiles labelled by benchmark: `perfgo test profile` of two Go
-- benchmarks with different hot functions (one of them in a sub-benchmark's
-- closure); every sample in a benchmark's hot function carries its
-- benchmark label, `go tool pprof -tags` lists them, `perfgo view --bench`
-- shows only that benchmark's functions. The same labels come from a
-- perf.data read natively.
local t = require "testutil"
local fixture = require "fixture"

local GO = [[
package twobench

import "testing"

var sink uint64

// The hot functions call finish, so they are not leaves and keep a frame
// pointer: a leaf function without a frame of its own makes a
// frame-pointer unwinder skip its caller (see the README).

//go:noinline
func finish(s uint64) uint64 { return s ^ 0x5bd1e995 }

//go:noinline
func hotAlpha(n int) uint64 {
	s := uint64(1)
	for i := 0; i < n; i++ {
		s = s*6364136223846793005 + uint64(i)
	}
	return finish(s)
}

//go:noinline
func hotBeta(n int) uint64 {
	s := uint64(3)
	for i := 0; i < n; i++ {
		s ^= s << 13
		s ^= s >> 7
		s += uint64(i)
	}
	return finish(s)
}

func BenchmarkAlpha(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += hotAlpha(2000)
	}
}

func BenchmarkBeta(b *testing.B) {
	b.Run("sub", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sink += hotBeta(2000)
		}
	})
}
]]

local STACK_LABELS = {
  { key = "benchmark", caller = "testing.(*B).runN", prefix = "Benchmark", strip_package = true },
}

-- Sample counts by benchmark label ("" = none), and of the samples whose
-- stack holds fn, by label.

local function tally(profile, fn)
  local by, in_fn, total = {}, {}, 0
  for stack, values, labels in profile:samples() do
    local b = labels and labels.benchmark or ""
    by[b] = (by[b] or 0) + values[1]
    total = total + values[1]
    for _, f in ipairs(stack) do
      if f.func and f.func:find(fn, 1, true) then
        in_fn[b] = (in_fn[b] or 0) + values[1]
        break
      end
    end
  end
  return by, in_fn, total
end

local function keys(set, labelled_only)
  local out = {}
  for k in pairs(set) do
    if k ~= "" or not labelled_only then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

describe("profiles labelled by benchmark", function()
  local repo, r, run_dir
  setup(function()
    repo = fixture.repo()
    os.execute("mkdir -p " .. t.quote(repo.root .. "/app/twobench"))
    t.write(repo.root .. "/app/twobench/twobench_test.go", GO)
    r = t.perfgo({ "test", "profile", "-e", "cpu-clock", "./app/twobench", "-bench=.", "-run=^$",
      "-benchtime=400ms" }, { cwd = repo.root, env = repo.env })
    run_dir = fixture.latest(repo)
  end)
  teardown(function() fixture.cleanup(repo) end)

  it("labels the samples of a benchmark's hot function with that benchmark, never another", function()
    assert.equals(0, r.code, r.stderr)
    local p = assert(require("perfgo.pprof").read(run_dir .. "/perf.pb.gz"))
    local by, alpha = tally(p, "hotAlpha")
    local _, beta, total = tally(p, "hotBeta")
    -- never another benchmark's label; none at all only for the few
    -- samples that hit a prologue or epilogue, where the frame pointer
    -- chain skips the caller
    assert.same({ "BenchmarkAlpha" }, keys(alpha, true))
    assert.same({ "BenchmarkBeta.func1" }, keys(beta, true))
    assert.is_true(alpha.BenchmarkAlpha > 50 and beta["BenchmarkBeta.func1"] > 50)
    assert.is_true((alpha[""] or 0) <= alpha.BenchmarkAlpha / 20)
    assert.is_true((beta[""] or 0) <= beta["BenchmarkBeta.func1"] / 20)
    -- the label totals and the unlabelled samples add up to the total
    local sum = 0
    for _, n in pairs(by) do sum = sum + n end
    assert.equals(total, sum)
    assert.is_true((by[""] or 0) < total / 4, "most samples are in a benchmark")
  end)

  it("go tool pprof -tags lists the benchmarks with totals that add up", function()
    local out = t.run({ "go", "tool", "pprof", "-tags", run_dir .. "/perf.pb.gz" },
      { env = { PPROF_BINARY_PATH = "/nonexistent" } })
    assert.equals(0, out.code, out.stderr)
    assert.matches("benchmark", out.stdout)
    assert.matches("BenchmarkAlpha", out.stdout)
    assert.matches("BenchmarkBeta%.func1", out.stdout)
  end)

  it("view --bench shows only that benchmark's functions", function()
    local a = t.perfgo({ "view", "--bench", "Alpha", "--", "-top" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, a.code, a.stderr)
    assert.matches("hotAlpha", a.stdout)
    assert.not_matches("hotBeta", a.stdout)
    local b = t.perfgo({ "view", "0", "--bench", "BenchmarkBeta", "-top" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, b.code, b.stderr)
    assert.matches("hotBeta", b.stdout)
    assert.not_matches("hotAlpha", b.stdout)
  end)

  it("view --bench with a name no sample has lists the benchmarks", function()
    local x = t.perfgo({ "view", "--bench", "Gamma", "-top" }, { cwd = repo.root, env = repo.env })
    assert.equals(2, x.code)
    -- the parent BenchmarkBeta may have a sample or two (its run of b.Run)
    assert.matches("%-%-bench Gamma matches no benchmark in run %x+ %(it has: BenchmarkAlpha, [%w, ]-"
      .. "BenchmarkBeta%.func1%)", x.stderr)
  end)

  it("compare --bench compares one benchmark's functions", function()
    local c = t.perfgo({ "compare", "0", "0", "--bench", "Beta", "--top", "50" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, c.code, c.stderr)
    assert.matches("cpu%-clock of Beta: A total [%d.]+ m?s, B total [%d.]+ m?s %(%+0%.0%%%)", c.stdout)
    assert.matches("hotBeta", c.stdout)
    assert.not_matches("hotAlpha", c.stdout)
  end)

  it("labels a perf.data read natively the same way", function()
    local bin = run_dir .. "/perfgo.test.linux.amd64"
    local data = repo.dir .. "/labels.data"
    local rec = t.run({ "perf", "record", "-q", "-g", "-e", "cpu-clock", "-o", data, "--", bin,
      "-test.run=^$", "-test.bench=.", "-test.benchtime=200ms" }, { cwd = repo.root .. "/app/twobench" })
    assert.equals(0, rec.code, rec.stderr)
    local p = assert(require("perfgo.parser").parse_file(data, { stack_labels = STACK_LABELS }))
    local _, alpha = tally(p, "hotAlpha")
    local _, beta = tally(p, "hotBeta")
    assert.is_true((alpha.BenchmarkAlpha or 0) > 10 and (beta["BenchmarkBeta.func1"] or 0) > 10)
    assert.is_nil(alpha["BenchmarkBeta.func1"])
    assert.is_nil(beta.BenchmarkAlpha)
    -- perfgo convert --labels benchmark writes them into the profile
    local out = repo.dir .. "/labels.pb.gz"
    local c = t.perfgo({ "convert", "-i", data, "--labels", "benchmark", "-o", out }, { env = repo.env })
    assert.equals(0, c.code, c.stderr)
    local tags = t.run({ "go", "tool", "pprof", "-tags", out }, { env = { PPROF_BINARY_PATH = "/nonexistent" } })
    assert.equals(0, tags.code, tags.stderr)
    assert.matches("benchmark: Total", tags.stdout)
    assert.matches("BenchmarkAlpha", tags.stdout)
  end)
end)
