-- The perfgo binary itself: exit codes, help, version, error tiers and
-- the script directory lookup.
local t = require "testutil"

local function fake_lua_dir(cli_source)
  local dir = t.tmpdir()
  os.execute("mkdir -p " .. t.quote(dir .. "/lua/perfgo") .. " " .. t.quote(dir .. "/rules"))
  t.write(dir .. "/lua/perfgo/cli.lua", cli_source)
  return dir
end

describe("perfgo binary", function()
  it("--help lists the commands and exits 0", function()
    local r = t.perfgo({ "--help" })
    assert.equals(0, r.code)
    assert.matches("Usage: perfgo", r.stdout)
    assert.matches("version", r.stdout)
  end)

  it("version prints perfgo, Lua, protobuf-c, zlib and libdeflate versions", function()
    local r = t.perfgo({ "version" })
    assert.equals(0, r.code)
    assert.matches("^perfgo %d+%.%d+%.%d+\n", r.stdout)
    assert.matches("Lua 5%.4%.%d+, protobuf%-c %d+%.%d+%.%d+, zlib %d+%.%d+[%d.]*, libdeflate %d+%.%d+", r.stdout)
    assert.equals(r.stdout, t.perfgo({ "--version" }).stdout)
  end)

  it("no command prints the usage and exits 2", function()
    local r = t.perfgo({})
    assert.equals(2, r.code)
    assert.matches("no command given", r.stderr)
  end)

  it("an unknown option is one line naming it, exit 2", function()
    local r = t.perfgo({ "--no-such-flag" })
    assert.equals(2, r.code)
    assert.equals(1, t.lines(r.stderr))
    assert.matches("'%-%-no%-such%-flag'", r.stderr)
  end)

  it("an unknown command names it", function()
    local r = t.perfgo({ "frobnicate" })
    assert.equals(2, r.code)
    assert.matches("frobnicate", r.stderr)
  end)

  describe("with PERFGO_LUA_DIR", function()
    local dir
    after_each(function() t.rmtree(dir) end)

    it("runs the scripts found there and exits with their code", function()
      dir = fake_lua_dir([[
        return { main = function(args) io.write("fake cli ", #args, " ", args[1]) return 7 end }
      ]])
      local r = t.perfgo({ "hello" }, { env = { PERFGO_LUA_DIR = dir .. "/lua" } })
      assert.equals(7, r.code)
      assert.equals("fake cli 1 hello", r.stdout)
    end)

    it("is skipped when it has no perfgo/cli.lua", function()
      dir = t.tmpdir()
      local r = t.perfgo({ "version" }, { env = { PERFGO_LUA_DIR = dir } })
      assert.equals(0, r.code, r.stderr)
      assert.matches("^perfgo ", r.stdout)
      assert.matches("no perfgo/cli.lua", r.stderr)
    end)

    it("a user error prints one line; --debug adds the traceback", function()
      dir = fake_lua_dir([[
        local errors = require "perfgo.errors"
        return { main = function() errors.fail(3, "the thing is broken: fix it") end }
      ]])
      -- the fake cli still finds perfgo.errors on the real script path
      local env = { PERFGO_LUA_DIR = dir .. "/lua",
        LUA_PATH = os.getenv("PERFGO_SOURCE_DIR") .. "/lua/?.lua;;" }
      local r = t.perfgo({}, { env = env })
      assert.equals(3, r.code)
      assert.equals("perfgo: the thing is broken: fix it\n", r.stderr)

      r = t.perfgo({ "--debug" }, { env = env })
      assert.equals(3, r.code)
      assert.matches("^perfgo: the thing is broken: fix it\nstack traceback:", r.stderr)
      assert.matches("cli%.lua:2", r.stderr)

      env.PERFGO_DEBUG = "1"
      r = t.perfgo({}, { env = env })
      assert.matches("stack traceback:", r.stderr)
    end)

    it("an internal error prints its message and a traceback, exit 70", function()
      dir = fake_lua_dir([[
        local function inner() local x = nil; local y = x.field; return y end
        return { main = function() local r = inner(); return r end }
      ]])
      local r = t.perfgo({}, { env = { PERFGO_LUA_DIR = dir .. "/lua" } })
      assert.equals(70, r.code)
      assert.matches("^perfgo: internal error: .-cli%.lua:1: attempt to index", r.stderr)
      assert.matches("stack traceback:", r.stderr)
      assert.matches("in upvalue 'inner'", r.stderr)
    end)
  end)
end)
