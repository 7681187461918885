--- `perfgo attach`: perf stat, record or c2c of processes that already
--- run, here or on a remote host, recorded like test runs (type "attach").
--- The workflow is the test run's with the attach rule (rules/attach.lua):
--- the processes are found and checked before anything is recorded,
--- their binaries copied here, and perf runs with -p beside a timer.
local runopts = require "perfgo.runopts"

local M = {
  name = "attach",
  summary = "perf stat, profile or c2c of processes that already run (--pid, --name), with history.",
}

local MODES = { "stat", "profile", "c2c", "shell" }

---@param cmd table argparse command
function M.define(cmd)
  cmd:usage("Usage: perfgo attach stat|profile|c2c (--pid N... | --name REGEX) [--children] [--duration D] "
    .. "[options]\n       perfgo attach shell [--remote-host HOST]")
  cmd:description([[
Attaches perf to processes that already run, on this machine or on a
remote host (--remote-host), until --duration has passed, every process
has exited, or Ctrl-C (what perf captured is kept); the processes are
never signalled. Records the run in .perfgo/history/<id>/ (type attach)
of the current repository or directory; a profile is archived with the
processes' binaries (read through /proc/PID/exe), so pprof resolves
functions and lines on this machine.]])
  cmd:epilog([[
Modes:
  stat     perf stat: event counts of the processes; stat.json and stat.txt.
  profile  perf record: sampled call stacks as a pprof profile (perf.pb.gz).
  c2c      perf c2c: cache lines contended between CPUs; c2c.txt.
  shell    an interactive shell on the host, in a scratch directory, perf on PATH;
           recorded as a run, the files left there kept with it.

Examples:
  perfgo attach profile --pid 4242 --duration 10s -e cpu-clock
  perfgo attach stat --name '^myserver$' --children -e task-clock
  perfgo attach profile --name myserver --remote-host me@box --duration 30s]])
  cmd:argument("mode", "stat, profile, c2c or shell."):choices(MODES)
  local pid = cmd:option("--pid", "A process to attach to (repeatable)."):count("*"):argname("<pid>")
  local name = cmd:option("--name", "Every process whose command name or command line matches this extended "
    .. "regular expression (grep -E).")
    :argname("<regex>")
  local children = cmd:flag("--children", "Also the processes' descendants, those already running and "
    .. "those started while perf records.")
  local duration = cmd:option("--duration", "Stop after this long (30s, 500ms, 2m); default: until Ctrl-C "
    .. "or every process has exited.")
    :argname("<duration>")
  cmd:group("What to attach to", pid, name, children, duration)
  -- not --repeat: perf stat -r reruns its command, and attach has none of its own
  runopts.define(cmd, { rule = true, go_profiles = true, ["repeat"] = true })
end

---@param args table
---@return integer
function M.run(args)
  local hosts = require("perfgo.fanout").hosts(args.remote_host)
  if #hosts > 1 then
    require("perfgo.errors").user("attach works on one host at a time; --remote-host names " .. #hosts)
  end
  args.remote_host = hosts[1]
  if args.mode == "shell" then
    if #(args.pid or {}) > 0 or args.name or args.duration or args.children then
      require("perfgo.errors").user("attach shell takes no --pid, --name, --children or --duration")
    end
    return require("perfgo.attachshell").run(args)
  end
  local workflow = require "perfgo.workflow"
  workflow.hook("after", "execute", function(ctx)
    if not ctx.attach then return end
    local ui = require "perfgo.ui"
    local attach = require "perfgo.attach"
    ctx.attach.exited = attach.exited(ctx)
    if #ctx.attach.exited > 0 then
      local gone = {}
      for _, pid in ipairs(ctx.attach.exited) do
        for _, p in ipairs(ctx.attach.processes) do
          if p.pid == pid then gone[#gone + 1] = attach.label(p) end
        end
      end
      ui.info("note: %s exited during the recording%s", table.concat(gone, ", "),
        #ctx.attach.exited == #ctx.attach.pids and ", which ended it" or "")
    end
  end)
  return workflow.run({
    command_name = "attach",
    rule_name = "attach",
    mode_name = args.mode,
    record_type = "attach",
    opts = args,
    passthrough = {},
    args = args.argv,
  })
end

return M
