-- Every run tells the truth: a failure is never reported as a result,
-- ordinary mistakes are one line (never "internal error"), and the exit
-- code, testrun.json and `perfgo list` agree. Real perfgo, perf and go.
local t = require "testutil"
local fixture = require "fixture"
local cjson = require "cjson"

describe("run outcomes", function()
  local repo
  setup(function() repo = fixture.repo() end)
  teardown(function() fixture.cleanup(repo) end)

  local function perfgo(args, env)
    local e = {}
    for k, v in pairs(repo.env) do e[k] = v end
    for k, v in pairs(env or {}) do e[k] = v end
    return t.perfgo(args, { cwd = repo.root, env = e })
  end

  local function count_runs() return #fixture.runs(repo) end

  local function archived()
    local p = io.popen("find " .. t.quote(repo.archive) .. " -type f 2>/dev/null | wc -l")
    local n = tonumber(p:read("a"))
    p:close()
    return n
  end

  local function artifacts(rec)
    local kinds = {}
    for _, a in ipairs(rec.artifacts) do kinds[a.type] = a end
    return kinds
  end

  -- the first two lines of `perfgo list` for the newest run
  local function listed()
    local r = perfgo({ "list", "--limit", "1" })
    assert.equals(0, r.code, r.stderr)
    return r.stdout:match("^[^\n]*\n[^\n]*")
  end

  it("bad perf options are refused before anything is built, recorded or archived", function()
    local runs, files = count_runs(), archived()
    for _, case in ipairs({
      { { "test", "profile", "-F", "0", "./app/fails" }, "%-F/%-%-freq: '0' is not a whole number above 0" },
      { { "test", "profile", "-c", "0", "./app/fails" }, "%-c/%-%-count: '0'" },
      { { "test", "profile", "--call-graph", "bogus", "./app/fails" }, "'bogus' is not a call graph method" },
      { { "test", "stat", "-r", "0", "./app/fails" }, "repeat forever" },
      { { "test", "stat", "-F", "99", "./app/fails" }, "%-F/%-%-freq is for profile runs" },
      { { "exec", "stat", "-e", "task-clock", "-e", "bogus:u", "--", "true" },
        "perf does not know the event 'bogus:u'" },
    }) do
      local r = perfgo(case[1])
      assert.equals(2, r.code, table.concat(case[1], " ") .. ": " .. r.stderr)
      assert.matches(case[2], r.stderr)
      assert.equals(1, t.lines(r.stderr), r.stderr)
      assert.is_nil(r.stdout:match("checking the answer"))
    end
    assert.equals(runs, count_runs())
    assert.equals(files, archived())
  end)

  it("a bad value in perfgo.lua defaults is refused the same way, naming perfgo.lua:LINE", function()
    local cfg = repo.dir .. "/perfgo-bad.lua"
    for _, case in ipairs({
      { "  freq = 0,", "perfgo%-bad%.lua:3: defaults%.freq: '0' is not a whole number above 0" },
      { "  call_graph = 'bogus',", "perfgo%-bad%.lua:3: defaults%.call_graph: 'bogus'" },
      { "  event = { 'task-clock', 'bogus:u' },", "perfgo%-bad%.lua:3: defaults%.event: perf does not know "
        .. "the event 'bogus:u'" },
      { "  keep = 'yes',", "perfgo%-bad%.lua:3: defaults%.keep: must be true or false" },
    }) do
      t.write(cfg, "return {\n  defaults = {\n" .. case[1] .. "\n  },\n}\n")
      local r = perfgo({ "--config", cfg, "test", "profile", "./app/fails" })
      assert.equals(2, r.code, r.stderr)
      assert.matches(case[2], r.stderr)
      assert.equals(1, t.lines(r.stderr), r.stderr)
    end
  end)

  it("a command that is not there: 'not found', exit 127, recorded as an error, nothing claimed", function()
    local files = archived()
    for _, mode in ipairs({ "run", "stat", "profile" }) do
      local r = perfgo({ "exec", mode, "--", "/nonexistent/cmd" })
      assert.equals(127, r.code, r.stderr)
      assert.matches("^perfgo: /nonexistent/cmd: command not found\n$", r.stderr)
      local rec = fixture.record(fixture.latest(repo))
      assert.same({ "error", 127, mode }, { rec.status, rec.exit_code, rec.type })
      assert.matches("command not found", rec.error)
      assert.is_nil(artifacts(rec).profile)
      assert.matches("^error +[^\n]+\n +exit 127 ", listed())
    end
    assert.equals(files, archived())
  end)

  it("a missing go or perf names the Debian package, exit 2", function()
    -- a PATH with everything of /usr/bin and /bin but the program
    local function path_without(name)
      local dir = repo.dir .. "/no-" .. name
      assert(os.execute(string.format("mkdir -p %s && cp -rs /bin/. %s/ 2>/dev/null; cp -rs /usr/bin/. %s/ "
        .. "2>/dev/null; rm -f %s/%s", dir, dir, dir, dir, name)))
      return dir
    end
    local r = perfgo({ "test", "./app/fails" }, { PATH = path_without("go") })
    assert.equals(2, r.code, r.stderr)
    assert.equals("perfgo: go is not installed (no 'go' in PATH): install the Debian package golang-go "
      .. "(apt-get install golang-go)\n", r.stderr)
    r = perfgo({ "exec", "stat", "--", "true" }, { PATH = path_without("perf") })
    assert.equals(2, r.code, r.stderr)
    assert.matches("^perfgo: perf is not installed [^\n]*Debian package linux%-perf", r.stderr)
    assert.equals(1, t.lines(r.stderr))
    -- view opens profiles with go tool pprof
    assert.equals(0, perfgo({ "test", "profile", "./examples/false-sharing", "-bench=Padded", "-run=^$",
      "-benchtime=100ms" }).code)
    r = perfgo({ "view", "0", "-top" }, { PATH = path_without("go") })
    assert.equals(2, r.code, r.stderr)
    assert.matches("^perfgo: go is not installed [^\n]*golang%-go", r.stderr)
  end)

  it("counts a tracepoint exactly: 1000 getpid calls in stat.json, next to sched_switch", function()
    local r = perfgo({ "test", "stat", "-e", "syscalls:sys_enter_getpid", "-e", "sched:sched_switch",
      "./app/getpid" }, { GODEBUG = "asyncpreemptoff=1" })
    assert.equals(0, r.code, r.stderr)
    local dir = fixture.latest(repo)
    local stat = cjson.decode(t.read(dir .. "/stat.json"))
    local by = {}
    for _, ev in ipairs(stat.events) do by[ev.event] = ev end
    assert.equals(1000, by["syscalls:sys_enter_getpid"].value)
    assert.equals("counted", by["sched:sched_switch"].state)
    assert.matches("1,000  syscalls:sys_enter_getpid", r.stdout)
    assert.matches("^ok ", listed())
  end)

  it("profiles a tracepoint: one sample per getpid call, dated by the clock of day", function()
    local before = os.time()
    local r = perfgo({ "test", "profile", "-e", "syscalls:sys_enter_getpid", "./app/getpid" },
      { GODEBUG = "asyncpreemptoff=1" })
    assert.equals(0, r.code, r.stderr)
    local dir = fixture.latest(repo)
    local profile = assert(require("perfgo.pprof").read(dir .. "/perf.pb.gz"))
    local s = profile:summary()
    assert.equals(1000, s.sample_types[1].total)
    local when = s.time_nanos // 1000000000
    assert.is_true(when >= before - 5 and when <= os.time() + 5, "profile dated " .. os.date("!%c", when))
    r = perfgo({ "test", "profile", "-e", "sched:sched_switch", "./app/getpid" })
    assert.equals(0, r.code, r.stderr)
    assert.is_table(artifacts(fixture.record(fixture.latest(repo))).profile)
  end)

  it("stat renders any events: a unitless one alone", function()
    local r = perfgo({ "exec", "stat", "-e", "page-faults", "--", "true" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("^ +[%d,]+  page%-faults\n$", r.stdout)
  end)

  it("a profile with no samples is not claimed, nor archived", function()
    local files = archived()
    local r = perfgo({ "test", "profile", "-e", "syscalls:sys_enter_sethostname", "./app/fails", "-run", "XXX" })
    assert.equals(0, r.code, r.stderr)
    assert.is_nil(r.stderr:match("profile: "), r.stderr)
    assert.is_nil(r.stderr:match("archived: "))
    assert.matches("no samples", r.stderr)
    local rec = fixture.record(fixture.latest(repo))
    assert.is_nil(artifacts(rec).profile)
    assert.is_nil(rec.archive)
    assert.equals(files, archived())
  end)

  it("a failing test: status failed with its exit code, in the record, the exit and the list", function()
    for _, mode in ipairs({ "run", "stat", "profile" }) do
      local r = perfgo({ "test", mode, "./app/fails" })
      assert.equals(1, r.code, r.stderr)
      local rec = fixture.record(fixture.latest(repo))
      assert.same({ "failed", 1, 1 }, { rec.status, rec.exit_code, rec.test_exit_code })
      assert.matches("^failed +[^\n]+\n +exit 1 ", listed())
    end
  end)

  it("a test killed by a signal under perf stat is recorded with it", function()
    t.write(repo.root .. "/segv.sh", "#!/bin/sh\nkill -SEGV $$\n")
    os.execute("chmod +x " .. t.quote(repo.root .. "/segv.sh"))
    local r = perfgo({ "exec", "stat", "-e", "task-clock", "--", "./segv.sh" })
    assert.equals(139, r.code, r.stdout .. r.stderr)
    local rec = fixture.record(fixture.latest(repo))
    assert.same({ "failed", 139, "SIGSEGV" }, { rec.status, rec.exit_code, rec.test_signal })
  end)
end)
