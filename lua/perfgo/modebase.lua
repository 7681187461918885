--- What every mode does unless it declares otherwise (perfgo.Mode): run
--- the command as it is, without perf, and keep its output and its exit.
--- A mode's own function receives the one it replaces as its last
--- argument, `base` (perfgo.declare), so these are the bases of the shipped
--- modes. Only functions of the Mode contract belong here: each becomes a
--- field of every mode.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local history = require "perfgo.history"

local M = {}

--- Nothing to check before the run is recorded.
---@param _ctx perfgo.Context
function M.preflight(_ctx) end

--- The command line to run: the workload's command as it is.
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@return string[]
function M.wrap(ctx, workload)
  if not workload.argv then
    errors.user(string.format("mode %s runs a command; it cannot attach to processes", ctx.mode.name))
  end
  return workload.argv
end

-- A command that is not there (this machine only: a remote one is
-- recognized from the shell's or perf's words afterwards).
local function check_command(ctx, argv)
  if ctx.target.kind ~= "local" or ctx.binary or not argv then return end
  local prog = argv[1]
  local found
  if prog:find("/", 1, true) then
    local path = prog:sub(1, 1) == "/" and prog or fs.join(ctx.workdir, prog)
    if fs.is_dir(path) then errors.fail(126, string.format("cannot run %s: it is a directory", prog)) end
    found = fs.is_file(path)
  else
    found = require("perfgo.proc").which(prog) ~= nil
  end
  if not found then errors.fail(127, string.format("%s: command not found", prog)) end
end

--- Runs the workload once as the mode wraps it (ctx.mode.wrap), its
--- stdout and stderr shown live and kept in the run directory; sets
--- ctx.wrapped_argv, ctx.workdir, ctx.result and, from the mode's
--- outcome, ctx.test.
---@param ctx perfgo.Context
---@param workload perfgo.Workload
function M.execute(ctx, workload)
  local mode = ctx.mode
  ctx.wrapped_argv = mode.wrap(ctx, workload)
  ctx.workdir = ctx.target:path(workload.cwd)
  check_command(ctx, workload.argv)
  local what = workload.pids and ("process " .. table.concat(workload.pids, ","))
    or table.concat(workload.argv, " ")
  ui.step("running %s%s in %s", mode.perf and ("perf " .. mode.name .. ": ") or "", what, ctx.target.description)
  local run = ctx.run
  local r, err = ctx.target:run(ctx.wrapped_argv, {
    cwd = workload.cwd,
    stdin = "null",
    env = mode.perf and require("perfgo.perf").env or nil,
    stdout = { tee = fs.join(run.dir, "stdout.txt") },
    stderr = { tee = fs.join(run.dir, "stderr.txt") },
  })
  history.add_artifact(run, "stdout", "stdout.txt")
  history.add_artifact(run, "stderr", "stderr.txt")
  ctx.result = r
  ctx.test = mode.outcome(ctx, workload, r, err)
end

--- What became of the command: its own exit ({code=, signal=}), or an
--- error raised when it never ran (not there, not executable), as the
--- shell or perf said it.
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@param r perfgo.proc.Result|nil
---@param err? string
---@return perfgo.TestExit
function M.outcome(ctx, workload, r, err)
  local perf = require "perfgo.perf"
  if not r then errors.fail(1, "the command did not run: " .. tostring(err)) end
  if r.error then perf.not_started(ctx, workload.argv, r.error) end
  -- a remote shell that could not find the command
  if r.code == 127 and ctx.target.kind == "remote" then
    local stderr = fs.read(fs.join(ctx.run.dir, "stderr.txt")) or ""
    local last = stderr:match("([^\n]*)\n?$") or ""
    if last:find("not found", 1, true) then perf.not_started(ctx, workload.argv, last) end
  end
  return { code = r.code, signal = r.signal }
end

--- Nothing to collect.
---@param _ctx perfgo.Context
function M.collect(_ctx) end

--- Nothing to convert.
---@param _ctx perfgo.Context
function M.convert(_ctx) end

--- Nothing to archive.
---@param _ctx perfgo.Context
function M.archive(_ctx) end

--- The record's `perf` section: the mode, its options as given (each
--- under its option's `record` name; event and perf_arg always, as
--- lists) and the command line that ran.
---@param ctx perfgo.Context
---@return table
function M.describe(ctx)
  local json = require "perfgo.json"
  local o = ctx.opts or {}
  local out = {
    mode = ctx.mode.name,
    events = json.array(o.event or {}),
    extra_args = json.array(o.perf_arg or {}),
    argv = ctx.wrapped_argv and json.array(ctx.wrapped_argv) or nil,
  }
  for _, opt in ipairs(ctx.mode.options or {}) do
    local key = opt.record or opt.name
    if out[key] == nil and o[opt.name] ~= nil and o[opt.name] ~= false then
      out[key] = type(o[opt.name]) == "table" and json.array(o[opt.name]) or o[opt.name]
    end
  end
  return out
end

--- Nothing of the mode's own to show: `perfgo view` prints how the run
--- ended and the end of its output.
---@param _entry perfgo.RunEntry
---@param _args table
---@return integer|nil exit code, nil for the generic view
function M.view(_entry, _args) return nil end

--- Runs of this mode cannot be compared.
---@param a perfgo.RunEntry
---@param b perfgo.RunEntry
---@param _args table
---@return integer
function M.compare(a, b, _args)
  local modes = require "perfgo.modes"
  modes.cannot_compare(modes.of_record(a.record), modes.of_record(b.record))
  return 2
end

return M
