--- A run's remote host: one SSH master of its own (one authentication),
--- one agent on the host for the whole run (perfgo.remote_scripts) that
--- answers the short commands (facts, perf reports, file fetches) without
--- a new SSH session each, one rsync for the tree and the test binary, and
--- sessions only for what streams (the test, perf script).
---
--- Nothing here is global: every run (or every host of a run) has its own
--- Host object, master, agent and remote directory, so any number of them
--- can work at once, in one perfgo or in several.
---
--- Failures: a connection that is lost or stalls raises
--- errors.fail(75, "connection to HOST lost while STEP"); a helper that
--- outlives its time limit raises errors.fail(1, ...); Ctrl-C raises
--- errors.fail(130, ...). Every result from the host is checked.
local ssh = require "perfgo.ssh"
local proc = require "perfgo.proc"
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local scripts = require "perfgo.remote_scripts"

local M = {}

--- Exit code of a run whose connection was lost.
M.LOST = 75

--- Seconds a helper command may take ($PERFGO_HELPER_TIMEOUT).
function M.helper_timeout()
  return tonumber(os.getenv("PERFGO_HELPER_TIMEOUT") or "") or 300
end

--- Seconds the perf event probe may take.
M.PROBE_TIMEOUT = 30

-- How long the host waits without a heartbeat before it ends the run:
-- longer than ssh's own ServerAlive detection, so that perfgo names the
-- lost connection first.
local function stall_seconds(options)
  local interval = tonumber(options.ServerAliveInterval or "") or 5
  local count = tonumber(options.ServerAliveCountMax or "") or 3
  return math.max(10, math.min(60, 4 * interval * count))
end

local Host = {}
Host.__index = Host

--- Parses --ssh-option values (KEY=VALUE) into a table.
---@param list string[]|nil
---@return table<string, string>
function M.ssh_options(list)
  local options = {}
  for _, kv in ipairs(list or {}) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if not k then errors.user(string.format("--ssh-option %s: expected KEY=VALUE", kv)) end
    options[k] = v
  end
  return options
end

--- Opens the SSH master (no agent): for `perfgo clean` and other one-shot
--- work. Raises a user error when it cannot connect.
---@param o {host: string, config?: string, options?: table}
---@return table session
function M.session(o)
  require("perfgo.programs").require("ssh")
  local session, err = ssh.connect({ host = o.host, config = o.config, options = o.options, persist = 30 })
  if not session then
    errors.fail(1, string.format("cannot connect to %s: %s", o.host, err))
  end
  return session
end

-- Buffered reads from the agent's channel, with a deadline.
local function fill(self, deadline)
  local left = deadline - require("perfgo.sys").monotonic()
  if left <= 0 then return nil, "timeout" end
  local chunk, why = self.channel:read(left)
  if not chunk then return nil, why end
  self.buf = self.buf .. chunk
  return true
end

local function read_line(self, deadline)
  while true do
    local i = self.buf:find("\n", 1, true)
    if i then
      local line = self.buf:sub(1, i - 1)
      self.buf = self.buf:sub(i + 1)
      return line
    end
    local ok, why = fill(self, deadline)
    if not ok then return nil, why end
  end
end

local function read_bytes(self, n, deadline)
  while #self.buf < n do
    local ok, why = fill(self, deadline)
    if not ok then return nil, why end
  end
  local out = self.buf:sub(1, n)
  self.buf = self.buf:sub(n + 1)
  return out
end

--- Raises the error that explains why talking to the host failed: Ctrl-C,
--- a lost connection, or (what) failing with the host's own words.
---@param what string
---@param detail? string
function Host:fail(what, detail)
  self.broken = true
  if proc.interrupted() then
    errors.fail(130, string.format("interrupted while %s", self:step()))
  end
  if not self.session:alive() then
    errors.fail(M.LOST, string.format("connection to %s lost while %s", self.host, self:step()))
  end
  local said = self.channel and self.channel:stderr():gsub("%s+$", "") or ""
  errors.fail(1, string.format("%s on %s failed: %s", what, self.host,
    (detail and detail ~= "" and detail) or (said ~= "" and said) or "no message"))
end

--- What the run is doing, for messages ("syncing", "executing", ...).
function Host:step()
  return self.step_name and self.step_name() or "working"
end

-- Reads one answer of the agent: {code, stdout, stderr}.
local function read_frame(self, deadline, what)
  local head, why = read_line(self, deadline)
  if not head then return nil, why end
  local code, olen, elen = head:match("^R (%d+) (%d+) (%d+)$")
  if not code then self:fail(what, "the agent said: " .. head) end
  local out, why2 = read_bytes(self, tonumber(olen) + tonumber(elen), deadline)
  if not out then return nil, why2 end
  return { code = tonumber(code), stdout = out:sub(1, tonumber(olen)), stderr = out:sub(tonumber(olen) + 1) }
end

--- Connects and starts the run's agent; reads the host's facts.
---@param o {host: string, config?: string, options?: table, key: string, run_id: string, keep?: boolean,
---  events?: string[], step?: fun(): string}
---@return table host
function M.connect(o)
  local self = setmetatable({ host = o.host, buf = "", step_name = o.step, keep = o.keep }, Host)
  self.session = M.session(o)
  local events = o.events and #o.events > 0 and table.concat(o.events, ",") or nil
  local script = scripts.agent({ key = o.key, run_id = o.run_id, keep = o.keep, events = events,
    stall = stall_seconds(o.options or {}), probe_timeout = M.PROBE_TIMEOUT })
  local channel, err = self.session:channel(script, { heartbeat = 1 })
  if not channel then self:fail("starting perfgo's agent", err) end
  self.channel = channel
  local deadline = require("perfgo.sys").monotonic() + M.PROBE_TIMEOUT + 30
  -- Start-up files may print before the agent does: skip to its banner.
  while true do
    local line, why = read_line(self, deadline)
    if not line then
      if why == "timeout" then
        self:fail("starting perfgo's agent", "no answer within " .. (M.PROBE_TIMEOUT + 30) .. " s")
      end
      self:fail("starting perfgo's agent (its sh needs base64, mkdir and a writable cache directory)")
    end
    if line == "perfgo-agent 1" then break end
  end
  local f, why = read_frame(self, deadline, "reading the host's facts")
  if not f then self:fail("reading the host's facts", why) end
  self.facts = {}
  for k, v in f.stdout:gmatch("([%w_]+)=([^\n]*)") do self.facts[k] = v end
  local sysname, machine = (self.facts.uname or ""):match("^(%S+)%s+(%S+)")
  if not sysname then self:fail("reading the host's facts", "uname said '" .. (self.facts.uname or "") .. "'") end
  self.platform = { os = ssh.goos(sysname), arch = ssh.goarch(machine) }
  self.run_dir, self.repo_dir = self.facts.run, self.facts.repo
  self.pids = self.run_dir .. "/pids"
  -- the event probe's answer follows (code 127 when there was none to run)
  local p, pwhy = read_frame(self, deadline, "checking perf's events")
  if not p then self:fail("checking perf's events", pwhy) end
  if events and (self.facts.perf or "") ~= "" then self.probe = p end
  return self
end

--- What perf.preflight needs: whether perf is there, the sysctls, whether
--- we are root, and the event probe's result (run when the agent started).
---@return table facts perfgo.PerfFacts without the mode's flags
function Host:perf_facts()
  local f = self.facts
  local facts = {
    perf_found = (f.perf or "") ~= "",
    paranoid = f.perf_event_paranoid ~= "" and f.perf_event_paranoid or nil,
    kptr_restrict = f.kptr_restrict ~= "" and f.kptr_restrict or nil,
    root = tonumber(f.uid) == 0,
  }
  if self.probe then
    facts.probe = self.probe
    if facts.probe.code == 124 then
      errors.fail(1, string.format("perf did not answer within %d s on %s while checking the events",
        M.PROBE_TIMEOUT, self.host))
    end
  end
  return facts
end

--- Runs a sh script through the agent: {code, stdout, stderr, duration}.
--- Raises when it outlives `timeout` seconds, when the connection is lost,
--- or on Ctrl-C.
---@param script string
---@param what string names the command in messages
---@param timeout? number default M.helper_timeout()
function Host:request(script, what, timeout)
  if self.broken then self:fail(what, "the connection failed earlier") end
  timeout = timeout or M.helper_timeout()
  local sys = require "perfgo.sys"
  local t0 = sys.monotonic()
  local line = string.format("%d %s\n", math.ceil(timeout), ssh.base64(script))
  local ok, why = self.channel:write(line, 30)
  if not ok then self:fail(what, why) end
  local f, why2 = read_frame(self, t0 + timeout + 10, what)
  if not f then
    if why2 == "timeout" then
      self.broken = true
      errors.fail(1, string.format("%s did not finish within %d s on %s (PERFGO_HELPER_TIMEOUT sets the limit)",
        what, timeout, self.host))
    end
    self:fail(what, why2)
  end
  f.duration = sys.monotonic() - t0
  if f.code == 124 and f.duration >= timeout then
    errors.fail(1, string.format("%s did not finish within %d s on %s (PERFGO_HELPER_TIMEOUT sets the limit)",
      what, timeout, self.host))
  end
  return f
end

--- Runs argv through the agent, like proc.run with captured output
--- (opts: cwd, env, timeout, stdout = {file = path} to write stdout there).
---@param argv string[]
---@param opts? table
function Host:run(argv, opts)
  opts = opts or {}
  local script = ssh.command_script(argv, { cwd = opts.cwd, env = opts.env })
  local r = self:request(script, "'" .. table.concat({ argv[1], argv[2] }, " ") .. "'", opts.timeout)
  local out = { code = r.code, signal = nil, duration = r.duration, stdout = r.stdout, stderr = r.stderr,
    interrupted = false }
  if type(opts.stdout) == "table" and opts.stdout.file then
    local ok, err = fs.write_atomic(opts.stdout.file, r.stdout)
    if not ok then errors.fail(1, string.format("cannot write %s: %s", opts.stdout.file, err)) end
    out.stdout = ""
  end
  return out
end

--- Copies remote files here in one request; returns the list of paths
--- that could not be read.
---@param pairs_ {[1]: string, [2]: string}[] {remote, local} pairs
---@param what string
---@return string[] missing
function Host:fetch(pairs_, what)
  local argv = { "sh", "-c", [[for f in "$@"; do
  if [ -f "$f" ] && [ -r "$f" ]; then printf 'F %s\n' "$(($(wc -c <"$f")))"; cat -- "$f"; else echo 'F -1'; fi
done]], "perfgo-fetch" }
  for _, p in ipairs(pairs_) do argv[#argv + 1] = p[1] end
  local r = self:run(argv, { timeout = M.helper_timeout() })
  local data, pos, missing = r.stdout, 1, {}
  if #pairs_ > 1 then
    require("perfgo.ui").step("copied %d files (%s) from %s", #pairs_, require("perfgo.ui").bytes(#data), self.host)
  end
  for _, p in ipairs(pairs_) do
    local n, next_pos = data:match("^F (%-?%d+)\n()", pos)
    n = tonumber(n)
    if not n then self:fail(what, "unexpected answer while copying files") end
    if n < 0 then
      missing[#missing + 1] = p[1]
      pos = next_pos
    else
      local ok, err = fs.write_atomic(p[2], data:sub(next_pos, next_pos + n - 1))
      if not ok then errors.fail(1, string.format("cannot write %s: %s", p[2], err)) end
      pos = next_pos + n
    end
  end
  return missing
end

--- The environment every session command of the run gets: its process
--- groups are registered for the agent to end if perfgo goes away.
function Host:env(env)
  local out = { PERFGO_PIDS = self.pids }
  for k, v in pairs(env or {}) do out[k] = v end
  return out
end

--- Runs argv in a session of its own (for what streams: opts as
--- perfgo.ssh's run); checks for a lost connection.
function Host:run_session(argv, opts)
  opts = opts or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.env = self:env(opts.env)
  local r, err = self.session:run(argv, o)
  if not r then self:fail("running " .. tostring(argv[1]), err) end
  if proc.interrupted() then r.interrupted = true end
  if r.code == 255 and not r.interrupted and not self.session:alive() then
    self:fail("running " .. tostring(argv[1]))
  end
  return r
end

--- Like run_session but returns the child: its wait() raises on a lost
--- connection.
function Host:spawn_session(argv, opts)
  opts = opts or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.env = self:env(opts.env)
  local child, err = self.session:spawn(argv, o)
  if not child then self:fail("running " .. tostring(argv[1]), err) end
  local host = self
  return setmetatable({
    wait = function(_, t)
      local st, e = child:wait(t)
      if st and st.code == 255 and not proc.interrupted() and not host.session:alive() then
        host:fail("running " .. tostring(argv[1]))
      end
      return st, e
    end,
  }, { __index = function(_, k)
    local v = child[k]
    if type(v) == "function" then return function(_, ...) return v(child, ...) end end
    return v
  end })
end

local function number_of(text, label)
  local v = text:match(label .. ":%s*([%d,]+)")
  return v and tonumber((v:gsub(",", ""))) or nil
end

-- A local directory whose tree/ and bin/ point at the repository and the
-- binary's directory, with the NUL-separated list of what to send.
local function staging(files, root, binary)
  local lfs = require "lfs"
  local tmp = os.getenv("TMPDIR")
  if not tmp or tmp == "" then tmp = "/tmp" end
  local dir = tmp .. "/perfgo-sync." .. require("perfgo.sys").random_id():sub(1, 12)
  local made, merr = lfs.mkdir(dir)
  if not made then errors.fail(1, string.format("cannot create %s: %s", dir, merr)) end
  assert(lfs.link(root, dir .. "/tree", true))
  local names = {}
  for i, f in ipairs(files) do names[i] = "tree/" .. f end
  if binary then
    assert(lfs.link(fs.dirname(binary.path), dir .. "/bin", true))
    names[#names + 1] = "bin/" .. binary.name
  end
  local ok, err = fs.write_atomic(dir .. "/files", table.concat(names, "\0") .. "\0")
  if not ok then fs.remove_tree(dir); errors.fail(1, err) end
  return dir, names
end

--- Sends the working tree (files, relative to root) and the test binary
--- into the run's directory with one rsync (one SSH session): files that
--- did not change become hard links into the repository's mirror on the
--- host, changed ones and the binary travel as deltas against it. Without
--- rsync on either side, a tar stream of everything.
---@param files string[]
---@param root string
---@param binary? {path: string, name: string}
---@return {files: integer, changed: integer, sent: integer, method: string, binary_sent?: integer}
function Host:sync(files, root, binary)
  if self.broken then self:fail("syncing", "the connection failed earlier") end
  local dir, names = staging(files, root, binary)
  local result = { files = #files, method = "tar" }
  local here, there = proc.which("rsync") ~= nil, (self.facts.rsync or "") ~= ""
  if not (here and there) then
    local programs = require "perfgo.programs"
    require("perfgo.ui").warn("%s; without it every run sends the whole tree and binary",
      programs.missing_message("rsync", not there and self.host or nil))
  end
  local ok, err = pcall(function()
    if here and there then
      result.method = "rsync"
      local rsh, rerr = self.session:rsync_shell()
      if not rsh then errors.fail(1, rerr) end
      local wrapper = ssh.login_command(scripts.sync(self.run_dir, self.facts.rsync))
      local r = proc.run({ "rsync", "-a", "-s", "--no-implied-dirs", "--from0", "--files-from=" .. dir .. "/files",
        "--link-dest=" .. self.repo_dir .. "/mirror", "--timeout=60", "--stats", "--out-format=%b %n",
        "-e", rsh, "--rsync-path=" .. wrapper, dir .. "/", self.session:destination() .. ":" .. self.run_dir .. "/" },
        { stdin = "null" })
      if r.code ~= 0 and r.code ~= 24 then
        self:fail("syncing", ((r.stderr or ""):gsub("%s+$", "")))
      end
      local out = r.stdout or ""
      result.sent = number_of(out, "Total bytes sent") or 0
      result.changed = 0
      for line in out:gmatch("[^\n]+") do
        local b, name = line:match("^(%d+) (.+)$")
        if name and name:sub(-1) ~= "/" then
          if binary and name == "bin/" .. binary.name then
            result.binary_sent = tonumber(b)
          else
            result.changed = result.changed + 1
          end
        end
      end
    else
      local r, terr = self.session:put_tree(names, self.run_dir, { base = dir, method = "tar" })
      if not r then self:fail("syncing", terr) end
      result.changed = #files
      result.sent = 0
      for _, n in ipairs(names) do result.sent = result.sent + (fs.size(dir .. "/" .. n) or 0) end
      result.binary_sent = binary and fs.size(binary.path) or nil
    end
  end)
  fs.remove_tree(dir)
  if not ok then error(err, 0) end
  if proc.interrupted() then errors.fail(130, "interrupted while syncing") end
  return result
end

--- Ends the run on the host and closes the master. The agent lets perfgo
--- go at once (it closes its output), then ends what the run started and
--- removes the run's directory (unless kept) on the host by itself.
function Host:close()
  if self.channel then
    self.channel:close(15, false)
    self.channel = nil
  end
  if self.session then
    self.session:close()
    self.session = nil
  end
end

--- Removes perfgo's files for the repository `key` (nil: all of them)
--- from a host; returns {removed = {{path=, kib=}}, busy = {paths}, top = dir}.
---@param session table an open perfgo.ssh session
---@param key string|nil
function M.clean(session, host, key)
  local r, err = session:run({ "sh", "-c", scripts.clean(key) }, { timeout = M.helper_timeout() })
  if not r then errors.fail(M.LOST, string.format("connection to %s lost while cleaning (%s)", host, err)) end
  if r.timed_out then
    errors.fail(1, string.format("cleaning %s did not finish within %d s", host, M.helper_timeout()))
  end
  if r.code ~= 0 then
    errors.fail(1, string.format("cleaning %s failed: %s", host, (r.stderr or ""):gsub("%s+$", "")))
  end
  local out = { removed = {}, busy = {} }
  for line in (r.stdout or ""):gmatch("[^\n]+") do
    local path, kib = line:match("^removed (.-) (%d*)$")
    if path then
      out.removed[#out.removed + 1] = { path = path, kib = tonumber(kib) or 0 }
    elseif line:match("^busy ") then
      out.busy[#out.busy + 1] = line:sub(6)
    elseif line:match("^top ") then
      out.top = line:sub(5)
    end
  end
  return out
end

return M
