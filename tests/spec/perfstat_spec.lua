-- perfgo.perfstat against real `perf stat -x,` output: samples captured on
-- the development VM (perf 6.1, KVM, 2 vCPUs, no hardware PMU, as root,
-- LC_ALL=C) and perf run live by the spec. Hybrid (cpu_core/cpu_atom) and
-- multiplexed counters cannot happen on a machine without a PMU, so those
-- lines are hand-made in perf 6.1's CSV format and marked as such.
local perfstat = require "perfgo.perfstat"
local t = require "testutil"

-- perf stat -x, -e task-clock,page-faults,context-switches true
local SOFTWARE = [[
0.63,msec,task-clock,632002,100.00,0.468,CPUs utilized
49,,page-faults,632002,100.00,77.531,K/sec
0,,context-switches,632002,100.00,0.000,/sec
]]

-- perf stat -x, -d true (perf's default set plus --detail)
local DETAIL = [[
0.61,msec,task-clock,610030,100.00,0.455,CPUs utilized
0,,context-switches,610030,100.00,0.000,/sec
0,,cpu-migrations,610030,100.00,0.000,/sec
50,,page-faults,610030,100.00,81.963,K/sec
<not supported>,,cycles,0,100.00,,
<not supported>,,instructions,0,100.00,,
<not supported>,,branches,0,100.00,,
<not supported>,,branch-misses,0,100.00,,
<not supported>,,L1-dcache-loads,0,100.00,,
<not supported>,,L1-dcache-load-misses,0,100.00,,
<not supported>,,LLC-loads,0,100.00,,
<not supported>,,LLC-load-misses,0,100.00,,
]]

-- perf stat -x, -r 3 -e task-clock,page-faults,cycles true
local REPEAT = [[
0.54,msec,task-clock,4.56%,540628,100.00,0.469,CPUs utilized
48,,page-faults,0.69%,540628,100.00,84.966,K/sec
<not supported>,,cycles,0.00%,0,100.00,,
]]

-- perf stat -x, -e '{cpu-clock,cycles}' true: a group with an unsupported
-- member is never scheduled, so cpu-clock is <not counted>
local GROUP = [[
<not counted>,msec,cpu-clock,0,100.00,,
<not supported>,,cycles,0,100.00,,
]]

-- perf stat -x, -o FILE -e task-clock true (the file has a comment header)
local LOGFILE = "# started on Thu Nov 26 12:00:21 2026\n\n"
  .. "0.66,msec,task-clock,659547,100.00,0.448,CPUs utilized\n"

-- HAND-MADE (no PMU here): a hybrid Intel CPU, perf 6.1 CSV layout. The
-- cpu_atom copies ran only part of the time (the test ran mostly on
-- P-cores), so they are multiplexed; a topdown group heading follows.
local HYBRID = [[
1517.20,msec,task-clock,1517204113,100.00,0.998,CPUs utilized
5120334901,,cpu_core/cycles/,1480112355,100.00,3.375,GHz
211408770,,cpu_atom/cycles/,40551020,2.67,0.139,GHz
9921873310,,cpu_core/instructions/,1480112355,100.00,1.94,insn per cycle
301990211,,cpu_atom/instructions/,40551020,2.67,1.43,insn per cycle
<not counted>,,cpu_atom/branch-misses/,0,0.00,,
,1480112355,100.00,,,,TopdownL1 (cpu_core)
,,,,,41.2,%  tma_backend_bound
,,,,,12.5,%  tma_retiring
]]

-- HAND-MADE (no PMU here): more hardware events than counters on a
-- non-hybrid CPU; the kernel time-shared them, and perf printed a second
-- metric for cycles on its own line.
local MULTIPLEXED = [[
812334101,,cycles,600123456,74.95,2.706,GHz
,,,,,0.45,stalled cycles per insn
1502110099,,instructions,600981231,75.06,1.85,insn per cycle
10499213,,cache-misses,801000000,100.00,13.979,M/sec
]]

local function env_perf(args)
  local argv = { "perf" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return t.run(argv, { env = { LC_ALL = "C" } })
end

describe("perfstat.parse", function()
  it("reads software counters with unit, run time and metric", function()
    local c, skipped = perfstat.parse(SOFTWARE)
    assert.equals(3, #c)
    assert.same({}, skipped)
    assert.same({
      event = "task-clock", value = 0.63, state = "counted", unit = "msec",
      run_time = 632002, running_pct = 100, multiplexed = false,
      metric = { value = 0.468, unit = "CPUs utilized" },
      metrics = { { value = 0.468, unit = "CPUs utilized" } },
    }, c[1])
    assert.equals(49, c[2].value)
    assert.is_nil(c[2].unit)
    assert.same({ value = 77.531, unit = "K/sec" }, c[2].metric)
    assert.equals(0, c[3].value)
    assert.equals("counted", c[3].state)
  end)

  it("keeps <not supported> counters as a state without a value, not zero", function()
    local c = perfstat.parse(DETAIL)
    assert.equals(12, #c)
    local cycles = perfstat.find(c, "cycles")
    assert.equals("not supported", cycles.state)
    assert.is_nil(cycles.value)
    assert.is_nil(cycles.metric)
    assert.is_false(cycles.multiplexed)
    assert.equals("not supported", perfstat.find(c, "LLC-load-misses").state)
    assert.equals("counted", perfstat.find(c, "cpu-migrations").state)
  end)

  it("reads the variance column that -r adds", function()
    local c = perfstat.parse(REPEAT)
    assert.equals(4.56, c[1].variance_pct)
    assert.equals(0.69, c[2].variance_pct)
    assert.equals(540628, c[2].run_time)
    assert.equals("page-faults", c[2].event)
    assert.equals("not supported", c[3].state)
    assert.is_nil(c[3].variance_pct)
  end)

  it("keeps <not counted> apart from <not supported>", function()
    local c = perfstat.parse(GROUP)
    assert.equals("not counted", c[1].state)
    assert.is_nil(c[1].value)
    assert.equals("msec", c[1].unit)
    assert.is_false(c[1].multiplexed)
    assert.equals("not supported", c[2].state)
  end)

  it("ignores comment and blank lines, and returns lines it does not understand", function()
    local c, skipped = perfstat.parse(LOGFILE .. "Run 'perf list' for a list of valid events\n")
    assert.equals(1, #c)
    assert.equals("task-clock", c[1].event)
    assert.same({ "Run 'perf list' for a list of valid events" }, skipped)
  end)

  it("keeps hybrid cpu_core/ and cpu_atom/ copies as separate events (hand-made sample)", function()
    local c, _, groups = perfstat.parse(HYBRID)
    assert.equals(6, #c)
    local core, atom = perfstat.find(c, "cpu_core/cycles/"), perfstat.find(c, "cpu_atom/cycles/")
    assert.equals(5120334901, core.value)
    assert.equals(211408770, atom.value)
    assert.is_false(core.multiplexed)
    assert.is_true(atom.multiplexed)
    assert.equals(2.67, atom.running_pct)
    assert.equals("not counted", perfstat.find(c, "cpu_atom/branch-misses/").state)
    assert.is_nil(perfstat.find(c, "cycles"))
    -- the topdown metrics belong to their group, not to the counter above
    assert.same({ { name = "TopdownL1 (cpu_core)", metrics = {
      { value = 41.2, unit = "%  tma_backend_bound" }, { value = 12.5, unit = "%  tma_retiring" } } } }, groups)
    assert.equals(0, #perfstat.find(c, "cpu_atom/branch-misses/").metrics)
  end)

  it("flags multiplexed counters and attaches continuation metrics (hand-made sample)", function()
    local c = perfstat.parse(MULTIPLEXED)
    assert.equals(3, #c)
    assert.is_true(c[1].multiplexed)
    assert.equals(74.95, c[1].running_pct)
    assert.same({ { value = 2.706, unit = "GHz" }, { value = 0.45, unit = "stalled cycles per insn" } },
      c[1].metrics)
    assert.is_false(c[3].multiplexed)
  end)

  it("parses what perf prints here and now", function()
    local r = env_perf { "stat", "-x,", "-e", "task-clock,page-faults,cycles", "-r", "2", "--", "sleep", "0.01" }
    assert.equals(0, r.code)
    local c = perfstat.parse(r.stderr)
    assert.equals(3, #c, r.stderr)
    local tc = perfstat.find(c, "task-clock")
    assert.equals("counted", tc.state)
    assert.equals("msec", tc.unit)
    assert.is_true(tc.value > 0)
    assert.is_number(tc.variance_pct)
    assert.is_true(perfstat.find(c, "page-faults").value > 0)
    -- this VM has no PMU; on a machine with one, cycles is counted
    local cycles = perfstat.find(c, "cycles")
    assert.is_true(cycles.state == "not supported" or cycles.value > 0)
  end)

  it("rejects a non-string", function()
    assert.has_error(function() perfstat.parse(nil) end)
  end)
end)

describe("perfstat.render", function()
  local function lines(s)
    local l = {}
    for line in s:gmatch("([^\n]*)\n") do l[#l + 1] = line end
    return l
  end

  it("aligns values right and event names in one column, spelling out states", function()
    local out = perfstat.render(perfstat.parse(DETAIL))
    local l = lines(out)
    assert.equals(12, #l)
    local col = l[1]:find("task-clock", 1, true)
    local function value_end(line) return #(line:match("^%s*<[^>]*>") or line:match("^%s*%S+")) end
    local ends = value_end(l[1])
    for _, line in ipairs(l) do
      assert.equals(" ", line:sub(col - 1, col - 1), "event column misaligned in: " .. line)
      assert.matches("^%S", line:sub(col), "event column misaligned in: " .. line)
      assert.equals(ends, value_end(line), "values not right-aligned in: " .. line)
    end
    assert.matches("<not supported>%s+LLC%-load%-misses", out)
    assert.matches("0%.61 msec%s+task%-clock%s+# 0%.455 CPUs utilized", out)
    assert.is_nil(out:find("*", 1, true))
  end)

  it("shows the -r variance", function()
    assert.matches("task%-clock.*%(%+%- 4%.56%%%)", perfstat.render(perfstat.parse(REPEAT)))
  end)

  it("renders any events: unitless ones only, tracepoints, names over 99 characters", function()
    local long = "probe_" .. string.rep("x", 150) .. ":entry"
    local csv = "1234,,page-faults,1000,100.00,,\n7,,syscalls:sys_enter_getpid,1000,100.00,,\n"
      .. "0,," .. long .. ",1000,100.00,,\n"
    local out = perfstat.render(perfstat.parse(csv))
    local l = lines(out)
    assert.equals(3, #l)
    assert.equals("  1,234  page-faults", l[1])
    assert.equals("      7  syscalls:sys_enter_getpid", l[2])
    assert.equals("      0  " .. long, l[3])
    assert.equals("", perfstat.render({}))
  end)

  it("flags multiplexed counters and explains why that matters", function()
    local out = perfstat.render(perfstat.parse(HYBRID))
    assert.matches("211,408,770%s+cpu_atom/cycles/.*%(%* running 2%.67%%%)", out)
    assert.is_nil(out:match("cpu_core/cycles/[^\n]*running"))
    assert.matches("\n%* counted during only part of the run", out)
    assert.matches("scaled", out)
    assert.matches("estimate", out)
    for _, line in ipairs(lines(out)) do assert.is_true(#line <= 120, line) end
  end)
end)

describe("perfstat.check", function()
  it("finds nothing wrong with counted software events", function()
    assert.same({}, perfstat.check((perfstat.parse(SOFTWARE)), ""))
    assert.has_error(function() perfstat.check(perfstat.parse(SOFTWARE)) end)
  end)

  it("names each unsupported event and suggests a software event", function()
    local p = perfstat.check((perfstat.parse(REPEAT)))
    assert.equals(1, #p)
    assert.equals("error", p[1].level)
    assert.equals("cycles", p[1].event)
    assert.matches("event 'cycles' is not supported on this machine", p[1].message)
    assert.matches("%-e cpu%-clock", p[1].message)
  end)

  it("gives one warning for unsupported events perf chose itself (default set, -d)", function()
    local p = perfstat.check((perfstat.parse(DETAIL)), "", { requested = {} })
    assert.equals(1, #p)
    assert.equals("warning", p[1].level)
    assert.matches("cannot count cycles, instructions, branches, branch%-misses, L1%-dcache%-loads, "
      .. "L1%-dcache%-load%-misses, LLC%-loads, LLC%-load%-misses", p[1].message)
    p = perfstat.check((perfstat.parse(REPEAT)), "", { requested = { "task-clock", "page-faults", "cycles" } })
    assert.equals(1, #p)
    assert.equals("error", p[1].level)
    assert.equals("cycles", p[1].event)
  end)

  it("treats a hybrid event as supported when one core type counts it (hand-made sample)", function()
    local c = perfstat.parse("<not supported>,,cpu_atom/cycles/,0,100.00,,\n"
      .. "31415926,,cpu_core/cycles/,100000000,100.00,,\n")
    assert.same({}, perfstat.check(c, "", { requested = { "cycles" } }))
  end)

  it("warns that a <not counted> value is unknown, not zero", function()
    local p = perfstat.check((perfstat.parse(GROUP)))
    assert.equals("warning", p[1].level)
    assert.matches("'cpu%-clock' was not counted", p[1].message)
    assert.matches("not zero", p[1].message)
    assert.equals("error", p[2].level)
  end)

  it("warns about multiplexed counters with their ratio (hand-made sample)", function()
    local p = perfstat.check((perfstat.parse(MULTIPLEXED)))
    assert.equals(2, #p)
    assert.matches("'cycles' was counted during only 74%.95%% of the run", p[1].message)
    assert.matches("'instructions'.*75%.06%%", p[2].message)
  end)

  it("reports perf's own refusal from stderr", function()
    local r = env_perf { "stat", "-x,", "-e", "no-such-event", "true" }
    assert.is_not.equals(0, r.code)
    local c = perfstat.parse(r.stderr)
    assert.equals(0, #c)
    local p = perfstat.check(c, r.stderr)
    assert.equals(1, #p)
    assert.matches("perf does not know the event 'no%-such%-event'", p[1].message)
  end)

  it("says when there are no counters at all", function()
    local p = perfstat.check({}, "perf: something odd\n")
    assert.equals("error", p[1].level)
    assert.matches("no counters: perf: something odd", p[1].message)
  end)
end)

describe("perfstat.to_json", function()
  it("encodes the counters with explicit states, decodable by cjson", function()
    local cjson = require "cjson"
    local doc = cjson.decode(perfstat.to_json(perfstat.parse(REPEAT .. MULTIPLEXED)))
    assert.equals(6, #doc)
    assert.equals("task-clock", doc[1].event)
    assert.equals(4.56, doc[1].variance_pct)
    assert.equals("not supported", doc[3].state)
    assert.is_nil(doc[3].value)
    assert.is_true(doc[4].multiplexed)
    assert.equals(2, #doc[4].metrics)
    assert.equals("[]", perfstat.to_json({}))
  end)
end)
