--- Several hosts at once: `perfgo test ... --remote-host a,b,c` starts
--- one perfgo per host (the same command line with that host alone, so
--- each host's run is exactly a single-host run), at most --parallel at a
--- time, and ties their records with a group id (perfgo.group). Their
--- output is shown live, each line after its host's name; Ctrl-C reaches
--- every host's perfgo (which stops its test and keeps what it measured).
--- At the end: a table of the hosts (status, exit code, time, key
--- numbers) and the worst host's exit code. A host that fails leaves the
--- others running; a host whose perfgo ended before its run was recorded
--- (it could not connect, perf is missing there) gets a record saying so.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local group = require "perfgo.group"

local M = {}

M.DEFAULT_PARALLEL = 8

--- The hosts the --remote-host values name (each value may name several,
--- comma-separated), in order; empty items are skipped, a host named
--- twice is a user error.
---@param values string|string[]|nil
---@return string[]
function M.hosts(values)
  if type(values) ~= "table" then values = { values } end
  local out, seen = {}, {}
  for _, v in ipairs(values) do
    for h in (tostring(v) .. ","):gmatch("([^,]*),") do
      h = h:match("^%s*(.-)%s*$")
      if h ~= "" then
        if seen[h] then errors.user(string.format("--remote-host: host '%s' is given twice", h)) end
        seen[h] = true
        out[#out + 1] = h
      end
    end
  end
  return out
end

--- The group this perfgo runs one host of (perfgo.group.member), when
--- it was started for that host; else nil.
---@param host string|nil
---@return table|nil
function M.member_for(host)
  local m = group.member()
  if m and m.host == host then return m end
  return nil
end

-- Whether the perfgo of a process id still runs (on this machine).
local function alive(pid)
  return pid ~= nil and fs.exists("/proc/" .. pid)
end

--- The build step of one host's run in a group: the first host's perfgo
--- to need a platform builds the binary and shares it (a hard link in the
--- group's build directory); the others wait for it and link it into
--- their run directory instead of building again. When the build failed
--- or its perfgo went away, each builds its own (and shows the compiler's
--- words). Only the go rule's binaries are shared: they depend on nothing
--- but the platform and the flags, which are the same on every host.
---@param ctx table
function M.build(ctx)
  local dir = ctx.group and ctx.group.builds
  if not dir or ctx.rule_name ~= "go" or not fs.is_dir(dir) then return ctx.rule.build(ctx) end
  local lfs = require "lfs"
  local proc = require "perfgo.proc"
  local p = ctx.target.platform
  local key = fs.join(dir, p.os .. "-" .. p.arch)
  if lfs.mkdir(key .. ".lock") then
    fs.write_atomic(fs.join(key .. ".lock", "pid"), tostring(require("perfgo.history").self().pid))
    local ok, err = pcall(ctx.rule.build, ctx)
    if ok and ctx.binary and lfs.link(ctx.binary.path, key .. ".bin") then
      fs.write_atomic(key .. ".done", ctx.binary.name)
    else
      fs.write_atomic(key .. ".failed", "")
    end
    if not ok then error(err, 0) end
    return
  end
  ui.step("waiting for the %s/%s binary another host's run is building", p.os, p.arch)
  -- a child that does nothing is the clock to wait on (it wakes at a signal)
  local clock = proc.spawn({ "sleep", "3600" }, { stdin = "null", stdout = "null", stderr = "null" })
  local waited = 0
  while true do
    local name = fs.read(key .. ".done")
    if name then
      local out = fs.join(ctx.run.dir, name)
      if clock then clock:kill("KILL"); clock:wait() end
      if not lfs.link(key .. ".bin", out) then return ctx.rule.build(ctx) end
      ui.step("using the %s/%s binary built for another host", p.os, p.arch)
      ctx.binary = { path = out, name = name }
      return
    end
    local pid = tonumber(fs.read(fs.join(key .. ".lock", "pid")) or "")
    if fs.exists(key .. ".failed") or (pid and not alive(pid)) or (not pid and waited > 50)
      or not clock then
      if clock then clock:kill("KILL"); clock:wait() end
      return ctx.rule.build(ctx)
    end
    if proc.interrupted() then
      clock:kill("KILL"); clock:wait()
      return -- the run stops before its next step
    end
    clock:wait(0.1)
    waited = waited + 1
  end
end

-- Options of ours that a host's perfgo must not get: the hosts and
-- --parallel (it is given its one host).
local DROP = { ["--remote-host"] = true, ["--parallel"] = true }

local function dropped(token)
  local name = token:match("^(%-%-[%w-]+)=")
  return name ~= nil and DROP[name]
end

--- The command line of one host's perfgo: perfgo's global flags, the
--- command, the mode, `--remote-host HOST`, the command's other flags
--- (and the package), then "--" and what belongs to the test.
---@param argv string[] perfgo's own arguments as given
---@param cmd table the command module (split_args)
---@param host string
---@return string[]
function M.child_argv(argv, cmd, host)
  local ci
  for i, a in ipairs(argv) do
    if a == "--" then break end
    if a:sub(1, 1) ~= "-" and argv[i - 1] ~= "--config" then ci = i; break end
  end
  assert(ci, "no command in the arguments")
  local out = { table.unpack(argv, 1, ci) }
  local own, rest = cmd.split_args({ table.unpack(argv, ci + 1) })
  out[#out + 1] = own[1]
  out[#out + 1] = "--remote-host"
  out[#out + 1] = host
  local i = 2
  while i <= #own do
    local a = own[i]
    if DROP[a] then
      i = i + 1
    elseif not dropped(a) then
      out[#out + 1] = a
    end
    i = i + 1
  end
  out[#out + 1] = "--"
  for _, a in ipairs(rest) do out[#out + 1] = a end
  return out
end

-- What is checked here, once, before any host is contacted: the perf
-- options and what the rule resolves (the package). A mistake stops
-- everything with one line and nothing recorded, as for one host.
local function check_locally(spec, args)
  require("perfgo.runopts").validate(args.mode, args)
  local git = require "perfgo.git"
  local ctx = { mode_name = args.mode, mode = require("perfgo.modes").require(args.mode), opts = args,
    package_arg = args.package, passthrough = args.passthrough,
    cwd = fs.abspath("."), command_name = spec.command_name }
  local root = git.root(ctx.cwd)
  ctx.repo = { root = root or ctx.cwd, git = root ~= nil }
  if root then ctx.git = git.info(root) end
  ctx.rule = require("perfgo.rules").load(spec.rule_name, ctx.repo.root)
  ctx.rule.resolve(ctx)
  return ctx
end

-- Output of a host's perfgo: read from its files as they grow, written
-- out line by line after the host's name.
local function pump(m, final)
  for _, s in ipairs(m.streams) do
    if not s.f then s.f = io.open(s.path, "rb") end
    if s.f then
      s.f:seek("set", s.offset)
      local data = s.f:read("a") or ""
      s.offset = s.offset + #data
      local buf = s.partial .. data
      local last = 1
      for line, stop in buf:gmatch("([^\n]*)\n()") do
        s.write(m.prefix .. line .. "\n")
        last = stop
      end
      s.partial = buf:sub(last)
      if final and s.partial ~= "" then
        s.write(m.prefix .. s.partial .. "\n")
        s.partial = ""
      end
    end
  end
end

-- The last thing a host's perfgo said about why it stopped.
local function last_message(m)
  local text = fs.read(m.streams[2].path) or ""
  local msg
  for line in text:gmatch("[^\n]+") do
    local s = line:match("^perfgo: (.*)$")
    if s and not s:match("^warning: ") then msg = s end
  end
  return msg
end

-- A record for a host whose perfgo ended before it recorded its run:
-- status error (or interrupted), its exit code and last message, and its
-- output as stderr.txt.
local function record_missing(m, ctx, spec, signal)
  local history = require "perfgo.history"
  local json = require "perfgo.json"
  local run, err = history.new_run(ctx.repo.root, m.run_id)
  if not run then errors.fail(1, err) end
  run.started, run.t0 = m.started, m.t0
  if fs.copy(m.streams[2].path, fs.join(run.dir, "stderr.txt")) then
    history.add_artifact(run, "stderr", "stderr.txt")
  end
  local interrupted = signal ~= nil and m.code > 128
  local me = history.self()
  local code = m.code ~= 0 and m.code or 1
  local ok, werr = history.write(run, {
    id = m.run_id, type = ctx.mode_name, command = spec.command_name, timestamp = history.timestamp(m.started),
    args = json.array({ table.unpack(m.argv, 2) }), workdir = ctx.cwd,
    package = ctx.package and { pattern = ctx.package.pattern, import_path = ctx.package.import_path,
      path = ctx.package.rel } or nil,
    status = interrupted and "interrupted" or "error",
    exit_code = code,
    error = last_message(m) or string.format("perfgo for %s ended with exit code %d before the run was recorded",
      m.host, m.code),
    signal = interrupted and require("perfgo.workflow").signal_name(m.code - 128) or nil,
    interrupted = interrupted,
    failed_step = "resolve",
    duration = math.floor((m.ended - m.t0) * 1000 + 0.5) / 1000,
    host = me.host, pid = me.pid, pid_start = me.pid_start, boot_id = me.boot_id,
    git = ctx.git and { commit = ctx.git.commit, branch = ctx.git.branch, dirty = ctx.git.dirty } or nil,
    target = { remote_host = m.host },
    group = group.record_field({ id = m.group_id, host = m.host, index = m.index, size = m.size }),
    artifacts = run.artifacts,
  })
  if not ok then errors.fail(1, werr) end
end

-- How bad an outcome is, for the group's exit code.
local RANK = { ok = 1, failed = 2, interrupted = 3, error = 4, abandoned = 4, running = 4 }

--- Runs the command on every host. spec: {command_name, rule_name,
--- module} (the command module: split_args rebuilds each host's command
--- line). Returns the worst host's exit code (128+N when perfgo itself
--- was interrupted).
---@param spec table
---@param args table parsed arguments (args.argv: as given)
---@param hosts string[]
---@return integer
function M.run(spec, args, hosts)
  local proc = require "perfgo.proc"
  local sys = require "perfgo.sys"
  local runsel = require "perfgo.select"
  local parallel = args.parallel or M.DEFAULT_PARALLEL
  local ctx = check_locally(spec, args)
  local exe = require("perfgo.host").exe
  if type(exe) ~= "string" or exe == "" then errors.fail(1, "cannot tell where the perfgo program is") end
  local gid = sys.random_id()
  local logs = fs.join(ctx.repo.root, ".perfgo", "groups", gid)
  local builds = fs.join(logs, "builds")
  local ok, err = fs.mkdir_p(builds)
  if not ok then errors.fail(1, "cannot create " .. logs .. ": " .. tostring(err)) end
  local width = 0
  for _, h in ipairs(hosts) do width = math.max(width, #h) end
  local progress = ui.steps_shown() and "1" or "0"
  local members = {}
  for i, h in ipairs(hosts) do
    local m = { host = h, index = i, size = #hosts, group_id = gid, run_id = sys.random_id(),
      prefix = string.format("%-" .. width .. "s | ", h) }
    m.argv = M.child_argv(args.argv, spec.module, h)
    table.insert(m.argv, 1, exe)
    m.streams = {
      { path = fs.join(logs, i .. ".out"), offset = 0, partial = "", write = ui.out },
      { path = fs.join(logs, i .. ".err"), offset = 0, partial = "", write = ui.err },
    }
    members[i] = m
  end
  ui.step("group %s: %s on %d hosts (%d at a time): %s", gid:sub(1, 8), args.mode, #hosts,
    math.min(parallel, #hosts), table.concat(hosts, ", "))

  proc.hold_signals()
  local running, next_up = {}, 1
  local function start(m)
    m.started, m.t0 = sys.realtime(), sys.monotonic()
    local child, why = proc.spawn(m.argv, {
      stdin = "null",
      stdout = { file = m.streams[1].path },
      stderr = { file = m.streams[2].path },
      env = { [group.ENV] = group.env_value(m), [group.BUILDS_ENV] = builds, PERFGO_PROGRESS = progress },
    })
    if not child then
      m.code, m.ended = 126, sys.monotonic()
      local f = io.open(m.streams[2].path, "wb")
      if f then f:write("perfgo: cannot start perfgo: ", tostring(why), "\n"); f:close() end
      return
    end
    m.child = child
    running[#running + 1] = m
  end
  local function finish(m, st)
    m.code, m.ended = st.code, sys.monotonic()
    pump(m, true)
    m.child = nil
  end
  local loop_ok, loop_err = pcall(function()
    while next_up <= #members or #running > 0 do
      while not proc.interrupted() and #running < parallel and next_up <= #members do
        start(members[next_up])
        next_up = next_up + 1
      end
      if proc.interrupted() then next_up = #members + 1 end
      local still = {}
      for i, m in ipairs(running) do
        pump(m, false)
        local st = m.child:wait(i == 1 and 0.1 or 0)
        if st then finish(m, st) else still[#still + 1] = m end
      end
      running = still
    end
  end)
  for _, m in ipairs(running) do
    if m.child then m.child:kill("KILL"); finish(m, m.child:wait()) end
  end
  local signal = proc.interrupted()
  proc.release_signals()
  if not loop_ok then error(loop_err, 0) end

  -- every host that started has a record
  for _, m in ipairs(members) do
    if m.code and not fs.is_file(fs.join(ctx.repo.root, ".perfgo", "history", m.run_id, "testrun.json")) then
      local rok, rerr = pcall(record_missing, m, ctx, spec, signal)
      if not rok then ui.warn("the run on %s could not be recorded: %s", m.host, errors.message(rerr)) end
    end
  end
  fs.remove_tree(logs)
  require("lfs").rmdir(fs.dirname(logs)) -- when no other group is under way

  local runs = runsel.runs(ctx.repo.root)
  local by_id = {}
  for _, e in ipairs(runs) do by_id[e.id] = e end
  local rows, worst, worst_rank, counts = {}, nil, 0, {}
  for _, m in ipairs(members) do
    local e = by_id[m.run_id]
    if e then
      rows[#rows + 1] = { host = m.host, entry = e }
      local status = e.status or "error"
      counts[status] = (counts[status] or 0) + 1
      local rank = RANK[status] or 4
      if rank > worst_rank then
        worst, worst_rank = (e.record and math.tointeger(e.record.exit_code)) or m.code or 1, rank
      end
    else
      rows[#rows + 1] = { host = m.host, status = "not run",
        note = m.code and "no record" or "not started: interrupted before its turn" }
      counts["not run"] = (counts["not run"] or 0) + 1
    end
  end
  ui.out("\n" .. group.status_table(rows))
  local tally = {}
  for _, s in ipairs({ "ok", "failed", "error", "interrupted", "abandoned", "running", "not run" }) do
    if counts[s] then tally[#tally + 1] = counts[s] .. " " .. s end
  end
  ui.info("group %s: %s; compare the hosts with 'perfgo compare --group %s'", gid:sub(1, 8),
    table.concat(tally, ", "), gid:sub(1, 8))
  if signal then return 128 + signal end
  return worst or 0
end

return M
