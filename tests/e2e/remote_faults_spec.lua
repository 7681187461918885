-- A connection that is lost (sshd's processes for it killed) or stalls
-- (stopped) while a remote run syncs, executes or collects; Ctrl-C while
-- it syncs. Each ends with its message, exit code and record, and leaves
-- no process on either side.
local t = require "testutil"
local fixture = require "fixture"
local sshd = require "sshd"
local proc = require "perfgo.proc"

-- A perfgo.lua whose hooks stop before a step (PERFGO_TEST_PAUSE) until
-- the test has broken the connection.
local PAUSE_CONFIG = [[
local function pause(step)
  if os.getenv("PERFGO_TEST_PAUSE") ~= step then return end
  local dir = os.getenv("PERFGO_TEST_PAUSE_DIR")
  io.open(dir .. "/paused", "w"):close()
  for _ = 1, 1200 do
    local f = io.open(dir .. "/go")
    if f then f:close(); return end
    os.execute("sleep 0.05")
  end
end
return { hooks = {
  before_stage = function() pause("stage") end,
  before_collect = function() pause("collect") end,
  -- a helper command that outlives PERFGO_HELPER_TIMEOUT
  after_stage = function(ctx)
    if os.getenv("PERFGO_TEST_SLOW_HELPER") then ctx.target:run({ "sleep", "30" }, { stdin = "null" }) end
  end,
} }
]]

local function wait_for(fn, seconds)
  local deadline = os.time() + seconds
  while not fn() and os.time() <= deadline do os.execute("sleep 0.05") end
  return fn()
end

-- Local processes whose command line names dir (the run's ssh master,
-- clients, rsync): "PID: COMMAND LINE" for each.
local function local_processes(dir)
  local out = {}
  local p = io.popen("ls /proc")
  for pid in p:lines() do
    local cmdline = pid:match("^%d+$") and t.read("/proc/" .. pid .. "/cmdline")
    local stat = cmdline and t.read("/proc/" .. pid .. "/stat")
    if stat and cmdline:find(dir, 1, true) and not stat:match("^%d+ %b() Z") then
      out[#out + 1] = pid .. ": " .. cmdline:gsub("%z", " ")
    end
  end
  p:close()
  return out
end

local function home_of(user)
  local p = io.popen("getent passwd " .. t.quote(user))
  local line = p:read("l") or ""
  p:close()
  return (line:match("^[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:([^:]*):"))
end

describe("a remote run whose connection breaks", function()
  local repo, server, user, host, work
  setup(function()
    repo = fixture.repo()
    t.write(repo.root .. "/perfgo.lua", PAUSE_CONFIG)
    server = sshd.start()
    user = sshd.add_user("bash")
    host = user .. "@" .. server.alias
    work = t.tmpdir()
  end)
  teardown(function()
    if server then
      sshd.signal_connections(server, "KILL")
      sshd.signal_connections(server, "CONT")
      sshd.stop(server)
    end
    sshd.remove_user(user)
    t.rmtree(work)
    fixture.cleanup(repo)
  end)

  -- Starts perfgo test (stat) with its own control directory; returns the
  -- child, and the paths of its output and pause files.
  local function start(name, pause, pkg_args, mode)
    local dir = work .. "/" .. name
    os.execute("mkdir -p " .. t.quote(dir .. "/run"))
    local argv = { t.bin(), "test", mode or "stat", "-e", mode == "profile" and "cpu-clock" or "task-clock",
      "--remote-host", host, "--ssh-config", server.config,
      "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2" }
    for _, a in ipairs(pkg_args) do argv[#argv + 1] = a end
    local env = { PERFGO_ARCHIVE = repo.archive, PERFGO_PROGRESS = "1", XDG_RUNTIME_DIR = dir .. "/run",
      PERFGO_TEST_PAUSE = pause or "", PERFGO_TEST_PAUSE_DIR = dir }
    local child = proc.spawn(argv, { cwd = repo.root, env = env, stdin = "null",
      stdout = { file = dir .. "/out" }, stderr = { file = dir .. "/err" } })
    return child, dir
  end

  local function check_nothing_left(dir, stopped)
    finally(function() if stopped then sshd.signal_connections(server, "KILL") end end)
    assert.same({}, local_processes(dir .. "/run"), "local processes left")
    -- the host notices (end of file, or no heartbeat for a while) and ends
    -- what the run started, even while sshd itself stays stopped
    assert.is_true(wait_for(function() return #sshd.user_processes(user) == 0 end, 30),
      "processes left on the host:\n" .. t.run({ "ps", "-o", "pid,ppid,pgid,sid,stat,args", "-u", user }).stdout)
    assert.is_true(wait_for(function()
      return os.execute("ls -d " .. t.quote(home_of(user)) .. "/.cache/perfgo/repositories/*/runs/* >/dev/null 2>&1")
        ~= true
    end, 10), "a run directory was left on the host")
  end

  local function check_lost(child, dir, step_word)
    local st = assert(child:wait(90), "perfgo did not end")
    local err = t.read(dir .. "/err") or ""
    assert.equals(75, st.code, err)
    assert.matches("perfgo: connection to " .. host:gsub("%p", "%%%0") .. " lost while " .. step_word, err)
    assert.is_nil(err:find("internal error", 1, true))
    local rec = fixture.record(fixture.latest(repo))
    assert.equals("error", rec.status)
    assert.equals(75, rec.exit_code)
    assert.matches("connection to .* lost while " .. step_word, rec.error)
  end

  for _, sig in ipairs({ "KILL", "STOP" }) do
    for _, step in ipairs({ "stage", "collect" }) do
      local word = step == "stage" and "syncing" or "collecting"
      it(string.format("%s of sshd while %s: exit 75, recorded, nothing left", sig, word), function()
        -- (collect talks to the host when it fetches Go's own profiles)
        local child, dir = start(sig .. step, step,
          { "--go-profiles", "./examples/false-sharing", "-run=^$", "-bench=Padded", "-benchtime=20ms" })
        assert.is_true(wait_for(function() return t.read(dir .. "/paused") ~= nil end, 120), "never paused")
        assert.is_true(sshd.signal_connections(server, sig) > 0)
        t.write(dir .. "/go", "")
        check_lost(child, dir, word)
        check_nothing_left(dir, sig == "STOP")
      end)
    end

    it(string.format("%s of sshd while the test runs: exit 75, the remote test is ended", sig), function()
      local child, dir = start(sig .. "execute", nil, { "./app/sleeper", "-run=TestSleep" })
      assert.is_true(wait_for(function() return (t.read(dir .. "/out") or ""):find("sleeper started") ~= nil end,
        120), "the test never started: " .. (t.read(dir .. "/err") or ""))
      assert.is_true(sshd.signal_connections(server, sig) > 0)
      check_lost(child, dir, "executing")
      check_nothing_left(dir, sig == "STOP")
    end)
  end

  it("a helper command that outlives its time limit is ended, with a clear message", function()
    for _, remote in ipairs({ false, true }) do
      local argv = { t.bin(), "exec", "run" }
      if remote then
        for _, a in ipairs({ "--remote-host", host, "--ssh-config", server.config }) do argv[#argv + 1] = a end
      end
      for _, a in ipairs({ "--", "true" }) do argv[#argv + 1] = a end
      local r = t.run(argv, { cwd = repo.root, env = { PERFGO_PROGRESS = "0", PERFGO_HELPER_TIMEOUT = "1",
        PERFGO_TEST_SLOW_HELPER = "1" } })
      assert.equals(1, r.code, r.stderr)
      assert.matches("perfgo: 'sleep 30' did not finish within 1 s on " .. (remote and host:gsub("%p", "%%%0")
        or "local") .. ".*PERFGO_HELPER_TIMEOUT", r.stderr)
      local rec = fixture.record(fixture.latest(repo))
      assert.equals("error", rec.status)
      if remote then
        assert.is_true(wait_for(function() return #sshd.user_processes(user) == 0 end, 15),
          "processes left on the host")
      end
    end
  end)

  it("Ctrl-C during a remote profile keeps the samples perf captured", function()
    local child, dir = start("profile-int", nil, { "./app/spinner", "-v" }, "profile")
    assert.is_true(wait_for(function() return (t.read(dir .. "/out") or ""):find("spinner started") ~= nil end,
      120), "the test never started: " .. (t.read(dir .. "/err") or ""))
    os.execute("sleep 1")
    child:kill("INT")
    local st = assert(child:wait(60), "perfgo did not stop")
    assert.equals(130, st.code, t.read(dir .. "/err"))
    local run = fixture.latest(repo)
    local rec = fixture.record(run)
    assert.same({ "interrupted", 130 }, { rec.status, rec.exit_code })
    local profile = assert(require("perfgo.pprof").read(run .. "/perf.pb.gz"), t.read(dir .. "/err"))
    local total = profile:summary().sample_types[1].total
    assert.is_true(total > 50, "only " .. total .. " samples")
    check_nothing_left(dir, false)
  end)

  it("Ctrl-C while syncing ends the run at once", function()
    -- a big file (sparse here, 2 GiB on the wire) keeps rsync busy
    assert.equals(0, t.run({ "truncate", "-s", "2G", repo.root .. "/big.bin" }).code)
    local child, dir = start("interrupt", nil, { "./app/sleeper", "-run=TestSleep" })
    assert.is_true(wait_for(function() return (t.read(dir .. "/err") or ""):find("syncing") ~= nil end, 120),
      "never synced: " .. (t.read(dir .. "/err") or ""))
    os.execute("sleep 0.3")
    child:kill("INT")
    local st = child:wait(5)
    os.remove(repo.root .. "/big.bin")
    assert.is_not_nil(st, "perfgo did not end within 5 s of Ctrl-C")
    assert.equals(130, st.code, t.read(dir .. "/err"))
    assert.is_nil((t.read(dir .. "/out") or ""):find("sleeper started"))
    local rec = fixture.record(fixture.latest(repo))
    assert.equals("interrupted", rec.status)
    assert.equals(130, rec.exit_code)
    check_nothing_left(dir, false)
  end)
end)
