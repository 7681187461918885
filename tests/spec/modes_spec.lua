-- The shipped perf modes as objects: found by name, listed in order, the
-- default ones, and the command lines they wrap a workload in (a command,
-- or processes to attach to).
local modes = require "perfgo.modes"

-- A context with a stand-in target: only scratch() is used by wrap.
local function ctx_for(name, opts)
  return {
    mode = modes.require(name),
    opts = opts or {},
    target = { scratch = function(_, f) return "/scratch/" .. f end },
  }
end

describe("perf modes", function()
  after_each(function() modes.reset() end)

  it("are the shipped files, in their order, each with a description", function()
    assert.same({ "run", "stat", "bench", "profile", "c2c" }, modes.names())
    for _, m in ipairs(modes.list()) do
      assert.is_string(m.description, m.name)
      assert.matches("modes/" .. m.name .. "%.lua", m.origin)
    end
    assert.is_nil(modes.get("nope"))
    assert.is_nil(modes.get("../modes"))
    local ok, err = pcall(modes.require, "nope")
    assert.is_false(ok)
    assert.equals("no mode named 'nope' (modes: run, stat, bench, profile, c2c)", err.message)
  end)

  it("without a mode: profile when an event is given, else run", function()
    assert.equals("profile", modes.default({ event = true }))
    assert.equals("run", modes.default({ ["repeat"] = true }))
    assert.equals("run", modes.default({}))
  end)

  it("wrap a command as perf is asked to run it", function()
    local w = { argv = { "./bin", "-test.bench=." }, cwd = "pkg" }
    local m = modes.get("run")
    assert.same({ "./bin", "-test.bench=." }, m.wrap(ctx_for("run"), w))
    m = modes.get("stat")
    assert.same({ "perf", "stat", "-x,", "-o", "/scratch/stat.csv", "-r", "3", "-e", "task-clock", "-d",
      "--no-big-num", "--", "./bin", "-test.bench=." },
      m.wrap(ctx_for("stat", { ["repeat"] = 3, event = { "task-clock" }, detail = true,
        perf_arg = { "--no-big-num" } }), w))
    m = modes.get("profile")
    assert.same({ "perf", "record", "-o", "/scratch/perf.data", "--call-graph", "dwarf", "-e", "cpu-clock",
      "-k", "CLOCK_MONOTONIC", "-c", "1000", "--", "./bin", "-test.bench=." },
      m.wrap(ctx_for("profile", { call_graph = "dwarf", event = { "cpu-clock" }, count = 1000 }), w))
    assert.same({ "perf", "record", "-o", "/scratch/perf.data", "-g", "-F", "99", "-k", "CLOCK_REALTIME", "--",
      "./bin", "-test.bench=." }, m.wrap(ctx_for("profile", { freq = 99, perf_arg = { "-k", "CLOCK_REALTIME" } }), w))
    m = modes.get("c2c")
    assert.same({ "perf", "c2c", "record", "-o", "/scratch/perf.data", "--", "./bin", "-test.bench=." },
      m.wrap(ctx_for("c2c"), w))
  end)

  it("attach perf to processes: -p, with or without a command that bounds the recording", function()
    local m = modes.get("profile")
    local argv = m.wrap(ctx_for("profile"), { pids = { 12, 34 } })
    assert.same({ "-p", "12,34" }, { argv[#argv - 1], argv[#argv] })
    argv = modes.get("stat").wrap(ctx_for("stat"), { pids = { 7 }, argv = { "sleep", "2" } })
    assert.same({ "perf", "stat", "-x,", "-o", "/scratch/stat.csv", "-p", "7", "--", "sleep", "2" }, argv)
    local ok, err = pcall(modes.get("run").wrap, ctx_for("run"), { pids = { 7 } })
    assert.is_false(ok)
    assert.matches("mode run runs a command; it cannot attach to processes", err.message)
  end)

  it("describe a run for its record, each option under its record name", function()
    local ctx = ctx_for("stat", { event = { "task-clock" }, ["repeat"] = 2, detail = false })
    ctx.wrapped_argv = { "perf", "stat" }
    local d = ctx.mode.describe(ctx)
    assert.same({ mode = "stat", events = { "task-clock" }, extra_args = {}, ["repeat"] = 2,
      argv = { "perf", "stat" } }, d)
    ctx = ctx_for("profile", { freq = 50 })
    d = ctx.mode.describe(ctx)
    assert.equals("fp", d.call_graph)
    assert.equals(50, d.freq)
  end)

  it("a registered mode extends a shipped one and comes in its order", function()
    modes.register("fast", { extends = "profile", order = 35, description = "profile, faster",
      wrap = function(ctx, w, base)
        local argv = base(ctx, w)
        table.insert(argv, 3, "-F999")
        return argv
      end }, { label = "modes.fast" })
    assert.same({ "run", "stat", "bench", "profile", "fast", "c2c" }, modes.names())
    local ctx = ctx_for("fast")
    local argv = ctx.mode.wrap(ctx, { argv = { "x" } })
    assert.same({ "perf", "record", "-F999", "-o" }, { argv[1], argv[2], argv[3], argv[4] })
    assert.is_true(ctx.mode.writes_profile)
    assert.equals("fast", ctx.mode.name)
    assert.equals("fast", ctx.mode.describe({ mode = ctx.mode, opts = {} }).mode)
  end)
  it("an option's name and flags are checked, and a flag cannot be one of perfgo's own", function()
    local declare = require "perfgo.declare"
    local where = { label = "modes.bad" }
    local function problem(decl)
      local ok, err = pcall(declare.check, modes.KIND, decl, where)
      assert.is_false(ok)
      return err.message
    end
    assert.matches("options%[1%]: 'remote' is not a flag",
      problem({ options = { { name = "x", flags = "-x remote", help = "x" } } }))
    assert.matches("options%[1%]: name 'a%-b' is not a name",
      problem({ options = { { name = "a-b", flags = "--ab", help = "x" } } }))
    modes.register("near", { extends = "run", options = { { name = "host", flags = "--remote-host", help = "x" } } },
      where)
    local ok, err = pcall(require("perfgo.runopts").split, { "near", "./x" }, true)
    assert.is_false(ok)
    assert.equals("option --remote-host is declared twice: a mode's option cannot be one of perfgo's own",
      err.message)
  end)
end)
