-- The perfgo binary with perfgo.proc and perfgo.ssh preloaded: Ctrl-C and
-- Lua errors while local and remote commands run leave nothing behind.
local t = require "testutil"
local proc = require "perfgo.proc"
local sshd = require "sshd"

local srv, dir

-- A script directory whose perfgo/cli.lua is source.
local function fake_cli(source)
  os.execute("mkdir -p " .. t.quote(dir .. "/lua/perfgo"))
  t.write(dir .. "/lua/perfgo/cli.lua", source)
  return dir .. "/lua"
end

-- Waits for a file holding a whole line (it exists a moment before that).
local function wait_file(path, seconds)
  local deadline = os.time() + seconds
  local function line() return (t.read(path) or ""):match("^[^\n]+\n") end
  while not line() and os.time() <= deadline do os.execute("sleep 0.05") end
  return line()
end

local function alive(pid)
  local stat = t.read("/proc/" .. pid .. "/stat")
  return stat ~= nil and not stat:match("^%d+ %b() Z")
end

local function gone_within(pid, seconds)
  local deadline = os.time() + seconds
  while alive(pid) and os.time() <= deadline do os.execute("sleep 0.05") end
  return not alive(pid)
end

describe("perfgo with perfgo.ssh", function()
  setup(function() srv = sshd.start() end)
  teardown(function() sshd.stop(srv) end)
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("SIGINT ends the remote command and perfgo exits 130", function()
    local lua_dir = fake_cli(([[
      local ssh = require "perfgo.ssh"
      local proc = require "perfgo.proc"
      return { main = function()
        local s = assert(ssh.connect({ host = %q, config = %q, control_dir = %q }))
        local r = s:run({ "sh", "-c", "echo $$ > %s/remote.pid; exec sleep 300" }, { stdout = { tee = %q } })
        s:close()
        if r.interrupted or proc.interrupted() then return 130 end
        return 1
      end }
    ]]):format(srv.alias, srv.config, dir .. "/ctl", dir, dir .. "/tee.txt"))
    local child = proc.spawn({ t.bin() }, { env = { PERFGO_LUA_DIR = lua_dir }, stdout = "pipe", stderr = "pipe" })
    local pid = assert(wait_file(dir .. "/remote.pid", 20), "the remote command did not start"):match("%d+")
    child:kill("INT")
    local st = assert(child:wait(10))
    assert.equals(130, st.code)
    assert.is_true(gone_within(pid, 2), "remote process " .. pid .. " survived")
  end)

  it("a Lua error leaves no local or remote process behind", function()
    local lua_dir = fake_cli(([[
      local ssh = require "perfgo.ssh"
      local proc = require "perfgo.proc"
      return { main = function()
        local s = assert(ssh.connect({ host = %q, config = %q, control_dir = %q }))
        local remote = s:spawn({ "sh", "-c", "echo $$ > %s/remote.pid; exec sleep 300" })
        local here = proc.spawn({ "sh", "-c", "echo $$ > %s/local.pid; exec sleep 300" })
        local function exists(p) local f = io.open(p) if f then f:close() end return f ~= nil end
        for _ = 1, 200 do
          if exists(%q) and exists(%q) then break end
          proc.run({ "sleep", "0.05" })
        end
        error("the workflow broke with " .. tostring(remote) .. " and " .. tostring(here) .. " running")
      end }
    ]]):format(srv.alias, srv.config, dir .. "/ctl", dir, dir, dir .. "/remote.pid", dir .. "/local.pid"))
    local r = t.perfgo({}, { env = { PERFGO_LUA_DIR = lua_dir } })
    assert.equals(70, r.code)
    assert.matches("the workflow broke", r.stderr)
    local rpid = t.read(dir .. "/remote.pid"):match("%d+")
    local lpid = t.read(dir .. "/local.pid"):match("%d+")
    assert.is_true(gone_within(lpid, 2), "local process survived")
    assert.is_true(gone_within(rpid, 2), "remote process survived")
  end)
end)
