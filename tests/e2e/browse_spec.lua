-- list, view and compare on a history made by real runs, plus hand-made
-- corrupt records.
local t = require "testutil"
local fixture = require "fixture"
local cjson = require "cjson"

describe("perfgo list / view / compare", function()
  local repo
  local function perfgo(args) return t.perfgo(args, { cwd = repo.root, env = repo.env }) end

  setup(function()
    repo = fixture.repo()
    local bench = { "./examples/false-sharing", "-bench=Unpadded", "-run=^$", "-benchtime=200ms" }
    local function run(args)
      local argv = { "test" }
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      for _, a in ipairs(bench) do argv[#argv + 1] = a end
      local r = perfgo(argv)
      assert(r.code == 0, r.stderr)
      os.execute("sleep 1.1") -- distinct timestamps
    end
    run({ "stat", "-e", "task-clock", "-e", "page-faults", "-r", "2" })
    run({ "stat", "-e", "task-clock", "-e", "page-faults", "-r", "2" })
    run({ "profile", "-e", "cpu-clock" })
    run({ "profile", "-e", "cpu-clock" })
  end)
  teardown(function() fixture.cleanup(repo) end)

  it("an empty history says so", function()
    local dir = t.tmpdir()
    local r = t.perfgo({ "list" }, { cwd = dir })
    t.rmtree(dir)
    assert.equals(0, r.code)
    assert.matches("no runs recorded yet", r.stdout)
  end)

  it("lists runs newest first in 80 columns", function()
    local r = perfgo({ "list" })
    assert.equals(0, r.code, r.stderr)
    local types = {}
    for line in r.stdout:gmatch("[^\n]+") do
      assert.is_true(#line <= 80, "too wide: " .. line)
      local ty = line:match("^ok%s+%S+ %S+%s+%S+ exit 0%s+%x+ (%a+)")
      if ty then types[#types + 1] = ty end
    end
    assert.same({ "profile", "profile", "stat", "stat" }, types)
    assert.matches("examples/false%-sharing", r.stdout)
    assert.matches("perf%.pb%.gz", r.stdout)
  end)

  it("--json gives one array with the records; --limit and --path filter", function()
    local r = perfgo({ "list", "--json" })
    local list = cjson.decode(r.stdout)
    assert.equals(4, #list)
    assert.equals("profile", list[1].type)
    assert.equals(32, #list[1].id)
    list = cjson.decode(perfgo({ "list", "--json", "--limit", "1" }).stdout)
    assert.equals(1, #list)
    list = cjson.decode(perfgo({ "list", "--json", "--path", "app/fails" }).stdout)
    assert.equals(0, #list)
    list = cjson.decode(perfgo({ "list", "--json", "--path", "./examples/false-sharing/" }).stdout)
    assert.equals(4, #list)
  end)

  it("lists archived profiles", function()
    local r = perfgo({ "list", "--type", "profiles" })
    assert.equals(0, r.code)
    local n = 0
    for _ in r.stdout:gmatch("repo/examples/false%-sharing/%d+%-%d+%-%x+") do n = n + 1 end
    assert.equals(2, n)
  end)

  it("view 0 opens the latest profile in pprof with the flags given", function()
    local r = perfgo({ "view", "0", "-top" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("flat%%", r.stdout)
    assert.matches("Unpadded%)%.Add", r.stdout)
    local r2 = perfgo({ "view", "-1", "--", "-top", "-nodecount=3" })
    assert.equals(0, r2.code, r2.stderr)
    assert.matches("Showing top 3 nodes", r2.stdout)
  end)

  it("view of a stat run prints its table; an id prefix selects", function()
    local list = cjson.decode(perfgo({ "list", "--json" }).stdout)
    local r = perfgo({ "view", list[4].id:sub(1, 10) })
    assert.equals(0, r.code, r.stderr)
    assert.matches("task%-clock", r.stdout)
    assert.matches("page%-faults", r.stdout)
  end)

  it("compare of two stat runs shows both values and the change", function()
    local r = perfgo({ "compare", "-3", "-2" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("task%-clock%s+[%d.]+%s+[%d.]+%s+[+-][%d.]+%%", r.stdout)
    assert.matches("page%-faults", r.stdout)
  end)

  it("compare of two profiles shows the functions that changed", function()
    local r = perfgo({ "compare", "-1", "0" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("flat delta", r.stdout)
    assert.matches("Unpadded%)%.Add", r.stdout)
  end)

  it("compare's deltas are the ones go tool pprof -diff_base gives", function()
    local list = cjson.decode(perfgo({ "list", "--json" }).stdout)
    local a, b = list[2].dir .. "/perf.pb.gz", list[1].dir .. "/perf.pb.gz"
    local r = perfgo({ "compare", "-1", "0", "--top", "5" })
    assert.equals(0, r.code, r.stderr)
    local ours = {}
    for flat, name in r.stdout:gmatch("\n%s*(%-?%d+)%s+%-?[%d.]+%%%s+%-?%d+%s+%-?[%d.]+%%%s+([^\n]+)") do
      ours[name] = tonumber(flat)
    end
    local diff = t.run({ "go", "tool", "pprof", "-top", "-unit=ns", "-nodecount=200", "-nodefraction=0",
      "-diff_base", a, b })
    assert.equals(0, diff.code, diff.stderr)
    local checked = 0
    for name, flat in pairs(ours) do
      local theirs = diff.stdout:match("\n%s*(%-?[%d.]+)ns%s+[^\n]-%s" .. name:gsub("%p", "%%%0") .. "\n")
      if theirs and flat ~= 0 then
        assert.equals(flat, tonumber(theirs), name)
        checked = checked + 1
      end
    end
    assert.is_true(checked >= 1, "no function of compare's top found in pprof's output:\n" .. diff.stdout)
  end)

  it("compare of a stat and a profile run is refused", function()
    local r = perfgo({ "compare", "0", "-3" })
    assert.equals(2, r.code)
    assert.matches("cannot compare a profile run with a stat run", r.stderr)
  end)

  describe("with corrupt records", function()
    setup(function()
      local base = repo.root .. "/.perfgo/history/"
      os.execute("mkdir -p " .. t.quote(base .. "aaaa0000000000000000000000000001") .. " "
        .. t.quote(base .. "aaaa0000000000000000000000000002"))
      t.write(base .. "aaaa0000000000000000000000000001/testrun.json", '{"id": "aaaa", "type": "pro')
    end)

    it("lists them with the reason and goes on", function()
      local r = perfgo({ "list" })
      assert.equals(0, r.code, r.stderr)
      assert.matches("corrupt record: testrun.json is not valid JSON", r.stdout)
      assert.matches("corrupt record: no testrun.json", r.stdout)
      local n = 0
      for _ in r.stdout:gmatch("\nok ") do n = n + 1 end
      assert.is_true(n >= 3)
    end)

    it("an ambiguous prefix lists the candidates", function()
      local r = perfgo({ "view", "aaaa" })
      assert.equals(2, r.code)
      assert.matches("matches 2 runs", r.stderr)
      assert.matches("aaaa00000000", r.stderr)
    end)

    it("viewing a corrupt run names the problem", function()
      local r = perfgo({ "view", "aaaa00000000000000000000000000012" })
      assert.equals(2, r.code)
      r = perfgo({ "view", "aaaa0000000000000000000000000001" })
      assert.equals(2, r.code)
      assert.matches("cannot be read: testrun.json is not valid JSON", r.stderr)
    end)
  end)
end)
