--- Declared objects: a rule or a mode is a table that declares what it is
--- (data: its name, description, options...) and implements what differs
--- (functions), checked against its kind when it is loaded, and looked up
--- in layers: perfgo.lua (the project's over the user's init.lua), then
--- files, most specific first (the kind says where).
---
--- An object may extend another of its kind (`extends = "go"`): what it
--- does not declare it inherits. A function that replaces an inherited
--- one is called with that one as its last argument, `base`, as workflow
--- step overrides are (`function(ctx, base) ... return base(ctx) end`);
--- a kind's defaults are what the first object in a chain inherits. An
--- object may extend the one it replaces (`stat = { extends = "stat" }` in
--- perfgo.lua extends the shipped stat mode).
local errors = require "perfgo.errors"

local M = {}

---@class perfgo.Kind
---@field name string "rule", "mode"
---@field section string its key in perfgo.lua ("rules", "modes")
---@field fields table<string, string> data key -> its Lua type
---@field methods table<string, integer> function key -> how many arguments come before base
---@field defaults table<string, function> what an object inherits at the end of its chain
---@field required? string[] functions every object must have, declared or inherited
---@field check? fun(decl: table, problem: fun(key: string, msg: string)) further checks of a declaration
---@field find? fun(name: string, env: any): {decl: any, path: string}[] the kind's files that declare
--- `name`, most specific first

---@class perfgo.Where
---@field path? string the file it is declared in
---@field text? string that file's text (for the lines of data keys)
---@field line? integer the line its declaration starts on
---@field label string how messages name it ("modes.fast", "rule go")

-- The first line at or after `from` where `key` appears as a table key.
local function line_of(text, key, from)
  local n = 1
  local pattern = "^%s*%[?[\"']?" .. key:gsub("%p", "%%%0") .. "[\"']?%]?%s*="
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if n >= (from or 1) and line:match(pattern) then return n end
    n = n + 1
  end
  return nil
end
M.line_of = line_of

local function where_text(where)
  if where.text == nil and where.path then
    local f = io.open(where.path, "rb")
    if f then
      where.text = f:read("a")
      f:close()
    end
  end
  return where.text
end

-- "FILE:LINE: " for key of a declaration (its function's first line, or
-- where the key is written), or "" when the file is not known.
local function position(where, decl, key)
  if not where.path then return "" end
  local v = key and decl[key]
  local line
  if type(v) == "function" then
    local info = debug.getinfo(v, "S")
    if info.source == "@" .. where.path then line = info.linedefined end
  end
  local text = where_text(where)
  if not line and key and text then line = line_of(text, key, where.line) end
  return string.format("%s:%d: ", where.path, line or where.line or 1)
end

--- Raises the user error for a declaration's problem, naming its file
--- and line when known: "perfgo.lua:12: modes.fast: unknown key ...".
---@param where perfgo.Where
---@param decl table|nil
---@param key string|nil the key at fault
---@param msg string
function M.fail(where, decl, key, msg)
  errors.fail(2, string.format("%s%s: %s", position(where, decl or {}, key), where.label, msg))
end

local function sorted(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

--- Checks a declaration against its kind: a table, every key known, of
--- the declared type, and what the kind checks further.
---@param kind perfgo.Kind
---@param decl any
---@param where perfgo.Where
function M.check(kind, decl, where)
  if type(decl) ~= "table" then M.fail(where, nil, nil, string.format("a %s must be a table", kind.name)) end
  local keys = {}
  for k in pairs(kind.fields) do keys[k] = true end
  for k in pairs(kind.methods) do keys[k] = true end
  for k, v in pairs(decl) do
    local ty = type(k) == "string" and (kind.fields[k] or (kind.methods[k] and "function"))
    if not ty then
      M.fail(where, decl, type(k) == "string" and k or nil, string.format("unknown key '%s' (a %s's keys: %s)",
        tostring(k), kind.name, table.concat(sorted(keys), ", ")))
    elseif type(v) ~= ty then
      M.fail(where, decl, k, string.format("'%s' must be a %s, not a %s", k, ty, type(v)))
    end
  end
  if kind.check then
    kind.check(decl, function(key, msg) M.fail(where, decl, key, msg) end)
  end
end

-- fn with base appended after its `arity` arguments.
local function with_base(fn, base, arity)
  return function(...)
    local args = table.pack(...)
    args[arity + 1] = base
    return fn(table.unpack(args, 1, arity + 1))
  end
end

--- The object a declaration makes over its parent (nil: the kind's
--- defaults): the parent's data and functions, then the declaration's.
---@param kind perfgo.Kind
---@param decl table
---@param parent table|nil
---@return table
function M.derive(kind, decl, parent)
  local obj = {}
  for k, fn in pairs(kind.defaults) do obj[k] = fn end
  for k, v in pairs(parent or {}) do obj[k] = v end
  for k, v in pairs(decl) do
    local arity = kind.methods[k]
    if arity and obj[k] then
      obj[k] = with_base(v, obj[k], arity)
    else
      obj[k] = v
    end
  end
  obj.extends = decl.extends
  return obj
end

-- Registry ------------------------------------------------------------

local Registry = {}
Registry.__index = Registry

--- A kind's objects by name: those registered from perfgo.lua (the last
--- registered first), then the kind's files.
---@param kind perfgo.Kind
function M.registry(kind)
  return setmetatable({ kind = kind, registered = {}, cache = {} }, Registry)
end

--- Adds a declaration from a perfgo.lua layer; it comes before the ones
--- registered earlier. It must have been checked (M.check).
---@param name string
---@param decl table
---@param where perfgo.Where
function Registry:register(name, decl, where)
  self.registered[name] = self.registered[name] or {}
  table.insert(self.registered[name], 1, { decl = decl, where = where })
  self.cache = {}
end

--- Forgets what perfgo.lua registered (for tests).
function Registry:reset()
  self.registered, self.cache = {}, {}
end

-- The declarations of `name`, most specific first.
function Registry:candidates(name, env)
  local out = {}
  for _, c in ipairs(self.registered[name] or {}) do out[#out + 1] = c end
  for _, f in ipairs(self.kind.find and self.kind.find(name, env) or {}) do
    local where = { path = f.path, label = self.kind.name .. " " .. name }
    M.check(self.kind, f.decl, where)
    out[#out + 1] = { decl = f.decl, where = where }
  end
  return out
end

local function resolve(self, name, list, i, visiting, env)
  local c = list[i]
  local key = name .. "#" .. i
  if visiting[key] then
    M.fail(c.where, c.decl, "extends", string.format("'%s' extends itself", name))
  end
  visiting[key] = true
  if c.decl.name ~= nil and c.decl.name ~= name then
    M.fail(c.where, c.decl, "name", string.format("declares the name '%s' but is looked up as '%s'",
      c.decl.name, name))
  end
  local parent
  local ext = c.decl.extends
  if ext == name then
    if not list[i + 1] then
      M.fail(c.where, c.decl, "extends", string.format("extends '%s', but there is no other %s '%s' under it",
        ext, self.kind.name, ext))
    end
    parent = resolve(self, name, list, i + 1, visiting, env)
  elseif ext then
    local other = self:candidates(ext, env)
    if #other == 0 then
      M.fail(c.where, c.decl, "extends", string.format("extends '%s', but there is no %s named '%s'", ext,
        self.kind.name, ext))
    end
    parent = resolve(self, ext, other, 1, visiting, env)
  end
  visiting[key] = nil
  local obj = M.derive(self.kind, c.decl, parent)
  obj.name = name
  obj.origin = c.where.path and (c.where.path .. (c.where.line and (":" .. c.where.line) or "")) or c.where.label
  return obj
end

--- The object named `name`, or nil when there is none.
---@param name string
---@param env any passed to the kind's find (rules: the repository root)
---@return table|nil
function Registry:find(name, env)
  local key = name .. "\0" .. tostring(env)
  if self.cache[key] then return self.cache[key] end
  local list = self:candidates(name, env)
  if #list == 0 then return nil end
  local obj = resolve(self, name, list, 1, {}, env)
  for _, k in ipairs(self.kind.required or {}) do
    if type(obj[k]) ~= "function" then
      M.fail(list[1].where, list[1].decl, nil, string.format("no function '%s' (a %s needs %s)", k, self.kind.name,
        table.concat(self.kind.required, ", ")))
    end
  end
  self.cache[key] = obj
  return obj
end

--- The names registered from perfgo.lua.
---@return string[]
function Registry:registered_names()
  return sorted(self.registered)
end

return M
