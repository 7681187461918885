-- The LuaLS stubs in core/lua/api/perfgo/*.lua against the real modules:
-- every function and method a binding registers is declared, and nothing
-- else. A binding that gains (or loses) a function fails here until its
-- stub follows.
local t = require "testutil"

local src = assert(os.getenv("PERFGO_SOURCE_DIR"))
local build = assert(os.getenv("PERFGO_BUILD_DIR"))
local api_dir = src .. "/core/lua/api/perfgo"
local loadable = { "sys", "parser", "pprof", "proc", "ssh", "perfdata" }

local function stub_path(name)
  return api_dir .. "/" .. name .. ".lua"
end

-- Reads a stub: its module functions (`function M.name(`), and for each
-- class (`---@class NAME` followed by `local Var = {}`) the methods declared
-- as `function Var:name(`, and its `---@field` names.
local function parse_stub(name)
  local text = assert(t.read(stub_path(name)), "no stub for perfgo." .. name)
  local stub = { meta = text:match("^%-%-%-@meta (%S+)"), funcs = {}, classes = {}, fields = {},
    field_types = {} }
  local var_class, pending, current = {}, nil, nil
  for line in text:gmatch("[^\n]*") do
    local class = line:match("^%-%-%-@class ([%w_.]+)")
    if class then
      pending, current = class, class
      stub.fields[class] = stub.fields[class] or {}
    elseif line:match("^%-%-%-@field") then
      local field, ty = line:match("^%-%-%-@field ([%w_]+)%s*(%S*)")
      if current then
        stub.fields[current][field] = true
        stub.field_types[field] = ty:match("^fun%(") and "function" or "string"
      end
    else
      local var = line:match("^local ([%w_]+) = {}")
      if var and pending then
        var_class[var] = pending
        stub.classes[pending] = stub.classes[pending] or {}
      end
      local owner, sep, fn = line:match("^function ([%w_]+)([.:])([%w_]+)%(")
      if owner == "M" and sep == "." then
        stub.funcs[fn] = true
      elseif owner and sep == ":" and var_class[owner] then
        stub.classes[var_class[owner]][fn] = true
      elseif owner then
        error(name .. ".lua: cannot tell what `function " .. owner .. sep .. fn .. "` belongs to")
      end
      if not line:match("^%-%-") then pending = nil end
    end
  end
  return stub
end

local function sorted_keys(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- Every key of a module table or a method table (functions or not: a new
-- field without a declaration fails too).
local function key_set(tbl)
  local set = {}
  for k in pairs(tbl) do set[k] = true end
  return set
end

local function assert_same_names(real, declared, what)
  local missing, extra = {}, {}
  for k in pairs(real) do
    if not declared[k] then missing[#missing + 1] = k end
  end
  for k in pairs(declared) do
    if not real[k] then extra[#extra + 1] = k end
  end
  table.sort(missing)
  table.sort(extra)
  assert(#missing == 0 and #extra == 0, string.format("%s: not declared in the stub: {%s}; declared but absent: {%s}",
    what, table.concat(missing, ", "), table.concat(extra, ", ")))
  assert.same(sorted_keys(real), sorted_keys(declared))
end

local function methods_of(obj)
  local mt = assert(getmetatable(obj), "no metatable")
  assert.equals("table", type(mt.__index))
  return key_set(mt.__index)
end

describe("LuaLS stubs (core/lua/api/perfgo)", function()
  it("every stub is valid Lua, declares its module with ---@meta and returns its table", function()
    for _, name in ipairs({ "sys", "parser", "pprof", "proc", "ssh", "perfdata", "host" }) do
      local chunk, err = loadfile(stub_path(name))
      assert(chunk, err)
      local stub = parse_stub(name)
      assert.equals("perfgo." .. name, stub.meta)
      local m = chunk()
      assert.equals("table", type(m), name .. ".lua must end with `return M`")
      assert_same_names(key_set(m), stub.funcs, name .. ".lua's returned table")
    end
  end)

  for _, name in ipairs(loadable) do
    it("perfgo." .. name .. ": the module's functions are exactly the stub's", function()
      local mod = require("perfgo." .. name)
      local stub = parse_stub(name)
      assert.is_true(next(stub.funcs) ~= nil)
      assert_same_names(key_set(mod), stub.funcs, "perfgo." .. name)
    end)
  end

  it("perfgo.parser.Parser: methods of parser.new() are the stub's", function()
    local parser = require "perfgo.parser"
    local p <close> = parser.new()
    assert_same_names(methods_of(p), parse_stub("parser").classes["perfgo.parser.Parser"], "perfgo.parser.Parser")
  end)

  it("perfgo.pprof.Profile: methods of pprof.new() are the stub's, and parser profiles are the same type", function()
    local pprof = require "perfgo.pprof"
    local parser = require "perfgo.parser"
    local p <close> = pprof.new()
    assert_same_names(methods_of(p), parse_stub("pprof").classes["perfgo.pprof.Profile"], "perfgo.pprof.Profile")
    local q <close> = assert(parser.parse_string(""))
    assert.equals(getmetatable(p), getmetatable(q))
  end)

  it("perfgo.perfdata.Reader: methods of the reader metatable are the stub's", function()
    require "perfgo.perfdata"
    local mt = debug.getregistry()["perfgo.perfdata.reader"]
    assert.equals("table", type(mt), "perfgo.perfdata registers no metatable 'perfgo.perfdata.reader'")
    assert_same_names(key_set(mt.__index), parse_stub("perfdata").classes["perfgo.perfdata.Reader"],
      "perfgo.perfdata.Reader")
  end)

  it("perfgo.pprof.Symmap: methods of pprof.symmap() are the stub's", function()
    local pprof = require "perfgo.pprof"
    local p <close> = pprof.new()
    local sm <close> = pprof.symmap(p, {})
    assert_same_names(methods_of(sm), parse_stub("pprof").classes["perfgo.pprof.Symmap"], "perfgo.pprof.Symmap")
  end)

  it("perfgo.proc.Child: methods of a spawned child are the stub's", function()
    local proc = require "perfgo.proc"
    local c <close> = proc.spawn({ "true" })
    assert.equals(0, c:wait().code)
    assert_same_names(methods_of(c), parse_stub("proc").classes["perfgo.proc.Child"], "perfgo.proc.Child")
  end)

  it("perfgo.ssh.Session: methods of the session metatable are the stub's", function()
    require "perfgo.ssh"
    local mt = debug.getregistry()["perfgo.ssh.session"]
    assert.equals("table", type(mt), "perfgo.ssh registers no metatable 'perfgo.ssh.session'")
    assert_same_names(key_set(mt.__index), parse_stub("ssh").classes["perfgo.ssh.Session"], "perfgo.ssh.Session")
  end)

  it("inside the perfgo binary: every native module has a stub, and perfgo.host's fields are declared", function()
    -- A stand-in cli.lua (PERFGO_LUA_DIR) prints what the host preloads.
    local dir = t.tmpdir()
    os.execute("mkdir -p " .. t.quote(dir .. "/perfgo"))
    t.write(dir .. "/perfgo/cli.lua", [[
      local host = require "perfgo.host"
      return { main = function()
        for name in pairs(package.preload) do io.write("module ", name, "\n") end
        for k, v in pairs(host) do io.write("host ", k, " ", type(v), "\n") end
        return 0
      end }
    ]])
    local r = t.run({ os.getenv("PERFGO_BIN"), "version" }, { env = { PERFGO_LUA_DIR = dir } })
    t.rmtree(dir)
    assert.equals(0, r.code, r.stderr)
    local modules, fields = {}, {}
    local host_stub = parse_stub("host")
    for name in r.stdout:gmatch("module perfgo%.([%w_]+)\n") do modules[name] = true end
    for k, ty in r.stdout:gmatch("host ([%w_]+) (%a+)\n") do
      fields[k] = true
      assert.equals(host_stub.field_types[k] or "string", ty, "perfgo.host." .. k)
    end
    local stubs = {}
    for _, name in ipairs(loadable) do stubs[name] = true end
    stubs.host = true
    for name in pairs(stubs) do assert.is_not_nil(t.read(stub_path(name)), name) end
    assert_same_names(modules, stubs, "native modules in the perfgo binary")
    assert_same_names(fields, host_stub.fields["perfgo.host"], "perfgo.host")
  end)

  it("cmake --install puts the stubs and the contract in share/perfgo/api/perfgo", function()
    local prefix = t.tmpdir()
    local r = t.run({ "cmake", "--install", build, "--prefix", prefix })
    local ok = r.code == 0
    local missing = {}
    for _, name in ipairs({ "sys", "parser", "pprof", "proc", "ssh", "perfdata", "host", "contract" }) do
      local installed = t.read(prefix .. "/share/perfgo/api/perfgo/" .. name .. ".lua")
      if installed ~= t.read(stub_path(name)) then missing[#missing + 1] = name end
    end
    t.rmtree(prefix)
    assert(ok, r.stderr)
    assert.same({}, missing)
  end)
end)
