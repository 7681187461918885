--- JSON for perfgo's records. Decoding is lua-cjson's. Encoding is done
--- here because records should read well: keys sorted, two-space indent,
--- and empty lists written as [] (mark them with json.array).
local cjson = require "cjson"

local M = {}

--- The value JSON null decodes to.
M.null = cjson.null

local array_mt = { __name = "perfgo.json.array" }

--- Marks t as a JSON array, so that it encodes as [] even when empty.
---@generic T
---@param t T
---@return T
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local encode_value

-- cjson escapes "/" as "\/"; JSON does not need it and paths read better
-- without. (An escaped backslash before a slash stays escaped.)
local function string_json(s)
  return (cjson.encode(s):gsub("\\/", "/"))
end

local function encode_table(t, indent, out)
  local pad = string.rep("  ", indent + 1)
  if is_array(t) then
    if #t == 0 then out[#out + 1] = "[]"; return end
    out[#out + 1] = "[\n"
    for i, v in ipairs(t) do
      out[#out + 1] = pad
      encode_value(v, indent + 1, out)
      out[#out + 1] = i < #t and ",\n" or "\n"
    end
    out[#out + 1] = string.rep("  ", indent) .. "]"
    return
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error("json: object keys must be strings, got " .. type(k)) end
    keys[#keys + 1] = k
  end
  if #keys == 0 then out[#out + 1] = "{}"; return end
  table.sort(keys)
  out[#out + 1] = "{\n"
  for i, k in ipairs(keys) do
    out[#out + 1] = pad .. string_json(k) .. ": "
    encode_value(t[k], indent + 1, out)
    out[#out + 1] = i < #keys and ",\n" or "\n"
  end
  out[#out + 1] = string.rep("  ", indent) .. "}"
end

encode_value = function(v, indent, out)
  local ty = type(v)
  if ty == "table" then
    encode_table(v, indent, out)
  elseif ty == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      out[#out + 1] = "null"
    elseif math.type(v) == "integer" then
      out[#out + 1] = string.format("%d", v)
    else
      out[#out + 1] = string.format("%.17g", v)
    end
  elseif ty == "string" then
    out[#out + 1] = string_json(v)
  elseif ty == "boolean" then
    out[#out + 1] = tostring(v)
  elseif v == nil or v == cjson.null then
    out[#out + 1] = "null"
  else
    error("json: cannot encode a " .. ty)
  end
end

--- Encodes v as indented JSON with sorted keys and a final newline.
---@param v any
---@return string
function M.encode(v)
  local out = {}
  encode_value(v, 0, out)
  out[#out + 1] = "\n"
  return table.concat(out)
end

--- Decodes JSON text; returns nil, message on malformed input.
---@param s string
---@return any|nil, string?
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, tostring(v) end
  return v
end

return M
