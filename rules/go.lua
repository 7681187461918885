--- The Go rule: everything perfgo knows about Go test packages.
---
--- A rule is a table with:
---   name, detect(dir) -> bool,
---   resolve(ctx)  validates what to run and splits the user's arguments,
---   build(ctx)    produces the binary for ctx.target's platform,
---   command(ctx)  the argv and working directory to run on the target.
local proc = require "perfgo.proc"
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local programs = require "perfgo.programs"

local M = { name = "go" }

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

--- Labels read off the stack of every profile sample (perfgo.parser's
--- stack_labels, applied in C while the profile is built): `benchmark`
--- names the Benchmark function on the stack, the function that
--- testing.(*B).runN called (a sub-benchmark's closure included, e.g.
--- "BenchmarkFoo.func1"), without its package path. A name that does not
--- start with "Benchmark" is no label: runN's own calls (runtime.GC), or a
--- frame-pointer stack that skipped the benchmark's frame (a sample in a
--- frameless leaf function it called).
M.stack_labels = {
  { key = "benchmark", caller = "testing.(*B).runN", prefix = "Benchmark", strip_package = true },
}

--- True when dir (or a parent) holds a go.mod.
---@param dir string
---@return boolean
function M.detect(dir)
  local d = dir
  while true do
    if fs.is_file(fs.join(d, "go.mod")) then return true end
    local parent = fs.dirname(d)
    if parent == d then return false end
    d = parent
  end
end

--- Splits the arguments after the package into build flags (for
--- `go test -c`) and run flags (for the binary, `-test.` prefixed).
--- Unknown flags and positional arguments pass to the binary unchanged, as
--- `go test` does; everything after `-args` passes verbatim.
---@param args string[]
---@return string[] build, string[] run
function M.split_flags(args)
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

-- A pattern that names a directory is listed from inside it, so that a
-- package in a nested module (examples/go.mod) resolves from the repo root.
local function list_from(pattern, cwd)
  if not (pattern:match("^%.%.?/") or pattern:match("^/") or pattern == "." or pattern == "..") then
    return pattern, cwd
  end
  local prefix, rest = pattern:match("^(.-)/?(%.%.%..*)$")
  if not prefix then prefix, rest = pattern, "." else rest = "./" .. rest end
  if prefix == "" then prefix = "." end
  local dir = prefix:sub(1, 1) == "/" and prefix or fs.join(cwd, prefix)
  if not fs.is_dir(dir) then errors.user(string.format("package %s: no such directory", pattern)) end
  return rest, dir
end

local function go_list(pattern, cwd, env)
  local r = proc.run({ "go", "list", "-e", "-f",
    "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}\t{{if .Error}}{{.Error}}{{end}}",
    "--", pattern }, { cwd = cwd, env = env, stdin = "null" })
  programs.check(r, "go")
  if r.code ~= 0 then
    local msg = (r.stderr or ""):gsub("%s+$", ""):gsub("\n", "; ")
    errors.user(string.format("package %s: %s", pattern, msg ~= "" and msg or "go list failed"))
  end
  local pkgs = {}
  for line in r.stdout:gmatch("[^\n]+") do
    local path, dir, nt, nx, err = line:match("^([^\t]*)\t([^\t]*)\t(%d+)\t(%d+)\t(.*)$")
    if path then
      pkgs[#pkgs + 1] = { import_path = path, dir = dir, tests = tonumber(nt) + tonumber(nx), error = err }
    end
  end
  return pkgs
end

--- Checks that ctx.package_arg names exactly one package with tests, and
--- splits ctx.passthrough into ctx.build_flags and ctx.run_flags.
---@param ctx table
function M.resolve(ctx)
  local pattern = ctx.package_arg
  local pkgs = go_list(list_from(pattern, ctx.cwd))
  if #pkgs == 0 then
    errors.user(string.format("package %s: matches no packages", pattern))
  elseif #pkgs > 1 then
    local names = {}
    for i = 1, math.min(#pkgs, 5) do names[i] = pkgs[i].import_path end
    errors.user(string.format("package pattern %s matches %d packages (%s%s): name exactly one",
      pattern, #pkgs, table.concat(names, ", "), #pkgs > 5 and ", ..." or ""))
  end
  local pkg = pkgs[1]
  if pkg.error ~= "" then
    errors.user(string.format("package %s: %s", pattern, pkg.error))
  end
  if pkg.tests == 0 then
    errors.user(string.format("package %s (%s) has no test files", pattern, pkg.import_path))
  end
  ctx.package = {
    pattern = pattern,
    import_path = pkg.import_path,
    dir = pkg.dir,
    rel = fs.relative(pkg.dir, ctx.repo.root) or ".",
  }
  ctx.build_flags, ctx.run_flags = M.split_flags(ctx.passthrough or {})
end

--- Builds the test binary for the target's platform with `go test -c`.
---@param ctx table
function M.build(ctx)
  local platform = ctx.target.platform
  local name = string.format("perfgo.test.%s.%s", platform.os, platform.arch)
  local out = fs.join(ctx.run.dir, name)
  local env = { GOOS = platform.os, GOARCH = platform.arch }
  local host = ctx.host_platform
  if host and (host.os ~= platform.os or host.arch ~= platform.arch) then
    env.CGO_ENABLED = "0"
  end
  local argv = { "go", "test", "-c", "-o", out }
  for _, f in ipairs(ctx.build_flags) do argv[#argv + 1] = f end
  argv[#argv + 1] = "."
  ui.step("building %s for %s/%s", ctx.package.import_path, platform.os, platform.arch)
  local r = programs.check(proc.run(argv, { cwd = ctx.package.dir, env = env, stdin = "null" }), "go")
  if r.code ~= 0 then
    io.stderr:write(r.stdout or "", r.stderr or "")
    ctx.failed_step = "build"
    errors.fail(r.code ~= 0 and r.code or 1, string.format("build failed: %s (compiler output above)",
      table.concat(argv, " ")))
  end
  if not fs.is_file(out) then
    errors.fail(1, string.format("go test -c produced no binary for %s", ctx.package.import_path))
  end
  ctx.binary = { path = out, name = name }
end

--- The command to run on the target: the binary with its run flags, in
--- the package directory.
---@param ctx table
---@return string[] argv, string workdir (relative to the repository root)
function M.command(ctx)
  local argv = { ctx.staged_binary }
  for _, f in ipairs(ctx.run_flags) do argv[#argv + 1] = f end
  return argv, ctx.package.rel
end

--- Flags that make the Go test binary write its own profiles into dir.
---@param dir string
---@return string[]
function M.go_profile_flags(dir)
  return { "-test.cpuprofile=" .. dir .. "/go-cpu.pprof", "-test.memprofile=" .. dir .. "/go-mem.pprof" }
end

return M
