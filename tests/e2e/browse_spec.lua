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
      local ty = line:match("^ok%s+%S+ %S+ %x+ (%a+)")
      if ty then types[#types + 1] = ty end
    end
    assert.same({ "profile", "profile", "stat", "stat" }, types)
    assert.matches("examples/false%-sharing\n", r.stdout)
    assert.matches("\n     exit 0 after [%d.]+s  local ", r.stdout)
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
    -- values in their units: task-clock's milliseconds as a time
    assert.matches("task%-clock%s+[%d.]+ [mµn]?s%s+[%d.]+ [mµn]?s%s+[+-][%d.]+%%", r.stdout)
    assert.matches("page%-faults%s+[%d,]+%s+[%d,]+%s", r.stdout)
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
    -- flat deltas are printed as times ("+1.235 ms"): back to nanoseconds
    local scale = { ns = 1, ["µs"] = 1e3, ms = 1e6, s = 1e9 }
    local ours = {}
    for flat, unit, name in r.stdout:gmatch(
      "\n%s*([+-]?[%d.]+) (%S+)%s+%-?[%d.]+%%%s+[+-]?[%d.]+ %S+%s+%-?[%d.]+%%%s+([^\n]+)") do
      ours[name] = tonumber(flat) * assert(scale[unit], unit)
    end
    local diff = t.run({ "go", "tool", "pprof", "-top", "-unit=ns", "-nodecount=200", "-nodefraction=0",
      "-diff_base", a, b })
    assert.equals(0, diff.code, diff.stderr)
    local checked = 0
    for name, flat in pairs(ours) do
      local theirs = diff.stdout:match("\n%s*(%-?[%d.]+)ns%s+[^\n]-%s" .. name:gsub("%p", "%%%0") .. "\n")
      if theirs and flat ~= 0 then
        -- four significant figures
        assert.is_true(math.abs(flat - tonumber(theirs)) <= 0.0005 * math.abs(tonumber(theirs)),
          string.format("%s: %s vs %s", name, flat, theirs))
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

  it("a first argument that is not a run is an error listing the closest ids, never a pprof file", function()
    local list = cjson.decode(perfgo({ "list", "--json" }).stdout)
    local id = list[1].id
    for _, sel in ipairs({ id:sub(1, 5) .. "x", "../../etc", "/etc/passwd", "+1" }) do
      local r = perfgo({ "view", sel, "-top" })
      assert.equals(2, r.code, sel .. ": " .. r.stderr)
      assert.matches("^perfgo: '" .. sel:gsub("%p", "%%%0") .. "' is not a run %(give 0, %-N or a prefix of a "
        .. "run id%); the closest ids:\n", r.stderr)
      assert.is_nil(r.stdout:match("flat%%"))
    end
    local r = perfgo({ "view", id:sub(1, 5) .. "x" })
    assert.matches("\n  " .. id:sub(1, 8) .. "%x*  profile ok ", r.stderr)
    r = perfgo({ "compare", "ffffffff", "0" })
    assert.equals(2, r.code)
    assert.matches("no run id starts with 'ffffffff'; the closest ids:\n  %x+  %a+ ", r.stderr)
  end)

  describe("with corrupt records", function()
    local base, stat
    setup(function()
      base = repo.root .. "/.perfgo/history/"
      stat = cjson.decode(perfgo({ "list", "--json" }).stdout)[4]
      os.execute("mkdir -p " .. t.quote(base .. "aaaa0000000000000000000000000001") .. " "
        .. t.quote(base .. "aaaa0000000000000000000000000002") .. " "
        .. t.quote(base .. "aaab0000000000000000000000000003"))
      t.write(base .. "aaaa0000000000000000000000000001/testrun.json", '{"id": "aaaa", "type": "pro')
      t.write(base .. "aaab0000000000000000000000000003/testrun.json", '[1,2,3]')
      -- a stat run whose stat.json was damaged
      assert.equals("stat", stat.type)
      for _, id in ipairs({ "cccc0000000000000000000000000004", "cccc0000000000000000000000000005" }) do
        os.execute(string.format("cp -r %s %s", t.quote(stat.dir), t.quote(base .. id)))
      end
      t.write(base .. "cccc0000000000000000000000000004/stat.json", '{"events": "task-clock"}')
      t.write(base .. "cccc0000000000000000000000000005/stat.json", '{"events": [')
    end)

    it("lists them with the reason and goes on", function()
      local r = perfgo({ "list" })
      assert.equals(0, r.code, r.stderr)
      assert.matches("corrupt record: testrun.json is not valid JSON", r.stdout)
      assert.matches("corrupt record: no testrun.json", r.stdout)
      assert.matches("corrupt record: testrun.json is not a run record: it is not a JSON object", r.stdout)
      local n = 0
      for _ in r.stdout:gmatch("\nok ") do n = n + 1 end
      assert.is_true(n >= 3)
      local list = cjson.decode(perfgo({ "list", "--json" }).stdout)
      local corrupt = 0
      for _, e in ipairs(list) do
        if e.corrupt then corrupt = corrupt + 1; assert.is_string(e.problem) end
      end
      assert.equals(3, corrupt)
    end)

    it("an ambiguous prefix lists the candidates by prefixes long enough to tell them apart", function()
      local r = perfgo({ "view", "aaa" })
      assert.equals(2, r.code)
      assert.matches("matches 3 runs", r.stderr)
      local prefixes = {}
      for p in r.stderr:gmatch("\n  (%x+)") do prefixes[#prefixes + 1] = p end
      assert.equals(3, #prefixes)
      for _, p in ipairs(prefixes) do
        local v = perfgo({ "view", p })
        assert.is_nil(v.stderr:match("matches"), p .. ": " .. v.stderr)
      end
      assert.matches("\n  aaab0000  %? corrupt", r.stderr)
    end)

    it("viewing a corrupt run names the problem", function()
      local r = perfgo({ "view", "aaaa00000000000000000000000000012" })
      assert.equals(2, r.code)
      r = perfgo({ "view", "aaaa0000000000000000000000000001" })
      assert.equals(2, r.code)
      assert.matches("cannot be read: testrun.json is not valid JSON", r.stderr)
      r = perfgo({ "view", "aaab" })
      assert.equals(2, r.code)
      assert.matches("cannot be read: testrun.json is not a run record: it is not a JSON object", r.stderr)
      r = perfgo({ "compare", "aaab", "0" })
      assert.equals(2, r.code)
      assert.matches("cannot be read: testrun.json is not a run record", r.stderr)
    end)

    it("compare names a corrupt stat.json, never a traceback", function()
      local r = perfgo({ "compare", "cccc0000000000000000000000000004", stat.id })
      assert.equals(2, r.code, r.stderr)
      assert.matches("^perfgo: run cccc0000: stat%.json is corrupt: it has no list of events\n$", r.stderr)
      r = perfgo({ "compare", stat.id, "cccc0000000000000000000000000005" })
      assert.equals(2, r.code, r.stderr)
      assert.matches("^perfgo: run cccc0000: stat%.json is corrupt: not valid JSON", r.stderr)
    end)
  end)
end)
