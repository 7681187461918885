--- `perfgo test`: build a Go test package and run it, locally or on a
--- remote host, under one of the perf modes, with history and archive.
local runopts = require "perfgo.runopts"

local M = {
  name = "test",
  summary = "Build and run a Go test package under perf (run, stat, profile, c2c, ...).",
}

---@param cmd table argparse command
function M.define(cmd)
  cmd:usage("Usage: perfgo test [" .. runopts.mode_usage() .. "] [options] PKG [go test flags...]")
  cmd:description([[
Builds the test binary of one Go package (go test -c, cross-compiled for a
remote host), runs it in the package directory under the chosen perf mode,
and records the run in .perfgo/history/<id>/ at the repository root.

The mode is run (no perf) unless one is named, or profile when -e is
given. go test flags after PKG: build flags (-tags, -race, -gcflags,
-ldflags, ...) go to go test -c; test flags (-run, -bench, -benchtime,
-count, -v, ...) go to the binary as -test.<flag>.]])
  cmd:epilog(runopts.modes_text() .. [[


Examples:
  perfgo test profile -e cpu-clock ./examples/false-sharing -bench=. -run='^$'
  perfgo test stat -e task-clock -e page-faults ./pkg -bench=Sum
  perfgo test profile --remote-host user@box ./pkg -bench=.]])
  runopts.define_mode(cmd)
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
    mode_name = args.mode,
    opts = args,
    package_arg = args.package,
    passthrough = args.passthrough,
    args = args.argv,
  })
end

return M
