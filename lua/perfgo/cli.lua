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
  "perfgo.commands.list",
  "perfgo.commands.view",
  "perfgo.commands.compare",
  "perfgo.commands.version",
  "perfgo.commands.convert",
}

-- The command name of a module name ("perfgo.commands.test" -> "test").
local function command_name(modname)
  return (modname:match("([^.]+)$"))
end

-- The options of each command by target (for checking configured
-- defaults): what a value must look like, as argparse would check it.
local function option_targets(parser)
  local out = {}
  for _, cmd in ipairs(parser._commands or {}) do
    local set = {}
    for _, opt in ipairs(cmd._options or {}) do
      local target = opt._target or opt:_get_default_target()
      if target then
        set[(target:gsub("%-", "_"))] = {
          flag = opt._maxargs == 0,
          many = (opt._maxcount or 1) > 1,
          choices = opt._choices,
          convert = type(opt._convert) == "function" and opt._convert or nil,
        }
      end
    end
    out[cmd._name] = set
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
---@return table parser, table<string, table> commands
function M.parser(extra, only)
  local parser = argparse("perfgo")
    :description("Run a project's tests locally or on remote Linux hosts under perf, "
      .. "and turn what perf saw into pprof profiles, numbers and a history.")
    :epilog("Run 'perfgo COMMAND --help' for a command's options.\n"
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
  local function define(mod)
    local cmd = parser:command(mod.name)
    cmd:summary(mod.summary)
    cmd:description(mod.summary)
    if mod.define and (only == nil or only == mod.name) then mod.define(cmd) end
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
  return parser, by_name
end

--- Runs perfgo with the given arguments (arg[1..n]); returns the exit code.
---@param args string[]
---@return integer
function M.main(args)
  local argv, original = {}, {}
  for i = 1, #args do argv[i], original[i] = args[i], args[i] end

  local config = require "perfgo.config"
  local layers = config.layers(pre_scan(argv))
  local extra = {}
  config.apply(layers, extra)
  -- Without configuration layers (whose defaults are checked against every
  -- command's options) only the command being run needs its options.
  local ci = command_index(argv)
  local only
  if #layers == 0 then only = ci and argv[ci] or "" end
  local parser, commands = M.parser(extra, only)
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
    config.apply_defaults(layers, parsed.command, parsed, option_targets(parser))
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
