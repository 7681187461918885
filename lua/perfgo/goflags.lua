--- go test's flags: which belong to the build (`go test -c`) and which
--- to the test binary (`-test.` prefixed), as `go help build` and `go help
--- testflag` list them.
local errors = require "perfgo.errors"

local M = {}

--- go test flags that change the build: they go to `go test -c`.
--- true: the flag takes a value; false: boolean.
M.build_flags = {
  a = false, asan = false, cover = false, linkshared = false, msan = false,
  race = false, trimpath = false, work = false, x = false, n = false,
  asmflags = true, buildmode = true, buildvcs = true, compiler = true,
  covermode = true, coverpkg = true, gccgoflags = true, gcflags = true,
  installsuffix = true, ldflags = true, mod = true, modfile = true,
  overlay = true, p = true, pgo = true, pkgdir = true, tags = true,
  toolexec = true,
}

--- Flags of the test binary (`go help testflag`): they reach it with the
--- `-test.` prefix. true: takes a value; false: boolean.
M.test_flags = {
  bench = true, benchmem = false, benchtime = true, blockprofile = true,
  blockprofilerate = true, count = true, coverprofile = true, cpu = true,
  cpuprofile = true, failfast = false, fuzz = true, fuzzminimizetime = true,
  fuzztime = true, list = true, memprofile = true, memprofilerate = true,
  mutexprofile = true, mutexprofilefraction = true, outputdir = true,
  parallel = true, run = true, short = false, shuffle = true, skip = true,
  timeout = true, trace = true, v = false, paniconexit0 = false,
}

--- Splits the arguments after the package into build flags (for
--- `go test -c`) and run flags (for the binary, `-test.` prefixed).
--- Unknown flags and positional arguments pass to the binary unchanged, as
--- `go test` does; everything after `-args` passes verbatim.
---@param args string[]
---@return string[] build, string[] run
function M.split(args)
  local build, run = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "-args" or a == "--args" then
      for j = i + 1, #args do run[#run + 1] = args[j] end
      break
    end
    local name, eq, value = a:match("^%-%-?([%w_.]+)(=?)(.*)$")
    if name and name:sub(1, 5) == "test." then name = name:sub(6) end
    local takes_build = name and M.build_flags[name]
    local takes_test = name and M.test_flags[name]
    if takes_build ~= nil then
      build[#build + 1] = a
      if takes_build and eq == "" then
        if i == #args then errors.user(string.format("flag %s needs a value", a)) end
        build[#build + 1] = args[i + 1]
        i = i + 1
      end
    elseif takes_test ~= nil then
      local flag = "-test." .. name
      if eq == "=" then
        run[#run + 1] = flag .. "=" .. value
      else
        run[#run + 1] = flag
        if takes_test then
          if i == #args then errors.user(string.format("flag %s needs a value", a)) end
          run[#run + 1] = args[i + 1]
          i = i + 1
        end
      end
    else
      run[#run + 1] = a
    end
    i = i + 1
  end
  return build, run
end

return M
