--- Numbers with their units, the way a person reads them: times scaled to
--- ns, µs, ms or s, bytes to B, KiB, MiB or GiB, counts with thousands
--- separators, four significant figures where a value is not whole.
local M = {}

-- Four significant figures, trailing zeros kept to the figure count
-- ("21.60", "1.235", "0.0012"), no exponent below 1e15.
local function sig4(v)
  local a = math.abs(v)
  if a == 0 then return "0" end
  if a >= 1e15 or a < 1e-4 then return string.format("%.4g", v) end
  local digits = 3 - math.floor(math.log(a, 10))
  if digits < 0 then digits = 0 end
  local s = string.format("%." .. digits .. "f", v)
  -- rounding up may add a figure (999.96 -> "1000.0")
  if digits > 0 and #s:gsub("[^%d]", ""):gsub("^0+", "") > 4 then
    s = string.format("%." .. (digits - 1) .. "f", v)
  end
  return s
end
M.sig4 = sig4

--- A whole number with thousands separators ("1,247,750,000"), anything
--- else with four significant figures.
---@param v number
---@return string
function M.count(v)
  if v == math.floor(v) and math.abs(v) < 1e15 then
    local s = string.format("%d", math.tointeger(v) or v)
    repeat
      local k
      s, k = s:gsub("^(-?%d+)(%d%d%d)", "%1,%2")
    until k == 0
    return s
  end
  return sig4(v)
end

local TIME = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "µs" }, { 1, "ns" } }

--- A duration given in nanoseconds ("21.60 ns", "1.235 ms", "4.000 s").
---@param ns number
---@return string
function M.time(ns)
  local a = math.abs(ns)
  for i, s in ipairs(TIME) do
    if a >= s[1] or s[1] == 1 then
      local text = sig4(ns / s[1])
      -- rounded up into the next unit (999.99 µs -> 1.000 ms)
      if i > 1 and math.abs(tonumber(text)) >= 1000 then
        return sig4(ns / TIME[i - 1][1]) .. " " .. TIME[i - 1][2]
      end
      return text .. " " .. s[2]
    end
  end
end

local BYTES = { { 2 ^ 30, "GiB" }, { 2 ^ 20, "MiB" }, { 2 ^ 10, "KiB" } }

--- A size in bytes ("512 B", "1.500 KiB").
---@param b number
---@return string
function M.bytes(b)
  local a = math.abs(b)
  for _, s in ipairs(BYTES) do
    if a >= s[1] then return sig4(b / s[1]) .. " " .. s[2] end
  end
  if b == math.floor(b) then return string.format("%d B", math.tointeger(b) or b) end
  return sig4(b) .. " B"
end

--- What kind of quantity a unit names: "time" (nanoseconds, ns/op,
--- x-ns/op), "msec" (perf stat's milliseconds), "bytes" (B/op), "percent"
--- or "count".
---@param unit string|nil
---@return "time"|"msec"|"bytes"|"percent"|"count"
function M.kind(unit)
  unit = unit or ""
  if unit == "nanoseconds" or unit == "ns" or unit == "ns/op" or unit:match("%-ns/op$") then return "time" end
  if unit == "msec" then return "msec" end
  if unit == "B/op" or unit == "bytes" or unit:match("%-B/op$") then return "bytes" end
  if unit == "percent" or unit == "%" then return "percent" end
  return "count"
end

--- A value in its unit, formatted for its kind.
---@param v number
---@param unit string|nil
---@return string
function M.format(v, unit)
  local k = M.kind(unit)
  if k == "time" then return M.time(v) end
  if k == "msec" then return M.time(v * 1e6) end
  if k == "bytes" then return M.bytes(v) end
  if k == "percent" then return sig4(v) .. "%" end
  return M.count(v)
end

--- The relative change from a to b as text ("+12.5%", "0.0%", "new"),
--- or "" when either is not a number.
---@param a any
---@param b any
---@return string
function M.change(a, b)
  if type(a) ~= "number" or type(b) ~= "number" then return "" end
  if a == 0 then return b == 0 and "0.0%" or "new" end
  return string.format("%+.1f%%", (b - a) / math.abs(a) * 100)
end

--- A signed difference in its unit ("+1.235 ms", "-12,000").
---@param v number
---@param unit string|nil
---@return string
function M.delta(v, unit)
  local s = M.format(v, unit)
  if v > 0 then return "+" .. s end
  if v == 0 then return s end
  return s
end

return M
