--- Perf modes: what a run does around its command (perfgo.Mode in
--- core/lua/api/perfgo/contract.lua). Each mode is one file,
--- lua/perfgo/modes/<name>.lua, that declares what it is (name,
--- description, the options it takes and how they are checked) and
--- implements what differs (wrap the command, check before the run,
--- collect, convert, archive, describe the record, view, compare); what
--- it does not implement it inherits from perfgo.modebase, or from the
--- mode it extends. Adding a mode is adding a file. A perfgo.lua adds or
--- replaces modes with `modes = { name = {...} }`; a mode is looked up in
--- the project's perfgo.lua, the user's init.lua, then the shipped files.
local declare = require "perfgo.declare"
local errors = require "perfgo.errors"

local M = {}

local NAME = "^[%a][%w_-]*$"

--- The keys of an option declaration (perfgo.ModeOption), and their types.
M.OPTION_FIELDS = {
  name = "string", flags = "string", help = "string", argname = "string", many = "boolean",
  flag = "boolean", check = "function", record = "string",
}

local function check_options(decl, problem)
  if decl.options == nil then return end
  for i, opt in ipairs(decl.options) do
    local what = string.format("options[%d]", i)
    if type(opt) ~= "table" then problem("options", what .. " must be a table") end
    for k, v in pairs(opt) do
      if not M.OPTION_FIELDS[k] then
        problem("options", string.format("%s: unknown key '%s' (an option's keys: argname, check, flag, flags, "
          .. "help, many, name, record)", what, tostring(k)))
      elseif type(v) ~= M.OPTION_FIELDS[k] then
        problem("options", string.format("%s.%s must be a %s", what, k, M.OPTION_FIELDS[k]))
      end
    end
    for _, k in ipairs({ "name", "flags", "help" }) do
      if opt[k] == nil then problem("options", string.format("%s has no %s", what, k)) end
    end
    if not opt.name:match("^[%a_][%w_]*$") then
      problem("options", string.format("%s: name '%s' is not a name of letters, digits and '_'", what, opt.name))
    end
    for f in opt.flags:gmatch("%S+") do
      if not f:match("^%-%-?[%w][%w-]*$") then
        problem("options", string.format("%s: '%s' is not a flag (-x or --name)", what, f))
      end
    end
  end
end

-- The shipped mode `name`: lua/perfgo/modes/<name>.lua.
local function shipped(name)
  if not name:match(NAME) then return {} end
  local modname = "perfgo.modes." .. name
  local path = package.searchpath(modname, package.path)
  if not path then return {} end
  return { { decl = require(modname), path = path } }
end

--- What a mode is made of (perfgo.declare): its declared data, and its
--- functions with the number of arguments before base.
---@type perfgo.Kind
M.KIND = {
  name = "mode",
  section = "modes",
  fields = {
    name = "string", description = "string", extends = "string", order = "number", perf = "boolean",
    options = "table", default = "boolean", implied_by = "string", writes_profile = "boolean",
  },
  methods = {
    preflight = 1, wrap = 2, execute = 2, outcome = 4, collect = 1, convert = 1, archive = 1, describe = 1,
    view = 2, compare = 3,
  },
  defaults = require("perfgo.modebase"),
  check = check_options,
  find = shipped,
}

local registry = declare.registry(M.KIND)

--- Adds a mode declared in perfgo.lua (checked already).
---@param name string
---@param decl table
---@param where perfgo.Where
function M.register(name, decl, where)
  registry:register(name, decl, where)
end

--- Forgets the modes perfgo.lua added (for tests).
function M.reset()
  registry:reset()
end

--- The mode named `name`, or nil when there is none.
---@param name string
---@return perfgo.Mode|nil
function M.get(name)
  if type(name) ~= "string" then return nil end
  return registry:find(name)
end

--- Every mode: the shipped ones and those perfgo.lua added, by their
--- order (then name).
---@return perfgo.Mode[]
function M.list()
  local names = {}
  for _, n in ipairs(registry:registered_names()) do names[n] = true end
  local here = package.searchpath("perfgo.modes", package.path)
  if here then
    local dir = here:gsub("%.lua$", "")
    for _, file in ipairs(require("perfgo.fs").list(dir)) do
      local n = file:match("^(.+)%.lua$")
      if n and n:match(NAME) then names[n] = true end
    end
  end
  local out = {}
  for n in pairs(names) do out[#out + 1] = M.get(n) end
  table.sort(out, function(a, b)
    local oa, ob = a.order or 100, b.order or 100
    if oa ~= ob then return oa < ob end
    return a.name < b.name
  end)
  return out
end

--- The names of every mode, in M.list's order.
---@return string[]
function M.names()
  local out = {}
  for i, m in ipairs(M.list()) do out[i] = m.name end
  return out
end

--- The mode `name`, or a user error listing the modes.
---@param name string
---@return perfgo.Mode
function M.require(name)
  local mode = M.get(name)
  if not mode then
    errors.user(string.format("no mode named '%s' (modes: %s)", tostring(name), table.concat(M.names(), ", ")))
  end
  return mode
end

--- The mode of a run when none is named: the one implied by an option
--- that was given (-e: profile), else the default one (run).
---@param given table<string, boolean> the options given, by name
---@return string
function M.default(given)
  local default
  for _, m in ipairs(M.list()) do
    if m.implied_by and given[m.implied_by] then return m.name end
    if m.default and not default then default = m.name end
  end
  return default or "run"
end

--- Every option some mode takes, each once, in an order that keeps each
--- mode's own (an option comes after the ones listed before it in any
--- mode), and for each option name the modes taking it.
---@return perfgo.ModeOption[], table<string, string[]>
function M.options()
  local list, by_name, takers, after = {}, {}, {}, {}
  for _, m in ipairs(M.list()) do
    local prev
    for _, opt in ipairs(m.options or {}) do
      local name = opt.name
      if not by_name[name] then
        by_name[name] = opt
        list[#list + 1] = name
        takers[name], after[name] = {}, {}
      elseif by_name[name].flags ~= opt.flags then
        errors.user(string.format("mode %s declares option '%s' as %s, but mode %s as %s", m.name, name,
          opt.flags, takers[name][1], by_name[name].flags))
      end
      table.insert(takers[name], m.name)
      if prev then after[name][prev] = true end
      prev = name
    end
  end
  -- each time, the first option (by first appearance) with nothing left
  -- before it; an order the modes contradict falls back to appearance
  local out, placed = {}, {}
  while #out < #list do
    local pick
    for _, name in ipairs(list) do
      if not placed[name] then
        local ready = true
        for before in pairs(after[name]) do
          if not placed[before] then ready = false end
        end
        if ready then pick = name break end
      end
    end
    if not pick then
      for _, name in ipairs(list) do if not placed[name] then pick = name break end end
    end
    placed[pick] = true
    out[#out + 1] = by_name[pick]
  end
  return out, takers
end

--- The name of the mode a recorded run ran in: its `mode` (perfgo attach
--- records type "attach" and the mode apart), else its type.
---@param record table testrun.json
---@return string|nil
function M.of_record(record)
  if type(record.mode) == "string" then return record.mode end
  return record.type
end

--- Raises the error for two runs that cannot be compared, naming the
--- modes whose runs can.
---@param ta string
---@param tb string
function M.cannot_compare(ta, tb)
  local base = require("perfgo.modebase").compare
  local can = {}
  for _, m in ipairs(M.list()) do
    if m.compare ~= base then can[#can + 1] = m.name end
  end
  errors.user(string.format("cannot compare a %s run with a %s run (both must be %s)", tostring(ta),
    tostring(tb), table.concat(can, " or both ")))
end

return M
