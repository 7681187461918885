--- Project and user configuration: `perfgo.lua` files.
---
--- Looked up in layers: the user's `~/.config/perfgo/init.lua` first, then
--- the project's `perfgo.lua` (found by walking up from the current
--- directory to the repository root, or named with --config), so the
--- project wins. Loading a configuration runs its code: it is loaded only
--- for the commands that use it (cli), and a file that was looked up only
--- when nobody but the user or root could have written it. Each returns a
--- table with any of:
---   defaults  flag values for any command ({remote_host=, event={...}, ...});
---             a subtable named after a command applies to that command only
---   rules     name -> rule (perfgo.Rule), added or replacing one
---   modes     name -> perf mode (perfgo.Mode), added or replacing one
---   commands  name -> {summary=, define=function(cmd), run=function(args)}
---   steps     step name -> function(ctx, base) wrapping that workflow step
---   hooks     before_<step> / after_<step> -> function(ctx)
--- Unknown keys and misspelt step names stop perfgo with FILE:LINE.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local declare = require "perfgo.declare"

local M = {}

M.KEYS = { defaults = true, rules = true, modes = true, commands = true, steps = true, hooks = true }

--- The repository around dir: the nearest directory, dir included, that
--- holds `.git` (a directory, or a worktree's file), or nil.
---@param dir string absolute
---@return string|nil
function M.repo_root(dir)
  local d = dir
  while true do
    if fs.exists(fs.join(d, ".git")) then return d end
    local parent = fs.dirname(d)
    if parent == d then return nil end
    d = parent
  end
end

--- The project's perfgo.lua: looked up from dir up to the repository root,
--- never above it, and outside a repository in dir alone, so that a
--- perfgo.lua in /tmp or in a shared parent directory is not picked up.
---@param dir string absolute
---@return string|nil
function M.find(dir)
  local stop = M.repo_root(dir) or dir
  local d = dir
  while true do
    local p = fs.join(d, "perfgo.lua")
    if fs.is_file(p) then return p end
    local parent = fs.dirname(d)
    if d == stop or parent == d then return nil end
    d = parent
  end
end

-- Loads a configuration file that was looked up (not named by the user)
-- unless someone else could have written it: the error says why and how
-- to go on.
local function load_trusted(path, how)
  local why = require("perfgo.sys").untrusted(path)
  if why then
    errors.user(string.format("%s is not loaded: %s, so someone other than you or root could "
      .. "have written the code it runs (fix the permissions, or %s)", path, why, how))
  end
  return M.load(path)
end

--- The user's configuration file, if it exists.
---@return string|nil
function M.user_file()
  local base = os.getenv("XDG_CONFIG_HOME")
  if not base or base == "" then
    local home = os.getenv("HOME")
    if not home then return nil end
    base = fs.join(home, ".config")
  end
  local p = fs.join(base, "perfgo", "init.lua")
  return fs.is_file(p) and p or nil
end

-- The first line of text (at or after line `from`) where `name` appears
-- as a table key.
local function line_of(text, name, from)
  return declare.line_of(text, name, from) or 1
end

--- The kinds of declared objects a perfgo.lua may add (perfgo.declare),
--- each under its section.
---@return perfgo.Kind[]
function M.kinds()
  return { require("perfgo.rules").KIND, require("perfgo.modes").KIND }
end

local function fail(path, line, msg)
  errors.fail(2, string.format("%s:%d: %s", path, line, msg))
end

--- Calls a function from a configuration file; a runtime error in it
--- becomes a user error that names the file and line.
local function guard(fn)
  return function(...)
    local res = table.pack(xpcall(fn, function(e)
      if errors.is_user(e) then return e end
      return errors.new(tostring(e), 2)
    end, ...))
    if not res[1] then error(res[2], 0) end
    return table.unpack(res, 2, res.n)
  end
end

-- A declared value with its functions guarded, those in tables too (a
-- mode's option checks).
local function guarded(v, depth)
  if type(v) == "function" then return guard(v) end
  if type(v) ~= "table" or (depth or 0) > 4 then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = guarded(x, (depth or 0) + 1) end
  return out
end

--- Loads and checks one configuration file.
---@param path string
---@return table config
function M.load(path)
  local text, rerr = fs.read(path)
  if not text then errors.fail(2, string.format("cannot read %s: %s", path, rerr)) end
  local chunk, err = load(text, "@" .. path, "t")
  if not chunk then errors.fail(2, err) end
  local ok, cfg = xpcall(chunk, function(e) return e end)
  if not ok then errors.fail(2, errors.message(cfg)) end
  if type(cfg) ~= "table" then
    fail(path, 1, "perfgo.lua must return a table (with defaults, rules, modes, commands, steps or hooks)")
  end
  local known = {}
  for k in pairs(M.KEYS) do known[#known + 1] = k end
  table.sort(known)
  for k, v in pairs(cfg) do
    if not M.KEYS[k] then
      fail(path, line_of(text, tostring(k)), string.format("unknown key '%s' (known keys: %s)",
        tostring(k), table.concat(known, ", ")))
    end
    if type(v) ~= "table" then
      fail(path, line_of(text, k), string.format("'%s' must be a table", k))
    end
  end
  local workflow = require "perfgo.workflow"
  local steps = {}
  for _, s in ipairs(workflow.order) do steps[s] = true end
  local step_list = table.concat(workflow.order, ", ")
  for name, fn in pairs(cfg.steps or {}) do
    local line = type(fn) == "function" and debug.getinfo(fn, "S").linedefined or line_of(text, name)
    if not steps[name] then
      fail(path, line, string.format("steps: no workflow step named '%s' (steps: %s)", tostring(name), step_list))
    end
    if type(fn) ~= "function" then fail(path, line, "steps." .. name .. " must be a function(ctx, base)") end
  end
  for name, fn in pairs(cfg.hooks or {}) do
    local line = type(fn) == "function" and debug.getinfo(fn, "S").linedefined or line_of(text, name)
    local when, step = tostring(name):match("^(%a+)_(%a+)$")
    if not (when == "before" or when == "after") or not steps[step] then
      fail(path, line, string.format("hooks: '%s' is not before_<step> or after_<step> (steps: %s)",
        tostring(name), step_list))
    end
    if type(fn) ~= "function" then fail(path, line, "hooks." .. name .. " must be a function(ctx)") end
  end
  for name, cmd in pairs(cfg.commands or {}) do
    if type(cmd) ~= "table" or type(cmd.run) ~= "function" then
      fail(path, line_of(text, name), string.format("commands.%s must be a table with a run function", name))
    end
  end
  cfg.where = {}
  for _, kind in ipairs(M.kinds()) do
    local section = kind.section
    local from = line_of(text, section)
    for name, decl in pairs(cfg[section] or {}) do
      local label = section .. "." .. tostring(name)
      local where = { path = path, text = text, line = declare.line_of(text, tostring(name), from), label = label }
      if type(name) ~= "string" or not name:match("^[%a_][%w_-]*$") then
        declare.fail(where, nil, nil, "a name of letters, digits, '_' and '-' is needed")
      end
      declare.check(kind, decl, where)
      cfg.where[label] = where
    end
  end
  cfg.path, cfg.text = path, text
  return cfg
end

--- The configuration layers in force, user first then project. Files that
--- are looked up must pass perfgo.sys.untrusted; a file named with
--- --config is loaded as it is (the user chose it).
---@param opts {config?: string, no_project_config?: boolean}
---@return table[]
function M.layers(opts)
  local out = {}
  local user = M.user_file()
  if user then
    out[#out + 1] = load_trusted(fs.abspath(user), "set XDG_CONFIG_HOME to a directory of your own")
  end
  if opts.config then
    if not fs.is_file(opts.config) then errors.user("--config " .. opts.config .. ": no such file") end
    out[#out + 1] = M.load(opts.config)
  elseif not opts.no_project_config then
    local project = M.find(fs.abspath("."))
    if project then
      out[#out + 1] = load_trusted(project, "load it anyway with --config " .. project
        .. ", or ignore it with --no-project-config")
    end
  end
  return out
end

--- Registers steps, hooks, rules and commands of the layers.
---@param layers table[]
---@param commands table list of command modules, extended in place
function M.apply(layers, commands)
  if #layers == 0 then return end -- nothing to load the workflow for
  local workflow = require "perfgo.workflow"
  local rules = require "perfgo.rules"
  for _, cfg in ipairs(layers) do
    for name, fn in pairs(cfg.steps or {}) do workflow.override(name, guard(fn)) end
    for name, fn in pairs(cfg.hooks or {}) do
      local when, step = name:match("^(%a+)_(%a+)$")
      workflow.hook(when, step, guard(fn))
    end
    for _, reg in ipairs({ { "rules", rules }, { "modes", require("perfgo.modes") } }) do
      local section, registry = reg[1], reg[2]
      for name, decl in pairs(cfg[section] or {}) do
        local wrapped = {}
        for k, v in pairs(decl) do wrapped[k] = guarded(v) end
        registry.register(name, wrapped, cfg.where[section .. "." .. name])
      end
    end
    for name, cmd in pairs(cfg.commands or {}) do
      commands[#commands + 1] = {
        name = name, summary = cmd.summary or ("(from " .. cfg.path .. ")"),
        define = cmd.define and guard(cmd.define), run = guard(cmd.run), origin = cfg.path,
      }
    end
  end
end

-- A default value as the option takes it (see cli's option_targets), or
-- nil and why not: what argparse checks on the command line.
local function coerce(opt, value)
  if type(opt) ~= "table" then return value end
  if opt.flag then
    if type(value) ~= "boolean" then return nil, "must be true or false" end
    return value
  end
  local function one(v)
    if math.type(v) == "integer" or type(v) == "number" then v = tostring(v) end
    if type(v) ~= "string" then return nil, string.format("must be a string, not a %s", type(v)) end
    if opt.choices then
      local ok = false
      for _, c in ipairs(opt.choices) do ok = ok or c == v end
      if not ok then return nil, string.format("'%s' is not one of %s", v, table.concat(opt.choices, ", ")) end
    end
    if opt.convert then
      local c, why = opt.convert(v)
      if c == nil then return nil, why or string.format("malformed value '%s'", v) end
      return c
    end
    return v
  end
  if opt.many then
    if type(value) ~= "table" then value = { value } end
    local out = {}
    for i, v in ipairs(value) do
      local c, why = one(v)
      if c == nil then return nil, why end
      out[i] = c
    end
    return out
  end
  if type(value) == "table" then return nil, "must be a single value, not a list" end
  return one(value)
end

--- Fills options the user did not give from the layers' defaults, checked
--- as the command line would be (type, choices, conversion; the perf
--- options get runopts' checks later) and remembered in
--- parsed.defaults_from[option] as "FILE:LINE". Raises FILE:LINE for a
--- default that no command has or a value that does not fit.
---@param layers table[]
---@param command string the command being run
---@param parsed table argparse result
---@param targets table<string, table<string, table|boolean>|false> command -> option target ->
--- option (false: a command that does not load configuration)
function M.apply_defaults(layers, command, parsed, targets)
  local all, reading = {}, {}
  for name, set in pairs(targets) do
    if set then
      for k in pairs(set) do all[k] = true end
      reading[#reading + 1] = name
    end
  end
  table.sort(reading)
  for _, cfg in ipairs(layers) do
    local d = cfg.defaults or {}
    local function set(key, value, scope)
      local k = tostring(key):gsub("%-", "_")
      local valid = scope and targets[scope] or all
      local line = line_of(cfg.text, tostring(key))
      if not valid[k] then
        fail(cfg.path, line, string.format("defaults: no %soption '%s'",
          scope and ("'" .. scope .. "' ") or "", tostring(key)))
      end
      local opt = (targets[command] or {})[k]
      if (not scope or scope == command) and opt then
        local cur = parsed[k]
        if cur == nil or (type(cur) == "table" and #cur == 0) or cur == false then
          local v, why = coerce(opt, value)
          if v == nil then fail(cfg.path, line, string.format("defaults.%s: %s", tostring(key), why)) end
          parsed[k] = v
          parsed.defaults_from = parsed.defaults_from or {}
          parsed.defaults_from[k] = string.format("%s:%d", cfg.path, line)
        end
      end
    end
    for key, value in pairs(d) do
      if targets[key] == false then
        fail(cfg.path, line_of(cfg.text, tostring(key)), string.format("defaults.%s: '%s' does not "
          .. "read perfgo.lua (only %s do)", key, key, table.concat(reading, ", ")))
      end
      if targets[key] and type(value) == "table" and #value == 0 then
        for k2, v2 in pairs(value) do set(k2, v2, key) end
      else
        set(key, value, nil)
      end
    end
  end
end

return M
