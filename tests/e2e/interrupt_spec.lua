-- Ctrl-C while a test runs: the test process is gone, the run is recorded
-- as interrupted, perfgo exits 130.
local t = require "testutil"
local fixture = require "fixture"
local proc = require "perfgo.proc"

local function wait_for(fn, seconds)
  local deadline = os.time() + seconds
  while os.time() <= deadline do
    local v = fn()
    if v then return v end
    os.execute("sleep 0.1")
  end
  return nil
end

local function alive(pid)
  return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true
end

--- Starts perfgo with args in the fixture, waits for the sleeper's pid on
--- stdout, sends SIGINT; returns the wait result, the sleeper pid and the
--- output file.
local function interrupt(repo, args, env)
  local out = repo.dir .. "/out.txt"
  local argv = { t.bin() }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local e = { PERFGO_ARCHIVE = repo.archive, PERFGO_PROGRESS = "0" }
  for k, v in pairs(env or {}) do e[k] = v end
  local child = proc.spawn(argv, { cwd = repo.root, env = e, stdout = { file = out },
    stderr = { file = out .. ".err" } })
  local pid = wait_for(function()
    return (t.read(out) or ""):match("sleeper started (%d+)") or (not child:running() and "exited")
  end, 60)
  if pid == "exited" then pid = nil end
  assert.is_string(pid, "the sleeper never started: " .. (t.read(out .. ".err") or ""))
  child:kill("INT")
  local res = child:wait(20)
  return res, pid, out
end

describe("Ctrl-C during perfgo test", function()
  local repo
  setup(function() repo = fixture.repo() end)
  teardown(function() fixture.cleanup(repo) end)

  it("stops the test, records interrupted=true, exits 130 (local)", function()
    local res, pid = interrupt(repo, { "test", "./app/sleeper", "-v" })
    assert.is_table(res)
    assert.equals(130, res.code)
    assert.is_truthy(wait_for(function() return not alive(pid) end, 2), "test process still running")
    local rec = fixture.record(fixture.latest(repo))
    assert.is_true(rec.interrupted)
    assert.equals(130, rec.exit_code)
    assert.equals("interrupted", rec.status)
  end)

  it("stops the remote test too (loopback sshd)", function()
    local sshd = require "sshd"
    local server = sshd.start()
    local ok, err = pcall(function()
      local res, pid = interrupt(repo, { "test", "--remote-host", server.alias, "--ssh-config", server.config,
        "./app/sleeper", "-v" })
      assert.equals(130, res.code)
      -- the remote is this machine: the pid printed by the test is a local pid
      assert.is_truthy(wait_for(function() return not alive(pid) end, 2), "remote test process still running")
      local rec = fixture.record(fixture.latest(repo))
      assert.is_true(rec.interrupted)
      assert.equals(server.alias, rec.target.remote_host)
    end)
    sshd.stop(server)
    assert(ok, err)
  end)
end)
