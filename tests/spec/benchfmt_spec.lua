-- perfgo.benchfmt and perfgo.benchenv: the Go benchmark data format
-- (golang.org/design/14313-benchmark-data) read and written, and the host
-- configuration lines. What perfgo writes is checked by a separate reader
-- written here from the format's text, so that the writer is not judged
-- by its own parser.
local benchfmt = require "perfgo.benchfmt"
local benchenv = require "perfgo.benchenv"

-- The format, from its text: a configuration line is "key:" followed by
-- spaces and the value (or nothing), the key without spaces or upper-case
-- letters; a result line has an even number (>= 4) of fields separated by
-- white space: a name starting with "Benchmark", a whole number of
-- iterations, then value/unit pairs whose values are floats. Everything
-- else is ignored.
local function spec_read(text)
  local out = { config = {}, results = {}, other = 0 }
  for line in text:gmatch("([^\n]*)\n") do
    local f = {}
    for w in line:gmatch("%S+") do f[#f + 1] = w end
    local key, sep = line:match("^(%S-):(.?)")
    if key and key ~= "" and not key:find("%u") and (sep == "" or sep:match("%s")) then
      out.config[key] = line:match("^%S-:%s*(.-)%s*$")
    elseif #f >= 4 and #f % 2 == 0 and f[1]:find("^Benchmark") and f[2]:find("^%d+$") then
      local r = { name = f[1], n = tonumber(f[2]), units = {} }
      for i = 3, #f, 2 do
        assert(tonumber(f[i]), "not a float: " .. f[i])
        r.units[f[i + 1]] = tonumber(f[i])
      end
      out.results[#out.results + 1] = r
    else
      out.other = out.other + 1
    end
  end
  return out
end

describe("benchfmt.format_value", function()
  it("prints numbers as the testing package does", function()
    -- testing.prettyPrint: 10 places for the whole part, 4 significant
    -- figures below 1000, decimal points aligned
    assert.equal("        21.60 ns/op", benchfmt.format_value(21.6, "ns/op"))
    assert.equal("   1234567 ns/op", benchfmt.format_value(1234567, "ns/op"))
    assert.equal("       123.5 x/op", benchfmt.format_value(123.45, "x/op"))
    assert.equal("         1.000 getpid/op", benchfmt.format_value(1, "getpid/op"))
    assert.equal("         0.1235 x/op", benchfmt.format_value(0.12345, "x/op"))
    assert.equal("         0.001200 page-faults/op", benchfmt.format_value(0.0012, "page-faults/op"))
    assert.equal("         0.0000123 x/op", benchfmt.format_value(0.0000123, "x/op"))
    assert.equal("         0 x/op", benchfmt.format_value(0, "x/op"))
    assert.equal("        -2.500 x/op", benchfmt.format_value(-2.5, "x/op"))
  end)
end)

describe("benchfmt writing", function()
  it("writes lines the format's reader accepts, with every value", function()
    local lines = {
      benchfmt.config_line("goos", "linux"),
      benchfmt.config_line("perf-events", "task-clock,page-faults"),
      benchfmt.config_line("isolated-cpus", ""),
      benchfmt.result_line("BenchmarkUnpadded-2", 53687654, {
        { value = 21.6, unit = "ns/op" }, { value = 0.0012, unit = "page-faults/op" },
        { value = 23.1, unit = "task-clock-ns/op" },
      }, 24),
      benchfmt.result_line("BenchmarkGetpid/k=3-2", 100, { { value = 3, unit = "syscalls:sys_enter_getpid/op" } }),
    }
    local text = table.concat(lines, "\n") .. "\n"
    assert.equal("BenchmarkUnpadded-2     \t53687654\t        21.60 ns/op\t         0.001200 page-faults/op"
      .. "\t        23.10 task-clock-ns/op", lines[4])
    local got = spec_read(text)
    assert.same({ goos = "linux", ["perf-events"] = "task-clock,page-faults", ["isolated-cpus"] = "" }, got.config)
    assert.equal(0, got.other)
    assert.equal(2, #got.results)
    assert.same({ name = "BenchmarkUnpadded-2", n = 53687654,
      units = { ["ns/op"] = 21.6, ["page-faults/op"] = 0.0012, ["task-clock-ns/op"] = 23.1 } }, got.results[1])
    assert.same({ ["syscalls:sys_enter_getpid/op"] = 3 }, got.results[2].units)
  end)

  it("refuses keys, names and units the format does not allow", function()
    assert.has_error(function() benchfmt.config_line("CPU", "x") end)
    assert.has_error(function() benchfmt.config_line("load avg", "x") end)
    assert.has_error(function() benchfmt.config_line("cpu", "a\nb") end)
    assert.has_error(function() benchfmt.result_line("TestFoo", 1, {}) end)
    assert.has_error(function() benchfmt.result_line("BenchmarkFoo", 1, { { value = 1, unit = "a b" } }) end)
  end)
end)

describe("benchfmt.parse", function()
  it("reads go test output: results with the configuration in force", function()
    local text = table.concat({
      "goos: linux",
      "goarch: amd64",
      "pkg: example.com/fs",
      "cpu: AMD EPYC",
      "BenchmarkA-2   \t 1000000\t      1050 ns/op\t      16 B/op\t       1 allocs/op",
      "some log line from the benchmark",
      "BenchmarkB/size=10-2 \t   50000\t     24.31 ns/op",
      "Benchmark-2 \t 1\t 5 ns/op", -- a bare Benchmark name is allowed
      "BenchmarkC-2 1 2", -- odd field count: not a result
      "BenchmarkD-2 x 2 ns/op", -- iterations not a number
      "BenchmarkE-2 1 fast ns/op", -- value not a float
      "pkg: example.com/other",
      "BenchmarkF 3 1e3 ns/op 0.5 x/op",
      "PASS",
      "ok  \texample.com/fs\t3.2s",
    }, "\n")
    local f = benchfmt.parse(text)
    local names = {}
    for _, r in ipairs(f.results) do names[#names + 1] = r.name end
    assert.same({ "BenchmarkA-2", "BenchmarkB/size=10-2", "Benchmark-2", "BenchmarkF" }, names)
    assert.same({ { value = 1050, unit = "ns/op" }, { value = 16, unit = "B/op" }, { value = 1, unit = "allocs/op" } },
      f.results[1].values)
    assert.equal(1000000, f.results[1].iterations)
    assert.equal(5, f.results[1].line)
    assert.equal("example.com/fs", f.results[2].config.pkg)
    assert.equal("example.com/other", f.results[4].config.pkg)
    assert.equal("AMD EPYC", f.results[4].config.cpu)
    assert.same({ value = 1000, unit = "ns/op" }, f.results[4].values[1])
    assert.equal(5, #f.config)
  end)

  it("takes 'ok  \\tpkg' for neither kind of line, and an empty value", function()
    local f = benchfmt.parse("ok:\nkey:value\nFOO: 1\nnote: \n")
    assert.same({ { key = "ok", value = "" }, { key = "note", value = "" } }, f.config)
  end)
end)

describe("benchfmt.split_procs", function()
  it("removes the GOMAXPROCS suffix", function()
    assert.same({ "BenchmarkA", 2 }, { benchfmt.split_procs("BenchmarkA-2") })
    assert.same({ "BenchmarkA/n=3", 8 }, { benchfmt.split_procs("BenchmarkA/n=3-8", 8) })
    assert.same({ "BenchmarkA/n-3", 1 }, { benchfmt.split_procs("BenchmarkA/n-3", 2) })
    assert.same({ "BenchmarkA", 1 }, { benchfmt.split_procs("BenchmarkA") })
  end)
end)

describe("benchenv", function()
  it("reads intel_pstate, SMT and isolated CPUs", function()
    local info = benchenv.parse(table.concat({
      "cpu=Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz", "kernel=Linux 6.1.0-13-amd64",
      "governor=performance", "no_turbo=1", "smt=on", "smt_active=1", "loadavg=0.52 0.58 0.59",
      "isolated=2-3", "paranoid=-1", "nproc=8",
    }, "\n"))
    assert.same({
      cpu = "Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz", kernel = "Linux 6.1.0-13-amd64",
      ["cpu-governor"] = "performance", ["cpu-boost"] = "off", smt = "on (active)",
      loadavg = "0.52 0.58 0.59", ["isolated-cpus"] = "2-3", ["perf-event-paranoid"] = "-1", nproc = "8",
    }, info)
  end)

  it("says unknown for what a host does not have", function()
    local info = benchenv.parse("cpu=\nboost=1\nisolated=\n")
    assert.equal("unknown", info.cpu)
    assert.equal("on", info["cpu-boost"])
    assert.equal("none", info["isolated-cpus"])
    assert.equal("unknown", info.smt)
    for _, kv in ipairs(benchenv.KEYS) do assert.is_string(info[kv[1]]) end
  end)

  it("gathers every key from this machine in one command", function()
    local proc = require "perfgo.proc"
    local calls = 0
    local target = { run = function(_, argv, opts) calls = calls + 1; return proc.run(argv, opts) end }
    local info = benchenv.gather(target)
    assert.equal(1, calls)
    assert.matches("^Linux ", info.kernel)
    assert.matches("^[%d.]+ [%d.]+ [%d.]+$", info.loadavg)
    assert.matches("^%-?%d$", info["perf-event-paranoid"])
    assert.matches("^%d+$", info.nproc)
    local text = table.concat(benchenv.config_lines(info, { { "perf-events", "task-clock" } }), "\n") .. "\n"
    local got = spec_read(text)
    for _, kv in ipairs(benchenv.KEYS) do assert.is_string(got.config[kv[1]], kv[1]) end
    assert.equal("task-clock", got.config["perf-events"])
    assert.equal(0, got.other)
  end)
end)
