-- perfgo.pprof profiles against the real `go tool pprof`: profiles built
-- through the Lua API from real ELF binaries (a Go test binary and an
-- lld-linked C program), with addresses given as perf 5.16-6.3 prints them
-- (file offsets, computed here from nm/readelf), must resolve to the
-- file:line that addr2line gives for the same ELF address. This checks the
-- symmap address rule independently of the perf script parser.
local pprof = require "perfgo.pprof"
local tu = require "testutil"

local function sh(argv, opts)
  local r = tu.run(argv, opts)
  assert(r.code == 0, table.concat(argv, " ") .. " failed:\n" .. (r.stdout or "") .. (r.stderr or ""))
  return r.stdout
end

-- PT_LOAD headers of a binary, from readelf.
local function loads(bin)
  local out = {}
  for off, vaddr, filesz in sh { "readelf", "-lW", bin }:gmatch(
    "LOAD%s+0x(%x+)%s+0x(%x+)%s+0x%x+%s+0x(%x+)") do
    out[#out + 1] = { off = tonumber(off, 16), vaddr = tonumber(vaddr, 16), filesz = tonumber(filesz, 16) }
  end
  assert(#out > 0, "no LOAD headers in " .. bin)
  return out
end

-- The file offset of an ELF vaddr (what perf 6.1 prints for user frames).
local function file_offset(segs, vaddr)
  for _, s in ipairs(segs) do
    if vaddr >= s.vaddr and vaddr < s.vaddr + s.filesz then return vaddr - s.vaddr + s.off end
  end
  error(string.format("vaddr 0x%x in no LOAD segment", vaddr))
end

-- Symbol address from nm output.
local function nm_addr(bin, sym)
  for addr, name in sh { "nm", bin }:gmatch("(%x+) [TtWw] ([^\n]+)") do
    if name == sym then return tonumber(addr, 16) end
  end
  error(sym .. " not found by nm in " .. bin)
end

-- Function name and "file:line" for an address, from a line-table tool
-- that answers with two lines (go tool addr2line, addr2line -f).
local function addr2line(argv, addr)
  local out = sh(argv, { stdin = string.format("0x%x\n", addr) })
  local name, loc = out:match("^([^\n]+)\n([^\n]+)")
  return name, (loc:gsub(" %(discriminator %d+%)", ""))
end

--- Builds a profile for stacks given as {sym, delta} pairs (leaf first),
--- resolving each frame through symmap from its file offset.
local function profile_for(bin, stacks)
  local segs = loads(bin)
  local p = pprof.new()
  p:add_sample_type("samples", "count")
  p:add_sample_type("cpu-clock", "nanoseconds")
  p:set_default_sample_type("cpu-clock")
  local sm = pprof.symmap(p, { addresses = "offset" })
  local expect = {}
  for _, st in ipairs(stacks) do
    local locs = {}
    for i, fr in ipairs(st) do
      local vaddr = nm_addr(bin, fr[1]) + fr[2]
      local r = sm:resolve(bin, file_offset(segs, vaddr), 4242)
      assert.equals("elf", r.mode)
      assert.equals(vaddr, r.address) -- our translation matches nm's vaddr
      local addr = r.address
      if i > 1 and r.adjust_return then addr = addr - 1 end
      locs[i] = p:location(r.mapping_id, addr, { { p:func(fr[1]), 0 } })
      expect[#expect + 1] = { sym = fr[1], addr = addr }
    end
    p:add_sample(locs, { 1, 1000000 }, { { key = "comm", str = "hot" } })
  end
  assert.same({}, sm:warnings())
  return p, expect
end

local function pprof_top(path)
  return sh { "go", "tool", "pprof", "-lines", "-top", "-nodecount=100", path }
end

describe("perfgo.pprof with go tool pprof", function()
  local dir
  before_each(function() dir = tu.tmpdir() end)
  after_each(function() tu.rmtree(dir) end)

  local function go_binary()
    tu.write(dir .. "/go.mod", "module example.com/hot\n\ngo 1.19\n")
    tu.write(dir .. "/hot.go", [[
package hot

//go:noinline
func Spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i
	}
	return s
}

//go:noinline
func Outer(n int) int {
	return Spin(n) + 1
}
]])
    tu.write(dir .. "/hot_test.go", [[
package hot

import "testing"

func TestHot(t *testing.T) {
	if Outer(10) == 0 {
		t.Fatal("zero")
	}
}

func BenchmarkHot(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Outer(100000)
	}
}
]])
    sh({ "go", "test", "-c", "-o", dir .. "/hot.test", "." }, { cwd = dir })
    return dir .. "/hot.test"
  end

  it("resolves file:line in a Go test binary from perf-style file offsets", function()
    local bin = go_binary()
    local p, expect = profile_for(bin, {
      { { "example.com/hot.Spin", 0x8 }, { "example.com/hot.Outer", 0x18 } },
      { { "example.com/hot.Outer", 0x10 } },
    })
    local path = dir .. "/go.pb.gz"
    assert.is_true(p:write(path))
    sh { "go", "tool", "pprof", "-raw", path }
    local top = pprof_top(path)
    for _, e in ipairs(expect) do
      local name, want = addr2line({ "go", "tool", "addr2line", bin }, e.addr)
      assert.equals(e.sym, name)
      assert.equals(dir .. "/hot.go:", want:match("^(.*:)%d+$"))
      assert.is_truthy(top:find(name .. " " .. want, 1, true),
        "missing " .. name .. " " .. want .. " in:\n" .. top)
    end

    -- Archive: read back, same summary; point the mapping at a copy, remove
    -- the original, and go tool pprof still resolves lines.
    local q = assert(pprof.read(path))
    assert.same(p:summary(), q:summary())
    sh { "mkdir", "-p", dir .. "/archive" }
    sh { "cp", bin, dir .. "/archive/hot.test" }
    assert.equals(1, q:rewrite_mappings { [bin] = dir .. "/archive/hot.test" })
    os.remove(bin)
    local archived = dir .. "/archive/perf.pb.gz"
    assert.is_true(q:write(archived))
    local top2 = pprof_top(archived)
    for _, e in ipairs(expect) do
      assert.is_truthy(top2:find(e.sym .. " " .. dir .. "/hot.go:", 1, true), top2)
    end
  end)

  it("resolves file:line in an lld-linked C program whose text offset differs from its vaddr", function()
    tu.write(dir .. "/prog.c", [[
#include <stdio.h>
__attribute__((noinline)) int inner(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += i * i;
    return s;
}
__attribute__((noinline)) int outer(int n)
{
    return inner(n) + 1;
}
int main(void)
{
    printf("%d\n", outer(10));
    return 0;
}
]])
    local bin = dir .. "/prog"
    sh { "gcc", "-g", "-O0", "-fuse-ld=lld", "-o", bin, dir .. "/prog.c" }
    local segs = loads(bin)
    local text = file_offset(segs, nm_addr(bin, "inner"))
    assert.not_equals(nm_addr(bin, "inner"), text) -- the layout this test is about
    local p, expect = profile_for(bin, {
      { { "inner", 0x18 }, { "outer", 0x10 }, { "main", 0x18 } },
    })
    local path = dir .. "/c.pb.gz"
    assert.is_true(p:write(path))
    sh { "go", "tool", "pprof", "-raw", path }
    local top = pprof_top(path)
    for _, e in ipairs(expect) do
      local name, want = addr2line({ "addr2line", "-f", "-e", bin }, e.addr)
      assert.equals(e.sym, name)
      assert.matches("prog%.c:%d+$", want)
      assert.is_truthy(top:find(name .. " " .. want, 1, true),
        "missing " .. name .. " " .. want .. " in:\n" .. top)
    end
  end)

  it("reads a profile written by Go's runtime and writes one go tool pprof reads the same", function()
    local bin = go_binary()
    local cpu = dir .. "/cpu.pprof"
    sh({ bin, "-test.run", "XXX", "-test.bench", "Hot", "-test.benchtime", "300ms",
      "-test.cpuprofile", cpu }, { cwd = dir })
    local p = assert(pprof.read(cpu))
    local s = p:summary()
    assert.is_true(s.samples > 0)
    assert.equals("samples", s.sample_types[1].type)
    assert.equals("cpu", s.sample_types[2].type)
    assert.equals("nanoseconds", s.sample_types[2].unit)
    local again = dir .. "/again.pb.gz"
    assert.is_true(p:write(again))
    assert.same(s, assert(pprof.read(again)):summary())
    local function body(path)
      local out = sh { "go", "tool", "pprof", "-top", "-nodecount=1000", bin, path }
      return out:match("\n(%s*flat%s+flat%%.*)$")
    end
    assert.equals(body(cpu), body(again))
  end)

  it("keeps labels go tool pprof can filter on, numeric zero included", function()
    local p = pprof.new()
    p:add_sample_type("samples", "count")
    p:add_sample_type("task-clock", "nanoseconds")
    p:set_default_sample_type("task-clock")
    p:set_period("task-clock", "nanoseconds", 1000000)
    p:add_comment("perf-command:perf record -e task-clock")
    local m = p:mapping { start = 0xffffffff81000000, limit = 0xffffffff82000000,
      offset = 0xffffffff81000000, file = "[kernel.kallsyms]_text", has_functions = true }
    local f = p:func("do_syscall_64")
    local l = p:location(m, 0xffffffff81001000, { { f, 0 } })
    p:add_sample({ l }, { 3, 3000000 }, {
      { key = "comm", str = "worker 1" }, { key = "pid", num = 0, unit = "pid" },
      { key = "tid", num = 7, unit = "tid" }, { key = "cpu", num = 0, unit = "cpu" } })
    p:add_sample({ l }, { 1, 1000000 }, { { key = "comm", str = "other" } })
    local path = dir .. "/labels.pb.gz"
    assert.is_true(p:write(path))
    sh { "go", "tool", "pprof", "-raw", path }
    local tags = sh { "go", "tool", "pprof", "-tags", path }
    -- cpu and pid are 0: they survive only because they carry a unit
    assert.matches("comm: Total 4%.0ms", tags)
    assert.matches("3%.0ms %(%s*75%.00%%%): worker 1", tags)
    assert.matches("cpu: Total 3%.0ms%s+3%.0ms %(%s*100%%%): 0\n", tags)
    assert.matches("pid: Total 3%.0ms%s+3%.0ms %(%s*100%%%): 0\n", tags)
    local focus = sh { "go", "tool", "pprof", "-top", "-tagfocus=comm=worker", path }
    assert.matches("accounting for 3ms, 75%.00%% of 4ms total", focus)
    local comments = sh { "go", "tool", "pprof", "-comments", path }
    assert.matches("perf%-command:perf record %-e task%-clock", comments)
  end)
end)
