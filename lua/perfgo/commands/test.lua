--- `perfgo test`: build a Go test package and run it, locally or on a
--- remote host, under perf stat / record / c2c, with history and archive.
local runopts = require "perfgo.runopts"

local M = {
  name = "test",
  summary = "Build and run a Go test package under perf (run, stat, profile, c2c).",
}

---@param cmd table argparse command
function M.define(cmd)
  cmd:usage("Usage: perfgo test [run|stat|profile|c2c] [options] PKG [go test flags...]")
  cmd:description([[
Builds the test binary of one Go package (go test -c, cross-compiled for a
remote host), runs it in the package directory under the chosen perf mode,
and records the run in .perfgo/history/<id>/ at the repository root.

Modes: run (no perf, the default), stat (perf stat), profile (perf record;
the default when -e is given; writes perf.pb.gz for go tool pprof), c2c
(perf c2c). go test flags after PKG: build flags (-tags, -race, -gcflags,
-ldflags, ...) go to go test -c; test flags (-run, -bench, -benchtime,
-count, -v, ...) go to the binary as -test.<flag>.]])
  cmd:epilog([[
Examples:
  perfgo test profile -e cpu-clock ./examples/false-sharing -bench=. -run='^$'
  perfgo test stat -e task-clock -e page-faults ./pkg -bench=Sum
  perfgo test profile --remote-host user@box ./pkg -bench=.]])
  cmd:argument("mode", "run, stat, profile or c2c."):choices(runopts.modes)
  cmd:argument("package", "The Go package to test (exactly one).")
  runopts.define(cmd)
end

--- Splits the command line: perfgo's flags and PKG, then go test flags.
M.split_args = function(argv) return runopts.split(argv, false) end

---@param args table parsed arguments (args.passthrough: go test flags)
---@return integer
function M.run(args)
  local fanout = require "perfgo.fanout"
  local hosts = fanout.hosts(args.remote_host)
  if #hosts > 1 then
    return fanout.run({ command_name = "test", rule_name = args.rule or "go", module = M }, args, hosts)
  end
  args.remote_host = hosts[1]
  local workflow = require "perfgo.workflow"
  return workflow.run({
    group = fanout.member_for(args.remote_host),
    command_name = "test",
    rule_name = args.rule or "go",
    mode = args.mode,
    opts = args,
    package_arg = args.package,
    passthrough = args.passthrough,
    args = args.argv,
  })
end

return M
