-- Where the time of a conversion goes (a benchmark: prints, asserts nothing).
--
--   LUA_CPATH="build/?.so;;" lua5.4 tests/bench/phases.lua FILE [RUNS]
--
-- For each run: reading + parsing (p:feed_file), building the profile
-- (p:finish), encoding it as gzip'd pprof (profile:encode), with the page
-- faults each phase took; then the best run's phases.
local parser = require "perfgo.parser"
local sys = require "perfgo.sys"

local path, runs = arg[1], tonumber(arg[2] or "5")
if not path then
  io.stderr:write("usage: lua5.4 tests/bench/phases.lua FILE [RUNS]\n")
  os.exit(2)
end

local function faults()
  local f = assert(io.open("/proc/self/stat"))
  local s = f:read("a")
  f:close()
  local i = 0
  for w in s:gsub("^.*%) ", ""):gmatch("%S+") do
    i = i + 1
    if i == 8 then return tonumber(w) end -- minflt, field 10 of stat
  end
end

local best
for r = 1, runs do
  local f0, t0 = faults(), sys.monotonic()
  local p = parser.new({})
  assert(p:feed_file(path))
  local f1, t1 = faults(), sys.monotonic()
  local prof = assert(p:finish())
  local f2, t2 = faults(), sys.monotonic()
  local bytes = prof:encode()
  local f3, t3 = faults(), sys.monotonic()
  local st = p:stats()
  local row = {
    feed = (t1 - t0) * 1e3, finish = (t2 - t1) * 1e3, encode = (t3 - t2) * 1e3, total = (t3 - t0) * 1e3,
    ff = f1 - f0, fb = f2 - f1, fe = f3 - f2, mb = st.bytes / 1e6, out = #bytes,
    samples = st.samples, stacks = st.distinct_stacks, frames = st.distinct_frames,
  }
  print(string.format("run %d: feed %.1f ms (%d faults), finish %.1f ms (%d), encode %.1f ms (%d), "
    .. "total %.1f ms = %.0f MB/s", r, row.feed, row.ff, row.finish, row.fb, row.encode, row.fe,
    row.total, row.mb / row.total * 1e3))
  if not best or row.total < best.total then best = row end
  p:close()
end
print(string.format("best: %.1f MB, %d samples, %d distinct stacks, %d distinct frame lines -> "
  .. "%d bytes of pprof; feed %.1f + finish %.1f + encode %.1f = %.1f ms, %.0f MB/s",
  best.mb, best.samples, best.stacks, best.frames, best.out, best.feed, best.finish, best.encode,
  best.total, best.mb / best.total * 1e3))
