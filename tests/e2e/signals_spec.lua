-- Signals against the real process tree (perfgo, perf, the Go test): each
-- of SIGINT, SIGTERM, SIGHUP and SIGPIPE stops the test, is recorded with
-- its name and gives exit 128+n; Ctrl-C during a profile keeps what perf
-- captured; kill -9 of perfgo takes the test and perf with it, and the
-- run reads as abandoned. No test or perf process may remain.
local t = require "testutil"
local fixture = require "fixture"
local proc = require "perfgo.proc"
local cjson = require "cjson"

local function wait_for(fn, seconds)
  local deadline = os.time() + seconds
  while os.time() <= deadline do
    local v = fn()
    if v then return v end
    os.execute("sleep 0.05")
  end
  return fn()
end

local function alive(pid)
  return not (t.read("/proc/" .. pid .. "/stat") or "Z"):match("^%d+ %b() Z")
    and t.read("/proc/" .. pid .. "/stat") ~= nil
end

-- Processes (not zombies) whose command line mentions `text`.
local function processes_with(text)
  local found = {}
  local p = io.popen("ls /proc")
  for pid in p:lines() do
    if pid:match("^%d+$") then
      local cmd = (t.read("/proc/" .. pid .. "/cmdline") or ""):gsub("%z", " ")
      local stat = t.read("/proc/" .. pid .. "/stat") or ""
      if cmd:find(text, 1, true) and not stat:match("^%d+ %b() Z") then
        found[#found + 1] = pid .. ": " .. cmd
      end
    end
  end
  p:close()
  return found
end

local function none_left(repo)
  return wait_for(function() return #processes_with(repo.root) == 0 end, 5)
    or error("still running: " .. table.concat(processes_with(repo.root), "\n"))
end

local function record_of(repo, id_prefix)
  for _, dir in ipairs(fixture.runs(repo)) do
    if dir:match("/(%x+)$"):sub(1, #id_prefix) == id_prefix then return fixture.record(dir), dir end
  end
end

--- Starts perfgo with args in the fixture and waits until the test says
--- "<what> started PID"; returns the child, the test's pid and the output.
local function start(repo, args, what)
  local out = repo.dir .. "/out." .. what .. "." .. tostring(os.time()) .. math.random(1000)
  local argv = { t.bin() }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local child = assert(proc.spawn(argv, { cwd = repo.root, env = repo.env, stdout = { file = out },
    stderr = { file = out .. ".err" } }))
  local pid = wait_for(function()
    return (t.read(out) or ""):match(what .. " started (%d+)") or (not child:running() and "exited")
  end, 60)
  assert.is_not.equals("exited", pid, "perfgo ended early: " .. (t.read(out .. ".err") or ""))
  assert.is_string(pid, "the test never started")
  return child, pid, out
end

describe("signals", function()
  local repo
  setup(function() repo = fixture.repo() end)
  teardown(function() fixture.cleanup(repo) end)

  for _, case in ipairs({ { "INT", 2 }, { "TERM", 15 }, { "HUP", 1 } }) do
    local name, n = case[1], case[2]
    it("SIG" .. name .. " stops the test, records the signal and exits " .. (128 + n), function()
      local child, pid = start(repo, { "test", "stat", "-e", "task-clock", "./app/sleeper", "-v" }, "sleeper")
      local latest = assert(fixture.latest(repo))
      local rec = fixture.record(latest)
      assert.equals("running", rec.status)
      assert.is_number(rec.pid)
      if name == "INT" then
        -- in progress: listed as such, skipped by `view 0`, shown when named
        local list = t.perfgo({ "list" }, { cwd = repo.root, env = repo.env })
        assert.matches("^running ", list.stdout)
        local view = t.perfgo({ "view", "0" }, { cwd = repo.root, env = repo.env })
        assert.is_nil(view.stdout:find(rec.id:sub(1, 8), 1, true))
        view = t.perfgo({ "view", rec.id:sub(1, 8) }, { cwd = repo.root, env = repo.env })
        assert.matches("running %(perfgo pid %d+ on ", view.stdout)
      end
      child:kill(name)
      local res = assert(child:wait(20), "perfgo did not stop")
      assert.equals(128 + n, res.code)
      none_left(repo)
      assert.is_false(alive(pid))
      rec = fixture.record(latest)
      assert.equals("interrupted", rec.status)
      assert.equals("SIG" .. name, rec.signal)
      assert.equals(128 + n, rec.exit_code)
      assert.is_true(rec.interrupted)
      -- perf stat wrote what it counted before it stopped
      local text = t.read(latest .. "/stat.json")
      assert.is_string(text, "no stat.json")
      local stat = cjson.decode(text)
      assert.equals("task-clock", stat.events[1].event)
      local list = t.perfgo({ "list", "--json" }, { cwd = repo.root, env = repo.env })
      local entry = cjson.decode(list.stdout)[1]
      assert.same({ "interrupted", 128 + n, "SIG" .. name }, { entry.status, entry.exit_code, entry.signal })
    end)
  end

  it("SIGPIPE (the reader of perfgo's output went away) stops the test and exits 141", function()
    local script = string.format("cd %s && { %s test stat -e task-clock ./app/chatty; echo $? > %s/rc; } | head -1",
      t.quote(repo.root), t.quote(t.bin()), t.quote(repo.dir))
    local r = t.run({ "sh", "-c", script }, { env = repo.env })
    assert.matches("^chatty started %d+\n$", r.stdout)
    assert.equals("141", (t.read(repo.dir .. "/rc") or ""):match("%d+"))
    none_left(repo)
    local rec = fixture.record(fixture.latest(repo))
    assert.same({ "interrupted", "SIGPIPE", 141 }, { rec.status, rec.signal, rec.exit_code })
  end)

  it("Ctrl-C during a profile keeps the samples perf captured", function()
    local child = start(repo, { "test", "profile", "-e", "cpu-clock", "./app/spinner", "-v" }, "spinner")
    os.execute("sleep 1")
    child:kill("INT")
    local res = assert(child:wait(60), "perfgo did not stop")
    assert.equals(130, res.code)
    none_left(repo)
    local dir = fixture.latest(repo)
    local rec = fixture.record(dir)
    assert.same({ "interrupted", "SIGINT", 130 }, { rec.status, rec.signal, rec.exit_code })
    local kinds = {}
    for _, a in ipairs(rec.artifacts) do kinds[a.type] = a end
    assert.is_table(kinds.profile, "no profile recorded")
    local profile = assert(require("perfgo.pprof").read(dir .. "/perf.pb.gz"))
    local total = profile:summary().sample_types[1].total
    assert.is_true(total > 50, "only " .. total .. " samples")
    local top = t.run({ "go", "tool", "pprof", "-top", dir .. "/perf.pb.gz" })
    assert.equals(0, top.code, top.stderr)
    assert.matches("spinner%.TestSpin", top.stdout)
  end)

  it("Ctrl-C during the conversion stops it: interrupted, no half profile", function()
    -- a recording big enough that its conversion takes a while: 3 s of
    -- CPU at 20 kHz with DWARF call stacks, which only perf script reads
    -- (perfgo reads perf.data in a fraction of a second), some 40 MB of
    -- perf script however loaded the machine is
    local out = repo.dir .. "/convert.err"
    local env = { SPIN_CPU_SECONDS = "3", PERFGO_PROGRESS = "1" }
    for k, v in pairs(repo.env) do env[k] = env[k] or v end
    local child = assert(proc.spawn({ t.bin(), "test", "profile", "-e", "cpu-clock", "-F", "20000",
      "--call-graph", "dwarf,512", "./app/spinner" },
      { cwd = repo.root, env = env, stdout = "null", stderr = { file = out } }))
    local converting = wait_for(function()
      return (t.read(out) or ""):find("of perf script read", 1, true) or not child:running()
    end, 90)
    assert.is_number(converting, "the conversion never showed progress: " .. (t.read(out) or ""))
    child:kill("INT")
    local res = assert(child:wait(20), "perfgo did not stop")
    assert.equals(130, res.code, t.read(out))
    none_left(repo)
    local dir = fixture.latest(repo)
    local rec = fixture.record(dir)
    assert.same({ "interrupted", "SIGINT", 0 }, { rec.status, rec.signal, rec.test_exit_code })
    for _, a in ipairs(rec.artifacts) do assert.is_not.equals("profile", a.type) end
    assert.is_nil(t.read(dir .. "/perf.pb.gz"))
    assert.is_nil(rec.archive)
    assert.matches("the conversion was stopped: no profile was written", t.read(out))
  end)

  it("kill -9 of perfgo ends the test and perf too; the run then reads as abandoned", function()
    local child, pid = start(repo, { "test", "stat", "-e", "task-clock", "./app/sleeper", "-v" }, "sleeper")
    local latest = fixture.latest(repo)
    local id = latest:match("(%x+)$")
    child:kill("KILL")
    child:wait(5)
    none_left(repo)
    assert.is_false(alive(pid))
    -- the record is left as perfgo wrote it; list and view say what it means
    assert.equals("running", record_of(repo, id).status)
    local list = t.perfgo({ "list" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, list.code, list.stderr)
    assert.matches("abandoned +[^\n]+" .. id:sub(1, 8), list.stdout)
    assert.matches("stopped before the run ended", list.stdout)
    local view = t.perfgo({ "view", id:sub(1, 10) }, { cwd = repo.root, env = repo.env })
    assert.equals(0, view.code, view.stderr)
    assert.matches("abandoned: perfgo %(pid %d+ on [^)]+%) stopped before the run ended", view.stdout)
  end)
end)
