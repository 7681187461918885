-- Synthetic `perf script` input for tests/bench/bench_convert.sh:
--
--   lua5.4 gen_script.lua mmap N PID FILE   N PERF_RECORD_MMAP2 records of
--       process PID, each mapping a file of its own (a JIT that writes one
--       jitted-PID-K.so per function, as `perf inject --jit` leaves them):
--       put in front of a recording of PID, every frame of it is then
--       placed among them
--   lua5.4 gen_script.lua stacks N FILE     N samples, every one a stack of
--       its own (depth 8 over 1,000 functions): memory per distinct stack
--
local mode, n = arg[1], math.tointeger(tonumber(arg[2] or ""))
local pid, path = math.tointeger(tonumber(arg[3] or "")), arg[4]
if mode == "stacks" then pid, path = 4242, arg[3] end
if not (mode == "mmap" or mode == "stacks") or not n or not pid or not path then
  io.stderr:write("usage: lua5.4 gen_script.lua mmap N PID FILE | stacks N FILE\n")
  os.exit(2)
end
local out = assert(io.open(path, "wb"))
local buf, nbuf = {}, 0
local function put(s)
  nbuf = nbuf + 1
  buf[nbuf] = s
  if nbuf >= 4096 then
    out:write(table.concat(buf, "", 1, nbuf))
    nbuf = 0
  end
end
local t = 0
local function header(event)
  t = t + 1
  return string.format("bench %d/%d [%03d] %d.%06d: %s", pid, pid, t % 4, t // 1000000, t % 1000000, event)
end

if mode == "mmap" then
  for k = 1, n do
    put(string.format("%sPERF_RECORD_MMAP2 %d/%d: [0x%x(0x1000) @ 0 00:00 0 0]: r-xp "
      .. "/tmp/perfgo-bench-jit/jitted-%d-%d.so\n", header(""), pid, pid, 0x7f0000000000 + k * 0x10000, pid, k))
  end
else
  local fns = {}
  for i = 1, 1000 do fns[i] = string.format("\t%x fn_%d+0x10 (/opt/perfgo-bench/app)\n", 0x401000 + i * 0x40, i) end
  for s = 0, n - 1 do
    put(header("1000000 cpu-clock: \n"))
    -- the sample number in base 1000 picks the three innermost frames, so
    -- no two samples share a stack; the outer five vary with them
    local a, b, c = s % 1000, (s // 1000) % 1000, (s // 1000000) % 1000
    local frames = { a, b, c, (a + b) % 1000, (b + c) % 1000, (a * 7) % 1000, 999, 998 }
    for _, f in ipairs(frames) do put(fns[f + 1]) end
    put("\n")
  end
end
out:write(table.concat(buf, "", 1, nbuf))
out:close()
