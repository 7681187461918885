-- perfgo.perfcheck: the decisions taken before and after perf runs, fed
-- with perf run live by the spec (perf 6.1, as root, in a VM without a
-- hardware PMU) and with literal samples where the situation cannot be
-- produced here (each says where it comes from).
local perfcheck = require "perfgo.perfcheck"
local t = require "testutil"

local function perf(args, opts)
  local argv = { "perf" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  opts = opts or {}
  opts.env = perfcheck.ENV
  return t.run(argv, opts)
end

local function probe(events)
  local argv = perfcheck.probe_argv(events)
  return t.run(argv, { env = perfcheck.ENV })
end

local function is_root()
  local p = assert(io.popen("id -u"))
  local uid = p:read("l")
  p:close()
  return uid == "0"
end

local function has_pmu()
  local r = probe("cycles")
  return not r.stderr:find("<not supported>", 1, true)
end

describe("perfcheck.probe", function()
  it("builds a perf stat -x, command around true", function()
    assert.same({ "perf", "stat", "-x,", "-e", "cycles,cpu-clock", "--", "true" },
      perfcheck.probe_argv { "cycles", "cpu-clock" })
    assert.same({ "/usr/bin/perf", "stat", "-x,", "-e", "task-clock", "--", "true" },
      perfcheck.probe_argv("task-clock", "/usr/bin/perf"))
    assert.has_error(function() perfcheck.probe_argv("") end)
  end)

  it("accepts software events on this machine", function()
    assert.is_nil(perfcheck.probe(probe("cpu-clock")))
    assert.is_nil(perfcheck.probe(probe("task-clock,page-faults,context-switches")))
  end)

  it("stops on a hardware event the machine cannot count, naming it", function()
    if has_pmu() then
      pending("this machine has a PMU; cycles is supported")
      return
    end
    local r = probe("cpu-clock,cycles")
    assert.equals(0, r.code) -- perf itself does not fail: the silent case
    assert.equals("event 'cycles' is not supported on this machine (no hardware PMU access, e.g. in a VM): "
      .. "use a software event such as -e cpu-clock", perfcheck.probe(r))
    assert.matches("'cache%-misses' is not supported", perfcheck.probe(probe("cache-misses")))
  end)

  it("accepts a hybrid event when one core type supports it (literal sample)", function()
    -- perf 6.1 CSV layout as printed on hybrid Intel CPUs, where `cycles`
    -- becomes one row per core type
    local r = { code = 0, stderr = "<not supported>,,cpu_atom/cycles/,0,100.00,,\n"
      .. "31415926,,cpu_core/cycles/,100000000,100.00,,\n" }
    assert.is_nil(perfcheck.probe(r))
    r.stderr = "<not supported>,,cpu_atom/cycles/,0,100.00,,\n<not supported>,,cpu_core/cycles/,0,100.00,,\n"
    assert.matches("^event 'cycles' is not supported", perfcheck.probe(r))
  end)

  it("names an event perf does not know", function()
    local r = probe("no-such-event")
    assert.is_not.equals(0, r.code)
    assert.equals("perf does not know the event 'no-such-event': run 'perf list' for the events this "
      .. "machine has", perfcheck.probe(r))
  end)

  it("names kernel.perf_event_paranoid when perf is denied", function()
    if not is_root() then
      pending("needs root to run perf as another user")
      return
    end
    local level = t.read("/proc/sys/kernel/perf_event_paranoid"):match("%-?%d+")
    if tonumber(level) < 1 then
      pending("perf_event_paranoid is " .. level .. ": system-wide counting is allowed to all")
      return
    end
    -- system-wide counting as an unprivileged user is refused at level >= 1
    local r = t.run({ "runuser", "-u", "nobody", "--", "perf", "stat", "-a", "-x,", "-e", "cpu-clock", "true" },
      { env = perfcheck.ENV, cwd = "/tmp" })
    assert.is_not.equals(0, r.code)
    local msg = perfcheck.probe(r)
    assert.matches("kernel%.perf_event_paranoid %(" .. level .. "%)", msg)
    assert.matches("sudo sysctl kernel%.perf_event_paranoid=", msg)
  end)

  it("reports any other perf failure with its first line", function()
    assert.equals("perf stat failed (exit 1): boom", perfcheck.probe { code = 1, stderr = "boom\nmore\n" })
  end)
end)

describe("perfcheck.unsupported_event", function()
  it("blames the missing PMU for hardware events only", function()
    for _, e in ipairs { "cycles", "cpu-cycles", "cpu_core/cycles/", "cache-misses:u", "L1-dcache-load-misses",
      "branch-misses", "r003c" } do
      assert.matches("no hardware PMU access", perfcheck.unsupported_event(e), e)
    end
    assert.matches("^event 'cycles' ", perfcheck.unsupported_event("cpu_atom/cycles/"))
    assert.matches("^event 'sched:sched_switch' is not supported on this machine: run 'perf list'",
      perfcheck.unsupported_event("sched:sched_switch"))
    assert.is_false(perfcheck.is_hardware("cpu-clock"))
    assert.is_false(perfcheck.is_hardware("cpu-migrations"))
  end)
end)

describe("perfcheck.perf_missing", function()
  it("names the Debian package", function()
    assert.is_nil(perfcheck.perf_missing(true))
    assert.matches("install the Debian package linux%-perf", perfcheck.perf_missing(false))
  end)

  it("is nil here, where perf is installed", function()
    local r = t.run { "sh", "-c", "command -v perf" }
    assert.is_nil(perfcheck.perf_missing(r.code == 0))
  end)
end)

describe("perfcheck.paranoid", function()
  it("lets root through whatever the level", function()
    assert.is_nil(perfcheck.paranoid("4\n", { root = true, system_wide = true }))
  end)

  it("allows user-space profiling at 2 and below", function()
    assert.is_nil(perfcheck.paranoid("2\n"))
    assert.is_nil(perfcheck.paranoid(1, { system_wide = true }))
    assert.is_nil(perfcheck.paranoid("-1\n", { kernel = true }))
  end)

  it("names the sysctl and the command to lower it", function()
    local msg = perfcheck.paranoid("3\n")
    assert.matches("^kernel%.perf_event_paranoid is 3", msg)
    assert.matches("'sudo sysctl kernel%.perf_event_paranoid=2'", msg)
    msg = perfcheck.paranoid("2\n", { system_wide = true })
    assert.matches("forbids system%-wide counting", msg)
    assert.matches("'sudo sysctl kernel%.perf_event_paranoid=1'", msg)
    assert.matches("forbids kernel profiling", perfcheck.paranoid(2, { kernel = true }))
  end)

  it("decides on this machine's value", function()
    local v = t.read("/proc/sys/kernel/perf_event_paranoid")
    local level = tonumber(v:match("%-?%d+"))
    assert.is_nil(perfcheck.paranoid(v, { root = true }))
    assert.equals(level >= 3, perfcheck.paranoid(v) ~= nil)
  end)
end)

describe("perfcheck.kptr_restrict", function()
  it("warns when kernel symbols will show as [unknown]", function()
    assert.is_nil(perfcheck.kptr_restrict("0\n"))
    assert.is_nil(perfcheck.kptr_restrict("1\n", { root = true }))
    local msg = perfcheck.kptr_restrict("1\n")
    assert.matches("kernel%.kptr_restrict is 1", msg)
    assert.matches("%[unknown%]", msg)
    msg = perfcheck.kptr_restrict("2\n", { root = true })
    assert.matches("'sudo sysctl kernel%.kptr_restrict=0'", msg)
  end)
end)

describe("perfcheck.preflight", function()
  it("stops at the first problem a user must fix", function()
    local err = perfcheck.preflight { perf_found = false, paranoid = "3" }
    assert.matches("linux%-perf", err)
    err = perfcheck.preflight { perf_found = true, paranoid = "3" }
    assert.matches("perf_event_paranoid", err)
  end)

  it("passes on this machine with a software event, warning about kptr_restrict only if set", function()
    local kptr = t.read("/proc/sys/kernel/kptr_restrict")
    local err, warnings = perfcheck.preflight {
      perf_found = true, root = is_root(),
      paranoid = t.read("/proc/sys/kernel/perf_event_paranoid"),
      kptr_restrict = kptr, probe = probe("cpu-clock"),
    }
    assert.is_nil(err)
    assert.equals(perfcheck.kptr_restrict(kptr, { root = is_root() }) and 1 or 0, #warnings)
    warnings = select(2, perfcheck.preflight { perf_found = true, root = true, kptr_restrict = "2" })
    assert.equals(1, #warnings)
  end)
end)

describe("perfcheck.record_warnings", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  local function busy(ms)
    return { "sh", "-c", ("end=$(($(date +%%s%%N) + %d000000)); while [ $(date +%%s%%N) -lt $end ]; do :; done")
      :format(ms) }
  end

  it("is silent for a normal recording", function()
    local argv = { "record", "-e", "cpu-clock", "-F", "999", "-o", dir .. "/ok.data", "--" }
    for _, a in ipairs(busy(200)) do argv[#argv + 1] = a end
    local r = perf(argv)
    assert.equals(0, r.code, r.stderr)
    assert.same({}, perfcheck.record_warnings(r.stderr))
  end)

  it("warns when perf throttles the requested frequency", function()
    local max = tonumber(t.read("/proc/sys/kernel/perf_event_max_sample_rate"))
    local r = perf { "record", "-e", "cpu-clock", "-F", tostring(max * 2), "-o", dir .. "/f.data", "true" }
    assert.equals(0, r.code, r.stderr)
    local w = perfcheck.record_warnings(r.stderr)
    assert.equals(1, #w, r.stderr)
    assert.matches("perf throttled sampling from " .. max * 2 .. " Hz", w[1])
    assert.matches("kernel%.perf_event_max_sample_rate", w[1])
  end)

  it("warns about a profile with zero samples", function()
    local r = perf { "record", "-e", "cpu-clock", "-c", "1000000000", "-o", dir .. "/z.data", "true" }
    assert.equals(0, r.code, r.stderr)
    local w = perfcheck.record_warnings(r.stderr)
    assert.equals(1, #w, r.stderr)
    assert.matches("zero samples", w[1])
  end)

  it("warns about lost events (captured on this VM)", function()
    -- perf record -m 1 -F 100000 -g -e cpu-clock on a busy shell loop
    local stderr = "[ perf record: Woken up 2021 times to write data ]\nWarning:\n"
      .. "Processed 58252 events and lost 4 chunks!\n\nCheck IO/CPU overload!\n\n"
      .. "[ perf record: Captured and wrote 3.975 MB l.data (55434 samples) ]\n"
    local w = perfcheck.record_warnings(stderr)
    assert.equals(1, #w)
    assert.matches("perf lost 4 chunk%(s%) of events %(58252 events processed%)", w[1])
    assert.matches("%-m", w[1])
  end)

  it("reads lost and throttled counts from perf report --stats (captured on this VM)", function()
    local stats = "            LOST events:          4  ( 0.0%)\n"
      .. "        THROTTLE events:         36  ( 0.1%)\n"
      .. "      UNTHROTTLE events:         36  ( 0.1%)\n"
      .. "    LOST_SAMPLES events:          1  ( 0.0%)\n"
    local w = perfcheck.record_warnings(stats)
    assert.equals(3, #w)
    assert.matches("lost 4 chunk", w[1])
    assert.matches("1 lost%-sample record", w[2])
    assert.matches("throttled sampling 36 time", w[3])
  end)

  it("warns about lost samples (perf's session warning text)", function()
    local w = perfcheck.record_warnings("Warning:\nProcessed 120000 samples and lost 7.50%!\n\n")
    assert.matches("perf lost 7%.50%% of 120000 samples", w[1])
  end)

  it("warns when kernel symbols are restricted (perf record's warning text)", function()
    -- the text perf 6.1 prints when /proc/kallsyms is hidden; kptr_restrict
    -- is 0 here, so it is quoted from perf's source rather than captured
    local stderr = "WARNING: Kernel address maps (/proc/{kallsyms,modules}) are restricted,\n"
      .. "check /proc/sys/kernel/kptr_restrict and /proc/sys/kernel/perf_event_paranoid.\n\n"
      .. "Samples in kernel functions may not be resolved if a suitable vmlinux\n"
      .. "file is not found in the buildid cache or in the vmlinux path.\n\n"
      .. "[ perf record: Captured and wrote 0.005 MB perf.data (14 samples) ]\n"
    local w = perfcheck.record_warnings(stderr)
    assert.equals(1, #w)
    assert.matches("%[unknown%]", w[1])
    assert.matches("kernel%.kptr_restrict=0", w[1])
  end)
end)

describe("perfcheck.script_failure", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("is nil when perf script worked", function()
    local r = perf { "record", "-e", "cpu-clock", "-o", dir .. "/ok.data", "true" }
    assert.equals(0, r.code)
    r = perf { "script", "-i", dir .. "/ok.data" }
    assert.is_nil(perfcheck.script_failure(r.code, r.stderr))
  end)

  it("explains a corrupt or missing perf.data", function()
    t.write(dir .. "/bad.data", "garbage\n")
    local r = perf { "script", "-i", dir .. "/bad.data" }
    local msg = perfcheck.script_failure(r.code, r.stderr)
    assert.matches("^perf script failed %(exit %d+%), so no profile could be made: incompatible file format", msg)
    r = perf { "script", "-i", dir .. "/none.data" }
    assert.matches("failed to open .*none%.data", perfcheck.script_failure(r.code, r.stderr))
  end)
end)

describe("perfcheck.stat_signal", function()
  local desc = { [11] = "Segmentation fault", [15] = "Terminated" }
  it("reads the signal perf stat names for its command, wherever the line is", function()
    assert.equals(11, perfcheck.stat_signal("hi\n./t: Segmentation fault\n", "./t", desc))
    assert.equals(15, perfcheck.stat_signal("./t: Terminated\nperf: a later note\n", "./t", desc))
    assert.is_nil(perfcheck.stat_signal("other: Terminated\n", "./t", desc))
    assert.is_nil(perfcheck.stat_signal("./t: Terminated by the test itself\n", "./t", desc))
  end)
end)

describe("perfcheck.workload_failure and perf_failure", function()
  it("find why perf could not start the command, in perf record's and perf stat's words", function()
    assert.equals("No such file or directory", perfcheck.workload_failure(
      "Failed to collect 'cpu-clock:ppp' for the '/x' workload: No such file or directory\n"))
    assert.equals("Permission denied", perfcheck.workload_failure("Workload failed: Permission denied\n"))
    assert.is_nil(perfcheck.workload_failure("some output of the test\n"))
  end)

  it("say what perf said, before its usage text", function()
    local msg = perfcheck.perf_failure("perf record", 129,
      "callchain: Unknown --call-graph option value: bogus\n\n Usage: perf record [<options>]\n    -e ...\n")
    assert.equals("perf record failed (exit 129), so the command was not measured: callchain: "
      .. "Unknown --call-graph option value: bogus", msg)
    assert.matches("%(exit 255%).*: frequency and count are zero, aborting$",
      perfcheck.perf_failure("perf record", 255, "frequency and count are zero, aborting\n"))
    assert.matches("%(killed by signal 9%).*: no message$", perfcheck.perf_failure("perf stat", 137, "", 9))
  end)
end)
