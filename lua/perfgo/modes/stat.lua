--- The stat mode: `perf stat` counts events over the whole command; the
--- numbers are kept as stat.json and the table as stat.txt (also shown),
--- and two stat runs compare counter by counter.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local json = require "perfgo.json"
local units = require "perfgo.units"
local perf = require "perfgo.perf"

local M = {
  name = "stat",
  description = "perf stat: event counts for the whole command; stat.json and stat.txt.",
  order = 20,
  perf = true,
  options = {
    perf.options.event,
    {
      name = "repeat", flags = "-r --repeat", argname = "<n>",
      help = "stat: repeat the run N times, report mean and variance.",
      check = function(v)
        local n, why = require("perfgo.runopts").positive_integer(v)
        if not n then return nil, why .. " (perf stat -r 0 would repeat forever)" end
        return n
      end,
    },
    {
      name = "detail", flags = "--detail", flag = true, help = "stat: more counters (perf stat -d).",
      check = function(v)
        if type(v) ~= "boolean" then return nil, "must be true or false" end
        return v
      end,
    },
    perf.options.perf_arg,
  },
}

---@param ctx perfgo.Context
function M.preflight(ctx)
  perf.preflight(ctx)
  for _, f in ipairs(ctx.run_flags or {}) do
    if f:match("^%-%-?test%.bench=.") or f:match("^%-%-?test%.bench$") then
      ui.info("these counts are for the whole test process; `perfgo %s bench` reports them per benchmark op",
        ctx.command_name or "test")
      break
    end
  end
end

--- CSV straight into a file: it works for every kind of event and with -r
--- (`perf stat record` + `report` refuses some tracepoints), and the table
--- is rendered from it (perfstat.render).
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@return string[]
function M.wrap(ctx, workload)
  local opts = ctx.opts
  local out = { "perf", "stat", "-x,", "-o", ctx.target:scratch("stat.csv") }
  if opts["repeat"] then out[#out + 1] = "-r"; out[#out + 1] = tostring(opts["repeat"]) end
  for _, e in ipairs(opts.event or {}) do out[#out + 1] = "-e"; out[#out + 1] = e end
  if opts.detail then out[#out + 1] = "-d" end
  return perf.command(ctx, out, workload)
end

--- The counts (ctx.stat_csv) are the result: none means perf failed.
--- perf stat exits 0 when a signal ended the command, and says so.
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@param r perfgo.proc.Result|nil
---@param err? string
---@return perfgo.TestExit
function M.outcome(ctx, workload, r, err)
  local check = require "perfgo.perfcheck"
  local stderr = perf.started(ctx, workload, r, err)
  local csv = ctx.target:run({ "cat", ctx.target:scratch("stat.csv") }, { stdin = "null" })
  ctx.stat_csv = csv and csv.code == 0 and csv.stdout or ""
  if #require("perfgo.perfstat").parse(ctx.stat_csv) == 0 then
    errors.fail(1, check.perf_failure("perf stat", r.code, stderr, r.signal))
  end
  local sig = r.code == 0 and check.stat_signal(stderr, (workload.argv or {})[1], perf.signal_descriptions())
    or nil
  if sig then return { code = 128 + sig, signal = sig } end
  return { code = r.code }
end

--- The numbers (stat.json) and the table (stat.txt, also shown on
--- stdout) from the CSV perf wrote; what perf said went wrong.
---@param ctx perfgo.Context
function M.collect(ctx)
  local perfstat = require "perfgo.perfstat"
  local history = require "perfgo.history"
  local run = ctx.run
  local counters = perfstat.parse(ctx.stat_csv or "")
  local table_text = perfstat.render(counters)
  local ok, werr = fs.write_atomic(fs.join(run.dir, "stat.txt"), table_text)
  if not ok then errors.fail(1, "cannot write stat.txt: " .. tostring(werr)) end
  history.add_artifact(run, "stat-text", "stat.txt")
  local problems = perfstat.check(counters, fs.read(fs.join(run.dir, "stderr.txt")) or "",
    { requested = ctx.opts.event or {} })
  local list = json.array({})
  for _, c in ipairs(counters) do
    c.metrics = json.array(c.metrics or {})
    list[#list + 1] = c
  end
  local notes = json.array({})
  for _, p in ipairs(problems) do notes[#notes + 1] = p end
  ok, werr = fs.write_atomic(fs.join(run.dir, "stat.json"), json.encode({
    events = list,
    problems = notes,
    command = json.array(ctx.wrapped_argv or {}),
    ["repeat"] = ctx.opts["repeat"],
  }))
  if not ok then errors.fail(1, "cannot write stat.json: " .. tostring(werr)) end
  history.add_artifact(run, "stat", "stat.json")
  ui.out(table_text)
  for _, p in ipairs(problems) do ui.warn("%s", p.message) end
  ctx.stat = counters
  perf.warn_recording(ctx)
end

--- The table (stat.txt).
---@param entry perfgo.RunEntry
---@return integer|nil
function M.view(entry)
  local path = fs.join(entry.dir, "stat.txt")
  if not fs.is_file(path) then return nil end
  io.stdout:write(fs.read(path) or "")
  return 0
end

-- The counters of a stat run (stat.json), or a user error saying why not.
local function stat_events(e)
  local name = e.id:sub(1, 8)
  local text = fs.read(fs.join(e.dir, "stat.json"))
  if not text then
    errors.user(string.format("run %s has no stat.json (it ended %s%s)", name, e.status,
      e.record.error and (": " .. tostring(e.record.error)) or ""))
  end
  local data, jerr = json.decode(text)
  local why = data == nil and ("not valid JSON: " .. tostring(jerr))
    or (type(data) ~= "table" or type(data.events) ~= "table") and "it has no list of events"
  if not why then
    for i, ev in ipairs(data.events) do
      if type(ev) ~= "table" or type(ev.event) ~= "string" then
        why = string.format("event %d has no name", i)
        break
      end
      if ev.value ~= nil and ev.value ~= json.null and type(ev.value) ~= "number" then
        why = string.format("the value of %s is not a number", ev.event)
        break
      end
      if ev.state ~= nil and type(ev.state) ~= "string" then
        why = string.format("the state of %s is not a string", ev.event)
        break
      end
    end
  end
  if why then errors.user(string.format("run %s: stat.json is corrupt: %s", name, why)) end
  return data.events
end

-- Table of counters of two stat runs.
local function stat_table(a, b)
  local by_b, order, seen = {}, {}, {}
  for _, ev in ipairs(b) do by_b[ev.event] = ev end
  for _, ev in ipairs(a) do order[#order + 1] = ev.event; seen[ev.event] = true end
  for _, ev in ipairs(b) do if not seen[ev.event] then order[#order + 1] = ev.event end end
  local by_a = {}
  for _, ev in ipairs(a) do by_a[ev.event] = ev end
  local lines = { string.format("%-32s %18s %18s %9s", "event", "A", "B", "change") }
  local noisy = false
  for _, name in ipairs(order) do
    local ea, eb = by_a[name] or {}, by_b[name] or {}
    local va = ea.value ~= json.null and ea.value or nil
    local vb = eb.value ~= json.null and eb.value or nil
    local note = ""
    local na, nb = tonumber(ea.variance_pct), tonumber(eb.variance_pct)
    if va and vb and (na or nb) then
      local change = va ~= 0 and math.abs(vb - va) / math.abs(va) * 100 or math.huge
      if change <= (na or 0) + (nb or 0) then note = "  (within noise)"; noisy = true end
    end
    if (ea.state and ea.state ~= "counted") or (eb.state and eb.state ~= "counted") then
      note = note .. "  (" .. (ea.state ~= "counted" and ea.state or eb.state or "?") .. ")"
    end
    local unit = ea.unit or eb.unit
    lines[#lines + 1] = string.format("%-32s %18s %18s %9s%s", name, va and units.format(va, unit) or "-",
      vb and units.format(vb, unit) or "-", units.change(va, vb), note)
  end
  if noisy then
    lines[#lines + 1] = "(within noise): the change is smaller than the runs' combined variation "
      .. "(perf stat -r), so it may not be real."
  end
  return table.concat(lines, "\n") .. "\n"
end

--- Each counter of two stat runs side by side, with the relative change
--- (flagged when within the runs' -r variance).
---@param a perfgo.RunEntry
---@param b perfgo.RunEntry
---@return integer
function M.compare(a, b)
  io.stdout:write(stat_table(stat_events(a), stat_events(b)))
  return 0
end

return M
