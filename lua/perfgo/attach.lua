--- `perfgo attach`: the processes to attach to, found on the target
--- (this machine or a remote host, through perfgo.Target) by pid or by a
--- regular expression over their command names and lines; the checks
--- that perf may attach to them; the timer perf runs beside them (it ends
--- the recording after --duration, or when every process has exited);
--- their binaries copied here by content hash for symbolization.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"

local M = {}

--- Seconds from a duration: "30s", "2.5s", "500ms", "2m", "1h", or a bare
--- number of seconds; nil and why not.
---@param v string
---@return number|nil, string?
function M.parse_duration(v)
  local num, unit = tostring(v):match("^(%d+%.?%d*)(%a*)$")
  local scale = ({ [""] = 1, s = 1, ms = 0.001, m = 60, h = 3600 })[unit or "?"]
  local n = tonumber(num)
  if not n or not scale or n * scale < 0.01 then
    return nil, string.format("--duration: '%s' is not a duration (like 30s, 500ms, 2m; at least 10ms)", tostring(v))
  end
  return n * scale
end

-- Every process on the target: pid -> {pid, ppid, uid, state, comm,
-- args}, and the uid perfgo runs as there. One helper command (ps, from
-- procps).
local function processes(target)
  local r = target:run({ "sh", "-c", "ps -eo pid=,ppid=,uid=,stat=,comm= && echo -- && ps -eo pid=,args= && "
    .. "echo -- && id -u" }, { stdin = "null" })
  if not r or r.code ~= 0 then
    errors.fail(1, string.format("cannot list the processes on %s (ps -e): %s", target.description,
      r and ((r.stderr or ""):gsub("%s+$", "")) or "no result"))
  end
  local part1, part2, uid = (r.stdout or ""):match("^(.-)\n%-%-\n(.-)\n%-%-\n(%d+)")
  if not part1 then errors.fail(1, "unexpected output of ps -e on " .. target.description) end
  local all = {}
  for line in part1:gmatch("[^\n]+") do
    local pid, ppid, puid, state, comm = line:match("^%s*(%d+)%s+(%d+)%s+(%d+)%s+(%S+)%s(.*)$")
    if pid then
      all[tonumber(pid)] = { pid = tonumber(pid), ppid = tonumber(ppid), uid = tonumber(puid),
        state = state:sub(1, 1), comm = (comm:gsub("^%s+", ""):gsub("%s+$", "")) }
    end
  end
  for line in part2:gmatch("[^\n]+") do
    local pid, args = line:match("^%s*(%d+)%s(.*)$")
    local p = pid and all[tonumber(pid)]
    if p then p.args = (args:gsub("^%s+", ""):gsub("%s+$", "")) end
  end
  return all, tonumber(uid)
end

-- The line numbers (1-based) of the lines of text that the extended
-- regular expression re matches (grep -E, here), or a user error for a
-- bad expression.
local function grep_lines(re, lines)
  local proc = require "perfgo.proc"
  local r = proc.run({ "grep", "-n", "-E", "-e", re }, { input = table.concat(lines, "\n") .. "\n", timeout = 60 })
  if r.code == 2 or (r.code ~= 0 and r.code ~= 1) then
    errors.fail(2, string.format("--name: '%s' is not a regular expression: %s", re,
      ((r.stderr or ""):gsub("^grep: ", ""):gsub("%s+$", ""))))
  end
  local out = {}
  for n in (r.stdout or ""):gmatch("(%d+):[^\n]*") do out[tonumber(n)] = true end
  return out
end

-- This perfgo process and its ancestors (never attached to by --name).
local function own_processes(all)
  local mine = {}
  local pid = tonumber((fs.read("/proc/self/stat") or ""):match("^(%d+)"))
  while pid and pid > 1 and not mine[pid] do
    mine[pid] = true
    pid = all[pid] and all[pid].ppid
  end
  return mine
end

-- The processes --name selects: command name or command line matching
-- re, but never one that has exited (a zombie), perfgo itself, the shells that started it, or any other
-- process whose command line holds this very --name argument.
local function by_name(all, re, exclude)
  local list = {}
  for _, p in pairs(all) do list[#list + 1] = p end
  table.sort(list, function(a, b) return a.pid < b.pid end)
  local comms, args = {}, {}
  for i, p in ipairs(list) do comms[i] = p.comm; args[i] = p.args or "" end
  local mc, ma = grep_lines(re, comms), grep_lines(re, args)
  local found = {}
  for i, p in ipairs(list) do
    local invocation = p.args and (p.args:find("--name " .. re, 1, true) or p.args:find("--name=" .. re, 1, true))
    if (mc[i] or ma[i]) and not exclude[p.pid] and not invocation and p.state ~= "Z" then
      found[#found + 1] = p
    end
  end
  return found
end

-- The descendants of the given processes (their children, recursively).
local function descendants(all, roots)
  local kids = {}
  for _, p in pairs(all) do
    kids[p.ppid] = kids[p.ppid] or {}
    table.insert(kids[p.ppid], p)
  end
  local out, seen, queue = {}, {}, {}
  for _, p in ipairs(roots) do seen[p.pid] = true; queue[#queue + 1] = p end
  local i = 1
  while queue[i] do
    for _, c in ipairs(kids[queue[i].pid] or {}) do
      if not seen[c.pid] then
        seen[c.pid] = true
        queue[#queue + 1] = c
        out[#out + 1] = c
      end
    end
    i = i + 1
  end
  table.sort(out, function(a, b) return a.pid < b.pid end)
  return out
end

-- The name of a user id on the target, for messages.
local function user_name(target, uid)
  local r = target:run({ "sh", "-c", "getent passwd \"$1\" | cut -d: -f1", "perfgo-user", tostring(uid) },
    { stdin = "null" })
  local name = r and (r.stdout or ""):match("^([^\n]+)")
  return name or ("uid " .. tostring(uid))
end

--- A process as messages show it: "4242 (hot)".
---@param p table
---@return string
function M.label(p)
  return string.format("%d (%s)", p.pid, p.comm or "?")
end

--- Finds the processes the options name on the target (--pid, --name,
--- --children) and checks that perf may attach to them: a user error
--- (exit 2) when none is found, a pid is not there, or one belongs to
--- another user while perfgo is not root there. Prints what it attaches
--- to. Returns ctx.attach's description.
---@param ctx perfgo.Context
---@return table
function M.find(ctx)
  local opts, target = ctx.opts, ctx.target
  local all, uid = processes(target)
  local chosen, seen = {}, {}
  local function add(p)
    if not seen[p.pid] then seen[p.pid] = true; chosen[#chosen + 1] = p end
  end
  for _, pid in ipairs(opts.pid or {}) do
    local p = all[pid]
    if not p then
      errors.fail(2, string.format("--pid %d: no such process on %s", pid, target.description))
    elseif p.state == "Z" then
      errors.fail(2, string.format("--pid %d: process %s on %s has exited (its parent has not reaped it yet)", pid,
        M.label(p), target.description))
    end
    add(p)
  end
  if opts.name then
    local exclude = target.kind == "local" and own_processes(all) or {}
    local found = by_name(all, opts.name, exclude)
    if #found == 0 then
      errors.fail(2, string.format("--name '%s': no process on %s has a command name or line that matches",
        opts.name, target.description))
    end
    if #found > 1 then
      local names = {}
      for i, p in ipairs(found) do names[i] = M.label(p) end
      ui.info("--name '%s' matches %d processes: %s", opts.name, #found, table.concat(names, ", "))
    end
    for _, p in ipairs(found) do add(p) end
  end
  if opts.children then
    local kids = {}
    for _, c in ipairs(descendants(all, chosen)) do
      if c.state ~= "Z" and not seen[c.pid] then kids[#kids + 1] = M.label(c); add(c) end
    end
    ui.info("--children: %d descendant%s%s", #kids, #kids == 1 and "" or "s",
      #kids > 0 and (": " .. table.concat(kids, ", ")) or " (perf follows those started while it records)")
  end
  if uid ~= 0 then
    for _, p in ipairs(chosen) do
      if p.uid ~= uid then
        local owner = user_name(target, p.uid)
        errors.fail(2, string.format("process %s on %s belongs to %s, and perfgo runs as %s there: perf attaches "
          .. "only to your own processes unless it runs as root. Run perfgo as root (sudo)%s",
          M.label(p), target.description, owner, user_name(target, uid), p.uid == 0 and "" or (" or as " .. owner)))
      end
    end
  end
  local pids = {}
  for i, p in ipairs(chosen) do pids[i] = p.pid end
  local what = {}
  for i, p in ipairs(chosen) do what[i] = M.label(p) end
  ui.step("attaching to %s on %s", table.concat(what, ", "), target.description)
  return { processes = chosen, pids = pids, duration = ctx.attach_duration }
end

--- The timer perf runs beside the processes (perf's workload, which perf
--- never measures when it attaches with -p): it ends after `seconds`
--- (nil: never), or as soon as none of the processes is left (a zombie
--- counts as gone), saying which exited; SIGINT/SIGTERM end it quietly
--- (perf ends it so when every process has gone first).
---@param pids integer[]
---@param seconds number|nil
---@return string[]
function M.timer_argv(pids, seconds)
  local script = [[
trap 'report "$@"; exit 0' INT TERM HUP
cs() { read -r u _ </proc/uptime; echo "${u%.*}${u#*.}"; }
gone() {
  s=; read -r s <"/proc/$1/stat" 2>/dev/null || return 0
  s=${s##*) }; case $s in Z*|X*) return 0;; esac; return 1
}
said=
report() {
  for p in "$@"; do
    case " $said " in *" $p "*) continue;; esac
    if gone "$p"; then said="$said $p"; echo "perfgo: process $p exited during the recording" >&2; fi
  done
}
d=$1; shift
end=$(( $(cs) + d ))
while :; do
  report "$@"
  alive=
  for p in "$@"; do gone "$p" || alive=1; done
  if [ -z "$alive" ]; then echo "perfgo: every attached process has exited: the recording ends" >&2; exit 0; fi
  if [ "$d" -gt 0 ]; then
    left=$(( end - $(cs) ))
    [ "$left" -le 0 ] && exit 0
    if [ "$left" -le 20 ]; then sleep "$((left / 100)).$((left / 10 % 10))$((left % 10))"; report "$@"; exit 0; fi
  fi
  sleep 0.2
done]]
  local argv = { "sh", "-c", script, "perfgo-attach-timer",
    tostring(seconds and math.max(1, math.floor(seconds * 100 + 0.5)) or 0) }
  for _, p in ipairs(pids) do argv[#argv + 1] = tostring(p) end
  return argv
end

--- The processes' binaries (/proc/PID/exe: what runs, even when the file
--- was deleted or replaced since it started) copied into the run
--- directory as dsos/<hash>-<name>, each once; returns the path map for
--- the conversion (the path perf records -> the copy) and the notes.
---@param ctx perfgo.Context
---@return table<string, string> path_map
function M.fetch_binaries(ctx)
  local proc = require "perfgo.proc"
  local history = require "perfgo.history"
  local target, run = ctx.target, ctx.run
  local info = ctx.attach
  local argv = { "sh", "-c", [[for p; do printf '%s\t%s\n' "$p" "$(readlink "/proc/$p/exe" 2>/dev/null)"; done]],
    "perfgo-exe" }
  for _, p in ipairs(info.pids) do argv[#argv + 1] = tostring(p) end
  local r = target:run(argv, { stdin = "null" })
  local by_pid = {}
  for _, p in ipairs(info.processes) do by_pid[p.pid] = p end
  local want, first = {}, {}
  local dir = fs.join(run.dir, "dsos")
  for pid, exe in ((r and r.stdout) or ""):gmatch("(%d+)\t([^\n]*)") do
    local p = by_pid[tonumber(pid)]
    if p and exe ~= "" then
      p.exe = exe
      if exe:match(" %(deleted%)$") then
        p.deleted = true
        ui.warn("the binary of process %s, %s, was deleted or replaced since it started: read through "
          .. "/proc/%d/exe", M.label(p), exe:gsub(" %(deleted%)$", ""), p.pid)
      end
      if not first[exe] then
        first[exe] = true
        want[#want + 1] = { string.format("/proc/%d/exe", p.pid), fs.join(dir, ".incoming-" .. (#want + 1)), exe }
      end
    end
  end
  local map = {}
  if #want == 0 then return map end
  fs.mkdir_p(dir)
  local missing, added = {}, {}
  for _, m in ipairs(target:get_many(want)) do missing[m] = true end
  for _, w in ipairs(want) do
    local hash
    if not missing[w[1]] then
      local sum = proc.run({ "sha256sum", w[2] }, { stdin = "null", timeout = 120 })
      hash = (sum.stdout or ""):match("^(%x+)")
    end
    if hash then
      local name = hash:sub(1, 16) .. "-" .. fs.basename((w[3]:gsub(" %(deleted%)$", "")))
      local dest = fs.join(dir, name)
      os.rename(w[2], dest)
      map[w[3]] = dest
      if not added[name] then history.add_artifact(run, "dso", "dsos/" .. name) end
      added[name] = true
    else
      os.remove(w[2])
      ui.warn("could not read %s (%s) on %s: its frames will have addresses but no names", w[1], w[3],
        target.description)
    end
  end
  return map
end

--- Which of the processes are gone after the recording (one helper
--- command on the target); a note for each.
---@param ctx perfgo.Context
---@return integer[] exited pids
function M.exited(ctx)
  local info = ctx.attach
  local argv = { "sh", "-c", [[for p; do s=; read -r s <"/proc/$p/stat" 2>/dev/null || { echo "$p"; continue; }
s=${s##*) }; case $s in Z*|X*) echo "$p";; esac; done]], "perfgo-gone" }
  for _, p in ipairs(info.pids) do argv[#argv + 1] = tostring(p) end
  local ok, r = pcall(ctx.target.run, ctx.target, argv, { stdin = "null" })
  local out = {}
  if not ok or not r then return out end
  for pid in (r.stdout or ""):gmatch("(%d+)") do out[#out + 1] = tonumber(pid) end
  return out
end

--- What the record says of the processes: their pids and command names
--- (each once) for its `target`, and its `attach` section: the duration
--- asked for, and each process (pid, user id, command name and line,
--- binary, whether that was deleted, whether it exited while perf
--- recorded).
---@param a table ctx.attach
---@return {pids: table, names: table, section: table}
function M.record(a)
  local json = require "perfgo.json"
  local names, seen, exited = json.array({}), {}, {}
  for _, pid in ipairs(a.exited or {}) do exited[pid] = true end
  local list = json.array({})
  for _, p in ipairs(a.processes) do
    if not seen[p.comm] then seen[p.comm] = true; names[#names + 1] = p.comm end
    list[#list + 1] = { pid = p.pid, uid = p.uid, comm = p.comm, args = p.args, exe = p.exe,
      deleted = p.deleted or nil, exited = exited[p.pid] or nil }
  end
  return {
    pids = json.array(a.pids),
    names = names,
    section = { duration = a.duration and math.floor(a.duration * 1000 + 0.5) / 1000 or nil, processes = list,
      exited = a.exited and json.array(a.exited) or nil },
  }
end

return M
