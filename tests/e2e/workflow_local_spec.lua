-- `perfgo test` end to end on this machine: real go, real perf, real
-- go tool pprof, in a throw-away git repository.
local t = require "testutil"
local fixture = require "fixture"

local function pprof(args, cwd)
  local argv = { "go", "tool", "pprof" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return t.run(argv, { cwd = cwd, env = { PPROF_BINARY_PATH = "/nonexistent" } })
end

describe("perfgo test (local)", function()
  local repo
  setup(function() repo = fixture.repo() end)
  teardown(function() fixture.cleanup(repo) end)

  describe("profile of examples/false-sharing", function()
    local r, run_dir, rec
    setup(function()
      r = t.perfgo({ "test", "profile", "-e", "cpu-clock", "./examples/false-sharing",
        "-bench=Unpadded", "-run=^$", "-benchtime=300ms" }, { cwd = repo.root, env = repo.env })
      run_dir = fixture.latest(repo)
      rec = run_dir and fixture.record(run_dir)
    end)

    it("exits 0 and shows the benchmark's output", function()
      assert.equals(0, r.code, r.stderr)
      assert.matches("BenchmarkUnpadded", r.stdout)
    end)

    it("records every field of testrun.json", function()
      assert.is_table(rec)
      assert.matches("^%x+$", rec.id)
      assert.equals(32, #rec.id)
      assert.equals("profile", rec.type)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", rec.timestamp)
      assert.equals(0, rec.exit_code)
      assert.is_false(rec.interrupted)
      assert.is_number(rec.duration)
      assert.equals("examples/false-sharing", rec.package.path)
      assert.equals(repo.root, rec.workdir)
      assert.matches("^%x+$", rec.git.commit)
      assert.equals("main", rec.git.branch)
      assert.is_false(rec.git.dirty)
      assert.equals("linux", rec.target.os)
      assert.is_string(rec.target.arch)
      assert.equals("profile", rec.perf.mode)
      assert.same({ "cpu-clock" }, rec.perf.events)
      local kinds = {}
      for _, a in ipairs(rec.artifacts) do
        kinds[a.type] = a
        assert.is_true(a.size > 0 or a.type == "stderr", a.file)
        assert.equals(a.size, t.filesize(run_dir .. "/" .. a.file))
      end
      for _, k in ipairs({ "profile", "binary", "stdout", "stderr", "perf-data" }) do
        assert.is_table(kinds[k], "artifact " .. k)
      end
      -- recorded compressed (this perf has zstd), converted from perf.data
      -- without perf script
      assert.is_truthy(table.concat(rec.perf.argv, " "):find(" record .* %-z "), table.concat(rec.perf.argv, " "))
      assert.is_nil(kinds["perf-script"])
      assert.matches("BenchmarkUnpadded", t.read(run_dir .. "/stdout.txt"))
    end)

    it("writes a profile whose hot function and lines go tool pprof resolves", function()
      local top = pprof({ "-top", run_dir .. "/perf.pb.gz" })
      assert.equals(0, top.code, top.stderr)
      assert.matches("Unpadded%)%.Add", top.stdout)
      local lines = pprof({ "-lines", "-top", run_dir .. "/perf.pb.gz" })
      assert.equals(0, lines.code, lines.stderr)
      assert.matches("Unpadded%)%.Add [^\n]*counters%.go:%d+", lines.stdout)
    end)

    it("archives profile and binary so pprof symbolizes without the original", function()
      assert.is_string(rec.archive)
      assert.is_truthy(rec.archive:find(repo.archive, 1, true))
      local base = rec.archive
      for _, f in ipairs({ "perf.pb.gz", "perf.data", "git-info.txt" }) do
        assert.is_truthy(t.filesize(base .. "/" .. f), f)
      end
      assert.matches("commit: " .. rec.git.commit, t.read(base .. "/git-info.txt"))
      -- written beside, then renamed into place: nothing else is left there
      local p = io.popen("ls -A " .. t.quote(base:match("^(.*)/[^/]+$")))
      local siblings = p:read("a")
      p:close()
      assert.is_nil(siblings:match("%.incoming"), siblings)
      os.remove(run_dir .. "/" .. "perfgo.test.linux." .. rec.target.arch)
      local lines = pprof({ "-lines", "-top", "perf.pb.gz" }, base)
      assert.equals(0, lines.code, lines.stderr)
      assert.matches("counters%.go:%d+", lines.stdout)
      -- the archived recording converts again to the same functions and totals
      local again = run_dir .. "/again.pb.gz"
      local c = t.perfgo({ "convert", "-i", base .. "/perf.data", "-o", again }, { cwd = repo.root, env = repo.env })
      assert.equals(0, c.code, c.stderr)
      local function top(file)
        local res = pprof({ "-top", "-nodecount=100", file })
        assert.equals(0, res.code, res.stderr)
        return (res.stdout:gsub("^.-\n( *flat)", "%1"))
      end
      assert.equals(top(base .. "/perf.pb.gz"), top(again))
    end)
  end)

  it("profiles a recording perfgo cannot read through perf script, saying why", function()
    local r = t.perfgo({ "exec", "profile", "-e", "cpu-clock", "--call-graph", "dwarf", "--", "sh", "-c",
      "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, r.code, r.stderr)
    assert.matches("converting with perf script instead: [^\n]*%-%-call%-graph dwarf", r.stderr)
    local dir = fixture.latest(repo)
    local kinds = {}
    for _, a in ipairs(fixture.record(dir).artifacts) do kinds[a.type] = true end
    assert.is_true(kinds["perf-script"] and kinds["perf-data"] and kinds.profile)
    local top = pprof({ "-top", dir .. "/perf.pb.gz" })
    assert.equals(0, top.code, top.stderr)
    assert.matches("converted by perfgo from perf script", top.stdout)
  end)

  it("stat writes stat.json with numeric values for the events", function()
    local r = t.perfgo({ "test", "stat", "-e", "task-clock", "-e", "page-faults", "./examples/false-sharing",
      "-bench=Padded", "-run=^$", "-benchtime=100ms" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, r.code, r.stderr)
    local runs = fixture.runs(repo)
    local found
    for _, dir in ipairs(runs) do
      local rec = fixture.record(dir)
      if rec.type == "stat" then found = dir end
    end
    assert.is_string(found)
    local stat = require("cjson").decode(t.read(found .. "/stat.json"))
    local seen = {}
    for _, ev in ipairs(stat.events) do seen[ev.event] = ev end
    assert.is_number(seen["task-clock"].value)
    assert.is_true(seen["task-clock"].value > 0)
    assert.is_number(seen["page-faults"].value)
    assert.matches("task%-clock", t.read(found .. "/stat.txt"))
    assert.matches("task%-clock", r.stdout)
  end)

  it("a failing test passes its exit code through and is recorded", function()
    local before = #fixture.runs(repo)
    local r = t.perfgo({ "test", "./app/fails", "-v" }, { cwd = repo.root, env = repo.env })
    assert.equals(1, r.code)
    assert.matches("Answer%(%) = 41, want 42", r.stdout)
    local runs = fixture.runs(repo)
    assert.equals(before + 1, #runs)
    local newest
    for _, dir in ipairs(runs) do
      local rec = fixture.record(dir)
      if rec.package and rec.package.path == "app/fails" then newest = rec end
    end
    assert.equals(1, newest.exit_code)
    assert.equals("failed", newest.status)
  end)

  it("a build error shows the compiler output", function()
    local r = t.perfgo({ "test", "./app/broken" }, { cwd = repo.root, env = repo.env })
    assert.is_not.equals(0, r.code)
    assert.matches("undefined: undefinedName", r.stderr)
    assert.matches("build failed", r.stderr)
  end)

  it("a pattern matching several packages is refused before building", function()
    local r = t.perfgo({ "test", "./app/..." }, { cwd = repo.root, env = repo.env })
    assert.equals(2, r.code)
    assert.matches("matches %d+ packages", r.stderr)
    assert.equals(1, t.lines(r.stderr))
  end)

  it("a directory without tests or Go files is refused", function()
    local r = t.perfgo({ "test", "./app/notests" }, { cwd = repo.root, env = repo.env })
    assert.equals(2, r.code)
    assert.matches("no test files", r.stderr)
    r = t.perfgo({ "test", "./nowhere" }, { cwd = repo.root, env = repo.env })
    assert.equals(2, r.code)
    assert.matches("nowhere", r.stderr)
  end)

  it("c2c on a machine without memory-access sampling stops before the test runs", function()
    local r = t.perfgo({ "test", "c2c", "./app/fails", "-v" }, { cwd = repo.root, env = repo.env })
    if r.code == 1 then
      pending("this machine supports perf c2c")
      return
    end
    assert.equals(2, r.code)
    assert.matches("perf c2c cannot record", r.stderr)
    assert.is_nil(r.stdout:match("checking the answer"))
  end)

  it("--go-profiles also keeps Go's own profiles", function()
    local r = t.perfgo({ "test", "--go-profiles", "./examples/false-sharing", "-bench=Padded", "-run=^$",
      "-benchtime=50ms" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, r.code, r.stderr)
    local dir = fixture.latest(repo)
    local kinds = {}
    for _, a in ipairs(fixture.record(dir).artifacts) do kinds[a.file] = a.type end
    assert.equals("go-profile", kinds["go-cpu.pprof"])
    local top = t.run({ "go", "tool", "pprof", "-top", dir .. "/go-cpu.pprof" })
    assert.equals(0, top.code, top.stderr)
  end)

  it("an event the machine cannot count stops before the test runs", function()
    local r = t.perfgo({ "test", "profile", "-e", "cycles", "./app/fails" }, { cwd = repo.root, env = repo.env })
    if r.code == 0 then
      pending("this machine has a hardware PMU: cycles is supported")
      return
    end
    assert.equals(2, r.code)
    assert.matches("cycles", r.stderr)
    assert.matches("cpu%-clock", r.stderr)
    assert.is_nil(r.stdout:match("checking the answer"))
  end)
end)
