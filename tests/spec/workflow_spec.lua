local workflow = require "perfgo.workflow"
local json = require "perfgo.json"
local target = require "perfgo.target"

describe("workflow steps", function()
  local saved
  before_each(function()
    saved = {}
    for k, v in pairs(workflow.steps) do saved[k] = v end
    workflow.reset()
  end)
  after_each(function()
    for k, v in pairs(saved) do workflow.steps[k] = v end
    workflow.reset()
  end)

  it("looks a step up by name when it is called, so late replacements count", function()
    local seen = {}
    workflow.steps.build = function(ctx) seen[#seen + 1] = "base:" .. ctx.x end
    workflow.override("build", function(ctx, base)
      seen[#seen + 1] = "before"
      base(ctx)
      seen[#seen + 1] = "after"
    end)
    workflow.hook("before", "build", function() seen[#seen + 1] = "hook-before" end)
    workflow.hook("after", "build", function() seen[#seen + 1] = "hook-after" end)
    workflow.steps.build = function(ctx) seen[#seen + 1] = "replaced:" .. ctx.x end
    workflow.call("build", { x = "1" })
    assert.same({ "hook-before", "before", "replaced:1", "after", "hook-after" }, seen)
  end)

  it("rejects an unknown step name with the list of steps", function()
    local ok, err = pcall(workflow.override, "biuld", function() end)
    assert.is_false(ok)
    assert.matches("no workflow step named 'biuld'", err.message)
    assert.matches("resolve, build, stage", err.message)
  end)

  it("records the run even when a step fails, then re-raises", function()
    local t = require "testutil"
    local history = require "perfgo.history"
    local dir = t.tmpdir()
    local order = {}
    for _, name in ipairs(workflow.order) do
      local base = workflow.steps[name]
      workflow.steps[name] = function(ctx)
        order[#order + 1] = name
        if name == "stage" then error("stage broke") end
        if name == "resolve" then ctx.run = history.new_run(dir, "x") end
        if name == "record" then base(ctx) end
      end
    end
    local ok, err = pcall(workflow.run, { mode_name = "run" })
    assert.is_false(ok)
    assert.matches("stage broke", err)
    assert.same({ "resolve", "build", "stage", "record" }, order)
    local rec = history.read(dir .. "/.perfgo/history/x")
    t.rmtree(dir)
    assert.equals("error", rec.status)
    assert.equals(70, rec.exit_code)
    assert.matches("^internal error: .*stage broke", rec.error)
    assert.equals("stage", rec.failed_step)
  end)

  it("a history that cannot be written: nil and why from perfgo.history, a user error from the step", function()
    local t = require "testutil"
    local history = require "perfgo.history"
    local dir = t.tmpdir()
    -- a file where the history directory should be
    t.write(dir .. "/.perfgo", "not a directory\n")
    local run, err = history.new_run(dir, "x")
    assert.is_nil(run)
    assert.matches("^cannot create the run history: .*%.perfgo", err)
    local ok, werr = history.write({ dir = dir .. "/.perfgo/history/y" }, { id = "y" })
    assert.is_nil(ok)
    assert.matches("testrun%.json", werr)
    local sys = require "perfgo.sys"
    local ctx = { mode_name = "run", outcome = { status = "ok", exit_code = 0 },
      run = { id = "y", dir = dir .. "/.perfgo/history/y", started = sys.realtime(), t0 = sys.monotonic(),
        artifacts = json.array({}) } }
    local sok, serr = pcall(workflow.steps.record, ctx)
    t.rmtree(dir)
    assert.is_false(sok)
    assert.same({ 1, true }, { serr.exit_code, serr.message:find("testrun.json", 1, true) ~= nil })
  end)

  it("one outcome decides status and exit code: signal, then error, then the test", function()
    local errors = require "perfgo.errors"
    local function out(ctx)
      local o = workflow.outcome(ctx)
      return { o.status, o.exit_code, o.signal }
    end
    assert.same({ "ok", 0 }, out({ test = { code = 0 } }))
    assert.same({ "failed", 3 }, out({ test = { code = 3 } }))
    assert.same({ "failed", 139 }, out({ test = { code = 139, signal = 11 } }))
    assert.same({ "interrupted", 130, "SIGINT" }, out({ signal = 2, test = { code = 0 } }))
    assert.same({ "interrupted", 141, "SIGPIPE" }, out({ signal = 13, error = errors.new("x", 1) }))
    assert.same({ "error", 2 }, out({ error = errors.new("bad flag", 2), test = { code = 0 } }))
    assert.same({ "error", 75 }, out({ error = errors.new("connection to h lost while running", 75) }))
    assert.same({ "error", 127 }, out({ error = errors.new("x: command not found", 127) }))
    assert.same({ "error", 70 }, out({ error = "attempt to index a nil value\nstack traceback:" }))
    assert.same({ "error", 1 }, out({}))
    assert.equals(130, workflow.exit_code({ signal = 2 }))
  end)
end)

describe("perfgo.json", function()
  it("sorts keys, keeps empty arrays, round-trips through cjson", function()
    local text = json.encode({ b = 1, a = { 1.5, "x" }, c = json.array({}), d = {} })
    assert.equals('{\n  "a": [\n    1.5,\n    "x"\n  ],\n  "b": 1,\n  "c": [],\n  "d": {}\n}\n', text)
    assert.same({ a = { 1.5, "x" }, b = 1, c = {}, d = {} }, json.decode(text))
  end)

  it("reports malformed input", function()
    local v, err = json.decode('{"a": ')
    assert.is_nil(v)
    assert.is_string(err)
  end)
end)

describe("targets", function()
  it("names platforms as GOOS/GOARCH", function()
    assert.same({ os = "linux", arch = "amd64" }, target.platform_from_uname("Linux", "x86_64"))
    assert.same({ os = "linux", arch = "arm64" }, target.platform_from_uname("Linux", "aarch64"))
    assert.same({ os = "darwin", arch = "arm64" }, target.platform_from_uname("Darwin", "arm64"))
    assert.same({ os = "linux", arch = "arm" }, target.platform_from_uname("Linux", "armv7l"))
    assert.same({ os = "freebsd", arch = "386" }, target.platform_from_uname("FreeBSD", "i686"))
    assert.same({ os = "linux", arch = "loong64" }, target.platform_from_uname("Linux", "loongarch64"))
    assert.same({ os = "linux", arch = "mips64" }, target.platform_from_uname("Linux", "mips64"))
  end)

  it("hashes repository paths to short stable names", function()
    assert.equals(target.short_hash("/a/b"), target.short_hash("/a/b"))
    assert.not_equals(target.short_hash("/a/b"), target.short_hash("/a/c"))
    assert.matches("^%x%x%x%x%x%x%x%x$", target.short_hash("/x"))
  end)
end)
