--- `perfgo view`: open a recorded run: a profile in pprof, a stat run's
--- table, or a plain run's output.
local fs = require "perfgo.fs"
local errors = require "perfgo.errors"
local runsel = require "perfgo.select"

local M = {
  name = "view",
  summary = "Open a recorded run (profile in pprof, stat table, or output).",
}

function M.define(cmd)
  cmd:usage("Usage: perfgo view [0 | -N | ID-PREFIX] [--] [pprof flags...]")
  cmd:description([[
Opens one recorded run: 0 (the default) is the latest, -1 the one before,
or give a prefix of its id (perfgo list shows them). A profile run opens
perf.pb.gz with `go tool pprof` (or `pprof` when installed), passing the
remaining flags (-top, -http=:8080, -list FUNC, ...); without flags and
without a terminal it prints -top. A stat run prints its table; a plain run
its output paths and the last lines.]])
  cmd:argument("run", "Which run."):args("?")
end

--- view's own arguments: the selector (which may look like a flag, -1);
--- everything else goes to pprof.
M.split_args = function(argv)
  local own, rest = {}, {}
  local i = 1
  if argv[1] and argv[1] ~= "--" and (argv[1]:match("^%-?%d+$") or argv[1]:match("^%x+$")) then
    own[1] = argv[1]:gsub("^%-", "N")
    i = 2
  elseif argv[1] == "-h" or argv[1] == "--help" then
    return { argv[1] }, {}
  end
  if argv[i] == "--" then i = i + 1 end
  for k = i, #argv do rest[#rest + 1] = argv[k] end
  return own, rest
end

local function tail(path, n)
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

function M.run(args)
  local sel = args.run and args.run:gsub("^N", "-") or "0"
  local entry = runsel.pick(runsel.runs(runsel.repo_root()), sel)
  local rec = entry.record
  if not rec then
    errors.user(string.format("run %s cannot be read: %s (%s)", entry.id:sub(1, 8), entry.problem, entry.dir))
  end
  local profile = fs.join(entry.dir, "perf.pb.gz")
  if rec.type == "profile" and fs.is_file(profile) then
    local argv = M.pprof_argv()
    local flags = args.passthrough or {}
    if #flags == 0 and not require("perfgo.sys").isatty(1) then flags = { "-top" } end
    for _, f in ipairs(flags) do argv[#argv + 1] = f end
    argv[#argv + 1] = profile
    local r = require("perfgo.proc").run(argv, { stdin = "inherit", stdout = "inherit", stderr = "inherit" })
    return r.code or 1
  end
  if rec.type == "stat" and fs.is_file(fs.join(entry.dir, "stat.txt")) then
    io.stdout:write(fs.read(fs.join(entry.dir, "stat.txt")))
    return 0
  end
  if rec.type == "c2c" and fs.is_file(fs.join(entry.dir, "c2c.txt")) then
    print("c2c report: " .. fs.join(entry.dir, "c2c.txt"))
    io.stdout:write(tail(fs.join(entry.dir, "c2c.txt"), 40))
    return 0
  end
  local code = math.type(rec.exit_code) == "float" and math.tointeger(rec.exit_code) or rec.exit_code
  print(string.format("run %s (%s, exit %s)", entry.id:sub(1, 8), tostring(rec.type), tostring(code)))
  for _, name in ipairs({ "stdout.txt", "stderr.txt" }) do
    local path = fs.join(entry.dir, name)
    print(string.format("%s: %s", name, path))
    local text = tail(path, 15)
    if text ~= "" then io.stdout:write(text, text:sub(-1) == "\n" and "" or "\n") end
  end
  return 0
end

return M
