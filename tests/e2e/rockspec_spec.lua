-- `luarocks make` installs the native modules for other Lua programs.
local t = require "testutil"

describe("perfgo-scm-1.rockspec", function()
  it("luarocks make installs modules that plain lua5.4 loads", function()
    local tree = t.tmpdir()
    local src = os.getenv("PERFGO_SOURCE_DIR")
    local r = t.run({ "luarocks", "--lua-version", "5.4", "--tree", tree, "make", "perfgo-scm-1.rockspec" },
      { cwd = src })
    assert.equals(0, r.code, (r.stdout or "") .. (r.stderr or ""))
    local script = [[
      local parser = require "perfgo.parser"
      local pprof = require "perfgo.pprof"
      local p = parser.parse_string("prog 1 1.0: 1 cpu-clock:\n\t 1000 main+0x10 (/bin/prog)\n\n")
      local back = assert(pprof.decode(p:encode()))
      io.write(back:summary().sample_types[1].total, " ", package.searchpath("perfgo.parser", package.cpath))
    ]]
    r = t.run({ "lua5.4", "-e", script }, { env = { LUA_CPATH = tree .. "/lib/lua/5.4/?.so;;", LUA_PATH = false } })
    t.rmtree(tree)
    assert.equals(0, r.code, r.stderr)
    assert.matches("^1 " .. tree:gsub("%p", "%%%0") .. "/lib/lua/5%.4/perfgo/parser%.so$", r.stdout)
  end)
end)
