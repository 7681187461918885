-- Lua programs other than perfgo can use the native modules: the README's
-- examples/lua/top10.lua runs under plain lua5.4 and agrees with pprof.
local t = require "testutil"

local function corpus(path)
  return t.corpus_dir() .. "/" .. path
end

describe("examples/lua/top10.lua", function()
  local dir
  setup(function() dir = t.tmpdir() end)
  teardown(function() t.rmtree(dir) end)

  it("prints the same top functions as go tool pprof -top", function()
    local out = dir .. "/go-bench.pb.gz"
    local r = t.run({ "lua5.4", os.getenv("PERFGO_SOURCE_DIR") .. "/examples/lua/top10.lua",
      corpus("go-bench/perf.script"), out },
      { env = { LUA_CPATH = os.getenv("PERFGO_BUILD_DIR") .. "/?.so;;", LUA_PATH = false } })
    assert.equals(0, r.code, r.stderr)
    local ours = {}
    for pct, name in r.stdout:gmatch("%s*([%d.]+)%%%s+([^\n]+)") do ours[#ours + 1] = { pct, name } end
    assert.equals(10, #ours)
    local top = t.run({ "go", "tool", "pprof", "-top", out })
    assert.equals(0, top.code, top.stderr)
    local theirs = {}
    for pct, name in top.stdout:gmatch("\n%s*[%d.]+%a*%s+([%d.]+)%%%s+[%d.]+%%%s+[%d.]+%a*%s+[%d.]+%%%s+([^\n]+)") do
      theirs[#theirs + 1] = { pct, name }
    end
    for i = 1, 3 do
      assert.equals(theirs[i][2], ours[i][2])
      assert.equals(tonumber(theirs[i][1]), tonumber(ours[i][1]))
    end
  end)

  it("says how to use it without arguments", function()
    local r = t.run({ "lua5.4", os.getenv("PERFGO_SOURCE_DIR") .. "/examples/lua/top10.lua" },
      { env = { LUA_CPATH = os.getenv("PERFGO_BUILD_DIR") .. "/?.so;;" } })
    assert.equals(2, r.code)
    assert.matches("usage", r.stderr)
  end)
end)
