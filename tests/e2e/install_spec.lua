-- `cmake --install` gives a self-contained tree whose binary works from
-- any directory and whose modules load in plain lua5.4.
local t = require "testutil"

describe("installed perfgo", function()
  local prefix
  setup(function()
    prefix = t.tmpdir()
    local r = t.run({ "cmake", "--install", os.getenv("PERFGO_BUILD_DIR"), "--prefix", prefix })
    assert.equals(0, r.code, r.stderr)
  end)
  teardown(function() t.rmtree(prefix) end)

  it("runs from / with its installed scripts", function()
    local r = t.run({ prefix .. "/bin/perfgo", "version", "--verbose" }, { cwd = "/" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("^perfgo %d", r.stdout)
    assert.matches("scripts: " .. prefix:gsub("%p", "%%%0") .. "/share/perfgo/lua %(install%)", r.stdout)
    assert.matches("rules: " .. prefix:gsub("%p", "%%%0") .. "/share/perfgo/rules", r.stdout)
  end)

  it("loads its scripts precompiled, and an edited script from source", function()
    local bin = prefix .. "/bin/perfgo"
    local r = t.run({ bin, "version", "--verbose" }, { cwd = "/" })
    assert.equals(0, r.code, r.stderr)
    local dir, n = r.stdout:match("precompiled: (%S+) %((%d+) modules loaded from it%)")
    assert.equals(prefix .. "/share/perfgo/luac", dir)
    -- cli, errors, config, argparse, version at least
    assert.is_true(tonumber(n) >= 5, r.stdout)

    -- an edit made after installing wins over the compiled copy
    local path = prefix .. "/share/perfgo/lua/perfgo/commands/version.lua"
    local src = t.read(path)
    local edited = src:gsub("Show perfgo's version", "Show the edited version", 1)
    assert.are_not.equal(src, edited)
    t.write(path, edited)
    assert.equals(0, t.run({ "touch", "-d", "2001-02-03 04:05:06", path }).code)
    r = t.run({ bin, "--help" }, { cwd = "/" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("Show the edited version", r.stdout, 1, true)
    r = t.run({ bin, "version", "--verbose" }, { cwd = "/" })
    assert.equals(tonumber(n) - 1, tonumber(r.stdout:match("%((%d+) modules loaded")), r.stdout)
  end)

  it("installs the loadable modules for plain lua5.4", function()
    local r = t.run({ "lua5.4", "-e",
      "package.cpath='" .. prefix .. "/lib/lua/5.4/?.so;'..package.cpath; "
        .. "io.write(require('perfgo.sys').random_id())" }, { cwd = "/" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("^%x+$", r.stdout)
    assert.equals(32, #r.stdout)
  end)
end)
