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
  "perfgo.commands.version",
  "perfgo.commands.convert",
}

local function load_commands()
  local list = {}
  for _, modname in ipairs(M.commands) do
    list[#list + 1] = require(modname)
  end
  return list
end

--- Builds the argparse parser and the table of command modules by name.
---@return table parser, table<string, table> commands
function M.parser()
  local parser = argparse("perfgo")
    :description("Run a project's tests locally or on remote Linux hosts under perf, "
      .. "and turn what perf saw into pprof profiles, numbers and a history.")
    :epilog("Run 'perfgo COMMAND --help' for a command's options.\n"
      .. "Environment: PERFGO_DEBUG=1 shows tracebacks; PERFGO_LUA_DIR picks another script directory.")
    :command_target("command")
    :require_command(false)
  parser:flag("--version", "Show the version and exit.")
  parser:flag("--debug", "Show a traceback for every error.")

  local by_name = {}
  for _, mod in ipairs(load_commands()) do
    local cmd = parser:command(mod.name)
    cmd:summary(mod.summary)
    cmd:description(mod.summary)
    if mod.define then mod.define(cmd) end
    by_name[mod.name] = mod
  end
  return parser, by_name
end

--- Runs perfgo with the given arguments (arg[1..n]); returns the exit code.
---@param args string[]
---@return integer
function M.main(args)
  local argv = {}
  for i = 1, #args do argv[i] = args[i] end

  local parser, commands = M.parser()
  local ok, parsed = parser:pparse(argv)
  if not ok then
    errors.user(parsed .. " (see 'perfgo --help')")
  end
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
