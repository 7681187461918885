--- The Go rule: a Go package's tests, built with `go test -c` for the
--- target's platform and run as the test binary with its flags.
local proc = require "perfgo.proc"
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local programs = require "perfgo.programs"
local goflags = require "perfgo.goflags"

-- What the rule is (rules/README.md); its functions follow.
local M = {
  name = "go",
  description = "A Go package's tests: go test -c for the target, then the test binary with -test.* flags.",
  -- Labels read off the stack of every profile sample (perfgo.parser's
  -- stack_labels, applied in C while the profile is built): `benchmark`
  -- names the Benchmark function on the stack, the function that
  -- testing.(*B).runN called (a sub-benchmark's closure included, e.g.
  -- "BenchmarkFoo.func1"), without its package path. A name that does not
  -- start with "Benchmark" is no label: runN's own calls (runtime.GC), or a
  -- frame-pointer stack that skipped the benchmark's frame (a sample in a
  -- frameless leaf function it called).
  stack_labels = {
    { key = "benchmark", caller = "testing.(*B).runN", prefix = "Benchmark", strip_package = true },
  },
}

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
  ctx.build_flags, ctx.run_flags = goflags.split(ctx.passthrough or {})
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
