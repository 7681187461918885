-- core/lua/api/perfgo/contract.lua against the code: the context fields
-- the steps, rules and modes set are the ones declared, the keys of a
-- Rule, a Mode and a mode's option are the ones perfgo accepts, and the
-- Target methods are the local target's.
local t = require "testutil"

local src = assert(os.getenv("PERFGO_SOURCE_DIR"))
local contract = src .. "/core/lua/api/perfgo/contract.lua"

-- class name -> set of declared fields (---@field) and methods
-- (function Var:name after `local Var = {}` following the class)
local function classes()
  local out, current, var_class = {}, nil, {}
  for line in assert(t.read(contract)):gmatch("[^\n]*") do
    local class = line:match("^%-%-%-@class ([%w_.]+)")
    if class then
      current = class
      out[class] = {}
    end
    local field = line:match("^%-%-%-@field ([%w_]+)")
    if field and current then out[current][field] = true end
    local var = line:match("^local ([%w_]+) = {}")
    if var and current then var_class[var] = current end
    local owner, method = line:match("^function ([%w_]+):([%w_]+)%(")
    if owner then out[var_class[owner]][method] = true end
  end
  return out
end

local function keys(...)
  local set = {}
  for _, tbl in ipairs({ ... }) do
    for k in pairs(tbl) do set[k] = true end
  end
  return set
end

local function sorted(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

local function lua_files()
  local p = io.popen("find " .. t.quote(src .. "/lua") .. " " .. t.quote(src .. "/rules") .. " -name '*.lua'")
  local files = {}
  for f in p:read("a"):gmatch("[^\n]+") do files[#files + 1] = f end
  p:close()
  return files
end

describe("the contract (perfgo/contract.lua)", function()
  local declared = classes()

  it("declares every context field a step, rule, mode or command sets, and sets every one it declares", function()
    local set = {}
    for _, f in ipairs(lua_files()) do
      local text = t.read(f)
      -- ctx.a = ..., ctx.a, ctx.b = ...
      for lhs in text:gmatch("([%w_%.%s,]-)%s=[^=]") do
        for name in lhs:gmatch("ctx%.([%w_]+)") do set[name] = f end
      end
      -- the context a command starts the workflow with
      for body in text:gmatch("workflow%.run%((%b{})%)") do
        for name in body:gmatch("\n%s*([%w_]+)%s*=") do set[name] = f end
      end
    end
    local missing = {}
    for name, f in pairs(set) do
      if not declared["perfgo.Context"][name] then missing[#missing + 1] = name .. " (" .. f .. ")" end
    end
    table.sort(missing)
    assert.same({}, missing)
    local unset = {}
    for name in pairs(declared["perfgo.Context"]) do
      if not set[name] then unset[#unset + 1] = name end
    end
    table.sort(unset)
    assert.same({}, unset)
  end)

  it("a Rule's and a Mode's keys are the ones perfgo accepts, and their origin", function()
    local rules = require "perfgo.rules"
    local modes = require "perfgo.modes"
    local want = keys(rules.KIND.fields, rules.KIND.methods, { origin = true })
    assert.same(sorted(want), sorted(declared["perfgo.Rule"]))
    want = keys(modes.KIND.fields, modes.KIND.methods, { origin = true })
    assert.same(sorted(want), sorted(declared["perfgo.Mode"]))
    assert.same(sorted(modes.OPTION_FIELDS), sorted(declared["perfgo.ModeOption"]))
  end)

  it("every mode function has a default, and the defaults are nothing else", function()
    local modes = require "perfgo.modes"
    assert.same(sorted(modes.KIND.methods), sorted(modes.KIND.defaults))
  end)

  it("a Target's methods are the local target's", function()
    local target = require "perfgo.target"
    local tg = target.new_local({ repo = { root = "/tmp" }, host_platform = { os = "linux", arch = "amd64" } })
    local methods = {}
    for k in pairs(getmetatable(tg).__index) do
      if k:sub(1, 2) ~= "__" then methods[k] = true end
    end
    local fields = keys(tg)
    tg:cleanup({})
    local declared_methods, declared_fields = {}, {}
    for k in pairs(declared["perfgo.Target"]) do
      if k == "kind" or k == "platform" or k == "description" or k == "host" then
        declared_fields[k] = true
      else
        declared_methods[k] = true
      end
    end
    assert.same(sorted(declared_methods), sorted(methods))
    for k in pairs(declared_fields) do
      assert.is_true(fields[k] ~= nil or k == "host", k)
    end
  end)
end)
