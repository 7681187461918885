--- The options shared by `perfgo test` and `perfgo exec`, the split of
--- their command lines (perfgo's own flags come first, then the mode, the
--- package or command, then flags that belong to the test), and the
--- checks of the perf options, applied alike to the command line and to
--- perfgo.lua `defaults` before anything is built. The perf options are
--- the modes' (perfgo.modes): each mode declares the ones it takes.
local errors = require "perfgo.errors"
local modes = require "perfgo.modes"

local M = {}

--- The options that are not perf's, declared once: define() gives them
--- to argparse, split() learns from them which flags take a value.
--- Each group is a title (or false) and its options (perfgo.ModeOption,
--- with an argparse `convert` in place of check); "perf" stands for the
--- modes' options.
M.GROUPS = {
  { "Where it runs",
    { name = "remote_host", flags = "--remote-host", argname = "<host>", many = true,
      help = "Run on this host over SSH ([user@]host[:port] or an ssh config alias); "
        .. "several (a,b,c or repeated) run at once, each recorded, tied by a group id." },
    { name = "parallel", flags = "--parallel", argname = "<n>",
      convert = function(v) return M.count_option("--parallel")(v) end,
      help = "With several hosts: at most N run at once (default 8)." },
    { name = "ssh_config", flags = "--ssh-config", help = "ssh config file to use (ssh -F)." },
    { name = "ssh_option", flags = "-o --ssh-option", argname = "<key=value>", many = true,
      help = "ssh option KEY=VALUE (repeatable)." },
    { name = "keep", flags = "--keep", flag = true, help = "Keep the remote working directory (and say where it is)." },
  },
  { "What perf does", "perf" },
  { false,
    { name = "rule", flags = "--rule",
      help = "The rule that builds and runs (default: go for test; rules from perfgo.lua too)." },
  },
  { "What is kept",
    { name = "archive", flags = "--archive",
      help = "Archive root for profiles (default $PERFGO_ARCHIVE or ~/perfgo-profiles)." },
    { name = "binary_root", flags = "--binary-root",
      help = "Look for profiled binaries under this directory." },
    { name = "go_profiles", flags = "--go-profiles", flag = true,
      help = "Also collect Go's own -test.cpuprofile and -test.memprofile." },
  },
}

-- Every option of the groups, the modes' in place of "perf"; a flag
-- declared twice (a mode's option named like one of these) is an error.
local function each_group(fn)
  local seen = { ["-h"] = true, ["--help"] = true }
  for _, g in ipairs(M.GROUPS) do
    local list = {}
    for i = 2, #g do
      local opts = g[i] == "perf" and modes.options() or { g[i] }
      for _, opt in ipairs(opts) do
        for f in opt.flags:gmatch("%S+") do
          if seen[f] then
            errors.user(string.format("option %s is declared twice: a mode's option cannot be one of perfgo's own", f))
          end
          seen[f] = true
        end
        list[#list + 1] = opt
      end
    end
    fn(g[1], list)
  end
end

--- The modes for a usage line ("run|stat|bench|profile|c2c").
---@return string
function M.mode_usage()
  return table.concat(modes.names(), "|")
end

--- One line per mode, for --help.
---@return string
function M.modes_text()
  local lines = { "Modes:" }
  for _, m in ipairs(modes.list()) do
    lines[#lines + 1] = string.format("  %-8s %s", m.name, m.description or "")
  end
  return table.concat(lines, "\n")
end

--- The mode argument.
---@param cmd table argparse command
function M.define_mode(cmd)
  local names = modes.names()
  cmd:argument("mode", table.concat(names, ", ", 1, #names - 1) .. " or " .. names[#names] .. ".")
    :choices(names)
end

--- Declares the shared options on an argparse command, but those named
--- in `skip` (by option name).
---@param cmd table
---@param skip? table<string, boolean>
function M.define(cmd, skip)
  each_group(function(title, list)
    local defined = {}
    for _, opt in ipairs(list) do
      if skip and skip[opt.name] then goto next end
      local o = opt.flag and cmd:flag(opt.flags, opt.help) or cmd:option(opt.flags, opt.help)
      if opt.many then o:count("*") end
      if opt.argname then o:argname(opt.argname) end
      if opt.convert then o:convert(opt.convert) end
      defined[#defined + 1] = o
      ::next::
    end
    if title then cmd:group(title, table.unpack(defined)) end
  end)
end

-- Each flag that takes a value -> its long spelling; each flag -> the
-- option's name.
local function flag_table()
  local takes, names = {}, {}
  each_group(function(_, list)
    for _, opt in ipairs(list) do
      local long
      for f in opt.flags:gmatch("%S+") do long = f end
      for f in opt.flags:gmatch("%S+") do
        names[f] = opt.name
        if not opt.flag then takes[f] = long end
      end
    end
  end)
  return takes, names
end

--- Splits argv (after the command name) into perfgo's own arguments and
--- the rest. Own arguments end at the first positional that is not a
--- mode: that one (the package) is kept, everything after it is returned
--- as passthrough (a leading "--" dropped). For exec the rest starts
--- after "--" or at the first positional. Without a mode, the one the
--- options given imply (perfgo.modes.default: -e gives profile), else run.
---@param argv string[]
---@param exec boolean for exec: the command itself is passthrough
---@return string[] own, string[] passthrough
function M.split(argv, exec)
  local takes_value, option_of = flag_table()
  local own, rest = {}, {}
  local mode
  local given = {}
  local i = 1
  local target
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, #argv do rest[#rest + 1] = argv[j] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local flag = a:match("^([^=]+)=") or a
      if option_of[flag] then given[option_of[flag]] = true end
      local value = takes_value[a] and argv[i + 1]
      if value and value:sub(1, 1) == "-" then
        -- a value that looks like a flag (--perf-arg --no-inherit): joined,
        -- so the option parser takes it as the value
        own[#own + 1] = takes_value[a] .. "=" .. value
      else
        own[#own + 1] = a
        if value then own[#own + 1] = value end
      end
      if takes_value[a] then i = i + 1 end
    elseif not mode and modes.get(a) then
      mode = a
    else
      target = a
      if exec then
        for j = i, #argv do rest[#rest + 1] = argv[j] end
      else
        local j = i + 1
        if argv[j] == "--" then j = j + 1 end
        for k = j, #argv do rest[#rest + 1] = argv[k] end
      end
      break
    end
    i = i + 1
  end
  table.insert(own, 1, mode or modes.default(given))
  if target and not exec then own[#own + 1] = target end
  return own, rest
end

-- Checks ---------------------------------------------------------------

--- A whole number above 0 from a number or a string, or nil and why not.
---@param v any
---@return integer|nil, string?
function M.positive_integer(v)
  local n = math.tointeger(tonumber(v))
  if type(v) ~= "number" and type(v) ~= "string" then return nil, "must be a whole number above 0" end
  if not n or n < 1 then return nil, string.format("'%s' is not a whole number above 0", tostring(v)) end
  return n
end

--- An argparse converter for a count option: a whole number above 0, or
--- an error naming the flag.
---@param flag string
---@return fun(v: string): integer|nil, string?
function M.count_option(flag)
  return function(v)
    local n, why = M.positive_integer(v)
    if not n then return nil, flag .. ": " .. why end
    return n
  end
end

--- Where a value came from when it is a perfgo.lua default ("FILE:LINE"),
--- or nil when it came from the command line.
---@param opts table
---@param name string
---@return string|nil
function M.origin(opts, name)
  return type(opts.defaults_from) == "table" and opts.defaults_from[name] or nil
end

local function is_set(v)
  return v ~= nil and v ~= false and not (type(v) == "table" and #v == 0)
end

--- Checks the perf options for a mode, normalizing them in place (numbers
--- from strings, one event to a list) with the mode's own checks. An
--- option of another mode is an error on the command line and ignored as
--- a default (defaults serve every mode). A bad value is a user error
--- naming the flag, or the perfgo.lua line it came from.
---@param mode string|perfgo.Mode
---@param opts table parsed options (with defaults applied)
function M.validate(mode, opts)
  if type(mode) ~= "table" then mode = modes.require(mode) end
  local takes = {}
  for _, opt in ipairs(mode.options or {}) do takes[opt.name] = opt end
  local all, takers = modes.options()
  table.sort(all, function(a, b) return a.name < b.name end)
  for _, opt in ipairs(all) do
    local name = opt.name
    local value, from = opts[name], M.origin(opts, name)
    if is_set(value) then
      local spelled = opt.flags:gsub(" ", "/")
      if not takes[name] then
        if not from then
          local list = takers[name]
          local who = #list > 1 and (table.concat(list, ", ", 1, #list - 1) .. " and " .. list[#list]) or list[1]
          errors.user(string.format("%s is for %s runs; mode '%s' does not use it", spelled, who, mode.name))
        end
        opts[name] = nil
      elseif takes[name].check then
        local ok, why = takes[name].check(value)
        if ok == nil then
          if from then errors.user(string.format("%s: defaults.%s: %s", from, name, why)) end
          errors.user(string.format("%s: %s", spelled, why))
        end
        opts[name] = ok
      end
    end
  end
end

return M
