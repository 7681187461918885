--- `perfgo compare A B`: what changed between two runs. Benchmark runs
--- (a bench.txt): per benchmark and unit the medians with their 95%
--- intervals, the change and the U test's p-value, as benchstat computes
--- them (perfgo.benchcompare); --benchstat runs benchstat itself. Stat
--- runs: each counter side by side with its relative change. Profile
--- runs: the functions whose flat and cumulative values changed most, as
--- `go tool pprof -diff_base A B` would count them (--bench: of one
--- benchmark). Values are printed in their units.
local fs = require "perfgo.fs"
local json = require "perfgo.json"
local errors = require "perfgo.errors"
local runsel = require "perfgo.select"
local units = require "perfgo.units"

local M = {
  name = "compare",
  summary = "Compare two recorded runs (stat counters or profile functions).",
}

function M.define(cmd)
  cmd:usage("Usage: perfgo compare A B [--top N] [--bench NAME] [--benchstat]\n"
    .. "       perfgo compare --group ID [--top N]")
  cmd:description("A and B are run selectors as for view: 0 (latest), -N, or an id prefix. "
    .. "B is compared against A (the base). --group compares the hosts of one group of runs "
    .. "(perfgo test --remote-host a,b,...): stat counters side by side, each profile's top functions.")
  cmd:argument("a", "The base run."):args("?")
  cmd:argument("b", "The run compared with the base."):args("?")
  cmd:option("--group", "Compare the hosts of this group: 0 (latest), -N or a prefix of its id.")
    :argname("<id>")
  cmd:option("--top", "Profile runs: how many functions to show.")
    :convert(require("perfgo.runopts").count_option("--top")):default("15")
  cmd:option("--bench", "Profile runs of Go benchmarks: compare only this benchmark's samples "
    .. "(NAME with or without its Benchmark prefix, sub-benchmark closures included).")
    :argname("<name>")
  cmd:flag("--benchstat", "Benchmark runs: run benchstat (when on PATH) on the two bench.txt files.")
end

-- Selectors like -1 look like flags to argparse: protect them.
M.split_args = function(argv)
  local own = {}
  for i, a in ipairs(argv) do
    if a:match("^%-%d+$") then own[i] = "N" .. a:sub(2) else own[i] = a end
  end
  return own, {}
end

local function load(sel, runs)
  local e = runsel.pick(runs, (sel:gsub("^N", "-")))
  if not e.record then
    errors.user(string.format("run %s cannot be read: %s", e.id:sub(1, 8), e.problem))
  end
  return e
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

local function pct(a, b)
  if type(a) ~= "number" or type(b) ~= "number" then return "" end
  if a == 0 then return b == 0 and "0.0%" or "new" end
  return string.format("%+.1f%%", (b - a) / math.abs(a) * 100)
end

--- Table of counters of two stat runs.
---@param a table[] events of A (stat.json)
---@param b table[] events of B
---@return string
function M.stat_table(a, b)
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
      vb and units.format(vb, unit) or "-", pct(va, vb), note)
  end
  if noisy then
    lines[#lines + 1] = "(within noise): the change is smaller than the runs' combined variation "
      .. "(perf stat -r), so it may not be real."
  end
  return table.concat(lines, "\n") .. "\n"
end

--- Flat and cumulative totals by function name for one value column, of
--- every sample or of one benchmark's (its benchmark label).
---@param profile table perfgo.pprof profile
---@param col integer
---@param bench? string a benchmark name (perfgo.benchlabels.matches)
---@return table<string, {flat: number, cum: number}>, number total
function M.function_totals(profile, col, bench)
  local benchlabels = require "perfgo.benchlabels"
  local totals, total = {}, 0
  for stack, values, labels in profile:samples() do
    local b = labels and labels[benchlabels.KEY]
    if not bench or (type(b) == "string" and benchlabels.matches(b, bench)) then
      local v = values[col] or 0
      total = total + v
      local seen = {}
      for i, frame in ipairs(stack) do
        local name = frame.func or "?"
        local t = totals[name]
        if not t then t = { flat = 0, cum = 0 }; totals[name] = t end
        if i == 1 then t.flat = t.flat + v end
        if not seen[name] then t.cum = t.cum + v; seen[name] = true end
      end
    end
  end
  return totals, total
end

--- The value column to compare: the first event's (after samples/count).
function M.value_column(profile)
  local s = profile:summary()
  local types = s.sample_types or {}
  if #types >= 2 then return 2, types[2] end
  return 1, types[1]
end

--- The top changed functions of two profiles (of one benchmark), as text.
function M.profile_table(pa, pb, top, bench)
  local col, st = M.value_column(pa)
  local ta, totala = M.function_totals(pa, col, bench)
  local tb, totalb = M.function_totals(pb, col, bench)
  local names, seen = {}, {}
  for n in pairs(ta) do names[#names + 1] = n; seen[n] = true end
  for n in pairs(tb) do if not seen[n] then names[#names + 1] = n end end
  local function delta(n, field)
    return ((tb[n] or {})[field] or 0) - ((ta[n] or {})[field] or 0)
  end
  table.sort(names, function(x, y)
    local dx, dy = math.abs(delta(x, "flat")), math.abs(delta(y, "flat"))
    if dx ~= dy then return dx > dy end
    return x < y
  end)
  local kind = st and st.unit
  local name = st and st.type or "value"
  local lines = {
    string.format("%s%s: A total %s, B total %s (%s)", name, bench and (" of " .. bench) or "",
      units.format(totala, kind), units.format(totalb, kind), pct(totala, totalb)),
    string.format("%14s %7s %14s %7s  %s", "flat delta", "", "cum delta", "", "function"),
  }
  for i = 1, math.min(top, #names) do
    local n = names[i]
    local df, dc = delta(n, "flat"), delta(n, "cum")
    lines[#lines + 1] = string.format("%14s %6.2f%% %14s %6.2f%%  %s", units.delta(df, kind),
      totala ~= 0 and df / totala * 100 or 0, units.delta(dc, kind), totala ~= 0 and dc / totala * 100 or 0, n)
  end
  return table.concat(lines, "\n") .. "\n"
end

-- The bench.txt of a run, or nil when it has none.
local function bench_file(e)
  local path = fs.join(e.dir, "bench.txt")
  if e.record.type == "bench" or fs.is_file(path) then return path end
  return nil
end

--- Runs benchstat on two bench.txt files; its exit code.
local function run_benchstat(fa, fb)
  local proc = require "perfgo.proc"
  if not proc.which("benchstat") then
    errors.user("--benchstat: no benchstat program on PATH (install it with "
      .. "'go install golang.org/x/perf/cmd/benchstat@latest', or leave out --benchstat for perfgo's own table)")
  end
  local r = proc.run({ "benchstat", fa, fb }, { stdin = "null", stdout = "inherit", stderr = "inherit" })
  require("perfgo.programs").check(r, "benchstat")
  return r.code
end

function M.run(args)
  local runs = runsel.runs(runsel.repo_root())
  if args.group then
    if args.a or args.b then errors.user("compare: give two runs A B, or --group ID, not both") end
    local group = require "perfgo.group"
    io.stdout:write(group.compare(group.pick(runs, (args.group:gsub("^N", "-"))), args.top or 15))
    return 0
  end
  if not (args.a and args.b) then
    errors.user("compare: give two runs A B (0, -N or id prefixes), or --group ID")
  end
  local a, b = load(args.a, runs), load(args.b, runs)
  local ta, tb = a.record.type, b.record.type
  local fa, fb = bench_file(a), bench_file(b)
  if args.benchstat and not (fa and fb) then
    errors.user(string.format("--benchstat compares benchmark runs (perfgo test bench); %s is a %s run",
      (fa and b or a).id:sub(1, 8), tostring(fa and tb or ta)))
  end
  if args.bench and not (ta == "profile" and tb == "profile") then
    errors.user("--bench is for comparing two profiles of Go benchmarks")
  end
  print(string.format("A: %s %s %s", a.id:sub(1, 8), tostring(ta), tostring(a.record.timestamp)))
  print(string.format("B: %s %s %s", b.id:sub(1, 8), tostring(tb), tostring(b.record.timestamp)))
  if fa and fb then
    for _, f in ipairs({ { fa, a }, { fb, b } }) do
      if not fs.is_file(f[1]) then
        errors.user(string.format("run %s has no bench.txt (it ended %s)", f[2].id:sub(1, 8), f[2].status))
      end
    end
    if args.benchstat then
      io.stdout:flush()
      return run_benchstat(fa, fb)
    end
    io.stdout:write(require("perfgo.benchcompare").render(fs.read(fa) or "", fs.read(fb) or ""))
    return 0
  end
  if ta == "stat" and tb == "stat" then
    io.stdout:write(M.stat_table(stat_events(a), stat_events(b)))
    return 0
  end
  if ta == "profile" and tb == "profile" then
    local pprof = require "perfgo.pprof"
    local function profile_of(e)
      local p, err = pprof.read(fs.join(e.dir, "perf.pb.gz"))
      if not p then
        errors.user(string.format("run %s has no readable profile (it ended %s): %s", e.id:sub(1, 8), e.status,
          tostring(err)))
      end
      if args.bench then require("perfgo.benchlabels").check(p, args.bench, "run " .. e.id:sub(1, 8)) end
      return p
    end
    local pa, pb = profile_of(a), profile_of(b)
    io.stdout:write(M.profile_table(pa, pb, args.top or 15, args.bench))
    return 0
  end
  errors.user(string.format("cannot compare a %s run with a %s run (both must be bench, stat or profile)",
    tostring(ta), tostring(tb)))
end

return M
