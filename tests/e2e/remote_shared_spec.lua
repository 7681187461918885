-- One host shared by several perfgo runs at once (tests/sshd, a test user
-- as the remote account): each run has its own files, none disturbs
-- another, and afterwards the host holds the repository's mirror only.
local t = require "testutil"
local fixture = require "fixture"
local sshd = require "sshd"
local proc = require "perfgo.proc"

local function home_of(user)
  local p = io.popen("getent passwd " .. t.quote(user))
  local line = p:read("l") or ""
  p:close()
  return (line:match("^[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:([^:]*):"))
end

local function ls(dir)
  local out = {}
  local p = io.popen("ls -1A " .. t.quote(dir) .. " 2>/dev/null")
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  table.sort(out)
  return out
end

-- Waits (up to `seconds`) until fn() is true.
local function eventually(fn, seconds)
  local deadline = os.time() + seconds
  while not fn() and os.time() <= deadline do os.execute("sleep 0.1") end
  return fn()
end

describe("perfgo on a shared host", function()
  local repo, server, user, host, cache
  setup(function()
    repo = fixture.repo()
    server = sshd.start()
    user = sshd.add_user("bash")
    host = user .. "@" .. server.alias
    cache = home_of(user) .. "/.cache/perfgo"
  end)
  teardown(function()
    if server then sshd.stop(server) end
    sshd.remove_user(user)
    fixture.cleanup(repo)
  end)

  local function stat_argv(benchtime)
    return { t.bin(), "test", "stat", "-e", "task-clock", "--remote-host", host, "--ssh-config", server.config,
      "./examples/false-sharing", "-run=^$", "-bench=Padded", "-benchtime=" .. benchtime }
  end

  it("a run costs one authentication and a handful of SSH sessions", function()
    for _, mode in ipairs({ "stat", "profile" }) do
      local argv = stat_argv("50ms")
      argv[3] = mode
      argv[5] = "cpu-clock"
      local s0, a0 = sshd.session_count(server), sshd.auth_count(server)
      local r = t.run(argv, { cwd = repo.root, env = repo.env })
      assert.equals(0, r.code, r.stderr)
      local sessions, auths = sshd.session_count(server) - s0, sshd.auth_count(server) - a0
      assert.equals(1, auths, mode)
      assert.is_true(sessions <= 5, mode .. ": " .. sessions .. " SSH sessions")
    end
  end)

  it("4 runs of one repository at once all succeed, records intact, only the mirror is left", function()
    local before = #fixture.runs(repo)
    local dir = t.tmpdir()
    local children = {}
    for i, bt in ipairs({ "20ms", "200ms", "500ms", "900ms" }) do
      children[i] = proc.spawn(stat_argv(bt), { cwd = repo.root, env = repo.env, stdin = "null",
        stdout = { file = dir .. "/out" .. i }, stderr = { file = dir .. "/err" .. i } })
    end
    for i, c in ipairs(children) do
      local st = assert(c:wait(300), "run " .. i .. " did not end")
      assert.equals(0, st.code, t.read(dir .. "/err" .. i))
      assert.matches("BenchmarkPadded", t.read(dir .. "/out" .. i))
    end
    t.rmtree(dir)
    local runs = fixture.runs(repo)
    assert.equals(before + 4, #runs)
    local ids = {}
    for _, d in ipairs(runs) do
      local rec = fixture.record(d)
      if rec.target and rec.target.remote_host == host and rec.args[#rec.args]:match("^%-benchtime=%d+ms$")
        and rec.args[#rec.args] ~= "-benchtime=50ms" then
        assert.equals("ok", rec.status)
        assert.equals(0, rec.exit_code)
        assert.matches("BenchmarkPadded", t.read(d .. "/stdout.txt"))
        local text = t.read(d .. "/stat.json")
        assert.is_not_nil(text, d .. " has no stat.json")
        local stat = require("cjson").decode(text)
        assert.matches("^task%-clock", stat.events[1].event)
        ids[rec.target.workdir] = true
      end
    end
    local n = 0
    for _ in pairs(ids) do n = n + 1 end
    assert.equals(4, n, "each run had a directory of its own")
    -- on the host: the mirror and its lock, no run directory, no process
    local repos = ls(cache .. "/repositories")
    assert.equals(1, #repos)
    -- (the mirror a run replaced is removed in the background)
    local left
    assert.is_true(eventually(function()
      left = ls(cache .. "/repositories/" .. repos[1])
      return #left == 2 and left[1] == "lock" and left[2] == "mirror"
    end, 10), "left on the host: " .. table.concat(left, " "))
    local mirror = cache .. "/repositories/" .. repos[1] .. "/mirror"
    assert.is_not_nil(t.read(mirror .. "/tree/examples/false-sharing/counters.go"))
    assert.is_true(eventually(function() return #sshd.user_processes(user) == 0 end, 10),
      "processes left on the host")
  end)

  it("perfgo clean removes the repository's files from the host", function()
    assert.is_true(#ls(cache .. "/repositories") > 0)
    local r = t.perfgo({ "clean", "--remote-host", host, "--ssh-config", server.config },
      { cwd = repo.root, env = repo.env })
    assert.equals(0, r.code, r.stderr)
    assert.matches("removed %d+ director", r.stderr)
    assert.same({}, ls(cache .. "/repositories"))
    r = t.perfgo({ "clean", "--remote-host", host, "--ssh-config", server.config, "--all" },
      { cwd = repo.root, env = repo.env })
    assert.equals(0, r.code, r.stderr)
    assert.is_false(os.execute("test -e " .. t.quote(cache)) == true, cache .. " is still there")
  end)
end)
