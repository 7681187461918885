local pprof = require "perfgo.pprof"
local tu = require "testutil"

-- A small profile built through the Lua API: two sample types, a user
-- mapping with an inlined frame, a kernel mapping, labels incl. cpu 0.
local function build()
  local p = pprof.new()
  assert.equals(1, p:add_sample_type("samples", "count"))
  assert.equals(2, p:add_sample_type("cpu-clock", "nanoseconds"))
  p:set_default_sample_type("cpu-clock")
  p:set_period("cpu-clock", "nanoseconds", 250000)
  p:set_time(1700000000000000000, 2000000000)
  p:add_comment("perf-command: perf record -g")
  local app = p:mapping { file = "/opt/app/bin/app", build_id = "abcd" }
  local kern = p:mapping { start = 0x1000, limit = 0x2000, file = "[kernel.kallsyms]", has_functions = true }
  local fmain = p:func("main.main", "/src/main.go")
  local fwork = p:func("main.work;x", "/src/work.go")
  local fk = p:func("do_syscall_64")
  local l_inl = p:location(app, 0x401000, { { fwork, 20 }, { fmain, 7 } })
  local l_main = p:location(app, 0x401100, { { fmain, 9 } })
  local l_k = p:location(kern, 0x1234, { { fk, 0 } })
  local labels = {
    { key = "comm", str = "app worker" },
    { key = "pid", num = 42, unit = "pid" },
    { key = "cpu", num = 0, unit = "cpu" },
  }
  p:add_sample({ l_k, l_inl, l_main }, { 1, 250000 }, labels)
  p:add_sample({ l_k, l_inl, l_main }, { 1, 250000 }, labels)
  p:add_sample({ l_main }, { 1, 100 })
  return p
end

describe("perfgo.pprof", function()
  local dir
  before_each(function() dir = tu.tmpdir() end)
  after_each(function() tu.rmtree(dir) end)

  it("merges identical stacks and reports a summary", function()
    local s = build():summary()
    assert.equals(2, s.samples)
    assert.equals(3, s.locations)
    assert.equals(3, s.functions)
    assert.equals(2, s.mappings)
    assert.same({ type = "samples", unit = "count", total = 3 }, s.sample_types[1])
    assert.same({ type = "cpu-clock", unit = "nanoseconds", total = 500100 }, s.sample_types[2])
    assert.equals("cpu-clock", s.default_sample_type)
    assert.same({ type = "cpu-clock", unit = "nanoseconds" }, s.period_type)
    assert.equals(250000, s.period)
    assert.equals(2000000000, s.duration_nanos)
    assert.same({ "perf-command: perf record -g" }, s.comments)
    assert.equals(0, s.skipped_lines)
  end)

  it("writes and reads back the same profile, gzip or not", function()
    local p = build()
    for _, gz in ipairs { true, false } do
      local path = dir .. "/p.pb" .. (gz and ".gz" or "")
      assert.is_true(p:write(path, { gzip = gz }))
      local head = tu.read(path):sub(1, 2)
      assert.equals(gz, head == "\31\139")
      local q = assert(pprof.read(path))
      assert.same(p:summary(), q:summary())
      assert.same(p:mappings(), q:mappings())
      -- from bytes too
      local r = assert(pprof.read(tu.read(path)))
      assert.same(p:summary(), r:summary())
    end
    assert.same(p:summary(), assert(pprof.decode(p:encode())):summary())
    assert.same(p:summary(), assert(pprof.read(p:encode { gzip = false })):summary())
  end)

  it("iterates samples with stacks (inline frames expanded), values and labels", function()
    local q = assert(pprof.read(build():encode()))
    local seen = {}
    for stack, values, labels in q:samples() do
      seen[#seen + 1] = { stack = stack, values = values, labels = labels }
    end
    assert.equals(2, #seen)
    local big = seen[1].values[2] == 500000 and seen[1] or seen[2]
    assert.same({ 2, 500000 }, big.values)
    assert.same({ comm = "app worker", pid = 42, cpu = 0 }, big.labels)
    local names = {}
    for i, f in ipairs(big.stack) do names[i] = f.func end
    assert.same({ "do_syscall_64", "main.work;x", "main.main", "main.main" }, names)
    assert.equals("/src/work.go", big.stack[2].file)
    assert.equals(20, big.stack[2].line)
    assert.equals(0x401000, big.stack[2].address)
    assert.equals("/opt/app/bin/app", big.stack[2].mapping)
    assert.equals(0x401000, big.stack[3].address) -- same location, the caller line
    assert.equals(7, big.stack[3].line)
  end)

  it("writes folded stacks from any column", function()
    local p = build()
    local path = dir .. "/out.folded"
    assert.is_true(p:write(path, { format = "folded" }))
    assert.equals("app_worker;main.main;main.main;main.work:x;do_syscall_64 500000\nmain.main 100\n",
      tu.read(path))
    assert.equals("app_worker;main.main;main.main;main.work:x;do_syscall_64 2\nmain.main 1\n",
      p:encode { format = "folded", sample_type = "samples" })
    assert.equals(p:encode { format = "folded", sample_type = 1 },
      p:encode { format = "folded", sample_type = "samples" })
    assert.has_error(function() p:encode { format = "folded", sample_type = "nope" } end)
    assert.has_error(function() p:write(path, { format = "svg" }) end)
  end)

  it("rewrites mappings with a table or a function", function()
    local p = build()
    assert.equals(1, p:rewrite_mappings { ["/opt/app/bin/app"] = "/archive/app" })
    local m = p:mappings()
    assert.equals("/archive/app", m[1].file)
    assert.equals("[kernel.kallsyms]", m[2].file)
    local got = {}
    assert.equals(1, p:rewrite_mappings(function(mp)
      got[#got + 1] = mp
      if mp.file == "/archive/app" then return "/elsewhere/app" end
    end))
    assert.equals(2, #got)
    assert.equals("abcd", got[1].build_id)
    assert.equals(0, got[1].start)
    assert.equals(-1, got[1].limit) -- 0xffffffffffffffff as a Lua integer
    assert.equals(0x2000, got[2].limit)
    assert.is_true(got[2].has_functions)
    local q = assert(pprof.read(p:encode()))
    assert.equals("/elsewhere/app", q:mappings()[1].file)
    assert.has_error(function() p:rewrite_mappings(function() return 42 end) end)
    assert.has_error(function() p:rewrite_mappings("x") end)
  end)

  it("returns nil and a message naming the file on unreadable or corrupt input", function()
    local p, err = pprof.read(dir .. "/missing.pb.gz")
    assert.is_nil(p)
    assert.matches("missing%.pb%.gz", err)
    tu.write(dir .. "/bad.pb.gz", build():encode():sub(1, 40))
    p, err = pprof.read(dir .. "/bad.pb.gz")
    assert.is_nil(p)
    assert.matches("bad%.pb%.gz: gzip", err)
    tu.write(dir .. "/text.pb", "hello, this is text\n")
    p, err = pprof.read(dir .. "/text.pb")
    assert.is_nil(p)
    assert.matches("text%.pb: not a pprof profile", err)
    p, err = pprof.read("\31\139\8\0garbage")
    assert.is_nil(p)
    assert.matches("^profile data: gzip", err)
    local ok, werr = build():write(dir .. "/no/such/dir/x.pb.gz")
    assert.is_nil(ok)
    assert.matches("no/such/dir/x%.pb%.gz", werr)
  end)

  it("refuses a profile larger than max_size (after gunzip) and says how to raise it", function()
    local bytes = build():encode()
    local raw = build():encode { gzip = false }
    assert.truthy(pprof.read(bytes, { max_size = #raw }))
    for _, b in ipairs({ bytes, raw }) do
      local p, err = pprof.decode(b, { max_size = #raw - 1 })
      assert.is_nil(p)
      assert.matches(tostring(#raw - 1) .. " bytes %(the limit; pprof.read's max_size raises it%)", err)
    end
    tu.write(dir .. "/big.pb", raw)
    local p, err = pprof.read(dir .. "/big.pb", { max_size = 100 })
    assert.is_nil(p)
    assert.matches("big%.pb: larger than 100 bytes", err)
    assert.has_error(function() pprof.read(bytes, { max_size = 0 }) end,
      "pprof.read: option 'max_size' must be a positive number of bytes")
    assert.has_error(function() pprof.read(bytes, { maxsize = 10 }) end,
      "pprof.read: unknown option 'maxsize' (options: max_size)")
  end)

  it("checks its userdata and can be closed", function()
    local p = build()
    assert.has_error(function() p.summary({}) end)
    assert.has_error(function() p:add_sample({ 99 }, { 1, 1 }) end)
    assert.has_error(function() p:add_sample({ 1 }, { 1 }) end)
    assert.has_error(function() p:add_sample_type("late", "count") end)
    do
      local q <close> = build()
      assert.equals(2, q:summary().samples)
      p = q
    end
    assert.has_error(function() p:summary() end, "profile is closed")
    p:close() -- idempotent
    assert.matches("closed", tostring(p))
  end)

  it("resolves frames through a symmap", function()
    local p = pprof.new()
    p:add_sample_type("samples", "count")
    local sm = pprof.symmap(p, { addresses = "offset" })
    local r = sm:resolve("/nonexistent/libgone.so", 0x1234, 7)
    assert.same({ mapping_id = 1, address = 0x1234, kind = "user", mode = "names", adjust_return = false }, r)
    sm:resolve("/nonexistent/libgone.so", 0x1300, 7)
    local w = sm:warnings()
    assert.equals(1, #w)
    assert.matches("libgone%.so", w[1])
    sm:mmap { pid = 7, start = 0x7f0000000000, len = 0x10000, pgoff = 0x1000, path = "/nonexistent/libx.so" }
    r = sm:resolve("/nonexistent/libx.so", 0x1100, 7)
    assert.equals("runtime", r.mode)
    assert.equals(0x7f0000000100, r.address)
    assert.is_true(p:mappings()[r.mapping_id].has_functions == false)
    assert.equals("unknown", sm:resolve("[unknown]", 5).kind)
    assert.equals("kernel", sm:resolve("[kernel.kallsyms]", 0xffffffff81000000).kind)
    sm:finish()
    assert.has_error(function() pprof.symmap(p, { addresses = "weird" }) end)
  end)
end)
