--- The Go benchmark data format (golang.org/design/14313-benchmark-data),
--- the text `go test -bench` prints and benchstat reads:
---
---   * configuration lines `key: value`: the key has no spaces and no
---     upper-case letters, a space or tab follows the colon (the value may
---     be empty); a key holds for every result after it until set again;
---   * result lines `<name> <iterations> <value> <unit> [<value> <unit>...]`,
---     fields separated by runs of white space, an even number of at least
---     four, the name starting with "Benchmark", the iterations a whole
---     number, each value a float; per-op units end in "/op";
---   * every other line (PASS, ok, blank, # comments) carries no meaning.
---
--- This module reads such text (a run's output or a bench.txt) and writes
--- it the way the testing package lays out its own lines.
local M = {}

--- True when key may begin a configuration line.
---@param key string
---@return boolean
function M.valid_key(key)
  return type(key) == "string" and key ~= "" and not key:find("[%s%u:]")
end

--- The configuration line for key and value ("key: value"); an error for
--- a key the format does not allow or a value with a line break.
---@param key string
---@param value string
---@return string
function M.config_line(key, value)
  assert(M.valid_key(key), "benchfmt: not a configuration key: " .. tostring(key))
  value = tostring(value)
  assert(not value:find("[\r\n]"), "benchfmt: a configuration value cannot hold a line break")
  if value == "" then return key .. ":" end
  return key .. ": " .. value
end

--- A value as the testing package prints it: ten places for the whole
--- part, four significant figures for small numbers, decimal points
--- aligned (testing.prettyPrint).
---@param x number
---@param unit string
---@return string
function M.format_value(x, unit)
  local y = math.abs(x)
  local fmt
  if y == 0 or y >= 999.95 then fmt = "%10.0f %s"
  elseif y >= 99.995 then fmt = "%12.1f %s"
  elseif y >= 9.9995 then fmt = "%13.2f %s"
  elseif y >= 0.99995 then fmt = "%14.3f %s"
  elseif y >= 0.099995 then fmt = "%15.4f %s"
  elseif y >= 0.0099995 then fmt = "%16.5f %s"
  elseif y >= 0.00099995 then fmt = "%17.6f %s"
  else fmt = "%18.7f %s" end
  return string.format(fmt, x, unit)
end

---@class perfgo.BenchValue
---@field value number
---@field unit string

---@class perfgo.BenchResult
---@field name string the full name as printed ("BenchmarkFoo/size=10-2")
---@field iterations integer
---@field values perfgo.BenchValue[] in the order printed
---@field config table<string, string> the configuration in force for it
---@field line integer the line number it was read from

--- A result line as the testing package writes it: the name padded to
--- width, a tab, the iterations in eight places, then tab-separated
--- value-unit pairs.
---@param name string
---@param iterations integer
---@param values perfgo.BenchValue[]
---@param width? integer pad the name to this many characters
---@return string
function M.result_line(name, iterations, values, width)
  assert(type(name) == "string" and name:sub(1, 9) == "Benchmark" and not name:find("%s"),
    "benchfmt: not a benchmark name: " .. tostring(name))
  local pad = math.max(0, (width or 0) - #name)
  local parts = { name .. string.rep(" ", pad), string.format("%8d", iterations) }
  for _, v in ipairs(values) do
    assert(type(v.unit) == "string" and v.unit ~= "" and not v.unit:find("%s"),
      "benchfmt: not a unit: " .. tostring(v.unit))
    parts[#parts + 1] = M.format_value(v.value, v.unit)
  end
  return table.concat(parts, "\t")
end

local function fields(line)
  local out = {}
  for f in line:gmatch("%S+") do out[#out + 1] = f end
  return out
end

-- A float as strconv.ParseFloat reads the numbers Go prints (decimal,
-- exponent, inf, nan), or nil.
local function float(s)
  if s:match("^[+-]?%d+%.?%d*[eE]?[+-]?%d*$") or s:match("^[+-]?%.%d+[eE]?[+-]?%d*$") then
    return tonumber(s)
  end
  local l = s:lower()
  if l == "inf" or l == "+inf" or l == "infinity" or l == "+infinity" then return math.huge end
  if l == "-inf" or l == "-infinity" then return -math.huge end
  if l == "nan" then return 0 / 0 end
  return nil
end

--- One result line, or nil when the line is not one.
---@param line string
---@return perfgo.BenchResult|nil
function M.parse_result(line)
  local f = fields(line)
  if #f < 4 or #f % 2 ~= 0 or f[1]:sub(1, 9) ~= "Benchmark" then return nil end
  local n = f[2]:match("^%d+$") and math.tointeger(tonumber(f[2]))
  if not n then return nil end
  local values = {}
  for i = 3, #f, 2 do
    local v = float(f[i])
    if not v then return nil end
    values[#values + 1] = { value = v, unit = f[i + 1] }
  end
  return { name = f[1], iterations = n, values = values }
end

--- One configuration line as key, value, or nil.
---@param line string
---@return string|nil, string|nil
function M.parse_config(line)
  local key, rest = line:match("^([^%s:]+):(.*)$")
  if not key or not M.valid_key(key) then return nil end
  if rest ~= "" and not rest:match("^%s") then return nil end
  return key, (rest:gsub("^%s+", ""):gsub("%s+$", ""))
end

---@class perfgo.BenchFile
---@field results perfgo.BenchResult[]
---@field config {key: string, value: string}[] every configuration line, in order

--- Reads benchmark data: every result with the configuration in force
--- for it. Lines that are neither are skipped, as the format says.
---@param text string
---@return perfgo.BenchFile
function M.parse(text)
  assert(type(text) == "string", "benchfmt.parse: text must be a string")
  local config, current, results = {}, {}, {}
  local n = 0
  for line in (text:gsub("\r\n", "\n") .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local r = M.parse_result(line)
    if r then
      -- results share one table until a configuration line changes it
      r.config, r.line = current, n
      results[#results + 1] = r
    else
      local key, value = M.parse_config(line)
      if key then
        config[#config + 1] = { key = key, value = value }
        if current[key] ~= value then
          local copy = {}
          for k, v in pairs(current) do copy[k] = v end
          copy[key] = value
          current = copy
        end
      end
    end
  end
  return { results = results, config = config }
end

--- The name without the -N GOMAXPROCS suffix the testing package adds
--- when N is not 1, and N (1 when there is none).
---@param name string
---@param procs? integer the GOMAXPROCS of the run, when known: only that suffix is removed
---@return string base, integer procs
function M.split_procs(name, procs)
  local base, n = name:match("^(.-)%-(%d+)$")
  n = n and tonumber(n)
  if base and base ~= "" and (procs == nil or n == procs) and n > 1 then return base, n end
  return name, 1
end

return M
