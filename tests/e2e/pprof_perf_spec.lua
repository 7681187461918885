-- The symmap address rule on real `perf record`/`perf script` output (this
-- machine's perf prints user frames as file offsets): a small perf script
-- reader here feeds MMAP2 records and frames to pprof.symmap, and
-- `go tool pprof -lines` must then give, for every user frame of the
-- profiled lld-linked C program, exactly what addr2line gives for the
-- location's ELF address. A rebuilt binary (other build id) must not be
-- used for lines.
local pprof = require "perfgo.pprof"
local tu = require "testutil"

local function sh(argv, opts)
  local r = tu.run(argv, opts)
  assert(r.code == 0, table.concat(argv, " ") .. " failed:\n" .. (r.stdout or "") .. (r.stderr or ""))
  return r.stdout
end

local SOURCE = [[
#include <stdio.h>
__attribute__((noinline)) long inner(long n)
{
    long s = 0;
    for (long i = 0; i < n; i++)
        s += i * i ^ (s >> 3);
    return s;
}
__attribute__((noinline)) long outer(long n)
{
    return inner(n) + VARIANT;
}
int main(void)
{
    long t = 0;
    for (int k = 0; k < 60; k++)
        t += outer(3000000);
    printf("%ld\n", t);
    return 0;
}
]]

local function num(s)
  if s == "0" then return 0 end
  return tonumber((s:gsub("^0x", "")), 16)
end

--- Reads `perf script --show-mmap-events` text into a profile through a
--- symmap, applying the return-address rule by stack position.
local function convert(text)
  local p = pprof.new()
  p:add_sample_type("samples", "count")
  p:add_sample_type("cpu-clock", "nanoseconds")
  p:set_default_sample_type("cpu-clock")
  local sm = pprof.symmap(p, { addresses = "offset" })
  local frames, pid = nil, nil
  local function flush()
    if not frames or #frames == 0 then return end
    local locs, seen_user, after_kernel = {}, false, false
    for i, f in ipairs(frames) do
      local r = sm:resolve(f.dso, f.addr, pid)
      local addr = r.address
      local interrupted = r.kind ~= "kernel" and after_kernel and not seen_user
      if r.adjust_return and i > 1 and not interrupted then addr = addr - 1 end
      if r.kind == "kernel" then after_kernel = true else seen_user = true end
      locs[#locs + 1] = p:location(r.mapping_id, addr, { { p:func(f.sym), 0 } })
    end
    p:add_sample(locs, { 1, 250000 })
    frames = nil
  end
  for line in text:gmatch("([^\n]*)\n") do
    local mpid, start, len, pgoff, mid, prot, path = line:match(
      "PERF_RECORD_MMAP2 (%-?%d+)/%-?%d+: %[0x(%x+)%(0x(%x+)%) @ (%S+) (.-)%]: (%S+) (.+)$")
    if mpid then
      local m = { pid = tonumber(mpid), start = num(start), len = num(len), pgoff = num(pgoff),
        path = path, exec = prot:sub(3, 3) == "x" }
      local bid = mid:match("^<(%x+)>$")
      if bid then
        m.build_id = bid
      else
        local maj, min, ino = mid:match("^(%x+):(%x+) (%d+)")
        m.maj, m.min, m.ino = tonumber(maj, 16), tonumber(min, 16), tonumber(ino)
      end
      sm:mmap(m)
    elseif line:match("^%S") and not line:match("PERF_RECORD_") then
      flush()
      pid = tonumber(line:match("^%S+%s+(%d+)/"))
      frames = {}
    elseif line == "" then
      flush()
    else
      local addr, sym, dso = line:match("^%s+(%x+) (.-) %((.*)%)$")
      if addr and frames then
        frames[#frames + 1] = { addr = num(addr), sym = sym, dso = dso }
      end
    end
  end
  flush()
  sm:finish()
  return p, sm:warnings()
end

describe("perfgo.pprof on real perf output", function()
  local dir
  before_each(function() dir = tu.tmpdir() end)
  after_each(function() tu.rmtree(dir) end)

  local function build(variant)
    tu.write(dir .. "/prog.c", (SOURCE:gsub("VARIANT", variant)))
    sh { "gcc", "-g", "-O1", "-fno-omit-frame-pointer", "-fuse-ld=lld", "-o", dir .. "/prog", dir .. "/prog.c" }
  end

  local function record(extra)
    local argv = { "perf", "record", "-q", "-g", "-e", "cpu-clock", "-F", "10000", "-o", dir .. "/perf.data" }
    for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = dir .. "/prog"
    sh(argv, { cwd = dir })
    return sh { "perf", "script", "-i", dir .. "/perf.data", "-F", "comm,pid,tid,time,event,ip,sym,dso",
      "--show-mmap-events" }
  end

  it("gives go tool pprof the file:line addr2line gives for each user frame", function()
    build("1")
    local text = record()
    assert.matches("PERF_RECORD_MMAP2", text)
    local p = convert(text)
    local path = dir .. "/perf.pb.gz"
    assert.is_true(p:write(path))
    sh { "go", "tool", "pprof", "-raw", path }
    local top = sh { "go", "tool", "pprof", "-lines", "-top", "-nodecount=500", "-nodefraction=0", path }
    local prog, checked = dir .. "/prog", {}
    for stack in p:samples() do
      for _, f in ipairs(stack) do
        if f.mapping == prog and not checked[f.address] then
          checked[f.address] = true
          local out = sh({ "addr2line", "-f", "-e", prog }, { stdin = string.format("0x%x\n", f.address) })
          local name, loc = out:match("^([^\n]+)\n([^\n ]+)")
          -- Compare what both tools can know: an address without line
          -- information (`_start`: addr2line prints `??:?`) is shown by
          -- pprof with its name alone, one without a symbol with perf's.
          local want = name .. " " .. loc
          if loc:match("^%?%?:") then want = " " .. (name ~= "??" and name or f.func) .. "\n" end
          assert.is_truthy(top:find(want, 1, true),
            string.format("0x%x: want %s %s in\n%s", f.address, name, loc, top))
        end
      end
    end
    local n = 0
    for _ in pairs(checked) do n = n + 1 end
    if os.getenv("PERFGO_TEST_VERBOSE") then print(n, top) end
    assert.is_true(n >= 2, "too few frames of prog were sampled")
    assert.is_truthy(top:find("inner " .. dir .. "/prog.c:", 1, true), top)
    -- -list shows inner's source with the samples on its loop lines.
    local list = sh { "go", "tool", "pprof", "-list", "^inner$", path }
    assert.is_truthy(list:find("ROUTINE ======================== inner in " .. dir .. "/prog.c", 1, true), list)
    assert.matches("[%d.]+[mu]?s%s+[%d.]+[mu]?s%s+%d+:%s+s %+= i %* i", list)
  end)

  it("does not take lines from a rebuilt binary whose build id differs", function()
    build("1")
    local text = record { "--buildid-mmap" }
    assert.matches("<%x+>%]: r%-xp " .. dir:gsub("%p", "%%%0") .. "/prog", text)
    build("2 + n") -- same path, other code: another build id
    local p, warnings = convert(text)
    local m
    for _, mp in ipairs(p:mappings()) do
      if mp.file == dir .. "/prog" then m = mp end
    end
    assert.is_truthy(m, "no mapping for prog")
    assert.is_true(m.has_functions) -- pprof must not symbolize from the new file
    assert.not_equals(0, m.start)   -- runtime mode from the MMAP2 record
    assert.equals(0, #warnings)     -- placed by the record: no names-only warning
    local path = dir .. "/perf.pb.gz"
    assert.is_true(p:write(path))
    local top = sh { "go", "tool", "pprof", "-lines", "-top", "-nodecount=500", "-nodefraction=0", path }
    assert.is_truthy(top:find("inner", 1, true), top)
    assert.is_falsy(top:find("prog.c:", 1, true), top)
  end)
end)
