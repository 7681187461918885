--- The options shared by `perfgo test` and `perfgo exec`, and the split of
--- their command lines: perfgo's own flags come first, then the mode, the
--- package (or command), then flags that belong to the test.
local M = {}

M.modes = { "run", "stat", "profile", "c2c" }
local is_mode = {}
for _, m in ipairs(M.modes) do is_mode[m] = true end

-- perfgo flags that take a value (the next argument unless written --flag=value)
local takes_value = {
  ["--remote-host"] = true, ["--ssh-config"] = true, ["-o"] = true, ["--ssh-option"] = true,
  ["-e"] = true, ["--event"] = true, ["-c"] = true, ["--count"] = true, ["-F"] = true,
  ["--freq"] = true, ["--call-graph"] = true, ["--archive"] = true, ["--perf-arg"] = true,
  ["-r"] = true, ["--repeat"] = true, ["--binary-root"] = true, ["--rule"] = true,
}

--- Declares the shared options on an argparse command.
---@param cmd table
function M.define(cmd)
  cmd:group("Where it runs",
    cmd:option("--remote-host", "Run on this host over SSH ([user@]host[:port] or an ssh config alias)."),
    cmd:option("--ssh-config", "ssh config file to use (ssh -F)."),
    cmd:option("-o --ssh-option", "ssh option KEY=VALUE (repeatable).")
      :count("*"):argname("<key=value>"),
    cmd:flag("--keep", "Keep the remote working directory (and say where it is).")
  )
  cmd:group("What perf does",
    cmd:option("-e --event", "perf event (repeatable for stat; profile: the sampled event).")
      :count("*"):argname("<event>"),
    cmd:option("-c --count", "profile: sample every N events (perf record -c).")
      :convert(tonumber):argname("<n>"),
    cmd:option("-F --freq", "profile: sampling frequency in Hz (perf record -F).")
      :convert(tonumber):argname("<hz>"),
    cmd:option("--call-graph", "profile: call graph method (fp, dwarf, lbr); default -g (frame pointers)."),
    cmd:flag("--detail", "stat: more counters (perf stat -d)."),
    cmd:option("-r --repeat", "stat: repeat the run N times, report mean and variance.")
      :convert(tonumber):argname("<n>"),
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
      own[#own + 1] = a
      local flag = a:match("^([^=]+)=") or a
      if flag == "-e" or flag == "--event" then has_event = true end
      if takes_value[a] then
        if argv[i + 1] then own[#own + 1] = argv[i + 1] end
        i = i + 1
      end
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

return M
