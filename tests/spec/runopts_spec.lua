local runopts = require "perfgo.runopts"
local go = { split_flags = require("perfgo.goflags").split }

describe("perfgo test command line", function()
  it("keeps perfgo flags and PKG, passes go test flags through", function()
    local own, rest = runopts.split({ "profile", "-e", "cpu-clock", "./pkg", "-bench=.", "-run", "^$" }, false)
    assert.same({ "profile", "-e", "cpu-clock", "./pkg" }, own)
    assert.same({ "-bench=.", "-run", "^$" }, rest)
  end)

  it("defaults the mode to run, or to profile when an event is given", function()
    assert.same({ "run", "./pkg" }, (runopts.split({ "./pkg" }, false)))
    assert.same({ "profile", "--event", "cpu-clock", "./pkg" },
      (runopts.split({ "--event", "cpu-clock", "./pkg" }, false)))
    assert.same({ "profile", "--event=cpu-clock", "./pkg" }, (runopts.split({ "--event=cpu-clock", "./pkg" }, false)))
  end)

  it("joins a value that looks like a flag to its option", function()
    local own = runopts.split({ "profile", "--perf-arg", "--no-inherit", "-e", "-x", "./pkg" }, false)
    assert.same({ "profile", "--perf-arg=--no-inherit", "--event=-x", "./pkg" }, own)
  end)

  it("accepts -- after PKG", function()
    local _, rest = runopts.split({ "stat", "./pkg", "--", "-v" }, false)
    assert.same({ "-v" }, rest)
  end)

  it("a package named like a mode after the mode is the package", function()
    local own = runopts.split({ "run", "stat" }, false)
    assert.same({ "run", "stat" }, own)
  end)

  it("exec: the command starts after -- or at the first positional", function()
    local own, rest = runopts.split({ "profile", "-e", "cpu-clock", "--", "./prog", "-x" }, true)
    assert.same({ "profile", "-e", "cpu-clock" }, own)
    assert.same({ "./prog", "-x" }, rest)
    own, rest = runopts.split({ "ls", "-l" }, true)
    assert.same({ "run" }, own)
    assert.same({ "ls", "-l" }, rest)
  end)
end)

describe("go test flag split", function()
  it("sends build flags to go test -c and test flags to the binary", function()
    local build, run = go.split_flags({ "-tags", "integration", "-race", "-bench=.", "-benchtime", "2s",
      "-count=3", "-v", "-gcflags=-N -l", "-run", "^Test" })
    assert.same({ "-tags", "integration", "-race", "-gcflags=-N -l" }, build)
    assert.same({ "-test.bench=.", "-test.benchtime", "2s", "-test.count=3", "-test.v", "-test.run", "^Test" }, run)
  end)

  it("accepts --flag and -test.flag spellings", function()
    local _, run = go.split_flags({ "--bench", ".", "-test.short" })
    assert.same({ "-test.bench", ".", "-test.short" }, run)
  end)

  it("passes unknown flags and -args verbatim", function()
    local build, run = go.split_flags({ "-myflag=1", "-args", "-bench", "x" })
    assert.same({}, build)
    assert.same({ "-myflag=1", "-bench", "x" }, run)
  end)

  it("a value flag without its value is a user error", function()
    local ok, err = pcall(go.split_flags, { "-run" })
    assert.is_false(ok)
    assert.is_true(err.user_error)
    assert.matches("%-run needs a value", err.message)
  end)
end)

describe("runopts.validate", function()
  local function check(mode, opts)
    local ok, err = pcall(runopts.validate, mode, opts)
    if ok then return opts end
    assert.is_true(err.user_error, tostring(err))
    assert.equals(2, err.exit_code)
    return nil, err.message
  end

  it("takes numbers from the command line's strings and from perfgo.lua's numbers", function()
    local o = check("profile", { freq = "999", count = 5, event = "cpu-clock", call_graph = "dwarf,16384" })
    assert.same({ 999, 5, { "cpu-clock" }, "dwarf,16384" }, { o.freq, o.count, o.event, o.call_graph })
    assert.equals(3, check("stat", { ["repeat"] = "3" })["repeat"])
  end)

  it("refuses counts perf would misread, naming the flag", function()
    for _, case in ipairs({
      { "profile", { freq = "0" }, "^%-F/%-%-freq: '0' is not a whole number above 0$" },
      { "profile", { freq = "1.5" }, "^%-F/%-%-freq: '1%.5'" },
      { "profile", { count = "-3" }, "^%-c/%-%-count: '%-3'" },
      { "profile", { count = "lots" }, "^%-c/%-%-count: 'lots'" },
      { "stat", { ["repeat"] = "0" }, "^%-r/%-%-repeat: '0' .*repeat forever" },
    }) do
      local _, msg = check(case[1], case[2])
      assert.matches(case[3], msg)
    end
  end)

  it("knows the call graph methods", function()
    for _, ok in ipairs({ "fp", "lbr", "dwarf", "dwarf,8", "dwarf,65528" }) do
      assert.is_table(check("profile", { call_graph = ok }), ok)
    end
    for _, bad in ipairs({ "bogus", "dwarf,0", "dwarf,70000", "dwarf,", "fp,1", "" }) do
      local _, msg = check("profile", { call_graph = bad })
      assert.matches("^%-%-call%-graph: '.*' is not a call graph method: use fp, dwarf", msg, bad)
    end
  end)

  it("refuses event names that cannot be events", function()
    assert.matches("empty", select(2, check("stat", { event = { "task-clock", "" } })))
    assert.matches("'%-x' is not an event name", select(2, check("stat", { event = { "-x" } })))
    assert.matches("space", select(2, check("stat", { event = { "a b" } })))
  end)

  it("an option the mode does not take is an error on the command line, ignored as a default", function()
    assert.matches("^%-F/%-%-freq is for profile runs; mode 'stat' does not use it",
      select(2, check("stat", { freq = "99" })))
    assert.matches("^%-e/%-%-event is for stat, bench and profile runs; mode 'run' does not use it",
      select(2, check("run", { event = { "cpu-clock" } })))
    local o = check("stat", { freq = 99, defaults_from = { freq = "/p/perfgo.lua:3" } })
    assert.is_nil(o.freq)
  end)

  it("a bad default names perfgo.lua and its line", function()
    local _, msg = check("profile", { freq = 0, defaults_from = { freq = "/p/perfgo.lua:7" } })
    assert.equals("/p/perfgo.lua:7: defaults.freq: '0' is not a whole number above 0", msg)
    _, msg = check("profile", { call_graph = "bogus", defaults_from = { call_graph = "/p/perfgo.lua:2" } })
    assert.matches("^/p/perfgo%.lua:2: defaults%.call_graph: 'bogus'", msg)
  end)
end)
