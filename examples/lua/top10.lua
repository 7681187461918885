-- Converts a perf script file to a pprof profile and prints its top 10
-- functions by flat value, with nothing but perfgo's Lua modules:
--   lua5.4 top10.lua perf.script [out.pb.gz]
local parser = require "perfgo.parser"
local pprof = require "perfgo.pprof"

local input, output = arg[1], arg[2]
if not input then
  io.stderr:write("usage: lua5.4 top10.lua PERF_SCRIPT [OUT.pb.gz]\n")
  os.exit(2)
end
local profile = assert(parser.parse_file(input))
if output then -- write it, and read it back as any pprof file would be
  assert(profile:write(output))
  profile = assert(pprof.read(output))
end

local flat, total = {}, 0
for stack, values in profile:samples() do
  local v = values[2] or values[1] -- the first event's column
  local name = stack[1] and stack[1].func or "[no frames]"
  flat[name] = (flat[name] or 0) + v
  total = total + v
end
local names = {}
for name in pairs(flat) do names[#names + 1] = name end
table.sort(names, function(a, b) return flat[a] > flat[b] end)
for i = 1, math.min(10, #names) do
  print(string.format("%6.2f%%  %s", 100 * flat[names[i]] / total, names[i]))
end
