--- Counters per benchmark op. A whole-process count includes the
--- process's start-up, the testing package's set-up and whatever the
--- benchmark does once; measuring the same benchmark at two iteration
--- counts (`-test.benchtime=<n>x`) and dividing the difference of the
--- counts by the difference of the iterations leaves what one op costs,
--- provided an op costs the same at every iteration (a steady state) and
--- the once-only work is the same in both runs.
---
--- With -benchtime=<n>x the testing package runs the benchmark function
--- twice: once with b.N = 1 (to find sub-benchmarks), then with b.N = n
--- when n > 1. So a run executes 1 op for n = 1 and n + 1 ops (two calls
--- of the function) otherwise; both counts here are at least 2, so both
--- runs call the function twice and only the loop lengths differ.
---
--- This module holds the arithmetic and the parsing around it: which
--- counts to run, what ran, the per-op values, and the -test.* flags of
--- the measuring runs.
local benchfmt = require "perfgo.benchfmt"

local M = {}

--- The ops a run with -test.benchtime=<n>x executes.
---@param n integer
---@return integer
function M.executed(n)
  if n <= 1 then return 1 end
  return n + 1
end

--- The two iteration counts for a benchmark whose b.N settled at n: the
--- large one is n (at least 3), the small one a tenth of it (at least 2).
---@param n integer
---@return integer small, integer large
function M.counts(n)
  local large = math.max(math.tointeger(n) or 3, 3)
  local small = math.max(large // 10, 2)
  return small, large
end

--- The unit of an event's per-op value: perf's msec becomes ns
--- ("task-clock-ns/op"), a count is "<event>/op", any other unit joins
--- the event name ("<event>-<unit>/op").
---@param event string
---@param unit string|nil perf stat's unit column
---@return string unit, number scale factor from perf's value
function M.unit(event, unit)
  local name = event:gsub("%s", "_")
  if unit == nil or unit == "" then return name .. "/op", 1 end
  if unit == "msec" then return name .. "-ns/op", 1e6 end
  return name .. "-" .. unit:gsub("%s", "_") .. "/op", 1
end

---@class perfgo.PerOpValue
---@field event string
---@field unit string the benchmark-format unit ("page-faults/op")
---@field value number per op
---@field multiplexed boolean a count was scaled by perf (not counted the whole time)

--- The per-op value of each event counted in both runs (perfstat
--- counters), and a note for each event that has none.
---@param small {n: integer, counters: perfgo.StatCounter[]}
---@param large {n: integer, counters: perfgo.StatCounter[]}
---@return perfgo.PerOpValue[] values, string[] notes
function M.per_op(small, large)
  local ops = M.executed(large.n) - M.executed(small.n)
  assert(ops > 0, "perop.per_op: the large run must execute more ops than the small one")
  local by_event = {}
  for _, c in ipairs(small.counters) do by_event[c.event] = c end
  local out, notes = {}, {}
  for _, cl in ipairs(large.counters) do
    local cs = by_event[cl.event]
    if cl.state == "counted" and cs and cs.state == "counted" then
      local unit, scale = M.unit(cl.event, cl.unit)
      out[#out + 1] = {
        event = cl.event, unit = unit, value = (cl.value - cs.value) * scale / ops,
        multiplexed = cl.multiplexed or cs.multiplexed or false,
      }
    elseif cl.state ~= "not supported" then
      notes[#notes + 1] = string.format("%s: not counted in %s", cl.event,
        cl.state ~= "counted" and "the long run" or "the short run")
    end
  end
  return out, notes
end

-- Regular expression syntax characters (Go's regexp.QuoteMeta).
local function quote_meta(s)
  return (s:gsub("[%\\%.%+%*%?%(%)%|%[%]%{%}%^%$]", "\\%0"))
end

--- The -test.bench pattern that selects exactly this benchmark: each
--- slash-separated part of its name quoted and anchored (the testing
--- package matches part by part).
---@param base string the name without the -N suffix ("BenchmarkA/size=10")
---@return string
function M.bench_pattern(base)
  local parts = {}
  for part in (base .. "/"):gmatch("([^/]*)/") do parts[#parts + 1] = "^" .. quote_meta(part) .. "$" end
  return table.concat(parts, "/")
end

---@class perfgo.BenchTarget
---@field name string as printed ("BenchmarkA/size=10-2")
---@field base string without the GOMAXPROCS suffix
---@field procs integer|nil GOMAXPROCS, when the suffix named it
---@field n integer the b.N the testing package settled on

--- The benchmarks a run printed results for, in order, once each (the
--- first result of a name counts).
---@param text string the run's output
---@param procs? integer[] the GOMAXPROCS values of the run (-cpu list or the default)
---@return perfgo.BenchTarget[]
function M.discover(text, procs)
  local known = {}
  for _, p in ipairs(procs or {}) do known[p] = true end
  local out, seen = {}, {}
  for _, r in ipairs(benchfmt.parse(text).results) do
    if not seen[r.name] then
      seen[r.name] = true
      local base, p = r.name:match("^(.-)%-(%d+)$")
      p = p and tonumber(p)
      if not (base and base ~= "" and known[p]) then base, p = r.name, nil end
      out[#out + 1] = { name = r.name, base = base, procs = p, n = r.iterations }
    end
  end
  return out
end

--- The names -test.list printed (one per line; tests and examples too).
---@param text string
---@return string[] benchmarks
function M.listed_benchmarks(text)
  local out = {}
  for line in (text or ""):gmatch("[^\n]+") do
    if line:match("^Benchmark%S*$") then out[#out + 1] = line end
  end
  return out
end

-- The -test.* flags the measuring runs set themselves.
local OWN = { bench = true, benchtime = true, count = true, run = true, cpu = true, list = true }
-- -test.* flags that take a value (the rest are booleans)
local BOOLEAN = { benchmem = true, failfast = true, short = true, v = true, paniconexit0 = true }

---@class perfgo.BenchFlags
---@field bench string|nil the -bench pattern
---@field benchtime string|nil
---@field count integer|nil
---@field cpu integer[]|nil
---@field rest string[] every other flag, for each run

--- Splits a Go rule's run flags (`-test.name=value` or `-test.name value`)
--- into the ones the measurement sets itself and the rest. A bad
--- -count or -cpu raises a user error.
---@param flags string[]
---@return perfgo.BenchFlags
function M.split_flags(flags)
  local errors = require "perfgo.errors"
  local out = { rest = {} }
  local i = 1
  while i <= #flags do
    local a = flags[i]
    local name, eq, value = a:match("^%-%-?test%.([%w_]+)(=?)(.*)$")
    if name and OWN[name] then
      if eq == "" then
        value = flags[i + 1]
        i = i + 1
      end
      if name == "count" then
        local n = math.tointeger(tonumber(value))
        if not n or n < 1 then errors.user(string.format("-count %s: expected a whole number above 0", value)) end
        out.count = n
      elseif name == "cpu" then
        out.cpu = {}
        for v in tostring(value):gmatch("[^,]+") do
          local n = math.tointeger(tonumber(v))
          if not n or n < 1 then errors.user(string.format("-cpu %s: expected numbers above 0", value)) end
          out.cpu[#out.cpu + 1] = n
        end
      elseif name ~= "run" and name ~= "list" then
        out[name] = value
      end
    else
      out.rest[#out.rest + 1] = a
      if name and eq == "" and not BOOLEAN[name] and flags[i + 1] then
        out.rest[#out.rest + 1] = flags[i + 1]
        i = i + 1
      end
    end
    i = i + 1
  end
  return out
end

--- The iteration count a -benchtime of the form "<n>x" fixes, or nil.
---@param benchtime string|nil
---@return integer|nil
function M.fixed_count(benchtime)
  local n = benchtime and benchtime:match("^(%d+)x$")
  return n and math.tointeger(tonumber(n)) or nil
end

return M
