--- `perfgo attach shell`: an interactive shell on the target (a remote
--- host over the run's SSH connection, with a terminal; or this machine)
--- in a scratch directory of its own, with perf on PATH, recorded as a run
--- (type attach, mode shell): its exit is the run's, and the files left in
--- the directory are copied into the run's directory when it ends.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local history = require "perfgo.history"

local M = {}

-- The shell's start: its directory, perf's usual places on PATH, and the
-- user's login shell (else sh), interactive.
local SCRIPT = [[
mkdir -p "$1" && cd "$1" || exit 1
PATH=$PATH:/usr/sbin:/sbin:/usr/local/bin; export PATH
PERFGO_SHELL_DIR=$1; export PERFGO_SHELL_DIR
command -v perf >/dev/null 2>&1 || echo "perfgo: perf is not installed here" >&2
echo "perfgo: a shell in $1 (perf: $(command -v perf)); files left here are kept with the run" >&2
exec "${SHELL:-/bin/sh}" -i]]

-- The command line of the shell: over SSH with a terminal (ssh -tt), or
-- here.
local function shell_argv(target, dir)
  local argv = { "sh", "-c", SCRIPT, "perfgo-shell", dir }
  if target.kind ~= "remote" then return argv end
  local out = target.remote.session:argv(argv, {})
  for i, a in ipairs(out) do
    if a == "-T" then out[i] = "-tt" end
  end
  return out
end

-- The regular files left in dir, copied into the run's directory as
-- files/NAME.
local function keep_files(ctx, dir)
  local t = ctx.target
  local list = [[cd "$1" 2>/dev/null && for f in * .[!.]*; do [ -f "$f" ] && printf '%s\n' "$f"; done]]
  local r = t:run({ "sh", "-c", list, "perfgo-files", dir }, { stdin = "null" })
  local want = {}
  local into = fs.join(ctx.run.dir, "files")
  for name in ((r and r.stdout) or ""):gmatch("[^\n]+") do
    want[#want + 1] = { dir .. "/" .. name, fs.join(into, name), name }
  end
  if #want == 0 then return end
  fs.mkdir_p(into)
  local missing = {}
  for _, m in ipairs(t:get_many(want)) do missing[m] = true end
  for _, w in ipairs(want) do
    if missing[w[1]] then
      ui.warn("could not copy %s from %s", w[1], t.description)
    else
      history.add_artifact(ctx.run, "file", "files/" .. w[3])
    end
  end
  ui.info("kept %d file%s of the shell's directory in %s", #want, #want == 1 and "" or "s", into)
end

--- Runs the shell; returns its exit code as perfgo's.
---@param args table parsed arguments
---@return integer
function M.run(args)
  local workflow = require "perfgo.workflow"
  local target = require "perfgo.target"
  local git = require "perfgo.git"
  local proc = require "perfgo.proc"
  local ctx = {
    command_name = "attach", mode_name = "shell", record_type = "attach", rule_name = "attach",
    opts = args, args = args.argv, cwd = fs.abspath("."),
  }
  local root = git.root(ctx.cwd)
  ctx.repo = { root = root or ctx.cwd, git = root ~= nil }
  if root then ctx.git = git.info(root) end
  ctx.run_id = require("perfgo.sys").random_id()
  ctx.host_platform = target.new_local_platform()
  ctx.target = target.new(ctx)
  local ok, err = pcall(function()
    local run, rerr = history.new_run(ctx.repo.root, ctx.run_id)
    if not run then errors.fail(1, rerr) end
    ctx.run = run
    local written, werr = history.write(ctx.run, workflow.record_of(ctx, { status = "running" }))
    if not written then errors.fail(1, werr) end
    local dir = ctx.target:scratch("shell")
    ctx.workdir = dir
    ctx.wrapped_argv = { "sh", "-c", "...", dir }
    -- the terminal is the shell's: Ctrl-C there is the shell's too
    local r = proc.run(shell_argv(ctx.target, dir), { stdin = "inherit", stdout = "inherit", stderr = "inherit",
      pgroup = false })
    require("perfgo.programs").check(r, ctx.target.kind == "remote" and "ssh" or "sh")
    if r.code == 255 and ctx.target.kind == "remote" and not ctx.target.remote.session:alive() then
      errors.fail(75, "connection to " .. ctx.target.host .. " lost")
    end
    ctx.result = r
    ctx.test = { code = r.code, signal = r.signal }
    proc.clear_interrupted()
    keep_files(ctx, dir)
  end)
  if not ok then ctx.error = err end
  local out = workflow.outcome(ctx)
  if ctx.run then
    local wok, written, werr = pcall(history.write, ctx.run, workflow.record_of(ctx, out))
    if not wok then werr = written elseif not written then wok = false end
    if not wok then ui.warn("the run could not be recorded: %s", errors.message(werr)) end
  end
  pcall(ctx.target.cleanup, ctx.target, ctx)
  if out.status == "error" then error(ctx.error, 0) end
  if ctx.run then ui.step("recorded run %s in %s", ctx.run.id:sub(1, 8), ctx.run.dir) end
  return out.exit_code
end

return M
