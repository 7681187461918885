--- `perfgo view`: open a recorded run as its mode shows it (mode.view: a
--- profile in pprof, a stat run's table, a c2c report), else how it ended
--- and the end of its output.
local fs = require "perfgo.fs"
local errors = require "perfgo.errors"
local runsel = require "perfgo.select"

local M = {
  name = "view",
  summary = "Open a recorded run (profile in pprof, stat table, or output).",
}

function M.define(cmd)
  cmd:usage("Usage: perfgo view [0 | -N | ID-PREFIX] [--bench NAME] [--] [pprof flags...]")
  cmd:description([[
Opens one recorded run: 0 (the default) is the latest run that is not in
progress, -1 the one before, or give a prefix of its id (perfgo list shows
them; a run in progress is opened only by its id). A profile run opens
perf.pb.gz with `go tool pprof` (or `pprof` when installed), passing the
remaining flags (-top, -http=:8080, -list FUNC, ...); without flags and
without a terminal it prints -top. A stat run prints its table; any other
run how it ended, its output paths and the last lines.]])
  cmd:argument("run", "Which run."):args("?")
  cmd:option("--bench", "A profile of Go benchmarks: only this benchmark's samples (pprof -tagfocus on "
    .. "the benchmark label; NAME with or without its Benchmark prefix, its sub-benchmark closures included).")
    :argname("<name>")
end

--- view's own arguments: the selector (which may look like a flag, -1);
--- everything else goes to pprof. A first argument that does not start
--- with "-" is always the selector, so a mistyped one is an error (listing
--- the closest ids), never a file handed to pprof.
M.split_args = function(argv)
  local own, rest = {}, {}
  -- --bench NAME is view's own wherever it stands before "--"
  local args = {}
  local pos = 1
  while pos <= #argv do
    local a = argv[pos]
    if a == "--" then
      for j = pos, #argv do args[#args + 1] = argv[j] end
      break
    elseif a == "--bench" and argv[pos + 1] then
      own[#own + 1] = "--bench=" .. argv[pos + 1]
      pos = pos + 1
    elseif a:match("^%-%-bench=") then
      own[#own + 1] = a
    else
      args[#args + 1] = a
    end
    pos = pos + 1
  end
  argv = args
  local i = 1
  local first = argv[1]
  if first == "-h" or first == "--help" then
    return { first }, {}
  elseif first and first ~= "--" and (first:match("^%-%d+$") or first:sub(1, 1) ~= "-") then
    table.insert(own, 1, (first:gsub("^%-", "N")))
    i = 2
  end
  if argv[i] == "--" then i = i + 1 end
  for k = i, #argv do rest[#rest + 1] = argv[k] end
  return own, rest
end

--- The last n lines of a file.
---@param path string
---@param n integer
---@return string
function M.tail(path, n)
  local text = fs.read(path) or ""
  local lines = {}
  for line in text:gmatch("[^\n]*\n?") do
    if line ~= "" then lines[#lines + 1] = line end
  end
  local out = {}
  for k = math.max(1, #lines - n + 1), #lines do out[#out + 1] = lines[k] end
  return table.concat(out)
end

--- The pprof command: a standalone pprof when installed, else go tool pprof.
---@return string[]
function M.pprof_argv()
  local proc = require "perfgo.proc"
  local r = proc.run({ "sh", "-c", "command -v pprof" }, { stdin = "null" })
  if r.code == 0 and (r.stdout or "") ~= "" then return { "pprof" } end
  return { "go", "tool", "pprof" }
end

local function int(v)
  return tostring(math.type(v) == "float" and math.tointeger(v) or v)
end

-- One line saying how the run ended.
local function summary(entry)
  local rec = entry.record
  local line = string.format("run %s (%s): %s", entry.id:sub(1, 8), tostring(rec.type), entry.status)
  if entry.status == "running" then
    return line .. string.format(" (perfgo pid %s on %s)", int(rec.pid), tostring(rec.host))
  elseif entry.status == "abandoned" then
    return line .. string.format(": perfgo (pid %s on %s) stopped before the run ended", int(rec.pid),
      tostring(rec.host))
  end
  line = line .. ", exit " .. int(rec.exit_code)
  if rec.signal then line = line .. ", " .. tostring(rec.signal) end
  if rec.error then line = line .. ": " .. tostring(rec.error) end
  return line
end

function M.run(args)
  local sel = args.run and args.run:gsub("^N", "-") or "0"
  local entry = runsel.pick(runsel.runs(runsel.repo_root()), sel)
  local rec = entry.record
  if not rec then
    errors.user(string.format("run %s cannot be read: %s (%s)", entry.id:sub(1, 8), entry.problem, entry.dir))
  end
  local mode = require("perfgo.modes").get(require("perfgo.modes").of_record(rec))
  if args.bench and not (mode and mode.writes_profile) then
    errors.user(string.format("--bench is for profiles of Go benchmarks; run %s is a %s run", entry.id:sub(1, 8),
      tostring(rec.type)))
  end
  if mode then
    local code = mode.view(entry, args)
    if code then return code end
  end
  print(summary(entry))
  for _, name in ipairs({ "stdout.txt", "stderr.txt" }) do
    local path = fs.join(entry.dir, name)
    if fs.is_file(path) then
      print(string.format("%s: %s", name, path))
      local text = M.tail(path, 15)
      if text ~= "" then io.stdout:write(text, text:sub(-1) == "\n" and "" or "\n") end
    end
  end
  return 0
end

return M
