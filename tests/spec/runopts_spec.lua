local runopts = require "perfgo.runopts"
local go = dofile(os.getenv("PERFGO_SOURCE_DIR") .. "/rules/go.lua")

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
