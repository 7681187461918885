-- Every kind of override in examples/perfgo.lua, run for real.
local t = require "testutil"
local fixture = require "fixture"

describe("examples/perfgo.lua", function()
  local repo, config
  local function perfgo(args, env)
    local argv = { "--config", config }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local e = {}
    for k, v in pairs(repo.env) do e[k] = v end
    for k, v in pairs(env or {}) do e[k] = v end
    return t.perfgo(argv, { cwd = repo.root, env = e })
  end

  setup(function()
    repo = fixture.repo()
    config = os.getenv("PERFGO_SOURCE_DIR") .. "/examples/perfgo.lua"
  end)
  teardown(function() fixture.cleanup(repo) end)

  describe("a profile run without -e", function()
    local r, rec, dir
    setup(function()
      r = perfgo({ "test", "profile", "./examples/false-sharing", "-bench=Unpadded", "-run=^$",
        "-benchtime=200ms" })
      dir = fixture.latest(repo)
      rec = fixture.record(dir)
    end)

    it("uses the default event", function()
      assert.equals(0, r.code, r.stderr)
      assert.same({ "cpu-clock" }, rec.perf.events)
    end)

    it("adds the extra perf flag from the replaced profile mode", function()
      local found = false
      for _, a in ipairs(rec.perf.argv) do if a == "--sample-cpu" then found = true end end
      assert.is_true(found)
    end)

    it("writes the folded file from the wrapped convert step", function()
      local folded = t.read(dir .. "/perf.folded")
      assert.is_string(folded)
      assert.matches("Unpadded%)%.Add %d+\n", folded)
      local kinds = {}
      for _, a in ipairs(rec.artifacts) do kinds[a.type] = true end
      assert.is_true(kinds.folded)
    end)

    it("runs the notification hook after the record", function()
      assert.matches("perfgo%.lua: run " .. rec.id:sub(1, 8) .. " finished: exit 0", r.stderr)
    end)
  end)

  it("a custom rule builds and runs a C program", function()
    t.write(repo.root .. "/hello.c", '#include <stdio.h>\nint main(int c, char **v) {\n'
      .. '  printf("hello %s\\n", c > 1 ? v[1] : "nobody");\n  return 4;\n}\n')
    local r = perfgo({ "test", "--rule", "cc", "./hello.c", "world" })
    assert.equals(4, r.code, r.stderr)
    assert.equals("hello world\n", r.stdout)
  end)

  it("a default remote host applies to test runs", function()
    local r = perfgo({ "test", "./app/fails", "--ssh-option", "ConnectTimeout=3" },
      { PERFGO_EXAMPLE_HOST = "127.0.0.1:1" })
    assert.is_not.equals(0, r.code)
    assert.matches("cannot connect to 127%.0%.0%.1:1", r.stderr)
  end)

  it("adds a command", function()
    local r = perfgo({ "where", "--archive-only" })
    assert.equals(0, r.code, r.stderr)
    assert.equals("archive: " .. repo.archive .. "\n", r.stdout)
  end)
end)
