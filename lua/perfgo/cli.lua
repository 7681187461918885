--- perfgo's command line: the entry point the host calls.
---
--- Each command lives in `perfgo.commands.<name>` and provides
--- `name`, `summary`, `define(cmd)` (argparse definition) and `run(args)`
--- (returns the exit code). Only commands that work are listed here.
local argparse = require "argparse"
local errors = require "perfgo.errors"

local M = {}

--- Command modules, in the order `perfgo --help` lists them.
M.commands = {
  "perfgo.commands.test",
  "perfgo.commands.exec",
  "perfgo.commands.attach",
  "perfgo.commands.list",
  "perfgo.commands.view",
  "perfgo.commands.compare",
  "perfgo.commands.clean",
  "perfgo.commands.version",
  "perfgo.commands.convert",
}

-- The command name of a module name ("perfgo.commands.test" -> "test").
local function command_name(modname)
  return (modname:match("([^.]+)$"))
end

--- The built-in commands that load configuration (perfgo.lua and the
--- user's init.lua): the workflow's, whose defaults, rules, steps and hooks
--- it sets. Configuration is code, so the others (list, view, compare,
--- version, convert, --help alone) never run it.
M.config_commands = { test = true, exec = true }

--- Whether the command named name loads configuration: one of
--- M.config_commands, or one that is not built in (a configuration may
--- define it).
---@param name string
---@return boolean
function M.uses_config(name)
  if M.config_commands[name] then return true end
  for _, modname in ipairs(M.commands) do
    if command_name(modname) == name then return false end
  end
  return true
end

-- What an option is, as a configured default must look to fit it:
-- recorded while a command defines it through argparse's public builder
-- methods (perfgo never reads argparse's own fields).
--   names    "-o --ssh-option"   target   "ssh_option" (the parsed key)
--   flag     takes no value      many     repeatable
--   choices  the allowed values  convert  argparse's converter

-- argparse's own rule for the key of an option: the first long name
-- (two equal leading characters) without them, else the first name
-- without its one, with "-" as "_".
local function default_target(names)
  local first
  for alias in names:gmatch("%S+") do
    first = first or alias
    if alias:sub(1, 1) == alias:sub(2, 2) then return (alias:sub(3):gsub("%-", "_")) end
  end
  return ((first or ""):sub(2):gsub("%-", "_"))
end

local function many_of(count)
  if count == "*" or count == "+" then return true end
  local n = tonumber(count) or tonumber(tostring(count):match("%-(%d+)$") or "")
  return n ~= nil and n > 1
end

-- Properties an option may be given positionally (argparse's order:
-- name, description, default, convert, args, count) or by a method.
local NOTE = {
  count = function(info, v) info.many = many_of(v) end,
  args = function(info, v) info.flag = tonumber(v) == 0 end,
  choices = function(info, v) info.choices = v end,
  convert = function(info, v) info.convert = type(v) == "function" and v or nil end,
  target = function(info, v) info.target = v end,
}
local POSITIONAL = { [4] = "convert", [5] = "args", [6] = "count" }

-- A stand-in for an argparse object: every method call is passed on
-- (stand-ins among the arguments replaced by what they stand for, `real`),
-- then shown to note(method, args, result), which may return what the
-- call returns instead; a call that returns the object returns the
-- stand-in, so chains stay on it.
local function stand_in(obj, real, note)
  local proxy = {}
  real[proxy] = obj
  return setmetatable(proxy, { __index = function(_, key)
    local method = obj[key]
    if type(method) ~= "function" then return method end
    return function(_, ...)
      local args = table.pack(...)
      for i = 1, args.n do args[i] = real[args[i]] or args[i] end
      local res = method(obj, table.unpack(args, 1, args.n))
      local instead = note(key, args, res)
      if instead ~= nil then return instead end
      if res == obj then return proxy end
      return res
    end
  end })
end

--- Wraps an argparse command so that the options defined on it are
--- recorded (to check configured defaults against them); returns the
--- wrapper and the list the options are added to.
---@param cmd table argparse command
---@return table wrapper, table[] options
function M.recording(cmd)
  local list, real = {}, {}
  return stand_in(cmd, real, function(key, args, res)
    if key ~= "option" and key ~= "flag" then return nil end
    local info = { names = args[1], flag = key == "flag" }
    for i, prop in pairs(POSITIONAL) do
      if args[i] ~= nil then NOTE[prop](info, args[i]) end
    end
    list[#list + 1] = info
    return stand_in(res, real, function(k, a)
      if NOTE[k] then NOTE[k](info, a[1]) end
    end)
  end), list
end

-- The options of each command by key, as configured defaults are
-- checked against them; false for a command that does not load
-- configuration.
local function option_targets(recorded)
  local out = {}
  for name, list in pairs(recorded) do
    local set = M.uses_config(name) and {} or false
    for _, opt in ipairs(set and list or {}) do
      if type(opt.names) == "string" then
        set[opt.target or default_target(opt.names)] = {
          flag = opt.flag, many = opt.many, choices = opt.choices, convert = opt.convert,
        }
      end
    end
    out[name] = set
  end
  return out
end

-- The position of the command's name in argv: the first word that is not
-- one of perfgo's own options (nil when there is none).
local function command_index(argv)
  for i, a in ipairs(argv) do
    if a == "--" then return nil end
    if a:sub(1, 1) ~= "-" and argv[i - 1] ~= "--config" then return i end
  end
  return nil
end

-- perfgo's own flags that must be known before the parser is built.
local function pre_scan(argv)
  local opts = {}
  for i, a in ipairs(argv) do
    if a == "--" then break end
    if a == "--no-project-config" then opts.no_project_config = true end
    if a == "--config" then opts.config = argv[i + 1] end
    local v = a:match("^%-%-config=(.*)$")
    if v then opts.config = v end
    if a:sub(1, 1) ~= "-" and argv[i - 1] ~= "--config" then break end
  end
  return opts
end

--- Builds the argparse parser and the table of command modules by name.
---@param extra? table[] command modules added by configuration
---@param only? string define only this command's options (when it is a
--- built-in command, the others are named without loading their modules)
---@return table parser, table<string, table> commands, table<string, table[]> options by command
function M.parser(extra, only)
  local parser = argparse("perfgo")
    :description("Run a project's tests locally or on remote Linux hosts under perf, "
      .. "and turn what perf saw into pprof profiles, numbers and a history.")
    :epilog("Run 'perfgo COMMAND --help' for a command's options. Commands a perfgo.lua adds\n"
      .. "are not listed here (only test, exec and those commands load it).\n"
      .. "Environment: PERFGO_DEBUG=1 shows tracebacks; PERFGO_LUA_DIR picks another script directory.")
    :command_target("command")
    :require_command(false)
  parser:flag("--version", "Show the version and exit.")
  parser:flag("--debug", "Show a traceback for every error.")
  parser:option("--config", "Use this perfgo.lua instead of the project's."):argname("<file>")
  parser:flag("--no-project-config", "Ignore the project's perfgo.lua.")

  -- Modules are required when their command is defined or run: a command
  -- that is not the one being run is only named (its summary is needed by
  -- `perfgo --help` alone, which defines them all).
  local modnames = {}
  for _, modname in ipairs(M.commands) do modnames[command_name(modname)] = modname end
  local by_name = setmetatable({}, {
    __index = function(t, name)
      local modname = modnames[name]
      if not modname then return nil end
      local mod = require(modname)
      rawset(t, name, mod)
      return mod
    end,
  })
  local lazy = only ~= nil and modnames[only] ~= nil
  local recorded = {}
  local function define(mod)
    local cmd = parser:command(mod.name)
    cmd:summary(mod.summary)
    cmd:description(mod.summary)
    if mod.define and (only == nil or only == mod.name) then
      local wrapper
      wrapper, recorded[mod.name] = M.recording(cmd)
      mod.define(wrapper)
    end
    rawset(by_name, mod.name, mod)
  end
  for _, modname in ipairs(M.commands) do
    local name = command_name(modname)
    if lazy and name ~= only then
      parser:command(name)
    else
      define(require(modname))
    end
  end
  for _, mod in ipairs(extra or {}) do define(mod) end
  return parser, by_name, recorded
end

--- Runs perfgo with the given arguments (arg[1..n]); returns the exit code.
---@param args string[]
---@return integer
function M.main(args)
  local argv, original = {}, {}
  for i = 1, #args do argv[i], original[i] = args[i], args[i] end

  local config = require "perfgo.config"
  local ci = command_index(argv)
  local layers = {}
  if ci and M.uses_config(argv[ci]) then layers = config.layers(pre_scan(argv)) end
  local extra = {}
  config.apply(layers, extra)
  -- Without configuration layers (whose defaults are checked against every
  -- command's options) only the command being run needs its options.
  local only
  if #layers == 0 then only = ci and argv[ci] or "" end
  local parser, commands, recorded = M.parser(extra, only)
  -- A command may take arguments that are not its own (go test flags, a
  -- command line to exec): it splits them off before argparse sees them.
  local passthrough
  local mod = ci and commands[argv[ci]]
  if mod and mod.split_args then
    local own
    own, passthrough = mod.split_args({ table.unpack(argv, ci + 1) })
    argv = { table.unpack(argv, 1, ci) }
    for _, x in ipairs(own) do argv[#argv + 1] = x end
  end
  local ok, parsed = parser:pparse(argv)
  if not ok then
    errors.user(parsed .. " (see 'perfgo --help')")
  end
  if parsed.command then
    config.apply_defaults(layers, parsed.command, parsed, option_targets(recorded))
  end
  parsed.passthrough = passthrough or {}
  parsed.argv = original
  if parsed.version then
    return commands.version.run(parsed)
  end
  if not parsed.command then
    io.stderr:write(parser:get_help(), "\n\nperfgo: no command given\n")
    return 2
  end
  return commands[parsed.command].run(parsed) or 0
end

return M
