-- `perfgo convert` end to end: files and pipes in, pprof and folded out,
-- flags, strict mode and error messages, checked with go tool pprof.
local t = require "testutil"

local C = t.corpus_dir()

describe("perfgo convert", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("writes a pprof profile that go tool pprof reads", function()
    local out = dir .. "/go.pb.gz"
    local r = t.perfgo({ "convert", "-i", C .. "/go-bench/perf.script", "-o", out })
    assert.equals(0, r.code, r.stderr)
    local top = t.run({ "go", "tool", "pprof", "-top", out })
    assert.equals(0, top.code, top.stderr)
    assert.matches("File: corpusbench.test", top.stdout, 1, true)
    assert.matches("Type: cpu%-clock", top.stdout)
    assert.matches("Total samples = 123.40ms", top.stdout, 1, true)
    assert.matches("example.com/corpusbench.churn", top.stdout, 1, true)
  end)

  it("reads stdin with -i - (perf script | perfgo convert -i - -o x.pb.gz)", function()
    local out = dir .. "/pipe.pb.gz"
    local r = t.perfgo({ "convert", "-i", "-", "-o", out }, { stdin = t.read(C .. "/multi-event/perf.script") })
    assert.equals(0, r.code, r.stderr)
    local raw = t.run({ "go", "tool", "pprof", "-raw", out })
    assert.equals(0, raw.code, raw.stderr)
    assert.matches("samples/count page%-faults/count%[dflt%] cpu%-clock/nanoseconds\n", raw.stdout)
    assert.matches("Comment: source: stdin", raw.stdout, 1, true)
  end)

  it("converts the same on one CPU (no read-ahead thread) as on several", function()
    local args = { "convert", "-i", C .. "/go-bench/perf.script", "-o", "-", "--labels", "comm,tid" }
    local many = t.perfgo(args)
    assert.equals(0, many.code, many.stderr)
    local argv = { "taskset", "-c", "0", t.bin() }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local one = t.run(argv)
    assert.equals(0, one.code, one.stderr)
    assert.is_true(#one.stdout > 1000)
    assert.equals(many.stdout, one.stdout)
  end)

  it("writes the gzipped profile to stdout with -o -", function()
    local r = t.perfgo({ "convert", "-i", C .. "/tracepoint/perf.script", "-o", "-" })
    assert.equals(0, r.code, r.stderr)
    assert.equals("\31\139", r.stdout:sub(1, 2))
    t.write(dir .. "/out.pb.gz", r.stdout)
    local raw = t.run({ "go", "tool", "pprof", "-raw", dir .. "/out.pb.gz" })
    assert.equals(0, raw.code, raw.stderr)
    assert.matches("samples/count sched:sched_switch/count%[dflt%]", raw.stdout)
  end)

  it("writes folded text to stdout, with the folded options", function()
    local r = t.perfgo({ "convert", "-i", C .. "/jit-node/perf.script", "--format", "folded" })
    assert.equals(0, r.code, r.stderr)
    assert.equals(t.read(C .. "/jit-node/expected-perfgo.folded"), r.stdout)
    r = t.perfgo({ "convert", "-i", C .. "/go-bench/perf.script", "--format", "folded", "--all" })
    assert.equals(t.read(C .. "/go-bench/expected.folded.all"), r.stdout)
    r = t.perfgo({ "convert", "-i", C .. "/multi-event/perf.script", "--format=folded", "--event-filter",
      "cpu-clock" })
    assert.equals(t.read(C .. "/multi-event/expected.folded.event-cpu-clock"), r.stdout)
    r = t.perfgo({ "convert", "-i", C .. "/weird-fields/perf-ns.script", "--format", "folded", "--tid" })
    assert.equals(t.read(C .. "/weird-fields/expected-ns.folded.tid"), r.stdout)
  end)

  it("picks the folded format from a .folded output name", function()
    local out = dir .. "/x.folded"
    local r = t.perfgo({ "convert", "-i", C .. "/python-interp/perf.script", "-o", out })
    assert.equals(0, r.code, r.stderr)
    assert.equals(t.read(C .. "/python-interp/expected-perfgo.folded"), t.read(out))
  end)

  it("warns once about the events it drops when folding", function()
    local r = t.perfgo({ "convert", "-i", C .. "/multi-event/perf.script", "--format", "folded" })
    assert.equals(0, r.code)
    assert.equals(t.read(C .. "/multi-event/expected-perfgo.folded"), r.stdout)
    assert.matches("^perfgo: warning: folding only event 'page%-faults' %(the first seen%); "
      .. "dropped samples of: cpu%-clock", r.stderr)
    assert.equals(1, t.lines(r.stderr))
  end)

  it("skips unrecognized lines with one report, or fails with --strict naming file and line", function()
    local input = dir .. "/bad.script"
    t.write(input, "prog 1 1.0: 5 cpu-clock:\n\t1 f (/x)\n\t2 g (/x)\n  g.c:3\n  ?? strange\n\n\t@@@\nmore\n\n"
      .. "prog 1 2.0: 5 cpu-clock:\n\t1 f (/x)\n\n")
    local r = t.perfgo({ "convert", "-i", input, "--format", "folded" })
    assert.equals(0, r.code, r.stderr)
    assert.equals("prog;f 5\nprog;g;f 5\n", r.stdout)
    assert.matches("skipped 1 unrecognized lines %(the first at line 5%)", r.stderr)
    assert.matches("skipped 1 blocks of lines without a sample header", r.stderr)
    r = t.perfgo({ "convert", "-i", input, "--format", "folded", "--strict" })
    assert.equals(2, r.code)
    assert.equals("", r.stdout)
    assert.equals("perfgo: " .. input .. ":5: unrecognized line:   ?? strange\n", r.stderr)
  end)

  it("reports a missing input and a bad label as one-line user errors", function()
    local r = t.perfgo({ "convert", "-i", dir .. "/nope.script", "-o", dir .. "/x.pb.gz" })
    assert.equals(2, r.code)
    assert.equals("perfgo: " .. dir .. "/nope.script: No such file or directory\n", r.stderr)
    r = t.perfgo({ "convert", "-i", C .. "/go-bench/perf.script", "--labels", "comm,bogus" })
    assert.equals(2, r.code)
    assert.matches("unknown label 'bogus'", r.stderr)
  end)

  it("adds the requested labels", function()
    local out = dir .. "/l.pb.gz"
    local r = t.perfgo({ "convert", "-i", C .. "/comm-spaces/perf-tid.script", "-o", out,
      "--labels", "comm,thread_comm,pid,tid,cpu" })
    assert.equals(0, r.code, r.stderr)
    local tags = t.run({ "go", "tool", "pprof", "-tags", out })
    for _, key in ipairs({ "comm", "thread_comm", "pid", "tid", "cpu" }) do
      assert.matches("\n? " .. key .. ": Total", tags.stdout)
    end
  end)

  it("shows a progress line on a terminal while reading large input", function()
    local big = dir .. "/big.script"
    local one = t.read(C .. "/go-bench/perf.script")
    local f = assert(io.open(big, "wb"))
    for _ = 1, 20 do f:write(one) end -- 21 MB: past the first 16 MB report
    f:close()
    -- script(1) gives the command a pseudo-terminal
    local r = t.run({ "script", "-qec", t.quote(t.bin()) .. " convert -i " .. t.quote(big) .. " -o "
      .. t.quote(dir .. "/big.pb.gz"), "/dev/null" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("\rperfgo: read 16%.%d MB, %d+ samples\r\27%[K", r.stdout)
  end)

  it("refuses to wait for a terminal when no input is given", function()
    local r = t.run({ "script", "-qec", t.quote(t.bin()) .. " convert -o " .. t.quote(dir .. "/x.pb.gz"),
      "/dev/null" })
    assert.matches("perfgo: convert: no input: give %-i FILE", r.stdout)
    assert.is_nil(t.read(dir .. "/x.pb.gz"))
  end)

  it("writes no progress line when stderr is not a terminal", function()
    local r = t.perfgo({ "convert", "-i", C .. "/go-bench/perf.script", "-o", dir .. "/q.pb.gz" })
    assert.equals(0, r.code)
    assert.not_matches("read %d", r.stderr)
  end)
end)
