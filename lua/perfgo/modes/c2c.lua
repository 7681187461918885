--- The c2c mode: `perf c2c record` around the command (cache lines shared
--- between CPUs: false sharing), its report kept as c2c.txt.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local perf = require "perfgo.perf"

local M = {
  name = "c2c",
  description = "perf c2c: cache lines contended between CPUs (false sharing); c2c.txt.",
  order = 40,
  perf = true,
  options = { perf.options.perf_arg },
}

local function text_of(r)
  return (((r.stdout or "") .. (r.stderr or "")):gsub("%s+$", ""))
end

--- perf's own checks (c2c counts system-wide), then perf c2c itself on
--- `true`: it samples memory accesses (mem-loads/mem-stores), which need
--- a hardware PMU.
---@param ctx perfgo.Context
function M.preflight(ctx)
  perf.preflight(ctx, { system_wide = true })
  local t = ctx.target
  local r = t:run({ "perf", "c2c", "record", "-o", t:scratch("c2c-probe.data"), "--", "true" },
    { stdin = "null", env = perf.env, timeout = 60 })
  if r.code ~= 0 then
    errors.fail(2, string.format("perf c2c cannot record on %s: %s. It samples memory accesses "
      .. "(mem-loads/mem-stores), which need hardware PMU access (not available in most VMs); "
      .. "use perfgo test stat or profile -e cpu-clock instead", t.description, text_of(r)))
  end
end

---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@return string[]
function M.wrap(ctx, workload)
  return perf.command(ctx, { "perf", "c2c", "record", "-o", ctx.target:scratch("perf.data") }, workload)
end

--- perf c2c record exits as the command did (128+N after a signal).
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@param r perfgo.proc.Result|nil
---@param err? string
---@return perfgo.TestExit
function M.outcome(ctx, workload, r, err)
  return perf.recorded(ctx, workload, r, err, "perf c2c record")
end

--- `perf c2c report --stdio` saved as c2c.txt; perf's warnings.
---@param ctx perfgo.Context
function M.collect(ctx)
  local data = ctx.target:scratch("perf.data")
  local path = fs.join(ctx.run.dir, "c2c.txt")
  ui.step("writing the c2c report")
  local r = ctx.target:run({ "perf", "c2c", "report", "-i", data, "--stdio" },
    { stdin = "null", env = perf.env, stdout = { file = path } })
  if r.code ~= 0 then
    ui.warn("perf c2c report failed (exit %s): %s", tostring(r.code), (r.stderr or ""):gsub("%s+$", ""))
  end
  require("perfgo.history").add_artifact(ctx.run, "c2c", "c2c.txt")
  ui.info("c2c report: %s", path)
  perf.warn_recording(ctx)
end

--- The report's path and its last lines.
---@param entry perfgo.RunEntry
---@return integer|nil
function M.view(entry)
  local path = fs.join(entry.dir, "c2c.txt")
  if not fs.is_file(path) then return nil end
  print("c2c report: " .. path)
  io.stdout:write(require("perfgo.commands.view").tail(path, 40))
  return 0
end

return M
