-- perfgo.lua mistakes stop perfgo with the file and line, exit 2.
local t = require "testutil"

describe("perfgo.lua errors", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  -- exec reads perfgo.lua (list, view, convert and version do not); each
  -- mistake stops it before anything runs
  local function with_config(text, args)
    t.write(dir .. "/perfgo.lua", text)
    return t.perfgo(args or { "exec", "run", "--", "true" }, { cwd = dir })
  end

  it("an unknown key names the file and its line", function()
    local r = with_config("return {\n  defaults = {},\n  hookz = {},\n}\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:3: unknown key 'hookz'", r.stderr)
    assert.equals(1, t.lines(r.stderr))
  end)

  it("a syntax error names the file and its line", function()
    local r = with_config("return {\n  defaults = {\n    event = 'x'\n  \n}\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:%d+:", r.stderr)
    assert.matches("expected", r.stderr)
  end)

  it("a misspelt step names the line of its function", function()
    local r = with_config("return {\n  steps = {\n\n    biuld = function(ctx, base)\n"
      .. "      base(ctx)\n    end,\n  },\n}\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:4: steps: no workflow step named 'biuld'", r.stderr)
  end)

  it("a misspelt hook is reported, not ignored", function()
    local r = with_config("return { hooks = {\n  after_recrod = function() end,\n} }\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:2: hooks: 'after_recrod'", r.stderr)
  end)

  it("a rule's misspelt function names its line; an unknown parent names the line of extends", function()
    local r = with_config("return { rules = {\n  cc = {\n    resolve = function() end,\n"
      .. "    comand = function() end,\n  },\n} }\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:4: rules%.cc: unknown key 'comand' %(a rule's keys: build, command, ", r.stderr)
    assert.equals(1, t.lines(r.stderr))
    r = with_config("return { rules = {\n  cc = {\n    extends = 'goo',\n  },\n} }\n",
      { "test", "--rule", "cc", "./x" })
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:3: rules%.cc: extends 'goo', but there is no rule named 'goo'", r.stderr)
    assert.equals(1, t.lines(r.stderr))
  end)

  it("a mode's misspelt function and an option's unknown key name their lines", function()
    local r = with_config("return { modes = {\n  fast = {\n    extends = 'profile',\n"
      .. "    colect = function() end,\n  },\n} }\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:4: modes%.fast: unknown key 'colect' %(a mode's keys: archive, collect, ", r.stderr)
    assert.equals(1, t.lines(r.stderr))
    r = with_config("return { modes = {\n  fast = {\n    options = {\n"
      .. "      { name = 'x', flags = '--x', help = 'x', chek = print },\n    },\n  },\n} }\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:3: modes%.fast: options%[1%]: unknown key 'chek'", r.stderr)
  end)

  it("a default for an option no command has is reported", function()
    local r = with_config("return { defaults = {\n  remote_hots = 'box',\n} }\n")
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:2: defaults: no option 'remote_hots'", r.stderr)
  end)

  it("a default for a command that does not read perfgo.lua is reported", function()
    local r = with_config("return { defaults = {\n\n  list = { limit = 5 },\n} }\n")
    assert.equals(2, r.code)
    assert.equals("perfgo: " .. dir .. "/perfgo.lua:3: defaults.list: 'list' does not read perfgo.lua "
      .. "(only exec, test do)\n", r.stderr)
  end)

  it("a runtime error in perfgo.lua code names perfgo.lua:LINE", function()
    local r = with_config([[
return {
  commands = {
    boom = {
      run = function()
        local x = nil
        return x.field
      end,
    },
  },
}
]], { "boom" })
    assert.equals(2, r.code)
    assert.matches("perfgo%.lua:6: attempt to index a nil value", r.stderr)
    assert.equals(1, t.lines(r.stderr))
  end)

  it("--no-project-config skips it and --config picks another", function()
    t.write(dir .. "/perfgo.lua", "return { nonsense = {} }\n")
    local r = t.perfgo({ "exec", "run", "--", "true" }, { cwd = dir })
    assert.equals(2, r.code)
    r = t.perfgo({ "--no-project-config", "exec", "run", "--", "true" }, { cwd = dir })
    assert.equals(0, r.code, r.stderr)
    t.write(dir .. "/other.lua", "return { commands = { hi = { run = function() print('hi there') return 0 end } } }\n")
    r = t.perfgo({ "--config", dir .. "/other.lua", "hi" }, { cwd = dir })
    assert.equals(0, r.code, r.stderr)
    assert.equals("hi there\n", r.stdout)
  end)

  it("is found by walking up from a subdirectory to the repository root", function()
    os.execute("mkdir -p " .. t.quote(dir .. "/a/b") .. " " .. t.quote(dir .. "/.git"))
    t.write(dir .. "/perfgo.lua", "return { commands = { up = { run = function() print('found') return 0 end } } }\n")
    local r = t.perfgo({ "up" }, { cwd = dir .. "/a/b" })
    assert.equals(0, r.code, r.stderr)
    assert.equals("found\n", r.stdout)
  end)
end)
