--- The options shared by `perfgo test` and `perfgo exec`, the split of
--- their command lines (perfgo's own flags come first, then the mode, the
--- package or command, then flags that belong to the test), and the
--- checks of the perf options each mode takes, applied alike to the command
--- line and to perfgo.lua `defaults` before anything is built.
local errors = require "perfgo.errors"

local M = {}

M.modes = { "run", "stat", "profile", "c2c" }
local is_mode = {}
for _, m in ipairs(M.modes) do is_mode[m] = true end

-- perfgo flags that take a value (the next argument unless written
-- --flag=value), with their long names
local takes_value = {
  ["--remote-host"] = "--remote-host", ["--ssh-config"] = "--ssh-config", ["-o"] = "--ssh-option",
  ["--ssh-option"] = "--ssh-option", ["-e"] = "--event", ["--event"] = "--event", ["-c"] = "--count",
  ["--count"] = "--count", ["-F"] = "--freq", ["--freq"] = "--freq", ["--call-graph"] = "--call-graph",
  ["--archive"] = "--archive", ["--perf-arg"] = "--perf-arg", ["-r"] = "--repeat", ["--repeat"] = "--repeat",
  ["--binary-root"] = "--binary-root", ["--rule"] = "--rule", ["--parallel"] = "--parallel",
}

--- Declares the shared options on an argparse command.
---@param cmd table
function M.define(cmd)
  cmd:group("Where it runs",
    cmd:option("--remote-host", "Run on this host over SSH ([user@]host[:port] or an ssh config alias); "
      .. "several (a,b,c or repeated) run at once, each recorded, tied by a group id.")
      :count("*"):argname("<host>"),
    cmd:option("--parallel", "With several hosts: at most N run at once (default 8).")
      :convert(M.count_option("--parallel")):argname("<n>"),
    cmd:option("--ssh-config", "ssh config file to use (ssh -F)."),
    cmd:option("-o --ssh-option", "ssh option KEY=VALUE (repeatable).")
      :count("*"):argname("<key=value>"),
    cmd:flag("--keep", "Keep the remote working directory (and say where it is).")
  )
  cmd:group("What perf does",
    cmd:option("-e --event", "perf event (repeatable for stat; profile: the sampled event).")
      :count("*"):argname("<event>"),
    cmd:option("-c --count", "profile: sample every N events (perf record -c).")
      :argname("<n>"),
    cmd:option("-F --freq", "profile: sampling frequency in Hz (perf record -F).")
      :argname("<hz>"),
    cmd:option("--call-graph", "profile: call graph method: fp (the default), dwarf[,SIZE] or lbr."),
    cmd:flag("--detail", "stat: more counters (perf stat -d)."),
    cmd:option("-r --repeat", "stat: repeat the run N times, report mean and variance.")
      :argname("<n>"),
    cmd:option("--perf-arg", "An extra argument for perf record/stat (repeatable).")
      :count("*"):argname("<arg>")
  )
  cmd:option("--rule", "The rule that builds and runs (default: go for test; rules from perfgo.lua too).")
  cmd:group("What is kept",
    cmd:option("--archive", "Archive root for profiles (default $PERFGO_ARCHIVE or ~/perfgo-profiles)."),
    cmd:option("--binary-root", "Look for profiled binaries under this directory."),
    cmd:flag("--go-profiles", "Also collect Go's own -test.cpuprofile and -test.memprofile.")
  )
end

--- Splits argv (after the command name) into perfgo's own arguments and
--- the rest. Own arguments end at the first positional that is not a
--- mode: that one (the package) is kept, everything after it is returned
--- as passthrough (a leading "--" dropped). When `dashdash_only`, the
--- rest starts only after "--" or at the first positional (exec).
--- The mode defaults to "profile" when an event is given, else "run".
---@param argv string[]
---@param exec boolean for exec: the command itself is passthrough
---@return string[] own, string[] passthrough
function M.split(argv, exec)
  local own, rest = {}, {}
  local mode, has_event
  local i = 1
  local target
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, #argv do rest[#rest + 1] = argv[j] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local flag = a:match("^([^=]+)=") or a
      if flag == "-e" or flag == "--event" then has_event = true end
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
    elseif not mode and is_mode[a] then
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
  table.insert(own, 1, mode or (has_event and "profile" or "run"))
  if target and not exec then own[#own + 1] = target end
  return own, rest
end

-- Checks ---------------------------------------------------------------

--- The perf options, as the command line spells them.
M.PERF_OPTIONS = {
  event = "-e/--event", count = "-c/--count", freq = "-F/--freq", call_graph = "--call-graph",
  ["repeat"] = "-r/--repeat", detail = "--detail", perf_arg = "--perf-arg",
}

--- The perf options each mode takes.
M.MODE_OPTIONS = {
  run = {},
  stat = { event = true, ["repeat"] = true, detail = true, perf_arg = true },
  profile = { event = true, count = true, freq = true, call_graph = true, perf_arg = true },
  c2c = { perf_arg = true },
}

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

local function list_of_strings(v, what)
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" then return nil, "must be a string or a list of strings" end
  local out = {}
  for _, x in ipairs(v) do
    if type(x) ~= "string" then return nil, "must be a string or a list of strings" end
    if what then
      local why = what(x)
      if why then return nil, why end
    end
    out[#out + 1] = x
  end
  return out
end

local function event_problem(e)
  if e == "" then return "an event name is empty" end
  if e:match("^%-") then return string.format("'%s' is not an event name", e) end
  if e:match("[%s%c]") then return string.format("event '%s' has a space or control character in it", e) end
  return nil
end

-- Each check takes the value and returns it normalized, or nil and why.
local CHECKS = {
  event = function(v) return list_of_strings(v, event_problem) end,
  perf_arg = function(v) return list_of_strings(v) end,
  count = M.positive_integer,
  freq = M.positive_integer,
  ["repeat"] = function(v)
    local n, why = M.positive_integer(v)
    if not n then return nil, why .. " (perf stat -r 0 would repeat forever)" end
    return n
  end,
  detail = function(v)
    if type(v) ~= "boolean" then return nil, "must be true or false" end
    return v
  end,
  call_graph = function(v)
    local why = string.format("'%s' is not a call graph method: use fp, dwarf, dwarf,SIZE (SIZE in bytes, "
      .. "8 to 65528) or lbr", tostring(v))
    if type(v) ~= "string" then return nil, why end
    if v == "fp" or v == "lbr" or v == "dwarf" then return v end
    local size = v:match("^dwarf,(%d+)$")
    if size and tonumber(size) >= 8 and tonumber(size) <= 65528 then return v end
    return nil, why
  end,
}

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

local function modes_taking(name)
  local out = {}
  for _, m in ipairs(M.modes) do
    if M.MODE_OPTIONS[m][name] then out[#out + 1] = m end
  end
  return table.concat(out, " and ")
end

--- Checks the perf options for a mode, normalizing them in place (numbers
--- from strings, one event to a list). An option the mode does not take is
--- an error on the command line and ignored as a default (defaults serve
--- every mode). A bad value is a user error naming the flag, or the
--- perfgo.lua line it came from.
---@param mode string
---@param opts table parsed options (with defaults applied)
function M.validate(mode, opts)
  local takes = M.MODE_OPTIONS[mode] or {}
  local names = {}
  for name in pairs(M.PERF_OPTIONS) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local value, from = opts[name], M.origin(opts, name)
    if is_set(value) then
      if not takes[name] then
        if not from then
          errors.user(string.format("%s is for %s runs; mode '%s' does not use it", M.PERF_OPTIONS[name],
            modes_taking(name), mode))
        end
        opts[name] = nil
      else
        local ok, why = CHECKS[name](value)
        if ok == nil then
          if from then
            errors.user(string.format("%s: defaults.%s: %s", from, name, why))
          end
          errors.user(string.format("%s: %s", M.PERF_OPTIONS[name], why))
        end
        opts[name] = ok
      end
    end
  end
end

return M
