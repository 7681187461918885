--- The attach rule (`perfgo attach`): processes that already run, found
--- on the target by --pid, --name and --children (perfgo.attach). Nothing
--- is built or staged; "build" copies the processes' binaries here, and
--- the workload is the processes (perf -p) with a timer beside them that
--- ends the recording after --duration or when they have all exited.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"

local M = {
  name = "attach",
  description = "Processes that already run (perfgo attach); nothing is built.",
}

---@param ctx table
function M.resolve(ctx)
  local opts = ctx.opts
  if #(opts.pid or {}) == 0 and not opts.name then
    errors.user("attach: name the processes with --pid N (repeatable) or --name REGEX")
  end
  for i, v in ipairs(opts.pid or {}) do
    local pid = math.tointeger(tonumber(v))
    if not pid or pid < 1 or not tostring(v):match("^%d+$") then
      errors.user(string.format("--pid: '%s' is not a process id", tostring(v)))
    end
    opts.pid[i] = pid
  end
  if opts.name == "" then errors.user("--name: the regular expression is empty (it would match every process)") end
  if opts.duration then
    local seconds, why = require("perfgo.attach").parse_duration(opts.duration)
    if not seconds then errors.user(why) end
    ctx.attach_duration = seconds
  end
  local what = {}
  for _, p in ipairs(opts.pid or {}) do what[#what + 1] = "--pid " .. tostring(p) end
  if opts.name then what[#what + 1] = "--name " .. opts.name end
  ctx.package = {
    pattern = table.concat(what, " "),
    import_path = table.concat(what, " "),
    dir = ctx.cwd,
    rel = fs.relative(ctx.cwd, ctx.repo.root) or ".",
  }
  ctx.build_flags, ctx.run_flags = {}, {}
end

--- On the target, before the run is recorded: the processes, and whether
--- perf may attach to them.
---@param ctx table
function M.preflight(ctx)
  ctx.attach = require("perfgo.attach").find(ctx)
end

--- Nothing to send to the target: the processes run there already.
---@param _ctx table
function M.stage(_ctx) end

--- The binaries of the processes, copied here (read through
--- /proc/PID/exe, so a deleted or replaced file is still the one running).
---@param ctx table
function M.build(ctx)
  if not ctx.mode.writes_profile then return end
  ctx.path_map = require("perfgo.attach").fetch_binaries(ctx)
end

---@param ctx table
---@return table workload
function M.command(ctx)
  local a = ctx.attach
  return { pids = a.pids, argv = require("perfgo.attach").timer_argv(a.pids, a.duration) }
end

return M
