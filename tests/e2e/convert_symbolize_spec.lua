-- Symbolization end to end: real programs recorded with real perf
-- (`perf record -e cpu-clock -g`, with and without --show-mmap-events),
-- converted by perfgo, read by `go tool pprof -lines` and `-list`, which
-- must name the right file:line from the binaries (core/profile/README.md §3).
local t = require "testutil"

local GO_MOD = "module example.com/hot\n\ngo 1.19\n"

-- Spin's hot lines are 8-10; the test checks pprof attributes them there.
local HOT_GO = [[
package hot

// Spin burns CPU in a loop the profile must find.
//
//go:noinline
func Spin(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 17
	}
	return x
}
]]

local HOT_TEST_GO = [[
package hot

import "testing"

var sink uint64

func BenchmarkSpin(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(1000)
	}
}
]]

-- lib_spin's hot lines are 5-7 of libhot.c; main_spin's 9-10 of main.c.
local LIBHOT_C = [[
/* A hot function in a shared library. */
unsigned long lib_spin(unsigned long n)
{
    unsigned long x = 1;
    for (unsigned long i = 0; i < n; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        x ^= x >> 17;
    }
    return x;
}
]]

local MAIN_C = [[
#include <stdio.h>
#include <stdlib.h>

unsigned long lib_spin(unsigned long n);

__attribute__((noinline)) unsigned long main_spin(unsigned long n)
{
    unsigned long x = 7;
    for (unsigned long i = 0; i < n; i++)
        x = (x << 7) ^ (x >> 3) ^ i;
    return x;
}

int main(int argc, char **argv)
{
    unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    unsigned long s = 0;
    for (unsigned long r = 0; r < rounds; r++)
        s += lib_spin(100000) + main_spin(100000);
    printf("%lu\n", s);
    return 0;
}
]]

local function sh(cmd, cwd)
  local r = t.run({ "sh", "-c", cmd }, { cwd = cwd })
  assert.equals(0, r.code, cmd .. "\n" .. (r.stderr or ""))
  return r
end

--- Records argv under perf and returns the perf script text's path.
local function record(dir, name, argv, mmap_events, no_callchain)
  sh("perf record -q -e cpu-clock " .. (no_callchain and "" or "-g ") .. "-o " .. name .. ".data -- "
    .. argv .. " >/dev/null", dir)
  local script = dir .. "/" .. name .. (mmap_events and "-mmap" or "") .. ".script"
  sh("perf script " .. (mmap_events and "--show-mmap-events " or "") .. "-i " .. name .. ".data > "
    .. t.quote(script) .. " 2>/dev/null", dir)
  return script
end

local function convert(script, out, extra)
  local args = { "convert", "-i", script, "-o", out }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local r = t.perfgo(args)
  assert.equals(0, r.code, r.stderr)
  return r
end

--- `go tool pprof -lines -top`: {["func file:line"] = flat percent}.
local function top_lines(profile, env)
  local r = t.run({ "go", "tool", "pprof", "-lines", "-top", "-nodecount=50", profile }, { env = env })
  assert.equals(0, r.code, r.stderr)
  local lines = {}
  for pct, fn in r.stdout:gmatch("\n%s*[%d.]+m?s%s+([%d.]+)%%%s+[%d.]+%%%s+[%d.]+m?s%s+[%d.]+%%%s+([^\n]+)") do
    lines[fn] = tonumber(pct)
  end
  return lines, r.stdout
end

--- Sum of flat percentages of `fn file:line` entries for the given lines.
local function share(lines, prefix, wanted)
  local sum = 0
  for fn, pct in pairs(lines) do
    for _, w in ipairs(wanted) do
      if fn == prefix .. ":" .. w then sum = sum + pct end
    end
  end
  return sum
end

describe("perfgo convert symbolization with go tool pprof", function()
  local dir
  setup(function()
    dir = t.tmpdir()
    os.execute("mkdir -p " .. t.quote(dir .. "/go"))
    t.write(dir .. "/go/go.mod", GO_MOD)
    t.write(dir .. "/go/hot.go", HOT_GO)
    t.write(dir .. "/go/hot_test.go", HOT_TEST_GO)
    sh("go test -c -o hot.test . 2>&1", dir .. "/go")
    t.write(dir .. "/libhot.c", LIBHOT_C)
    t.write(dir .. "/main.c", MAIN_C)
    sh("gcc -g -O1 -fno-omit-frame-pointer -fPIC -shared -o libhot.so libhot.c && "
      .. "gcc -g -O1 -fno-omit-frame-pointer -fPIE -pie -o main main.c -L. -lhot -Wl,-rpath," .. dir, dir)
  end)
  teardown(function() t.rmtree(dir) end)

  for _, mmap_events in ipairs({ false, true }) do
    local how = mmap_events and "with --show-mmap-events" or "without mmap events"
    it("resolves a Go test binary's hot lines " .. how, function()
      local script = record(dir .. "/go", "go", "./hot.test -test.run=^$ -test.bench=. -test.benchtime=300ms",
        mmap_events)
      local out = dir .. "/go" .. tostring(mmap_events) .. ".pb.gz"
      convert(script, out)
      local lines, text = top_lines(out)
      assert.matches("File: hot.test", text, 1, true)
      local hot = share(lines, "example.com/hot.Spin " .. dir .. "/go/hot.go", { 8, 9, 10 })
      assert.is_true(hot > 60, "Spin's loop lines should hold most samples:\n" .. text)
      local list = t.run({ "go", "tool", "pprof", "-list", "hot.Spin", out })
      assert.equals(0, list.code, list.stderr)
      assert.matches("ROUTINE =+ example.com/hot.Spin in " .. dir:gsub("%p", "%%%0") .. "/go/hot.go", list.stdout)
      assert.matches("x = x%*6364136223846793005 %+ 1442695040888963407", list.stdout)
    end)

    it("resolves a C PIE and its shared library " .. how, function()
      local script = record(dir, "c", "./main 600", mmap_events)
      local out = dir .. "/c" .. tostring(mmap_events) .. ".pb.gz"
      convert(script, out)
      local lines, text = top_lines(out)
      assert.matches("File: main", text, 1, true)
      local lib = share(lines, "lib_spin " .. dir .. "/libhot.c", { 5, 6, 7 })
      local main = share(lines, "main_spin " .. dir .. "/main.c", { 9, 10 })
      assert.is_true(lib > 40, "lib_spin lines:\n" .. text)
      assert.is_true(main > 15, "main_spin lines:\n" .. text)
      local list = t.run({ "go", "tool", "pprof", "-list", "lib_spin", out })
      assert.equals(0, list.code, list.stderr)
      assert.matches("ROUTINE =+ lib_spin in " .. dir:gsub("%p", "%%%0") .. "/libhot.c", list.stdout)
      assert.matches("x %^= x >> 17;", list.stdout)
    end)
  end

  it("resolves sample ips of a recording without callchains (raw ips, with mmap events)", function()
    local script = record(dir, "nocg", "./main 600", true, true)
    local out = dir .. "/nocg.pb.gz"
    convert(script, out)
    local lines, text = top_lines(out)
    assert.is_true(share(lines, "lib_spin " .. dir .. "/libhot.c", { 5, 6, 7 }) > 40, text)
    assert.is_true(share(lines, "main_spin " .. dir .. "/main.c", { 9, 10 }) > 15, text)
  end)

  it("finds a moved binary with --binary-root and with a Lua path_map", function()
    local script = record(dir .. "/go", "moved", "./hot.test -test.run=^$ -test.bench=. -test.benchtime=200ms")
    local root = dir .. "/root"
    sh("mkdir -p " .. t.quote(root .. dir .. "/go") .. " && mv " .. t.quote(dir .. "/go/hot.test") .. " "
      .. t.quote(root .. dir .. "/go/hot.test"))
    local out = dir .. "/moved.pb.gz"
    convert(script, out, { "--binary-root", root })
    local lines, text = top_lines(out)
    assert.is_true(share(lines, "example.com/hot.Spin " .. dir .. "/go/hot.go", { 8, 9, 10 }) > 60, text)

    local parser = require "perfgo.parser"
    local prof = assert(parser.parse_file(script,
      { path_map = { [dir .. "/go/hot.test"] = root .. dir .. "/go/hot.test" } }))
    local files = {}
    for _, m in ipairs(prof:mappings()) do files[m.file] = m end
    assert.is_truthy(files[root .. dir .. "/go/hot.test"])
    assert.is_false(files[root .. dir .. "/go/hot.test"].has_functions)
    local out2 = dir .. "/mapped.pb.gz"
    assert.is_true(prof:write(out2))
    lines, text = top_lines(out2)
    assert.is_true(share(lines, "example.com/hot.Spin " .. dir .. "/go/hot.go", { 8, 9, 10 }) > 60, text)
    sh("mv " .. t.quote(root .. dir .. "/go/hot.test") .. " " .. t.quote(dir .. "/go/hot.test"))
  end)
end)
