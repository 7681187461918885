-- Declared objects (rules, modes): checked against their kind, looked up
-- in layers, extending one another with `base`.
local declare = require "perfgo.declare"

local KIND = {
  name = "thing",
  section = "things",
  fields = { name = "string", extends = "string", size = "number" },
  methods = { run = 1, show = 2 },
  required = { "run" },
  defaults = { show = function(_ctx, what) return "default " .. what end },
}

local function failure(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.is_true(err.user_error, tostring(err))
  assert.equals(2, err.exit_code)
  return err.message
end

describe("declared objects", function()
  it("rejects unknown keys and wrong types, naming the file, line and keys", function()
    local text = "return {\n  things = {\n    a = {\n      size = 3,\n      rnu = function() end,\n    },\n  },\n}\n"
    local cfg = assert(load(text, "@/p/perfgo.lua"))()
    local where = { path = "/p/perfgo.lua", text = text, line = 3, label = "things.a" }
    assert.equals("/p/perfgo.lua:5: things.a: unknown key 'rnu' (a thing's keys: extends, name, run, show, size)",
      failure(declare.check, KIND, cfg.things.a, where))
    assert.equals("/p/perfgo.lua:4: things.a: 'size' must be a number, not a string",
      failure(declare.check, KIND, { size = "big" }, where))
    assert.matches("^things.b: a thing must be a table$", failure(declare.check, KIND, 7, { label = "things.b" }))
  end)

  it("inherits what it does not declare; a replaced function gets the inherited one as base", function()
    local reg = declare.registry(KIND)
    reg:register("base", { size = 1, run = function(ctx) ctx[#ctx + 1] = "base" end }, { label = "things.base" })
    reg:register("child", { extends = "base", run = function(ctx, base)
      ctx[#ctx + 1] = "child"
      base(ctx)
    end, show = function(ctx, what, base) return "child+" .. base(ctx, what) end }, { label = "things.child" })
    local child = reg:find("child")
    local seen = {}
    child.run(seen)
    assert.same({ "child", "base" }, seen)
    assert.equals(1, child.size)
    assert.equals("child+default x", child.show({}, "x"))
    assert.equals("default y", reg:find("base").show({}, "y"))
    assert.equals("child", child.name)
    assert.is_nil(reg:find("nothing"))
  end)

  it("a registration replaces an earlier one of the same name, and may extend it", function()
    local reg = declare.registry(KIND)
    reg:register("x", { run = function() return "user" end }, { label = "things.x" })
    reg:register("x", { extends = "x", run = function(ctx, base) return "project>" .. base(ctx) end },
      { label = "things.x" })
    assert.equals("project>user", reg:find("x").run({}))
  end)

  it("refuses a missing parent, a cycle, a missing function and a name that is not its own", function()
    local reg = declare.registry(KIND)
    reg:register("a", { extends = "nope", run = print }, { label = "things.a" })
    assert.equals("things.a: extends 'nope', but there is no thing named 'nope'", failure(reg.find, reg, "a"))
    reg:register("b", { extends = "c", run = print }, { label = "things.b" })
    reg:register("c", { extends = "b" }, { label = "things.c" })
    assert.matches("extends itself", failure(reg.find, reg, "b"))
    reg:register("d", { size = 2 }, { label = "things.d" })
    assert.equals("things.d: no function 'run' (a thing needs run)", failure(reg.find, reg, "d"))
    reg:register("e", { extends = "e", run = print }, { label = "things.e" })
    assert.matches("there is no other thing 'e' under it", failure(reg.find, reg, "e"))
    reg:register("f", { name = "g", run = print }, { label = "things.f" })
    assert.matches("declares the name 'g' but is looked up as 'f'", failure(reg.find, reg, "f"))
  end)
end)
