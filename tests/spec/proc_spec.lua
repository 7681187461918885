-- perfgo.proc against real programs: exit codes, signals, timeouts,
-- streams, tee, errors, Ctrl-C forwarding and cleanup on every exit path.
local proc = require "perfgo.proc"
local t = require "testutil"

-- Runs a Lua script with lua5.4 and this build's modules.
local function lua_script(dir, source)
  local path = dir .. "/script.lua"
  t.write(path, 'package.cpath = os.getenv("PERFGO_BUILD_DIR") .. "/?.so;" .. package.cpath\n' .. source)
  return path
end

local function alive(pid)
  -- a zombie awaiting its parent does not count
  local stat = t.read("/proc/" .. pid .. "/stat")
  return stat ~= nil and not stat:match("^%d+ %b() Z")
end

local function wait_gone(pid, seconds)
  local deadline = os.time() + seconds
  while alive(pid) and os.time() <= deadline do os.execute("sleep 0.05") end
  return not alive(pid)
end

describe("perfgo.proc", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("run captures stdout, stderr and the exit code", function()
    local r = proc.run({ "sh", "-c", "printf 'a b'; printf oops >&2; exit 3" })
    assert.equals(3, r.code)
    assert.is_nil(r.signal)
    assert.equals("a b", r.stdout)
    assert.equals("oops", r.stderr)
    assert.is_true(r.duration >= 0)
    assert.is_false(r.interrupted)
  end)

  it("passes argv as is, with no shell", function()
    local weird = "it's \"$(touch " .. dir .. "/pwned)\" `x` ; | * \n end"
    local r = proc.run({ "printf", "%s", weird })
    assert.equals(weird, r.stdout)
    assert.is_nil(t.read(dir .. "/pwned"))
  end)

  it("reports a death by signal", function()
    local r = proc.run({ "sh", "-c", "kill -KILL $$" })
    assert.equals(9, r.signal)
    assert.equals(137, r.code)
  end)

  it("wait with a timeout returns nil, 'timeout' and the child keeps running", function()
    local c = proc.spawn({ "sleep", "5" })
    local st, why = c:wait(0.1)
    assert.is_nil(st)
    assert.equals("timeout", why)
    assert.is_true(c:running())
    assert.is_true(c:kill("TERM"))
    st = c:wait(5)
    assert.equals(15, st.signal)
    assert.is_false(c:running())
  end)

  it("run with a timeout kills the child", function()
    local r = proc.run({ "sleep", "5" }, { timeout = 0.2 })
    assert.is_true(r.timed_out)
    assert.equals(15, r.signal)
  end)

  it("a program that cannot be started is a result, not an error", function()
    local c, err = proc.spawn({ "perfgo-no-such-program", "x" })
    assert.is_nil(c)
    assert.equals("cannot run 'perfgo-no-such-program': No such file or directory", err)
    local r = proc.run({ "perfgo-no-such-program" })
    assert.equals(127, r.code)
    assert.equals("cannot run 'perfgo-no-such-program': No such file or directory", r.error)
    assert.equals(r.error .. "\n", r.stderr)
    -- the child's own PATH is searched
    r = proc.run({ "true" }, { env = { PATH = dir } })
    assert.equals(127, r.code)
    t.write(dir .. "/notexec", "#!/bin/sh\n")
    r = proc.run({ dir .. "/notexec" })
    assert.equals(126, r.code)
    assert.matches("Permission denied", r.error)
    r = proc.run({ "true" }, { cwd = dir .. "/missing" })
    assert.equals(126, r.code)
    assert.equals("cannot run 'true': cannot change directory to '" .. dir
      .. "/missing': No such file or directory", r.error)
    r = proc.run({ "true" }, { stdout = { file = dir .. "/no/such/file" } })
    assert.matches("cannot open '.*/no/such/file' for stdout: No such file or directory", r.error)
  end)

  it("sets the environment: merge (false removes) or replace", function()
    local r = proc.run({ "env" }, { env = { PERFGO_A = "1", HOME = false } })
    assert.matches("\nPERFGO_A=1\n", "\n" .. r.stdout)
    assert.not_matches("\nHOME=", "\n" .. r.stdout)
    assert.matches("PATH=", r.stdout)
    r = proc.run({ "/usr/bin/env" }, { env = { ONLY = "x y" }, env_mode = "replace" })
    assert.equals("ONLY=x y\n", r.stdout)
  end)

  it("runs in cwd and reads stdin from a path", function()
    t.write(dir .. "/in.txt", "from a file\n")
    local r = proc.run({ "sh", "-c", "pwd; cat" }, { cwd = dir, stdin = dir .. "/in.txt" })
    assert.equals(dir .. "\nfrom a file\n", r.stdout)
  end)

  it("writes stdout to a file", function()
    local r = proc.run({ "printf", "x\\000y" }, { stdout = { file = dir .. "/out" } })
    assert.equals(0, r.code)
    assert.equals("x\0y", t.read(dir .. "/out"))
  end)

  it("a tee file holds exactly what was shown on the terminal", function()
    local script = lua_script(dir, ([[
      local proc = require "perfgo.proc"
      io.write("written by Lua first\n")
      local loop = "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; printf '\\001\\377end'"
      local st = proc.spawn({ "sh", "-c", loop }, { stdout = { tee = %q } }):wait()
      os.exit(st.code)
    ]]):format(dir .. "/tee.txt"))
    local r = t.run({ "lua5.4", script })
    assert.equals(0, r.code, r.stderr)
    local tee = t.read(dir .. "/tee.txt")
    assert.equals(3001, t.lines(tee) + 1)
    assert.equals("written by Lua first\n" .. tee, r.stdout)
    assert.matches("\1\255end$", tee)
  end)

  it("a stderr tee shows on our stderr and fills its file", function()
    local script = lua_script(dir, ([[
      local proc = require "perfgo.proc"
      local r = proc.run({ "sh", "-c", "echo to-out; echo to-err >&2" }, { stderr = { tee = %q } })
      io.write("captured:", r.stdout, r.stderr)
    ]]):format(dir .. "/err.txt"))
    local r = t.run({ "lua5.4", script })
    assert.equals("to-err\n", r.stderr)
    assert.equals("to-err\n", t.read(dir .. "/err.txt"))
    assert.equals("captured:to-out\nto-err\n", r.stdout)
  end)

  it("read streams chunks as they arrive and nil at end of file", function()
    local c = proc.spawn({ "sh", "-c", "echo first; sleep 0.5; echo second" }, { stdout = "pipe" })
    assert.equals("first\n", c:read("stdout"))
    assert.is_true(c:running())
    assert.equals("second\n", c:read("stdout"))
    assert.is_nil(c:read("stdout"))
    assert.equals(0, c:wait().code)
  end)

  it("read of stdout keeps a tee'd stderr flowing (no deadlock)", function()
    -- 2 MB on stderr before any stdout: a stalled stderr would block the child
    local c = proc.spawn({ "sh", "-c", "head -c 2000000 /dev/zero | tr '\\0' e >&2; echo out" },
      { stdout = "pipe", stderr = { file = dir .. "/err" } })
    assert.equals("out\n", c:read("stdout"))
    c:wait()
    local c2 = proc.spawn({ "sh", "-c", "head -c 2000000 /dev/zero >&2; echo out" },
      { stdout = "pipe", stderr = "pipe" })
    local got = {}
    for chunk in function() return c2:read("stdout", 3) end do got[#got + 1] = chunk end
    assert.same({ "out", "\n" }, got)
    local err = {}
    for chunk in function() return c2:read("stderr") end do err[#err + 1] = chunk end
    assert.equals(2000000, #table.concat(err))
  end)

  it("lines iterates over a stream, the last line without newline too", function()
    local c = proc.spawn({ "printf", "a\\nbb\\n\\nlast" }, { stdout = "pipe" })
    local lines = {}
    for l in c:lines("stdout") do lines[#lines + 1] = l end
    assert.same({ "a", "bb", "", "last" }, lines)
  end)

  it("write and close_stdin feed a child", function()
    local c = proc.spawn({ "tr", "a-z", "A-Z" }, { stdin = "pipe", stdout = "pipe" })
    assert.is_true(c:write(string.rep("abc", 100000)))
    c:close_stdin()
    local out = {}
    for chunk in function() return c:read("stdout") end do out[#out + 1] = chunk end
    assert.equals(string.rep("ABC", 100000), table.concat(out))
    assert.equals(0, c:wait().code)
    assert.is_number(c:pid())
  end)

  it("a caller bug raises", function()
    assert.has_error(function() proc.spawn({}) end)
    assert.has_error(function() proc.spawn({ "true" }, { stdout = "sideways" }) end)
    local c = proc.spawn({ "true" })
    assert.has_error(function() c:read("stdout") end)
    c:wait()
  end)

  it("leaves no orphan after a Lua error while a child runs", function()
    local script = lua_script(dir, ([[
      local proc = require "perfgo.proc"
      local c = proc.spawn({ "sh", "-c", "sleep 30 & echo $! > %s/pid.tmp; mv %s/pid.tmp %s/pid; wait" })
      while not io.open(%q) do end
      error("boom")
    ]]):format(dir, dir, dir, dir .. "/pid"))
    local r = t.run({ "lua5.4", script })
    assert.equals(1, r.code)
    assert.matches("boom", r.stderr)
    local pid = assert(t.read(dir .. "/pid")):match("%d+")
    assert.is_true(wait_gone(pid, 2), "the grandchild survived")
  end)

  it("SIGINT stops perfgo as usual once its children have exited, reaped or not", function()
    local script = lua_script(dir, ([[
      local proc = require "perfgo.proc"
      local sys = require "perfgo.sys"
      local done = proc.spawn({ "true" })
      local t0 = sys.monotonic()
      while sys.monotonic() - t0 < 0.3 do end -- "true" exits; nobody reaps it yet
      local f = io.open(%q, "w"); f:write("ready"); f:close()
      while sys.monotonic() - t0 < 10 do end
      print(done)
    ]]):format(dir .. "/ready"))
    local child = proc.spawn({ "lua5.4", script }, { stderr = "pipe" })
    while not t.read(dir .. "/ready") do os.execute("sleep 0.02") end
    child:kill("INT")
    local st = assert(child:wait(5), "SIGINT did not stop the script")
    -- lua5.4 has its own SIGINT handler ("interrupted!"); perfgo has none
    local err = child:read("stderr") or ""
    assert.is_true(st.signal == 2 or err:match("interrupted!") ~= nil, "code " .. st.code .. ": " .. err)
  end)

  it("forwards SIGINT to the child's group and reports the interruption", function()
    local script = lua_script(dir, ([[
      local proc = require "perfgo.proc"
      local c = proc.spawn({ "sh", "-c", "sleep 30 & echo $! > %s/pid; wait" })
      local f = io.open(%q, "w"); f:write("ready"); f:close()
      local st = c:wait(10)
      io.write(tostring(st and st.interrupted), " ", tostring(proc.interrupted()))
      os.exit(st and st.interrupted and 130 or 1)
    ]]):format(dir, dir .. "/ready"))
    local child = proc.spawn({ "lua5.4", script }, { stdout = "pipe" })
    while not t.read(dir .. "/ready") or not t.read(dir .. "/pid") do os.execute("sleep 0.02") end
    local grandchild = t.read(dir .. "/pid"):match("%d+")
    child:kill("INT")
    local out = child:read("stdout")
    local st = child:wait(5)
    assert.equals(130, st.code)
    assert.equals("true 2", out)
    assert.is_true(wait_gone(grandchild, 2))
  end)

  it("names signals", function()
    assert.same({ "SIGINT", "Interrupt" }, { proc.signal_name(2) })
    assert.equals("SIGPIPE", proc.signal_name(13))
    assert.is_nil(proc.signal_name(1000))
  end)

  describe("with signals held (a run in progress)", function()
    -- Runs a script that holds the signals and runs `body`, which calls
    -- ready() when it wants signals; returns the child after sending them.
    local function held(body, signals)
      local script = lua_script(dir, [[
        local proc = require "perfgo.proc"
        proc.hold_signals()
        local function ready() io.stderr:write("ready\n") end
      ]] .. body)
      local child = proc.spawn({ "lua5.4", script }, { stdout = "pipe", stderr = "pipe" })
      for _, sig in ipairs(signals) do
        assert.equals("ready\n", child:read("stderr", 6))
        os.execute("sleep 0.1")
        child:kill(sig)
      end
      return child
    end

    it("a signal with no child running is recorded, not fatal", function()
      local child = held([[
        local sys = require "perfgo.sys"
        local t0 = sys.monotonic()
        ready()
        while not proc.interrupted() and sys.monotonic() - t0 < 10 do end
        io.write(table.concat({ proc.interrupted() }, " "))
        proc.release_signals()
      ]], { "TERM" })
      assert.equals("15 1", child:read("stdout"))
      assert.equals(0, child:wait(5).code)
    end)

    it("any signal asks the children to stop with SIGINT, the second kills them", function()
      local child = held([[
        local c = proc.spawn({ "sleep", "30" })
        ready()
        local st = c:wait(10)
        io.write(st.signal, " ", tostring(st.interrupted), " ", proc.interrupted(), ",")
        c = proc.spawn({ "sh", "-c", "trap '' INT; sleep 30" })
        ready()
        st = c:wait(10)
        io.write(st.signal, " ", table.concat({ proc.interrupted() }, " "))
      ]], { "HUP", "HUP" })
      local out = {}
      for chunk in function() return child:read("stdout") end do out[#out + 1] = chunk end
      assert.equals("2 true 1,9 1 2", table.concat(out))
      assert.equals(0, child:wait(5).code)
    end)

    it("the third signal is fatal", function()
      local child = held([[
        local sys = require "perfgo.sys"
        local t0 = sys.monotonic()
        ready(); ready(); ready()
        while sys.monotonic() - t0 < 10 do end
      ]], { "TERM", "TERM", "TERM" })
      assert.equals(15, child:wait(5).signal)
    end)

    it("output that cannot be written counts as SIGPIPE and stops the children", function()
      local script = lua_script(dir, [[
        local proc = require "perfgo.proc"
        proc.hold_signals()
        local c = proc.spawn({ "sh", "-c", "while :; do echo line; sleep 0.01; done" },
          { stdout = { tee = os.getenv("TEE") } })
        local st = c:wait(10)
        io.stderr:write(st.signal, " ", table.concat({ proc.interrupted() }, " "))
      ]])
      local r = t.run({ "sh", "-c", "lua5.4 " .. t.quote(script) .. " | head -1" }, { env = { TEE = dir .. "/tee" } })
      assert.equals("2 13 1", r.stderr)
      assert.equals("line\n", r.stdout)
    end)
  end)
end)
