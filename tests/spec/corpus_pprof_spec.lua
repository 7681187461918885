-- Every corpus script converts to a pprof profile that `go tool pprof`
-- loads, and the profile's per-event totals equal sums computed here,
-- independently, with a plain scan of the text.
local parser = require "perfgo.parser"
local t = require "testutil"

local C = t.corpus_dir()

local function scripts()
  local list = {}
  local p = assert(io.popen("cd " .. t.quote(C) .. " && ls */perf*.script"))
  for f in p:lines() do list[#list + 1] = f end
  p:close()
  return list
end

--- Totals by a simple scan: a sample header has a `secs.frac:` token; its
--- tail gives an optional period and an event ending in ':'. Side-band
--- (PERF_RECORD_) lines are not samples. Files without timestamps count one
--- sample per block whose first line starts with a non-blank, non-hex word.
local function scan(text)
  local samples, events, order = 0, {}, {}
  local timed = text:find("%d+%.%d+: ") ~= nil
  local block_start = true
  for line in text:gmatch("([^\n]*)\n?") do
    if line:sub(1, 1) ~= "#" then
      if timed then
        local tail = line:match("^%s*.-%s%d+%.%d+:%s(.*)$") or line:match("^%s*%d+%.%d+:%s(.*)$")
        if tail and not tail:match("^%s*PERF_RECORD_") then
          samples = samples + 1
          local period, rest = tail:match("^%s*(%d+)%s+(.*)$")
          rest = rest or tail
          local event = rest:match("^%s*(%S+):%s") or rest:match("^%s*(%S+):$")
          if event then
            if not events[event] then
              events[event] = 0
              order[#order + 1] = event
            end
            events[event] = events[event] + (period and math.tointeger(tonumber(period)) or 1)
          end
        end
      else
        if line:match("^%s*$") then
          block_start = true
        else
          if block_start and line:match("^[^%s]") and not line:match("^%x+%s") then
            samples = samples + 1
          end
          block_start = false
        end
      end
    end
  end
  return samples, events, order
end

local function go_available()
  return os.execute("go version >/dev/null 2>&1") == true
end

describe("corpus to pprof", function()
  local dir
  setup(function() dir = t.tmpdir() end)
  teardown(function() t.rmtree(dir) end)

  for _, script in ipairs(scripts()) do
    it(script .. ": totals match the text and go tool pprof loads it", function()
      local prof, p = parser.parse_file(C .. "/" .. script, { labels = "comm,thread_comm,pid,tid,cpu" })
      assert.is_truthy(prof, p)
      local samples, events, order = scan(t.read(C .. "/" .. script))
      local s = prof:summary()
      assert.same({ type = "samples", unit = "count" },
        { type = s.sample_types[1].type, unit = s.sample_types[1].unit })
      assert.equals(samples, s.sample_types[1].total)
      assert.equals(#order + 1, #s.sample_types)
      for i, name in ipairs(order) do
        local st = s.sample_types[i + 1]
        assert.equals(name, st.type)
        local unit = (name == "cpu-clock" or name == "task-clock") and "nanoseconds" or "count"
        assert.equals(unit, st.unit)
        assert.equals(events[name], st.total)
      end
      if order[1] then assert.equals(order[1], s.default_sample_type) end

      assert.is_true(go_available(), "go is needed for this test")
      local out = dir .. "/" .. script:gsub("/", "_") .. ".pb.gz"
      assert.is_true(prof:write(out))
      local r = t.run({ "go", "tool", "pprof", "-raw", out })
      assert.equals(0, r.code, r.stderr)
      assert.matches("Samples:", r.stdout)
      p:close()
      prof:close()
    end)
  end

  it("labels survive go tool pprof, cpu 0 included", function()
    local prof = assert(parser.parse_file(C .. "/comm-spaces/perf-tid.script",
      { labels = "comm,thread_comm,tid,cpu,pid" }))
    local out = dir .. "/labels.pb.gz"
    assert.is_true(prof:write(out))
    local r = t.run({ "go", "tool", "pprof", "-tags", out })
    assert.equals(0, r.code, r.stderr)
    -- comm is the process's name (its main thread), thread_comm the thread's
    assert.matches(" comm: Total 828%.0ms\n%s+828%.0ms %(  100%%%): main loop 0\n", r.stdout)
    assert.matches("thread_comm: Total", r.stdout)
    assert.matches("): worker 1\n", r.stdout, 1, true)
    assert.matches("): io pool 2\n", r.stdout, 1, true)
    assert.matches("tid: Total", r.stdout)
    assert.matches("cpu: Total", r.stdout)
    assert.matches("pid: Total", r.stdout)
    -- samples on cpu 0 keep their label
    local text = t.read(C .. "/comm-spaces/perf-tid.script")
    local on0 = 0
    for _ in text:gmatch("%[000%]") do on0 = on0 + 1 end
    assert.is_true(on0 > 0)
    local r0 = t.run({ "go", "tool", "pprof", "-raw", "-tagfocus=cpu=0", out })
    assert.equals(0, r0.code, r0.stderr)
    local n = 0
    for line in r0.stdout:gmatch("[^\n]+") do
      local c = line:match("^%s+(%d+)%s+%d+: ")
      if c then n = n + tonumber(c) end
    end
    assert.equals(on0, n)
  end)
end)

-- The parser reads repeated callchains by prediction (a line that has the
-- text of the frame that followed last time is taken as that frame) and
-- headers from a template; fed one line per chunk it reads every line in
-- full instead. Both must give the same profile, folded text and counts.
describe("corpus read in one piece and line by line", function()
  local function result(p, prof)
    local s = p:stats()
    return {
      pprof = prof:encode({ gzip = false }),
      folded = p:folded({ all = true, tid = true }),
      counts = { s.lines, s.samples, s.frames, s.sideband, s.unrecognized, s.distinct_frames,
        s.distinct_stacks, s.time_first_ns, s.time_last_ns },
    }
  end

  for _, f in ipairs(scripts()) do
    it(f, function()
      local opts = { labels = "comm,tid,cpu", source = f }
      local prof, p = parser.parse_file(C .. "/" .. f, opts)
      assert(prof, p)
      local whole = result(p, prof)
      p:close()

      local lp <close> = parser.new(opts)
      local text = t.read(C .. "/" .. f)
      for line in text:gmatch("[^\n]*\n?") do
        if line ~= "" then assert.is_true(lp:feed(line)) end
      end
      local lprof = assert(lp:finish())
      local by_line = result(lp, lprof)
      assert.same(whole.counts, by_line.counts)
      assert.equals(whole.folded, by_line.folded)
      assert.is_true(whole.pprof == by_line.pprof, "pprof bytes differ")
    end)
  end
end)
