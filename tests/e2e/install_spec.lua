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

  it("installs the loadable modules for plain lua5.4", function()
    local r = t.run({ "lua5.4", "-e",
      "package.cpath='" .. prefix .. "/lib/lua/5.4/?.so;'..package.cpath; "
        .. "io.write(require('perfgo.sys').random_id())" }, { cwd = "/" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("^%x+$", r.stdout)
    assert.equals(32, #r.stdout)
  end)
end)
