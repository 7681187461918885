-- Perf modes from a project's perfgo.lua, run for real: a new mode with an
-- option of its own (on the command line and as a default), and a shipped
-- mode replaced by one that extends it.
local t = require "testutil"
local fixture = require "fixture"

local CONFIG = [[
local fs = require "perfgo.fs"
local history = require "perfgo.history"
local perf = require "perfgo.perf"
local errors = require "perfgo.errors"

return {
  defaults = { syscall = "getpid" },
  modes = {
    -- A new mode: how often the command made one system call.
    syscalls = {
      description = "How many times the command made one system call (perf stat of its tracepoint).",
      order = 25,
      perf = true,
      options = {
        { name = "syscall", flags = "--syscall", argname = "<name>", help = "syscalls: the system call to count.",
          check = function(v)
            if type(v) ~= "string" or not v:match("^[%w_]+$") then
              return nil, string.format("'%s' is not a system call name", tostring(v))
            end
            return v
          end },
      },
      preflight = function(ctx)
        ctx.opts.event = { "syscalls:sys_enter_" .. ctx.opts.syscall }
        perf.preflight(ctx)
      end,
      wrap = function(ctx, workload)
        return perf.command(ctx, { "perf", "stat", "-x,", "-o", ctx.target:scratch("calls.csv"),
          "-e", ctx.opts.event[1] }, workload)
      end,
      outcome = function(ctx, workload, r, err)
        perf.started(ctx, workload, r, err)
        local csv = ctx.target:run({ "cat", ctx.target:scratch("calls.csv") }, { stdin = "null" })
        local counters = require("perfgo.perfstat").parse(csv.stdout or "")
        if not counters[1] then errors.fail(1, "perf counted nothing") end
        ctx.calls = counters[1].value
        return { code = r.code }
      end,
      collect = function(ctx)
        fs.write_atomic(fs.join(ctx.run.dir, "syscalls.txt"), string.format("%s: %d\n", ctx.opts.syscall,
          ctx.calls))
        history.add_artifact(ctx.run, "syscalls", "syscalls.txt")
      end,
    },
    -- The shipped run mode, replaced by one that extends it: the number of
    -- lines the command printed, as a file and in the record.
    run = {
      extends = "run",
      collect = function(ctx, base)
        base(ctx)
        local n = select(2, (fs.read(fs.join(ctx.run.dir, "stdout.txt")) or ""):gsub("\n", ""))
        fs.write_atomic(fs.join(ctx.run.dir, "lines.txt"), n .. "\n")
        history.add_artifact(ctx.run, "lines", "lines.txt")
        ctx.lines = n
      end,
      describe = function(ctx, base)
        local d = base(ctx)
        d.lines = ctx.lines
        return d
      end,
    },
  },
}
]]

describe("modes from perfgo.lua", function()
  local repo
  setup(function()
    repo = fixture.repo()
    t.write(repo.root .. "/perfgo.lua", CONFIG)
  end)
  teardown(function() fixture.cleanup(repo) end)

  local function perfgo(args, env)
    local e = { GODEBUG = "asyncpreemptoff=1" }
    for k, v in pairs(repo.env) do e[k] = v end
    for k, v in pairs(env or {}) do e[k] = v end
    return t.perfgo(args, { cwd = repo.root, env = e })
  end

  it("a new mode runs with its option's default, is recorded, listed and viewed", function()
    local r = perfgo({ "test", "syscalls", "./app/getpid" })
    assert.equals(0, r.code, r.stderr)
    local dir = fixture.latest(repo)
    assert.equals("getpid: 1000\n", t.read(dir .. "/syscalls.txt"))
    local rec = fixture.record(dir)
    assert.equals("syscalls", rec.type)
    assert.equals("syscalls", rec.perf.mode)
    assert.same({ "syscalls:sys_enter_getpid" }, rec.perf.events)
    local kinds = {}
    for _, a in ipairs(rec.artifacts) do kinds[a.type] = a.file end
    assert.equals("syscalls.txt", kinds.syscalls)
    -- view never runs perfgo.lua: the run is shown as any run is
    local v = perfgo({ "view" })
    assert.equals(0, v.code, v.stderr)
    assert.matches("^run " .. rec.id:sub(1, 8) .. " %(syscalls%): ok, exit 0\n", v.stdout)
    local l = perfgo({ "list", "--limit", "1" })
    assert.equals(0, l.code, l.stderr)
    assert.matches("syscalls%s+app/getpid", l.stdout)
  end)

  it("its option is on --help, checked, and refused by the modes that do not take it", function()
    local h = perfgo({ "test", "--help" })
    assert.equals(0, h.code, h.stderr)
    assert.matches("%-%-syscall <name>%s+syscalls: the system call to count", h.stdout)
    assert.matches("syscalls%s+How many times the command made one system call", h.stdout)
    assert.matches("%[run|stat|bench|syscalls|profile|c2c%]", h.stdout)
    local r = perfgo({ "test", "syscalls", "--syscall", "get pid", "./app/getpid" })
    assert.equals(2, r.code)
    assert.matches("^perfgo: %-%-syscall: 'get pid' is not a system call name\n$", r.stderr)
    r = perfgo({ "test", "stat", "--syscall", "getpid", "./app/getpid" })
    assert.equals(2, r.code)
    assert.matches("%-%-syscall is for syscalls runs; mode 'stat' does not use it", r.stderr)
  end)

  it("a replaced mode keeps what it extends and adds its own", function()
    local r = perfgo({ "exec", "run", "--", "sh", "-c", "echo one; echo two; exit 3" })
    assert.equals(3, r.code, r.stderr)
    assert.equals("one\ntwo\n", r.stdout)
    local dir = fixture.latest(repo)
    assert.equals("2\n", t.read(dir .. "/lines.txt"))
    local rec = fixture.record(dir)
    assert.equals("failed", rec.status)
    assert.equals(3, rec.test_exit_code)
    assert.equals("run", rec.perf.mode)
    assert.equals(2, rec.perf.lines)
  end)
end)
