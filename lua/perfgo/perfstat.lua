--- `perf stat -x,` output: parse it into counters, render them as a table
--- a person reads, and name the problems in them.
---
--- perf must run with LC_ALL=C (see perfcheck.ENV) so numbers use '.'.
--- Each CSV line of perf 6.1 is
---   value,unit,event,[variance,]run-time,running-percent,metric-value,metric-unit
--- where variance ("0.36%") appears only with -r, value may be
--- `<not counted>` or `<not supported>`, and a line whose first fields are
--- empty carries one more metric for the counter above it. Interval (-I),
--- per-CPU/aggregation (-A, --per-*) and cgroup (-G) columns are not handled.
local perfcheck = require "perfgo.perfcheck"

local M = {}

---@class perfgo.StatMetric
---@field value number
---@field unit string

---@class perfgo.StatCounter
---@field event string event as perf names it: cpu_core/cycles/ and cpu_atom/cycles/ stay apart
---@field value number|nil nil unless state is "counted"
---@field state "counted"|"not counted"|"not supported"
---@field unit string|nil e.g. "msec"; nil for plain counts
---@field variance_pct number|nil stddev across -r runs, in percent of the mean
---@field run_time number|nil nanoseconds the counter was running
---@field running_pct number|nil percent of the enabled time the counter was running
---@field multiplexed boolean counted for only part of the run, value scaled up by perf
---@field metric perfgo.StatMetric|nil the derived metric perf prints next to it
---@field metrics perfgo.StatMetric[] all derived metrics, the first is `metric`

local STATES = { ["<not counted>"] = "not counted", ["<not supported>"] = "not supported" }

local function split(line)
  local f = {}
  for field in (line .. ","):gmatch("([^,]*),") do f[#f + 1] = field end
  return f
end

local function metric_of(value, unit)
  local v = tonumber(value)
  if v and unit and unit ~= "" then return { value = v, unit = unit } end
  return nil
end

-- Parses one counter line, or returns nil when it is not one.
local function counter_line(f)
  local n = #f
  if n < 7 then return nil end
  local state = STATES[f[1]] or "counted"
  local value = tonumber(f[1])
  if state == "counted" and not value then return nil end
  local runtime, pct = tonumber(f[n - 3]), tonumber(f[n - 2])
  if not runtime or not pct then return nil end
  local last = n - 4
  local variance = n > 7 and f[last]:match("^([%d.]+)%%$")
  if variance then last = last - 1 end
  local event = table.concat(f, ",", 3, last)
  if event == "" then return nil end
  local c = {
    event = event, value = value, state = state,
    unit = f[2] ~= "" and f[2] or nil,
    variance_pct = tonumber(variance), run_time = runtime, running_pct = pct,
    multiplexed = state == "counted" and pct < 100,
    metrics = {},
  }
  if state ~= "counted" then c.value, c.variance_pct = nil, nil end
  c.metric = metric_of(f[n - 1], f[n])
  c.metrics[1] = c.metric
  return c
end

---@class perfgo.StatGroup
---@field name string metric group heading, e.g. "TopdownL1 (cpu_core)"
---@field metrics perfgo.StatMetric[]

--- Parses `perf stat -x,` output. Lines starting with '#' and blank lines
--- are ignored; lines that are not counters (perf's own messages when
--- stderr is mixed in) are returned apart.
---@param text string
---@return perfgo.StatCounter[] counters in perf's order
---@return string[] skipped lines that were neither counters nor comments
---@return perfgo.StatGroup[] groups metric groups perf printed (e.g. topdown), with their metrics
function M.parse(text)
  assert(type(text) == "string", "perfstat.parse: text must be a string")
  local counters, skipped, groups = {}, {}, {}
  local group = nil -- metrics after a group heading belong to it, not to a counter
  for line in text:gmatch("[^\n]+") do
    line = line:gsub("\r$", "")
    if line:match("^%s*$") or line:match("^#") then
      goto continue
    end
    local f = split(line)
    if f[1] == "" and #f >= 3 then
      local m = metric_of(f[#f - 1], f[#f])
      if f[3] ~= "" and f[#f] ~= "" and f[#f - 1] == "" then
        -- a metric group heading: ",run-time,percent,,,,TopdownL1 (cpu_core)"
        group = { name = f[#f], metrics = {} }
        groups[#groups + 1] = group
      elseif m and group then
        group.metrics[#group.metrics + 1] = m
      elseif m and counters[#counters] then
        -- one more metric for the counter above: ",,,,,value,unit"
        local prev = counters[#counters]
        prev.metrics[#prev.metrics + 1] = m
        prev.metric = prev.metric or m
      end
      goto continue
    end
    local c = counter_line(f)
    if c then
      counters[#counters + 1] = c
      group = nil
    else
      skipped[#skipped + 1] = line
    end
    ::continue::
  end
  return counters, skipped, groups
end

--- Finds the counter for an event name as perf printed it.
---@param counters perfgo.StatCounter[]
---@param event string
---@return perfgo.StatCounter|nil
function M.find(counters, event)
  for _, c in ipairs(counters) do
    if c.event == event then return c end
  end
  return nil
end

local function fmt_value(c)
  if c.state ~= "counted" then return "<" .. c.state .. ">" end
  local v = c.value
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    -- group thousands as perf's own table does: 4,688,595
    local s = ("%d"):format(v)
    repeat
      local k
      s, k = s:gsub("^(-?%d+)(%d%d%d)", "%1,%2")
    until k == 0
    return s
  end
  return ("%.2f"):format(v)
end

local function wrap(text, width)
  local lines, line = {}, ""
  for word in text:gmatch("%S+") do
    if #line > 0 and #line + 1 + #word > width then
      lines[#lines + 1] = line
      line = "  " .. word
    else
      line = #line > 0 and (line .. " " .. word) or word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

local function fmt_metric(m)
  local s = ("%.3f"):format(m.value):gsub("0+$", ""):gsub("%.$", "")
  return s .. " " .. m.unit
end

--- The text printed under a table that has multiplexed counters.
M.MULTIPLEX_NOTE = "* counted during only part of the run (the percentage shown): the kernel "
  .. "time-shares hardware counters when more events are asked for than the CPU has counters "
  .. "(and on hybrid CPUs a cpu_core/ or cpu_atom/ event counts only while the test runs on that "
  .. "core type). perf scaled the count up as if it had run all the time, so the value is an "
  .. "estimate: a phase of the test the counter missed is not in it, and ratios between events "
  .. "counted at different moments can be wrong. Ask for fewer events at once for exact counts."

--- Renders counters as an aligned table, like perf's own but with the
--- states spelled out and multiplexed counters flagged with a footnote.
---@param counters perfgo.StatCounter[]
---@return string
function M.render(counters)
  local rows, w = {}, { 0, 0, 0, 0 }
  local any_mux = false
  for _, c in ipairs(counters) do
    local note = {}
    if c.variance_pct then note[#note + 1] = ("+- %.2f%%"):format(c.variance_pct) end
    if c.multiplexed then
      any_mux = true
      note[#note + 1] = ("* running %.2f%%"):format(c.running_pct)
    end
    local metric = {}
    for _, m in ipairs(c.metrics) do metric[#metric + 1] = fmt_metric(m) end
    local r = { fmt_value(c), c.unit or "", c.event,
      #metric > 0 and ("# " .. table.concat(metric, ", ")) or "",
      #note > 0 and ("(" .. table.concat(note, ", ") .. ")") or "" }
    for i = 1, 4 do w[i] = math.max(w[i], #r[i]) end
    rows[#rows + 1] = r
  end
  -- padded by hand: string.format takes no width of 0 or above 99
  local function left(text, width) return text .. string.rep(" ", width - #text) end
  local out = {}
  for _, r in ipairs(rows) do
    local line = string.rep(" ", w[1] - #r[1]) .. r[1] .. (w[2] > 0 and (" " .. left(r[2], w[2])) or "")
      .. "  " .. left(r[3], w[3]) .. "  " .. left(r[4], w[4]) .. "  " .. r[5]
    out[#out + 1] = "  " .. line:gsub("%s+$", "")
  end
  if any_mux then
    out[#out + 1] = ""
    out[#out + 1] = wrap(M.MULTIPLEX_NOTE, 78)
  end
  if #out == 0 then return "" end
  return table.concat(out, "\n") .. "\n"
end

--- Encodes counters as a JSON array (lua-cjson): absent fields are
--- absent, `metrics` is left out when empty.
---@param counters perfgo.StatCounter[]
---@return string
function M.to_json(counters)
  local cjson = require "cjson"
  local parts = {}
  for _, c in ipairs(counters) do
    local copy = {}
    for k, v in pairs(c) do copy[k] = v end
    if #c.metrics == 0 then copy.metrics = nil end
    parts[#parts + 1] = cjson.encode(copy)
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

---@class perfgo.StatProblem
---@field level "error"|"warning"
---@field event string|nil
---@field message string

--- Names what is wrong with a perf stat run: events the machine cannot
--- count, events that were never counted, multiplexed counters, no
--- counters at all, and errors perf printed on stderr. An event counts as
--- unsupported only when all its hybrid copies (cpu_core/, cpu_atom/) are.
--- With opts.requested (the events the user named; {} when perf used its
--- default set), unsupported events nobody asked for (perf's default
--- hardware events, -d) give one warning instead of errors.
---@param counters perfgo.StatCounter[] from parse
---@param stderr? string perf's stderr (may also hold the CSV)
---@param opts? {requested?: string[]}
---@return perfgo.StatProblem[] problems, empty when the numbers can be trusted
function M.check(counters, stderr, opts)
  assert(stderr == nil or type(stderr) == "string", "perfstat.check: stderr must be a string")
  stderr, opts = stderr or "", opts or {}
  local problems = {}
  local function add(level, event, message)
    problems[#problems + 1] = { level = level, event = event, message = message }
  end
  local requested
  if opts.requested then
    requested = {}
    for _, e in ipairs(opts.requested) do requested[perfcheck.base_event(e)] = true end
  end
  local supported = {}
  for _, c in ipairs(counters) do
    local base = perfcheck.base_event(c.event)
    supported[base] = supported[base] or c.state ~= "not supported"
  end
  local perr = perfcheck.perf_error(stderr)
  if perr then add("error", nil, perr) end
  local reported, unasked = {}, {}
  for _, c in ipairs(counters) do
    local base = perfcheck.base_event(c.event)
    if c.state == "not supported" and not supported[base] and not reported[base] then
      reported[base] = true
      if requested and not requested[base] then
        unasked[#unasked + 1] = base
      else
        add("error", c.event, perfcheck.unsupported_event(c.event))
      end
    elseif c.state == "not counted" then
      add("warning", c.event, ("event '%s' was not counted: no counter was free for it while the test "
        .. "ran, or (on hybrid CPUs) the test never ran on that core type; its value is unknown, "
        .. "not zero"):format(c.event))
    elseif c.multiplexed then
      add("warning", c.event, ("event '%s' was counted during only %.2f%% of the run and scaled up by "
        .. "perf: treat it as an estimate, or ask for fewer events at once"):format(c.event, c.running_pct))
    end
  end
  if #unasked > 0 then
    add("warning", nil, ("this machine cannot count %s (no hardware PMU access, e.g. in a VM): only "
      .. "software counters were measured"):format(table.concat(unasked, ", ")))
  end
  if #counters == 0 and not perr then
    local first = stderr:match("[^\n]+")
    add("error", nil, "perf stat printed no counters" .. (first and (": " .. first) or ""))
  end
  return problems
end

return M
