--- A profile's values summed by function name, as `go tool pprof -top`
--- counts them: what `perfgo compare` (the profile mode) and
--- `perfgo compare --group` (perfgo.group) print.
local M = {}

--- Flat and cumulative totals by function name for one value column, of
--- every sample or of one benchmark's (its benchmark label).
---@param profile perfgo.pprof.Profile
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

--- The value column to compare: the first event's (after samples/count),
--- and its sample type.
---@param profile perfgo.pprof.Profile
---@return integer, table|nil
function M.value_column(profile)
  local s = profile:summary()
  local types = s.sample_types or {}
  if #types >= 2 then return 2, types[2] end
  return 1, types[1]
end

return M
