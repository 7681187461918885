-- Which perfgo.lua runs: the lookup stops at the repository root, a file
-- someone else could have written is refused (saying how to load it
-- anyway), and only the commands that use configuration load it at all.
local t = require "testutil"

-- A configuration that leaves a mark when it is loaded and defines `hi`.
local function marking(mark)
  return "io.open(" .. string.format("%q", mark) .. ", 'w'):close()\n"
    .. "return { commands = { hi = { run = function() print('hi') return 0 end } } }\n"
end

local function sh(cmd)
  local r = t.run({ "sh", "-c", cmd })
  assert.equals(0, r.code, cmd .. ": " .. r.stderr)
end

describe("perfgo.lua lookup", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("stops at the repository root: a perfgo.lua above it is not loaded", function()
    sh("mkdir -p " .. t.quote(dir .. "/repo/.git") .. " " .. t.quote(dir .. "/repo/pkg/sub"))
    t.write(dir .. "/perfgo.lua", marking(dir .. "/above"))
    local r = t.perfgo({ "hi" }, { cwd = dir .. "/repo/pkg/sub" })
    assert.equals(2, r.code)
    assert.matches("unknown command 'hi'", r.stderr, 1, true)
    assert.is_nil(t.read(dir .. "/above"))
    -- the repository's own is found from a subdirectory
    t.write(dir .. "/repo/perfgo.lua", marking(dir .. "/repo/mark"))
    r = t.perfgo({ "hi" }, { cwd = dir .. "/repo/pkg/sub" })
    assert.equals(0, r.code, r.stderr)
    assert.equals("hi\n", r.stdout)
    assert.is_not_nil(t.read(dir .. "/repo/mark"))
    assert.is_nil(t.read(dir .. "/above"))
  end)

  it("outside a repository looks in the current directory only", function()
    sh("mkdir -p " .. t.quote(dir .. "/a/b"))
    t.write(dir .. "/a/perfgo.lua", marking(dir .. "/a/mark"))
    local r = t.perfgo({ "hi" }, { cwd = dir .. "/a/b" })
    assert.equals(2, r.code)
    assert.is_nil(t.read(dir .. "/a/mark"))
    r = t.perfgo({ "hi" }, { cwd = dir .. "/a" })
    assert.equals(0, r.code, r.stderr)
    assert.is_not_nil(t.read(dir .. "/a/mark"))
  end)

  it("refuses a perfgo.lua someone else could have written, saying why and how to go on", function()
    local file = dir .. "/perfgo.lua"
    t.write(file, marking(dir .. "/mark"))
    sh("chmod 666 " .. t.quote(file))
    local r = t.perfgo({ "hi" }, { cwd = dir })
    assert.equals(2, r.code)
    assert.equals("perfgo: " .. file .. " is not loaded: " .. file .. " is writable by others, so "
      .. "someone other than you or root could have written the code it runs (fix the permissions, "
      .. "or load it anyway with --config " .. file .. ", or ignore it with --no-project-config)\n",
      r.stderr)
    assert.is_nil(t.read(dir .. "/mark"))
    -- a directory on its path, writable by its group
    sh("chmod 644 " .. t.quote(file) .. " && chmod 775 " .. t.quote(dir))
    r = t.perfgo({ "hi" }, { cwd = dir })
    assert.equals(2, r.code)
    assert.matches(": " .. dir .. " is writable by its group, so ", r.stderr, 1, true)
    assert.is_nil(t.read(dir .. "/mark"))
    -- --config loads it anyway (the user named it); --no-project-config ignores it
    r = t.perfgo({ "--config", file, "hi" }, { cwd = dir })
    assert.equals(0, r.code, r.stderr)
    assert.equals("hi\n", r.stdout)
    os.remove(dir .. "/mark")
    r = t.perfgo({ "--no-project-config", "exec", "run", "--", "true" }, { cwd = dir })
    assert.equals(0, r.code, r.stderr)
    assert.is_nil(t.read(dir .. "/mark"))
    sh("chmod 700 " .. t.quote(dir))
  end)

  it("refuses a perfgo.lua that belongs to another user, or a link to one", function()
    if t.run({ "id", "-u" }).stdout ~= "0\n" then
      pending("needs root to give a file to another user")
      return
    end
    local file = dir .. "/perfgo.lua"
    t.write(dir .. "/theirs.lua", marking(dir .. "/mark"))
    sh("chmod 644 " .. t.quote(dir .. "/theirs.lua") .. " && chown 65534 " .. t.quote(dir .. "/theirs.lua"))
    sh("ln -s theirs.lua " .. t.quote(file))
    local r = t.perfgo({ "hi" }, { cwd = dir })
    assert.equals(2, r.code)
    assert.matches(": " .. dir .. "/theirs.lua belongs to uid 65534, neither you nor root, so ",
      r.stderr, 1, true)
    assert.is_nil(t.read(dir .. "/mark"))
    sh("rm " .. t.quote(file) .. " && mv " .. t.quote(dir .. "/theirs.lua") .. " " .. t.quote(file))
    r = t.perfgo({ "hi" }, { cwd = dir })
    assert.equals(2, r.code)
    assert.matches(": " .. file .. " belongs to uid 65534, neither you nor root, so ", r.stderr, 1, true)
    assert.is_nil(t.read(dir .. "/mark"))
  end)

  it("checks the user's init.lua the same way", function()
    local init = dir .. "/xdg/perfgo/init.lua"
    sh("mkdir -p " .. t.quote(dir .. "/xdg/perfgo") .. " " .. t.quote(dir .. "/work"))
    t.write(init, marking(dir .. "/mark"))
    sh("chmod 666 " .. t.quote(init))
    local env = { XDG_CONFIG_HOME = dir .. "/xdg" }
    local r = t.perfgo({ "hi" }, { cwd = dir .. "/work", env = env })
    assert.equals(2, r.code)
    assert.equals("perfgo: " .. init .. " is not loaded: " .. init .. " is writable by others, so "
      .. "someone other than you or root could have written the code it runs (fix the permissions, "
      .. "or set XDG_CONFIG_HOME to a directory of your own)\n", r.stderr)
    assert.is_nil(t.read(dir .. "/mark"))
    sh("chmod 644 " .. t.quote(init))
    r = t.perfgo({ "hi" }, { cwd = dir .. "/work", env = env })
    assert.equals(0, r.code, r.stderr)
    assert.equals("hi\n", r.stdout)
  end)

  it("is not loaded by the commands that do not use it", function()
    t.write(dir .. "/perfgo.lua", marking(dir .. "/mark"))
    t.write(dir .. "/in.script", "prog 1 1.0: 5 cpu-clock:\n\t1 f (/x)\n\n")
    local cmds = { { "version" }, { "--version" }, { "--help" }, { "list" }, { "view", "--help" },
      { "convert", "-i", "in.script", "-o", "out.pb.gz" } }
    for _, args in ipairs(cmds) do
      local r = t.perfgo(args, { cwd = dir })
      assert.equals(0, r.code, table.concat(args, " ") .. ": " .. r.stderr)
      assert.is_nil(t.read(dir .. "/mark"), table.concat(args, " "))
    end
    -- nor does a broken one stop them; exec reads it
    t.write(dir .. "/perfgo.lua", "return {\n")
    for _, args in ipairs(cmds) do
      local r = t.perfgo(args, { cwd = dir })
      assert.equals(0, r.code, table.concat(args, " ") .. ": " .. r.stderr)
    end
    local r = t.perfgo({ "exec", "run", "--", "true" }, { cwd = dir })
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:%d+:", r.stderr)
  end)
end)
