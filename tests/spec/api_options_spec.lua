-- The option tables of the Lua API are strict: a key no function knows is
-- an error naming it (a misspelt option is never silently ignored), and a
-- boolean option must be true or false.
local parser = require "perfgo.parser"
local pprof = require "perfgo.pprof"
local proc = require "perfgo.proc"
local ssh = require "perfgo.ssh"

local SCRIPT = "prog 100 [001] 10.000100: 1000 cpu-clock: \n\t401000 main (/bin/prog)\n\n"

local function err_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "no error")
  return tostring(err)
end

local function profile()
  local prof = assert(parser.parse_string(SCRIPT))
  return prof
end

describe("Lua API options", function()
  it("parser functions name an unknown key and list the known ones", function()
    local e = err_of(parser.new, { stirct = true })
    assert.matches("parser.new: unknown option 'stirct' (options: ", e, 1, true)
    assert.matches("strict", e:match("%(options: (.*)%)"), 1, true)
    assert.matches("parser.parse_string: unknown option 'kernal'",
      err_of(parser.parse_string, SCRIPT, { kernal = true }), 1, true)
    assert.matches("parser.parse_file: unknown option 'stirct'",
      err_of(parser.parse_file, "/nonexistent", { stirct = true }), 1, true)
    assert.matches("parser.fold: unknown option 'pids'", err_of(parser.fold, SCRIPT, { pids = true }), 1, true)
    local _, p = parser.fold(SCRIPT)
    assert.matches("folded: unknown option 'strict'", err_of(p.folded, p, { strict = true }), 1, true)
    assert.matches("option names must be strings", err_of(parser.new, { true }), 1, true)
    assert.matches("options must be a table, not string", err_of(parser.new, "strict"), 1, true)
  end)

  it("parser booleans are true or false", function()
    assert.matches("parser.new: option 'strict' must be true or false, not string",
      err_of(parser.new, { strict = "no" }), 1, true)
    assert.matches("parser.fold: option 'kernel' must be true or false, not number",
      err_of(parser.fold, SCRIPT, { kernel = 1 }), 1, true)
    -- what they accept still works
    assert.equals("prog;main 1000\n", (parser.fold(SCRIPT, { kernel = false, addrs = true })))
  end)

  it("profile:write and profile:encode refuse unknown keys and non-boolean gzip", function()
    local prof = profile()
    local path = os.tmpname()
    assert.matches("profile:write: unknown option 'fromat' (options: format, gzip, sample_type)",
      err_of(prof.write, prof, path, { fromat = "folded" }), 1, true)
    assert.matches("profile:write: option 'gzip' must be true or false, not string",
      err_of(prof.write, prof, path, { gzip = "no" }), 1, true)
    assert.matches("profile:encode: unknown option 'gz'", err_of(prof.encode, prof, { gz = false }), 1, true)
    assert.matches("profile:encode: format must be \"pprof\" or \"folded\", not \"svg\"",
      err_of(prof.encode, prof, { format = "svg" }), 1, true)
    -- the file was never written by the refused calls
    local f = io.open(path, "rb")
    assert.equals("", f:read("a"))
    f:close()
    assert.is_true(prof:write(path, { format = "folded" }))
    f = io.open(path, "rb")
    assert.equals("main 1000\n", f:read("a"))
    f:close()
    os.remove(path)
    local plain = prof:encode({ gzip = false })
    assert.not_equals("\31\139", plain:sub(1, 2))
  end)

  it("profile builder tables and pprof.symmap take only their fields", function()
    local prof = pprof.new()
    assert.matches("profile:mapping: unknown option 'filename'",
      err_of(prof.mapping, prof, { start = 0, filename = "/bin/x" }), 1, true)
    assert.matches("profile:mapping: option 'has_functions' must be true or false",
      err_of(prof.mapping, prof, { has_functions = 1 }), 1, true)
    prof:add_sample_type("samples", "count")
    assert.matches("profile:add_sample label: unknown option 'value'",
      err_of(prof.add_sample, prof, {}, { 1 }, { { key = "k", value = "v" } }), 1, true)
    assert.matches("pprof.symmap: unknown option 'binaryroot'",
      err_of(pprof.symmap, prof, { binaryroot = "/" }), 1, true)
    assert.matches("pprof.symmap: option 'remote' must be true or false",
      err_of(pprof.symmap, prof, { remote = "yes" }), 1, true)
    local sm = pprof.symmap(prof, { remote = true })
    assert.matches("symmap:mmap: unknown option 'file'",
      err_of(sm.mmap, sm, { path = "/bin/x", file = "/bin/x" }), 1, true)
  end)

  it("proc and ssh options are checked before anything runs", function()
    local mark = os.tmpname()
    os.remove(mark)
    assert.matches("proc.run: unknown option 'timout'",
      err_of(proc.run, { "touch", mark }, { timout = 5 }), 1, true)
    assert.matches("proc.spawn: unknown option 'input'",
      err_of(proc.spawn, { "touch", mark }, { input = "x" }), 1, true)
    assert.matches("proc.run: option 'pgroup' must be true or false",
      err_of(proc.run, { "touch", mark }, { pgroup = 0 }), 1, true)
    assert.matches("opts.stdout: unknown option 'apend'",
      err_of(proc.run, { "touch", mark }, { stdout = { file = mark .. ".out", apend = true } }), 1, true)
    assert.is_nil(io.open(mark))
    assert.equals(0, proc.run({ "true" }, { timeout = 5, pgroup = true }).code)
    assert.matches("ssh.connect: unknown option 'hostname'",
      err_of(ssh.connect, { host = "x", hostname = "y" }), 1, true)
    assert.matches("ssh.command_script: option 'watchdog' must be true or false",
      err_of(ssh.command_script, { "true" }, { watchdog = "yes" }), 1, true)
  end)
end)
