--- `perfgo exec`: run any command under perf, with history; nothing is built.
local runopts = require "perfgo.runopts"

local M = {
  name = "exec",
  summary = "Run any command under perf (run, stat, profile, c2c, ...), with history.",
}

---@param cmd table argparse command
function M.define(cmd)
  cmd:usage("Usage: perfgo exec [" .. runopts.mode_usage() .. "] [options] -- CMD [ARGS...]")
  cmd:description([[
Runs CMD as given (no build) under the chosen perf mode, in the current
directory (on a remote host: the same directory of the synced working
tree), and records the run in .perfgo/history/<id>/.]])
  cmd:epilog(runopts.modes_text() .. "\n\nExample:\n  perfgo exec profile -e cpu-clock -- ./myprog --iterations 1000")
  runopts.define_mode(cmd)
  runopts.define(cmd)
end

M.split_args = function(argv) return runopts.split(argv, true) end

---@param args table
---@return integer
function M.run(args)
  local fanout = require "perfgo.fanout"
  local hosts = fanout.hosts(args.remote_host)
  if #hosts > 1 then
    return fanout.run({ command_name = "exec", rule_name = "exec", module = M }, args, hosts)
  end
  args.remote_host = hosts[1]
  local workflow = require "perfgo.workflow"
  return workflow.run({
    group = fanout.member_for(args.remote_host),
    command_name = "exec",
    rule_name = "exec",
    mode_name = args.mode,
    opts = args,
    passthrough = args.passthrough,
    args = args.argv,
  })
end

return M
