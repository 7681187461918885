-- The perf script corpus: one test per conformance row of
-- core/perfscript/README.md §8 (default folded output of every script, and
-- the option references).
-- Each row compares perfgo.parser's folded text byte for byte with the
-- expected*-perfgo.folded file and, where the README gives one, with the
-- transformation of the perl/inferno reference that the row describes.
local parser = require "perfgo.parser"
local t = require "testutil"

local C = t.corpus_dir()

local function read(rel)
  local s = t.read(C .. "/" .. rel)
  assert(s, "missing corpus file " .. rel)
  return s
end

--- perfgo's folded text for a corpus script under options.
local function fold(rel, opts)
  local o = { profile = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  local ok, p = parser.parse_file(C .. "/" .. rel, o)
  assert(ok, p)
  local text = p:folded()
  p:close()
  return text
end

local function split(s, sep)
  local out = {}
  for piece in (s .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do out[#out + 1] = piece end
  return out
end

--- Parses folded text into {stack, count} rows.
local function rows(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local stack, count = line:match("^(.*) (%d+)$")
    assert(stack, "bad folded line: " .. line)
    out[#out + 1] = { stack = stack, count = math.tointeger(tonumber(count)) }
  end
  return out
end

--- Re-sums rows by stack and writes sorted folded text (README §8).
local function render(list)
  local sums, keys = {}, {}
  for _, r in ipairs(list) do
    if not sums[r.stack] then keys[#keys + 1] = r.stack end
    sums[r.stack] = (sums[r.stack] or 0) + r.count
  end
  local lines = {}
  for _, k in ipairs(keys) do lines[#lines + 1] = k .. " " .. sums[k] .. "\n" end
  table.sort(lines)
  return table.concat(lines)
end

--- Applies fn(frames) -> frames to every line of a reference.
local function map_frames(text, fn)
  local out = {}
  for _, r in ipairs(rows(text)) do
    out[#out + 1] = { stack = table.concat(fn(split(r.stack, ";")), ";"), count = r.count }
  end
  return render(out)
end

local function rename_frames(from, to)
  return function(frames)
    for i, f in ipairs(frames) do if f == from then frames[i] = to end end
    return frames
  end
end

local function comm_spaces_roots(frames)
  local root = frames[1]
  if root == "io_pool" then frames[1] = "io_pool_2"
  elseif root == "main_loop" then frames[1] = "main_loop_0"
  elseif root == "worker" then
    frames[1] = (frames[2] == "start_thread" and frames[3] == "crunch_numbers") and "worker_1" or "worker_2"
  end
  return frames
end

local MEMFD = "[memfd:sealed-91173221a7ea]"

--- README §8.1: c-inline-srcline/perf.script, built from its table.
local function appendix_a()
  local Q = "inline;_start;__libc_start_main_impl;__libc_start_call_main;main;run_round"
  local list = {
    { stack = Q .. ";checksum_block;hash_bytes", count = 91000000 },
    { stack = Q .. ";checksum_block;hash_bytes;mix32", count = 5000000 },
    { stack = Q .. ";integrate", count = 53000000 },
    { stack = Q .. ";integrate;poly", count = 60000000 },
    { stack = Q .. ";integrate;poly;asm_sysvec_reschedule_ipi;irqentry_exit_to_user_mode", count = 1000000 },
    { stack = Q .. ";sort_and_sum;fill_table;mix32", count = 1000000 },
  }
  local M = "__memcpy_avx512_unaligned_erms"
  local table_rows = {
    { 2, "-", 6 }, { 2, "cmp_u32", 5 }, { 4, "-", 13 }, { 4, "cmp_u32", 4 }, { 6, "-", 9 },
    { 6, "cmp_u32", 3 }, { 8, "-", 8 }, { 8, "cmp_u32", 2 }, { 10, "-", 11 }, { 10, "cmp_u32", 1 },
    { 11, M, 1 }, { 12, "-", 12 }, { 12, "cmp_u32", 2 }, { 14, "-", 19 }, { 14, "cmp_u32", 4 },
    { 16, "-", 11 }, { 16, "cmp_u32", 3 }, { 18, "-", 13 },
    { 18, "asm_sysvec_reschedule_ipi;irqentry_exit_to_user_mode", 1 }, { 18, "cmp_u32", 3 },
    { 19, M, 2 }, { 20, "-", 10 }, { 20, "cmp_u32", 4 }, { 21, M, 1 }, { 22, "-", 4 },
    { 22, "cmp_u32", 4 }, { 23, M, 3 }, { 24, "-", 9 }, { 24, "cmp_u32", 1 },
  }
  for _, r in ipairs(table_rows) do
    local s = Q .. ";sort_and_sum;__GI___qsort_r" .. string.rep(";msort_with_tmp", r[1])
    if r[2] ~= "-" then s = s .. ";" .. r[2] end
    list[#list + 1] = { stack = s, count = r[3] * 1000000 }
  end
  return render(list)
end

--- README §8 cpp-templates rules on an inferno reference.
local function cpp_templates(text, vector_prefix)
  local P = "templates;__libc_start_call_main;main"
  local B = "(anonymous namespace)::build_list"
  local singles = { ["cfree@GLIBC_2.2.5"] = true, ["free@plt"] = true, malloc = true, ["malloc@plt"] = true }
  local out = {}
  for _, r in ipairs(rows(text)) do
    local rest = r.stack:sub(#P + 2)
    if r.stack == P and r.count == 16000000 then
      out[#out + 1] = { stack = P, count = 3000000 }
      out[#out + 1] = { stack = P .. ";" .. B, count = 1500000 }
      out[#out + 1] = { stack = P .. ";(anonymous namespace)::run_callbacks", count = 11500000 }
    elseif r.stack == P .. ";corpus::Node::operator new" and r.count == 1000000 then
      out[#out + 1] = { stack = r.stack, count = 500000 }
      out[#out + 1] = { stack = P .. ";" .. B .. ";corpus::Node::operator new", count = 500000 }
    elseif r.stack:sub(1, #P + 1) == P .. ";" and not rest:find(";", 1, true)
      and (singles[rest] or rest:sub(1, #vector_prefix) == vector_prefix) then
      out[#out + 1] = { stack = P .. ";" .. B .. ";" .. rest, count = r.count }
    else
      out[#out + 1] = r
    end
  end
  return render(out)
end

local function total(text)
  local n, sum = 0, 0
  for _, r in ipairs(rows(text)) do n = n + 1; sum = sum + r.count end
  return n, sum
end

-- README §8: file, its perfgo reference, the reference check, and
-- the (lines, total) the table states.
local rows61 = {
  { "c-inline-srcline/perf.script", "c-inline-srcline/expected-perfgo.folded", appendix_a, 35, 380000000 },
  { "c-inline-srcline/perf-fp.script", "c-inline-srcline/expected-fp-perfgo.folded",
    function() return read("c-inline-srcline/expected-fp.folded") end, 12, 429000000 },
  { "comm-spaces/perf.script", "comm-spaces/expected-perfgo.folded",
    function() return map_frames(read("comm-spaces/expected.folded"), comm_spaces_roots) end, 12, 828000000 },
  { "comm-spaces/perf-tid.script", "comm-spaces/expected-tid-perfgo.folded",
    function() return map_frames(read("comm-spaces/expected-tid.folded"), comm_spaces_roots) end, 12, 828000000 },
  { "cpp-templates/perf.script", "cpp-templates/expected-perfgo.folded",
    function()
      return cpp_templates(read("cpp-templates/expected-inferno.folded"), "std::vector<std::__cxx11::basic_string")
    end, 74, 522500000 },
  { "cpp-templates/perf-verbose.script", "cpp-templates/expected-verbose-perfgo.folded",
    function()
      return cpp_templates(read("cpp-templates/expected-verbose-inferno.folded"),
        "void std::vector<std::__cxx11::basic_string")
    end, 73, 522500000 },
  { "deleted-dso/perf.script", "deleted-dso/expected-perfgo.folded",
    function() return map_frames(read("deleted-dso/expected.folded"), rename_frames("[unknown] ", "[selfdel]")) end,
    2, 602000000 },
  { "deleted-dso/perf-inrecord.script", "deleted-dso/expected-inrecord-perfgo.folded",
    function() return read("deleted-dso/expected-inrecord.folded") end, 2, 299000000 },
  { "go-bench/perf.script", "go-bench/expected-perfgo.folded",
    function() return read("go-bench/expected.folded") end, 435, 123400000 },
  { "jit-node/perf.script", "jit-node/expected-perfgo.folded",
    function() return read("jit-node/expected-inferno.folded") end, 144, 776000000 },
  { "kernel-idle/perf.script", "kernel-idle/expected-perfgo.folded",
    function() return map_frames(read("kernel-idle/expected.folded"), rename_frames("[unknown] ", MEMFD)) end,
    10, 501000000 },
  { "mmap-events/perf.script", "mmap-events/expected-perfgo.folded",
    function() return read("mmap-events/expected.folded") end, 435, 123400000 },
  { "mmap-events/perf-dlopen.script", "mmap-events/expected-dlopen-perfgo.folded",
    function()
      return map_frames(read("mmap-events/expected-dlopen.folded"), function(f)
        if f[1] == "plugin_host" then f[1] = "plugin_host_1" end
        return f
      end)
    end, 4, 269000000 },
  { "multi-event/perf.script", "multi-event/expected-perfgo.folded",
    function() return read("multi-event/expected.folded") end, 8, 41116 },
  { "no-callchain/perf.script", "no-callchain/expected-perfgo.folded",
    function()
      local list = rows(read("no-callchain/expected-inferno.folded"))
      list[#list + 1] = { stack = "templates;(anonymous namespace)::build_list", count = 2000000 }
      list[#list + 1] = { stack = "templates;(anonymous namespace)::run_callbacks", count = 13500000 }
      return render(list)
    end, 61, 675000000 },
  { "python-interp/perf.script", "python-interp/expected-perfgo.folded",
    function() return read("python-interp/expected.folded") end, 177, 654000000 },
  { "tracepoint/perf.script", "tracepoint/expected-perfgo.folded",
    function() return map_frames(read("tracepoint/expected.folded"), rename_frames("[unknown] ", MEMFD)) end,
    36, 252 },
  { "weird-fields/perf.script", "weird-fields/expected-perfgo.folded",
    function() return read("weird-fields/expected.folded") end, 435, 123400000 },
  { "weird-fields/perf-ns.script", "weird-fields/expected-ns-perfgo.folded",
    function() return read("weird-fields/expected-ns.folded") end, 238, 47200000 },
  { "weird-fields/perf-nocomm.script", "weird-fields/expected-nocomm-perfgo.folded",
    function()
      return map_frames(read("weird-fields/expected-nocomm.folded"), function(f)
        table.remove(f, 1)
        return f
      end)
    end, 248, 51700000 },
  { "weird-fields/perf-commonly.script", "weird-fields/expected-commonly-perfgo.folded",
    function()
      -- perf.script cut after its 535th sample (its 535th blank line)
      local text, n, pos = read("weird-fields/perf.script"), 0, 1
      while n < 535 do
        local s, e = text:find("\n\n", pos, true)
        n, pos = n + 1, e + 1
        assert(s)
      end
      local folded = parser.fold(text:sub(1, pos - 1))
      local list = {}
      for _, r in ipairs(rows(folded)) do
        assert.equals(0, r.count % 100000)
        list[#list + 1] = { stack = r.stack, count = r.count // 100000 }
      end
      return render(list)
    end, 256, 535 },
  { "weird-fields/perf-min.script", "weird-fields/expected-min-perfgo.folded", function() return "" end, 0, 0 },
  { "weird-fields/perf-addronly.script", "weird-fields/expected-addronly-perfgo.folded",
    function() return "" end, 0, 0 },
}

describe("corpus: default folded output (README §8)", function()
  it("covers every perf*.script of the corpus", function()
    local listed = {}
    for _, r in ipairs(rows61) do listed[r[1]] = true end
    local p = assert(io.popen("cd " .. t.quote(C) .. " && ls */perf*.script"))
    local n = 0
    for f in p:lines() do
      n = n + 1
      assert.is_true(listed[f] ~= nil, f .. " has no conformance row")
    end
    p:close()
    assert.equals(#rows61, n)
  end)

  for _, row in ipairs(rows61) do
    local script, want_file, reference, nlines, sum = row[1], row[2], row[3], row[4], row[5]
    it(script .. " equals " .. want_file .. " and the README §8 check", function()
      local got = fold(script)
      assert.equals(read(want_file), got)
      assert.equals(reference(), got)
      local n, s = total(got)
      assert.same({ nlines, sum }, { n, s })
    end)
  end
end)

describe("corpus: option references (README §8)", function()
  local all_files = {
    { "c-inline-srcline/perf-fp.script", "c-inline-srcline/expected-fp.folded.all" },
    { "deleted-dso/perf-inrecord.script", "deleted-dso/expected-inrecord.folded.all" },
    { "go-bench/perf.script", "go-bench/expected.folded.all" },
    { "mmap-events/perf.script", "mmap-events/expected.folded.all" },
    { "multi-event/perf.script", "multi-event/expected.folded.all" },
    { "python-interp/perf.script", "python-interp/expected.folded.all" },
    { "weird-fields/perf.script", "weird-fields/expected.folded.all" },
    { "weird-fields/perf-ns.script", "weird-fields/expected-ns.folded.all" },
    { "weird-fields/perf-min.script", "weird-fields/expected-min.folded.all" },
    { "weird-fields/perf-addronly.script", "weird-fields/expected-addronly.folded.all" },
  }
  for _, r in ipairs(all_files) do
    it(r[1] .. " --all equals " .. r[2], function()
      assert.equals(read(r[2]), fold(r[1], { all = true }))
    end)
  end

  it("multi-event --event-filter cpu-clock and page-faults", function()
    assert.equals(read("multi-event/expected.folded.event-cpu-clock"),
      fold("multi-event/perf.script", { event_filter = "cpu-clock" }))
    assert.equals(read("multi-event/expected.folded.event-page-faults"),
      fold("multi-event/perf.script", { event_filter = "page-faults" }))
  end)

  it("python-interp --addrs equals expected.folded.addrs", function()
    assert.equals(read("python-interp/expected.folded.addrs"), fold("python-interp/perf.script", { addrs = true }))
  end)

  it("weird-fields/perf-ns --tid", function()
    assert.equals(read("weird-fields/expected-ns.folded.tid"), fold("weird-fields/perf-ns.script", { tid = true }))
  end)

  -- .all / .kernel references with the renaming rule of their file
  local ruled = {
    { "comm-spaces/perf.script", "comm-spaces/expected.folded.all", { all = true }, comm_spaces_roots },
    { "comm-spaces/perf-tid.script", "comm-spaces/expected-tid.folded.all", { all = true }, comm_spaces_roots },
    { "deleted-dso/perf.script", "deleted-dso/expected.folded.all", { all = true },
      rename_frames("[unknown] ", "[selfdel]") },
    { "kernel-idle/perf.script", "kernel-idle/expected.folded.all", { all = true },
      rename_frames("[unknown] ", MEMFD) },
    { "kernel-idle/perf.script", "kernel-idle/expected.folded.kernel", { kernel = true },
      rename_frames("[unknown] ", MEMFD) },
    { "tracepoint/perf.script", "tracepoint/expected.folded.all", { all = true }, rename_frames("[unknown] ", MEMFD) },
    { "mmap-events/perf-dlopen.script", "mmap-events/expected-dlopen.folded.all", { all = true },
      function(f)
        if f[1] == "plugin_host" then f[1] = "plugin_host_1" end
        return f
      end },
    { "weird-fields/perf-nocomm.script", "weird-fields/expected-nocomm.folded.all", { all = true },
      function(f)
        table.remove(f, 1)
        return f
      end },
  }
  for _, r in ipairs(ruled) do
    it(r[1] .. " with " .. r[2] .. " and its renaming rule", function()
      assert.equals(map_frames(read(r[2]), r[4]), fold(r[1], r[3]))
    end)
  end

  for _, opt in ipairs({ "jit", "all" }) do
    it("jit-node --" .. opt .. " with the VisitNode lines from inferno", function()
      local want = {}
      for line in read("jit-node/expected.folded." .. opt):gmatch("[^\n]*\n") do
        if not line:find("RepresentationSelector::VisitNode<", 1, true) then want[#want + 1] = line end
      end
      for line in read("jit-node/expected-inferno.folded"):gmatch("[^\n]*\n") do
        if line:find("RepresentationSelector::VisitNode<", 1, true) then want[#want + 1] = line end
      end
      table.sort(want)
      assert.equals(table.concat(want), fold("jit-node/perf.script", { [opt] = true }))
    end)
  end

  it("comm-spaces/perf-tid --tid with the real ids", function()
    local roots = {
      ["worker-?/1"] = "worker_1-25527/25529", ["worker-?/2"] = "worker_2-25527/25530",
      ["io_pool-?/2"] = "io_pool_2-25527/25531", ["main_loop-?/0"] = "main_loop_0-25527/25527",
    }
    local want = map_frames(read("comm-spaces/expected-tid.folded.tid"), function(f)
      f[1] = roots[f[1]] or f[1]
      return f
    end)
    assert.equals(want, fold("comm-spaces/perf-tid.script", { tid = true }))
  end)

  it("comm-spaces/perf-tid --pid", function()
    local want = map_frames(read("comm-spaces/expected-tid.folded"), function(f)
      f = comm_spaces_roots(f)
      f[1] = f[1] .. "-25527"
      return f
    end)
    assert.equals(want, fold("comm-spaces/perf-tid.script", { pid = true }))
  end)

  it("c-inline-srcline/perf-fp --srcline", function()
    local want = map_frames(read("c-inline-srcline/expected-fp.folded.srcline"), function(f)
      for i, name in ipairs(f) do
        if name == "@plt:libc.so.6" then f[i] = "@plt" end
        if name == "_dl_start_user::0" then f[i] = "_dl_start_user" end
      end
      return f
    end)
    assert.equals(want, fold("c-inline-srcline/perf-fp.script", { srcline = true }))
  end)

  it("c-inline-srcline/perf: deleting the DSO-less inline frames gives inferno's output", function()
    local dropped = {
      hash_bytes = true, mix32 = true, poly = true, fill_table = true, msort_with_tmp = true,
      __libc_start_main_impl = true, __memcpy_avx512_unaligned_erms = true,
    }
    local got = map_frames(fold("c-inline-srcline/perf.script"), function(f)
      local out = {}
      for _, name in ipairs(f) do if not dropped[name] then out[#out + 1] = name end end
      return out
    end)
    assert.equals(read("c-inline-srcline/expected-inferno.folded"), got)
  end)
end)
