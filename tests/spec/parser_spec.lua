-- perfgo.parser with small inline inputs: every perf script variant the
-- parser must read, the folded options, the pprof profile it builds, and
-- the userdata rules.
local parser = require "perfgo.parser"

local function fold(text, opts)
  local out, p = parser.fold(text, opts)
  assert(out, p)
  return out, p
end

--- The samples of a profile as {stack = "leaf<-...<-root", values, labels}.
local function samples_of(prof)
  local list = {}
  for frames, values, labels in prof:samples() do
    local names = {}
    for i, f in ipairs(frames) do names[i] = f.func end
    list[#list + 1] = { stack = table.concat(names, "<-"), values = values, labels = labels, frames = frames }
  end
  table.sort(list, function(a, b) return a.stack < b.stack end)
  return list
end

local H = "prog 100 [001] 10.000100: 1000 cpu-clock: \n"

describe("perfgo.parser headers", function()
  it("reads comm with spaces and trailing digits, pid/tid and cpu", function()
    local text = "worker 1 25527/25529 [000] 758.380745: 1000000 cpu-clock: \n\t11a1 f+0x18 (/opt/t)\n\n"
      .. "io pool 2 25527/25531 [001] 758.380746: 1000000 cpu-clock: \n\t11a1 f+0x18 (/opt/t)\n\n"
    assert.equals("io_pool_2;f 1000000\nworker_1;f 1000000\n", fold(text))
    assert.equals("io_pool_2-25527/25531;f 1000000\nworker_1-25527/25529;f 1000000\n", fold(text, { tid = true }))
    assert.equals("io_pool_2-25527;f 1000000\nworker_1-25527;f 1000000\n", fold(text, { pid = true }))
  end)

  it("saturates periods at or beyond 2^63 with a warning; folded sums never wrap", function()
    local text = ""
    for i = 1, 3 do
      text = text .. "prog 1 1." .. i .. ": 9223372036854775808 cpu-clock: \n\t1 f (/x)\n\n"
    end
    -- one sample: 2^63 - 1; three: 3 * (2^63 - 1) is beyond 2^64 - 1
    local text1 = text:match("^(.-\n\n)")
    local out, p = fold(text1)
    assert.equals("prog;f 9223372036854775807\n", out)
    assert.matches("line 1: a period at or beyond 2^63 is counted as 9223372036854775807", p:warnings()[1], 1, true)
    assert.equals("prog;f 18446744073709551615\n", fold(text))
    assert.equals("prog;f 18446744073709551615\n", fold("prog 1 1.0: 99999999999999999999999 cpu-clock: \n"
      .. "\t1 f (/x)\n\nprog 1 1.1: 99999999999999999999999 cpu-clock: \n\t1 f (/x)\n\n"
      .. "prog 1 1.2: 99999999999999999999999 cpu-clock: \n\t1 f (/x)\n\n"))
    local prof = assert(parser.parse_string(text))
    local types = prof:summary().sample_types
    assert.equals(3, types[1].total)
    assert.equals(math.maxinteger, types[2].total) -- not negative
  end)

  it("skips a header whose id, cpu or period is negative or out of range, with a warning", function()
    local good = "prog 5/7 [001] 1.0: 100 cpu-clock: \n\t1 f (/x)\n\n"
    for _, bad in ipairs({
      "prog -5/7 [001] 1.1: 100 cpu-clock: ",
      "prog 5/-7 [001] 1.1: 100 cpu-clock: ",
      "prog -7 1.1: 100 cpu-clock: ",
      "prog 5/7 [-1] 1.1: 100 cpu-clock: ",
      "prog 5/7 [001] 1.1: -100 cpu-clock: ",
      "prog 5/99999999999 [001] 1.1: 100 cpu-clock: ",
      "prog 5/7 [99999999999] 1.1: 100 cpu-clock: ",
      "prog 1/2/3 1.1: 100 cpu-clock: ",
    }) do
      -- after a separator, and straight after a sample (no blank line):
      -- neither the line nor its frames become part of any sample
      for _, text in ipairs({ good .. bad .. "\n\t2 g (/x)\n\n" .. good,
        good:sub(1, -2) .. bad .. "\n\t2 g (/x)\n\n" .. good }) do
        local out, p = fold(text)
        assert.equals("prog;f 200\n", out, bad)
        assert.equals(2, p:stats().samples, bad)
        assert.is_true(p:stats().unrecognized >= 1, bad)
        assert.matches("a sample header with a negative or out%-of%-range id, cpu or period",
          table.concat(p:warnings(), "\n"))
      end
    end
    -- without a timestamp (rule B) too
    local out = fold("prog -5 100 cpu-clock:\n\t2 g (/x)\n\n" .. good)
    assert.equals("prog;f 100\n", out)
  end)

  it("puts ? for a pid perf did not print", function()
    assert.equals("prog-?/100;f 1000\n", fold(H .. "\t1 f (/x)\n", { tid = true }))
  end)

  it("reads headers without cpu, time or period", function()
    assert.equals("a;f 1\n", fold("a 12 cycles:\n\t1 f (/x)\n\n"))
    assert.equals("a;f 7\n", fold("a 12 1.5: 7 cycles:u:\n\t1 f (/x)\n\n"))
  end)

  it("keeps event names whole: modifiers, raw and PMU events", function()
    local text = "a 1 1.0: 10 cycles:u: \n\t1 f (/x)\n\n"
      .. "a 1 1.1: 20 cycles: \n\t1 g (/x)\n\n"
      .. "a 1 1.2: 30 r003c: \n\t1 h (/x)\n\n"
      .. "a 1 1.3: 40 cpu_core/cycles:ppp/: \n\t1 i (/x)\n\n"
    local out, p = fold(text)
    assert.equals("a;f 10\n", out)
    assert.matches("dropped samples of: cycles, r003c, cpu_core/cycles:ppp/", p:warnings()[1], 1, true)
    assert.equals("a;i 40\n", p:folded({ event_filter = "cpu_core/cycles:ppp/" }))
    assert.equals("a;h 30\n", p:folded({ event_filter = "r003c" }))
    local names = {}
    for i, e in ipairs(p:stats().events) do names[i] = e.name end
    assert.same({ "cycles:u", "cycles", "r003c", "cpu_core/cycles:ppp/" }, names)
  end)

  it("warns when --event-filter matches nothing", function()
    local out, p = fold(H .. "\t1 f (/x)\n", { event_filter = "page-faults" })
    assert.equals("", out)
    assert.matches("matches no sample %(events seen: cpu%-clock%)", p:warnings()[1])
  end)

  it("reads tracepoints with argument text and weighs them 1", function()
    local text = "perf 28444 [000] 844.555593: sched:sched_switch: prev_comm=perf prev_pid=28444 ==> next=x\n"
      .. "\tffffffff821f8b58 __schedule+0x618 ([kernel.kallsyms])\n"
      .. "\t2724a __libc_start_call_main+0x7a (/usr/lib/libc.so.6)\n\n"
    assert.equals("perf;__libc_start_call_main;__schedule 1\n", fold(text))
    assert.equals("perf;__libc_start_call_main;__schedule_[k] 1\n", fold(text, { kernel = true }))
  end)

  it("reads samples without callchains, one line each, comm right-aligned", function()
    local text = "       templates 25422   752.880362:     500000 cpu-clock:      7f99 _dl_map+0x4 (/lib/ld.so)\n"
      .. "       templates 25422   752.880861:     500000 cpu-clock:      7f98 strcmp+0x63 (/lib/ld.so)\n"
      .. "       templates 25422   752.880862:          3 page-faults:      7f98 strcmp+0x63 (/lib/ld.so)\n"
      .. "       templates 25422   752.881360:     500000 cpu-clock:      55e6 (anonymous namespace)::run+0x13 (/t)\n"
    assert.equals("templates;(anonymous namespace)::run 500000\ntemplates;_dl_map 500000\ntemplates;strcmp 500000\n",
      fold(text))
    assert.equals("templates;strcmp 3\n", fold(text, { event_filter = "page-faults" }))
  end)

  it("writes comm COUNT for a sample with an empty stack", function()
    assert.equals("a 5\nb;f 6\n", fold("a 1 1.0: 5 e:\n\nb 1 2.0: 6 e:\n\t1 f (/x)\n\n"))
  end)

  it("skips # header blocks and PERF_RECORD_* side-band lines anywhere", function()
    local text = "# ========\n# captured on: x\n# ========\n#\n"
      .. "x 0 0.0: PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1209988) @ 0xffffffff81000000]: x [k]_text\n"
      .. "a 1 1.0: 5 e:\n\t1 f (/x)\n"
      .. "a 1 1.0: PERF_RECORD_MMAP2 1/1: [0x400000(0x1000) @ 0 fe:00 12 0]: r-xp /x\n"
      .. "\t2 g (/x)\n\n"
      .. "loader 1 1.5: PERF_RECORD_FORK(2:2):(1:1)\n"
      .. "a 1 2.0: 6 e:\n\t1 f (/x)\n\n"
    local out, p = fold(text)
    assert.equals("a;f 6\na;g;f 5\n", out)
    assert.equals(3, p:stats().sideband)
    assert.equals(0, p:stats().unrecognized)
  end)

  it("reads TAB-separated simpleperf text and files without a final newline", function()
    assert.equals("app;main;f 9\n", fold("app\t7\t1.0:\t9\tcpu-cycles:\n\t1\tf\t(/a/b.so)\n\t2\tmain\t(/a/b.so)"))
    assert.equals("app;f 9\n", fold("app 7 1.0: 9 e:\r\n\t1 f (/x)\r\n"))
  end)

  it("starts a new sample at a full header even without a blank line", function()
    assert.equals("a;f 1\nb;g 1\n", fold("a 1 1.0: e:\n\t1 f (/x)\nb 2 2.0: e:\n\t2 g (/x)\n"))
  end)
end)

describe("perfgo.parser frames", function()
  local function one(frame, opts) return fold(H .. frame .. "\n\n", opts) end

  it("names unknown symbols after their DSO", function()
    assert.equals("prog;[perf] 1000\n", one("\t146f7c [unknown] (/usr/bin/perf)"))
    assert.equals("prog;[unknown] 1000\n", one("\t146f7c [unknown] ([unknown])"))
    assert.equals("prog;[perf <146f7c>] 1000\n", one("\t146f7c [unknown] (/usr/bin/perf)", { addrs = true }))
  end)

  it("keeps C++ names with spaces, parentheses, angle brackets and commas", function()
    assert.equals("prog;std::_Function_handler<double (double, int), main::Halver>::_M_invoke 1000\n",
      one("\t55e6 std::_Function_handler<double (double, int), main::Halver>::_M_invoke+0xc (/t)"))
    assert.equals("prog;operator delete 1000\n", one("\t1 operator delete(void*, unsigned long)@plt+0x4 (/t)"))
    assert.equals("prog;(anonymous namespace)::build_list 1000\n",
      one("\t1 (anonymous namespace)::build_list+0x9 (/t)"))
  end)

  it("repairs Rust names and keeps ` as `", function()
    assert.equals("prog;<std::fs::ReadDir as core::iter::Iterator>::next 1000\n",
      one("\t1 _$LT$std..fs..ReadDir$u20$as$u20$core..iter..Iterator$GT$::next::hc14f1750ca79129b+0x1 (/r)"))
    assert.equals("prog;<std::fs::ReadDir as core::iter::Iterator>::next 1000\n",
      one("\t1 <std::fs::ReadDir as core::iter::Iterator>::next+0x1 (/r)"))
  end)

  it("keeps Go symbols", function()
    assert.equals("prog;net/http.(*Client).Do;runtime.(*mheap).init;main.main.func1 1000\n",
      fold(H .. "\t3 main.main.func1+0x1 (/g)\n\t2 runtime.(*mheap).init+0x13f (/g)\n"
        .. "\t1 net/http.(*Client).Do+0x2 (/g)\n\n"))
  end)

  it("reads (deleted) DSOs, DSOs with spaces, JIT maps and jitdump", function()
    assert.equals("prog;[selfdel] 1000\n", one("\t7f [unknown] (/tmp/x/selfdel (deleted))"))
    assert.equals("prog;f 1000\n", one("\t7f f+0x1 (/some dir/lib x.so)"))
    assert.equals("prog;JS:*fib /h.js:40:13_[j] 1000\n",
      one("\t7f29 JS:*fib /h.js:40:13+0x242 (/tmp/perf-25545.map)", { jit = true }))
    assert.equals("prog;Function:foo_[j] 1000\n",
      one("\t7f29 Function:foo+0x2 (/home/u/.debug/jit/java-jit-1/jitted-123-4.so)", { jit = true }))
    assert.equals("prog;a_[j];b_[i] 1000\n", one("\t7f29 a->b (/tmp/perf-1.map)", { jit = true }))
  end)

  it("keeps inline frames with and without a DSO and reads srclines", function()
    local text = H .. "\t1290 hash_bytes+0x0\n  inline.c:24 (inlined)\n"
      .. "\t1290 checksum+0x10 (inlined)\n"
      .. "\t1290 run+0x10 (/opt/inline)\n  inline.c:47\n"
      .. "\t1112 main+0x72 (/opt/inline)\n  ??:0\n\n"
    assert.equals("prog;main;run;checksum;hash_bytes 1000\n", fold(text))
    assert.equals("prog;main;run:inline.c:47;checksum;hash_bytes:inline.c:24 1000\n", fold(text, { srcline = true }))
  end)
end)

describe("perfgo.parser robustness", function()
  it("counts and skips unrecognized lines, or fails in strict mode naming the line", function()
    local text = H .. "\t1 f (/x)\n\t1 g (/x)\n  f.c:3\n  ???\n\n"
    local out, p = fold(text)
    assert.equals("prog;g;f 1000\n", out)
    assert.equals(1, p:stats().unrecognized)
    assert.equals(5, p:stats().first_unrecognized)
    assert.matches("1 unrecognized lines %(the first at line 5%)", p:warnings()[1])
    local res, err = parser.parse_string(text, { strict = true, source = "in.txt" })
    assert.is_nil(res)
    assert.equals("in.txt:5: unrecognized line:   ???", err)
  end)

  it("gives a valid profile of the complete samples of a truncated file", function()
    local full = H .. "\t1 f (/x)\n\t2 g (/x)\n\n" .. H .. "\t1 f (/x)\n\t2 g (/x)\n\n"
    -- cut inside the second sample, after its first frame line
    local prof, p = parser.parse_string(full:sub(1, #full - #"\t2 g (/x)\n\n"))
    assert.is_truthy(prof)
    assert.is_true(p:stats().truncated)
    assert.equals(2, prof:summary().sample_types[1].total)
    assert.equals("prog;f 1000\nprog;g;f 1000\n", p:folded())
  end)

  it("never crashes on binary garbage", function()
    local bytes = {}
    local x = 7
    for i = 1, 200000 do
      x = (x * 1103515245 + 12345) % 2147483648
      bytes[i] = string.char(x % 256)
    end
    local junk = table.concat(bytes)
    local input = H .. junk .. "\n\n" .. junk
    local prof, p = parser.parse_string(input)
    assert.is_truthy(prof)
    local st = p:stats()
    -- every line is seen (the last one has no newline), the junk is
    -- skipped and counted, and the header's sample is kept
    assert.equals(select(2, input:gsub("\n", "")) + 1, st.lines)
    assert.is_true(st.unrecognized > 0 and st.unrecognized < st.lines)
    assert.matches("skipped " .. st.unrecognized .. " unrecognized lines", table.concat(p:warnings(), "\n"))
    assert.is_true(st.samples >= 1 and prof:summary().sample_types[1].total == st.samples)
    assert.is_string(p:folded())
  end)

  it("gives the same result whatever the chunk sizes", function()
    local text = ("a b 1 1.0: 5 e:\n\t1 f (/x)\n\t2 g (/y z)\n\n"):rep(50)
    local whole = fold(text)
    for _, size in ipairs({ 1, 3, 17, 100 }) do
      local p <close> = parser.new({ profile = false })
      for i = 1, #text, size do assert.is_true(p:feed(text:sub(i, i + size - 1))) end
      assert.is_true(p:finish())
      assert.equals(whole, p:folded())
    end
  end)
end)

describe("perfgo.parser profiles", function()
  local text = "prog 100/101 [002] 10.000100: 1000000 cpu-clock: \n"
    .. "\tffffffff81000c82 asm_exc_page_fault+0x22 ([kernel.kallsyms])\n"
    .. "\t604ee main.work+0x4e (/nonexistent/prog)\n\t32871 main.main+0x31 (/nonexistent/prog)\n\n"
    .. "prog 100/101 [002] 10.000200: 1000000 cpu-clock: \n"
    .. "\tffffffff81000c82 asm_exc_page_fault+0x22 ([kernel.kallsyms])\n"
    .. "\t604ee main.work+0x4e (/nonexistent/prog)\n\t32871 main.main+0x31 (/nonexistent/prog)\n\n"
    .. "prog 100/102 [000] 10.000300: 7 page-faults: \n"
    .. "\t604ef main.work+0x4f (/nonexistent/prog)\n\t32871 main.main+0x31 (/nonexistent/prog)\n\n"

  it("has samples/count first, one column per event with its unit, the first event as default", function()
    local prof = assert(parser.parse_string(text, { source = "t.script" }))
    local s = prof:summary()
    assert.same({ "samples", "count", 3 }, { s.sample_types[1].type, s.sample_types[1].unit, s.sample_types[1].total })
    assert.same({ "cpu-clock", "nanoseconds", 2000000 },
      { s.sample_types[2].type, s.sample_types[2].unit, s.sample_types[2].total })
    assert.same({ "page-faults", "count", 7 },
      { s.sample_types[3].type, s.sample_types[3].unit, s.sample_types[3].total })
    assert.equals("cpu-clock", s.default_sample_type)
    assert.same({ type = "cpu-clock", unit = "nanoseconds" }, s.period_type)
    assert.equals(1000000, s.period)
    assert.equals(10000100000, s.time_nanos)
    assert.equals(200000, s.duration_nanos)
    assert.equals("source: t.script", s.comments[1])
  end)

  it("merges identical stacks and dedupes locations and functions", function()
    local prof = assert(parser.parse_string(text))
    local list = samples_of(prof)
    assert.equals(2, #list)
    assert.equals("asm_exc_page_fault<-main.work<-main.main", list[1].stack)
    assert.same({ 2, 2000000, 0 }, list[1].values)
    assert.equals("main.work<-main.main", list[2].stack)
    assert.same({ 1, 0, 7 }, list[2].values)
    -- main.main at the same address is one location in both stacks
    assert.equals(list[1].frames[3].location, list[2].frames[2].location)
    -- main.work at two addresses: two locations, one function
    assert.not_equals(list[1].frames[2].location, list[2].frames[1].location)
    local s = prof:summary()
    assert.equals(4, s.locations)
    assert.equals(3, s.functions)
    for _, m in ipairs(prof:mappings()) do
      if m.file == "/nonexistent/prog" then assert.is_true(m.has_functions) end
    end
  end)

  it("keeps only the filtered event's column with event_filter", function()
    local prof = assert(parser.parse_string(text, { event_filter = "page-faults" }))
    local s = prof:summary()
    assert.equals(2, #s.sample_types)
    assert.equals("page-faults", s.sample_types[2].type)
    assert.equals(1, s.sample_types[1].total)
  end)

  it("turns perf --inline runs into one location with inline lines", function()
    local inl = "prog 1 1.0: 1000 cpu-clock:\n\t1290 hash_bytes+0x0\n  inline.c:24 (inlined)\n"
      .. "\t1290 checksum+0x10\n\t1290 run+0x10 (/nonexistent/inline)\n\t1112 main+0x72 (/nonexistent/inline)\n\n"
    local prof = assert(parser.parse_string(inl))
    local list = samples_of(prof)
    assert.equals(1, #list)
    assert.equals("hash_bytes<-checksum<-run<-main", list[1].stack)
    local f = list[1].frames
    assert.equals(f[1].location, f[2].location)
    assert.equals(f[1].location, f[3].location)
    assert.not_equals(f[1].location, f[4].location)
    assert.equals(0x1290, f[1].address)
    assert.equals("/nonexistent/inline", f[1].mapping)
    assert.equals(2, prof:summary().locations)
  end)

  it("reads (inlined) in the DSO slot as an inline frame", function()
    local old = "prog 1 1.0: 1000 cpu-clock:\n\t1290 hash_bytes+0x0 (inlined)\n"
      .. "\t1290 run+0x10 (/nonexistent/inline)\n\t1112 main+0x72 (/nonexistent/inline)\n\n"
    local prof = assert(parser.parse_string(old))
    local f = samples_of(prof)[1].frames
    assert.same({ "hash_bytes", "run", "main" }, { f[1].func, f[2].func, f[3].func })
    assert.equals(f[1].location, f[2].location)
    for _, m in ipairs(prof:mappings()) do assert.not_equals("inlined", m.file) end
  end)

  it("keeps (deleted) DSOs as names-only mappings named as perf printed them", function()
    -- /bin/sh exists: it must not be read for a frame of a deleted file
    local del = "prog 1 1.0: 1000 cpu-clock:\n\t7f [unknown] (/bin/sh (deleted))\n\t8f f+0x1 (/bin/sh (deleted))\n\n"
    local prof = assert(parser.parse_string(del))
    local maps = prof:mappings()
    assert.equals(1, #maps)
    assert.equals("/bin/sh (deleted)", maps[1].file)
    assert.is_true(maps[1].has_functions)
    assert.equals("[sh]<-f", samples_of(prof)[1].stack)
  end)

  it("takes file and line from perf script -F +srcline", function()
    local src = "prog 1 1.0: 1000 cpu-clock:\n\t1290 checksum+0x10 (/nonexistent/inline)\n  inline.c:47\n"
      .. "\t1112 main+0x72 (/nonexistent/inline)\n  ??:0\n\n"
    local list = samples_of(assert(parser.parse_string(src)))
    local f1, f2 = list[1].frames[1], list[1].frames[2]
    assert.same({ "checksum", "inline.c", 47 }, { f1.func, f1.file, f1.line })
    assert.same({ "main", "", 0 }, { f2.func, f2.file, f2.line })
  end)

  it("adds labels on request, numbers with units", function()
    local prof = assert(parser.parse_string(text, { labels = { "comm", "thread_comm", "pid", "tid", "cpu" } }))
    local list = samples_of(prof)
    assert.same({ comm = "prog", thread_comm = "prog", pid = 100, tid = 101, cpu = 2 }, list[1].labels)
    assert.same({ comm = "prog", thread_comm = "prog", pid = 100, tid = 102, cpu = 0 }, list[2].labels)
    local plain = samples_of(assert(parser.parse_string(text)))
    assert.same({}, plain[1].labels)
  end)

  it("rejects unknown labels and bad options as caller errors", function()
    assert.has_error(function() parser.new({ labels = "comm,nope" }) end)
    assert.has_error(function() parser.new({ strict = "yes" }) end)
    assert.has_error(function() parser.new({ path_map = { ["/a"] = 3 } }) end)
  end)

  it("returns nil, message for a missing file", function()
    local res, err = parser.parse_file("/nonexistent/perf.script")
    assert.is_nil(res)
    assert.matches("/nonexistent/perf.script: No such file", err)
  end)
end)

describe("perfgo.parser userdata", function()
  it("checks its self argument and refuses use after close", function()
    local p = parser.new()
    assert.has_error(function() p.feed({}, "x") end)
    p:close()
    p:close() -- idempotent
    assert.has_error(function() p:feed("x") end, "parser is closed")
  end)

  it("is closed by a to-be-closed variable", function()
    local keep
    do
      local p <close> = parser.new()
      keep = p
    end
    assert.has_error(function() keep:stats() end, "parser is closed")
  end)

  it("refuses folded before finish and feed after finish", function()
    local p = parser.new({ profile = false })
    assert.has_error(function() p:folded() end)
    assert.is_true(p:finish())
    assert.has_error(function() p:feed("x") end)
    assert.has_error(function() p:finish() end)
  end)
end)
