local sys = require "perfgo.sys"

describe("perfgo.sys", function()
  it("random_id gives 32 lowercase hex digits, different each call", function()
    local a, b = sys.random_id(), sys.random_id()
    assert.matches("^[0-9a-f]+$", a)
    assert.equals(32, #a)
    assert.not_equals(a, b)
  end)

  it("monotonic never goes back and measures a sleep", function()
    local t0 = sys.monotonic()
    os.execute("sleep 0.05")
    local t1 = sys.monotonic()
    assert.is_true(t1 - t0 >= 0.04)
  end)

  it("realtime is close to os.time", function()
    assert.is_true(math.abs(sys.realtime() - os.time()) < 5)
  end)

  it("hostname matches the hostname command", function()
    local p = io.popen("hostname")
    local expected = p:read("l")
    p:close()
    assert.equals(expected, sys.hostname())
  end)

  it("isatty is false for a pipe", function()
    local p = io.popen([[lua5.4 -e 'package.cpath=os.getenv("PERFGO_BUILD_DIR").."/?.so;"..package.cpath
      io.write(tostring(require("perfgo.sys").isatty(1)))']])
    local out = p:read("a")
    p:close()
    assert.equals("false", out)
    assert.has_error(function() sys.isatty(-1) end)
  end)

  it("is loaded from the build tree as a loadable module", function()
    assert.matches("perfgo/sys%.so", package.searchpath("perfgo.sys", package.cpath))
  end)
end)
