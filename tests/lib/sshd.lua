--- A real OpenSSH sshd on 127.0.0.1 for specs (tests/sshd/sshd.sh does the
--- work): a generated host key, a client key in authorized_keys, a
--- known_hosts file and an ssh config with the alias `perfgo-test`, all in a
--- temporary directory. Nothing of the machine's own ssh setup is used.
---
---   local sshd = require "sshd"
---   local srv = sshd.start()   -- {port, alias, config, identity, known_hosts, log, user, dir, pid}
---   ... ssh -F srv.config srv.alias ...
---   sshd.stop(srv)
local M = {}

local function script()
  local src = os.getenv("PERFGO_SOURCE_DIR") or "."
  return src .. "/tests/sshd/sshd.sh"
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

---@class SshdServer
---@field dir string
---@field port integer
---@field alias string
---@field config string
---@field identity string
---@field known_hosts string
---@field log string
---@field user string
---@field pid integer

--- Starts a server; raises with sshd's log when it cannot.
---@return SshdServer
function M.start()
  local p = assert(io.popen("sh " .. quote(script()) .. " start 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  local srv = {}
  for k, v in out:gmatch("(%w+)=([^\n]*)") do srv[k] = v end
  if not ok or not srv.port then
    error("sshd did not start:\n" .. out)
  end
  srv.port = tonumber(srv.port)
  srv.pid = tonumber(srv.pid)
  return srv
end

--- Starts n servers (distinct ports) and writes one ssh config in which
--- they are n hosts: aliases perfgo-test-1 ... perfgo-test-n, each with
--- its own port and key, one known_hosts for all. Returns the servers
--- (each with its `alias` set to its own) and the config's path; stop
--- each with M.stop, remove the config with its directory.
---@param n integer
---@return SshdServer[], string config
function M.start_hosts(n)
  local servers = {}
  for i = 1, n do
    servers[i] = M.start()
    servers[i].alias = "perfgo-test-" .. i
  end
  local dir = servers[1].dir
  local config, known = dir .. "/hosts_config", dir .. "/hosts_known"
  local parts, keys = {}, {}
  for i, srv in ipairs(servers) do
    parts[#parts + 1] = string.format("Host %s\n    HostName 127.0.0.1\n    Port %d\n    User %s\n"
      .. "    IdentityFile %s\n", srv.alias, srv.port, srv.user, srv.identity)
    local f = assert(io.open(srv.dir .. "/known_hosts", "rb"))
    keys[i] = f:read("a")
    f:close()
  end
  parts[#parts + 1] = string.format("Host *\n    IdentitiesOnly yes\n    UserKnownHostsFile %s\n"
    .. "    GlobalKnownHostsFile /dev/null\n    StrictHostKeyChecking yes\n    BatchMode yes\n    LogLevel ERROR\n",
    known)
  local f = assert(io.open(known, "wb"))
  f:write(table.concat(keys))
  f:close()
  f = assert(io.open(config, "wb"))
  f:write(table.concat(parts, "\n"))
  f:close()
  return servers, config
end

--- Counts the authentications sshd has accepted so far.
---@param srv SshdServer
---@return integer
function M.auth_count(srv)
  local f = io.open(srv.log, "rb")
  if not f then return 0 end
  local n = 0
  for line in f:lines() do
    if line:find("Accepted publickey", 1, true) then n = n + 1 end
  end
  f:close()
  return n
end

--- Counts the sessions (one per remote command, over any connection) sshd
--- has started so far.
---@param srv SshdServer
---@return integer
function M.session_count(srv)
  local f = io.open(srv.log, "rb")
  if not f then return 0 end
  local n = 0
  for line in f:lines() do
    if line:find("Starting session:", 1, true) then n = n + 1 end
  end
  f:close()
  return n
end

--- Creates a test user whose login shell is `shell` (bash, dash, zsh,
--- fish, tcsh, csh or a path), with empty start-up files; its name is
--- unique to this call. Needs root. Log in as NAME@srv.alias.
---@param shell string
---@return string name
function M.add_user(shell)
  local p = assert(io.popen("sh " .. quote(script()) .. " adduser " .. quote(shell) .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  local name = out:match("^(perfgo%-t[%w-]+)\n$")
  if not ok or not name then error("cannot create a test user with login shell " .. shell .. ":\n" .. out) end
  return name
end

--- Ends a test user's processes and removes it with its home directory.
---@param name string
function M.remove_user(name)
  if name then os.execute("sh " .. quote(script()) .. " deluser " .. quote(name)) end
end

local function stat_of(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  if not s then return nil end -- the process ended meanwhile
  local comm, rest = s:match("^%d+ %((.*)%) (.*)$")
  if not comm then return nil end
  local state, ppid = rest:match("^(%S+) (%d+)")
  return { comm = comm, state = state, ppid = tonumber(ppid) }
end

local function all_pids()
  local out = {}
  local p = io.popen("ls /proc")
  for name in p:lines() do
    if name:match("^%d+$") then out[#out + 1] = tonumber(name) end
  end
  p:close()
  return out
end

--- The sshd processes that serve the server's open connections (the
--- listener's descendants named sshd).
---@param srv SshdServer
---@return integer[]
function M.connection_pids(srv)
  local info = {}
  for _, pid in ipairs(all_pids()) do info[pid] = stat_of(pid) end
  local out = {}
  for pid, st in pairs(info) do
    if pid ~= srv.pid and st.comm == "sshd" then
      local up, n = st.ppid, 0
      while up and up > 1 and up ~= srv.pid and n < 64 do
        up = info[up] and info[up].ppid
        n = n + 1
      end
      if up == srv.pid then out[#out + 1] = pid end
    end
  end
  table.sort(out)
  return out
end

--- Sends sig ("KILL", "STOP", "CONT") to every process serving a
--- connection; returns how many got it.
---@param srv SshdServer
---@param sig string
---@return integer
function M.signal_connections(srv, sig)
  local pids = M.connection_pids(srv)
  for _, pid in ipairs(pids) do os.execute("kill -" .. sig .. " " .. pid .. " 2>/dev/null") end
  return #pids
end

--- The processes a user runs other than sshd's own (zombies, which a
--- stopped sshd cannot reap, do not run): {{pid=, comm=}, ...}.
---@param user string
function M.user_processes(user)
  local out = {}
  local p = io.popen("ps -o pid=,stat=,comm= -u " .. quote(user) .. " 2>/dev/null")
  for line in p:lines() do
    local pid, st, comm = line:match("^%s*(%d+)%s+(%S+)%s+(.-)%s*$")
    if pid and comm ~= "sshd" and not st:match("^Z") then out[#out + 1] = { pid = tonumber(pid), comm = comm } end
  end
  p:close()
  return out
end

--- Kills the server and the connections it serves (sessions open on it
--- break); keep_dir leaves the directory for a later look.
---@param srv SshdServer
---@param keep_dir? boolean
function M.stop(srv, keep_dir)
  if not srv or not srv.dir then return end
  os.execute("sh " .. quote(script()) .. " stop " .. quote(srv.dir))
  if not keep_dir and srv.dir:match("^/tmp/perfgo%-sshd%.") then
    os.execute("rm -rf " .. quote(srv.dir))
  end
end

return M
