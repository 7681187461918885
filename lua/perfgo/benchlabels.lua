--- The `benchmark` label of profile samples (rules/go.lua declares it;
--- the parser applies it while building the profile): which benchmark a
--- name given with --bench selects, as a pprof -tagfocus pattern and in
--- Lua, and which benchmarks a profile has.
local M = {}

M.KEY = "benchmark"

-- Regular expression syntax characters (Go's regexp.QuoteMeta).
local function quote_meta(s)
  return (s:gsub("[%\\%.%+%*%?%(%)%|%[%]%{%}%^%$]", "\\%0"))
end

local function base(name)
  return (name:gsub("^Benchmark", ""))
end

--- True when a label value belongs to the benchmark NAME: the function
--- itself or a closure of it (a sub-benchmark: "BenchmarkFoo.func1"),
--- NAME given with or without its "Benchmark" prefix.
---@param value string the label's value
---@param name string
---@return boolean
function M.matches(value, name)
  local v, n = base(value), base(name)
  return v == n or v:sub(1, #n + 1) == n .. "."
end

--- The pprof -tagfocus value that keeps NAME's samples (M.matches).
---@param name string
---@return string
function M.tagfocus(name)
  return string.format("%s=^(Benchmark)?%s(\\..*)?$", M.KEY, quote_meta(base(name)))
end

--- The benchmark label values of a profile with their sample counts, and
--- the samples without one.
---@param profile table a perfgo.pprof profile
---@return table<string, integer> counts, integer unlabelled
function M.values(profile)
  local out, none = {}, 0
  for _, values, labels in profile:samples() do
    local v = labels and labels[M.KEY]
    if type(v) == "string" then
      out[v] = (out[v] or 0) + (values[1] or 0)
    else
      none = none + (values[1] or 0)
    end
  end
  return out, none
end

--- Checks that NAME selects samples of the profile; raises a user error
--- naming the benchmarks the profile has otherwise.
---@param profile table
---@param name string
---@param what string how the profile is named in the message
function M.check(profile, name, what)
  local errors = require "perfgo.errors"
  local counts = M.values(profile)
  local names = {}
  for v in pairs(counts) do
    if M.matches(v, name) then return end
    names[#names + 1] = v
  end
  table.sort(names)
  if #names == 0 then
    errors.user(string.format("%s has no benchmark labels (it is not a profile of Go benchmarks, or it "
      .. "was recorded before perfgo labelled them)", what))
  end
  errors.user(string.format("--bench %s matches no benchmark in %s (it has: %s)", name, what,
    table.concat(names, ", ")))
end

return M
