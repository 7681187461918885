-- `perfgo attach` against real processes: a small Go program with a known
-- hot function (built here), real perf (cpu-clock, a tracepoint), and the
-- loopback sshd for the remote runs. The program must keep running,
-- unharmed, and pprof must resolve its hot function and line from the
-- archive alone.
local t = require "testutil"
local fixture = require "fixture"
local proc = require "perfgo.proc"

local PROGRAM = [[
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

var sink int

//go:noinline
func hotLoop(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

func main() {
	mode := "spin"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "getpid":
		// exactly RATE getpid calls per second, catching up after a stall
		rate, _ := strconv.Atoi(os.Args[2])
		fmt.Println("ready", os.Getpid())
		start, done := time.Now(), 0
		for {
			want := int(time.Since(start).Seconds() * float64(rate))
			for ; done < want; done++ {
				syscall.Getpid()
			}
			time.Sleep(time.Millisecond)
		}
	case "exit-on":
		// ends as soon as the file named exists
		go func() {
			for {
				if _, err := os.Stat(os.Args[2]); err == nil {
					os.Exit(0)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	fmt.Println("ready", os.Getpid())
	for {
		sink += hotLoop(1000000)
	}
}
]]

local function wait_for(fn, seconds)
  local deadline = os.time() + seconds
  while os.time() <= deadline do
    local v = fn()
    if v then return v end
    os.execute("sleep 0.05")
  end
  return nil
end

-- Running and not stopped (nor a zombie).
local function healthy(pid)
  local stat = t.read("/proc/" .. pid .. "/stat")
  local state = stat and stat:match("%) (%a)")
  return state ~= nil and state ~= "Z" and state ~= "T" and state ~= "X"
end

describe("perfgo attach", function()
  local repo, dir, exe, name, children, started = nil, nil, nil, nil, {}, 0

  -- Starts the program (from path, default the built one) with args; its pid.
  local function start(args, path)
    started = started + 1
    local out = string.format("%s/prog-%d.out", dir, started)
    local argv = { path or exe }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    local child = assert(proc.spawn(argv, { stdin = "null", stdout = { file = out }, stderr = { file = out },
      env = { GODEBUG = "asyncpreemptoff=1" } }))
    children[#children + 1] = child
    local pid = wait_for(function() return (t.read(out) or ""):match("ready (%d+)") end, 60)
    assert.is_string(pid, "the program did not start: " .. (t.read(out) or ""))
    return pid, child
  end

  local function perfgo(args)
    return t.perfgo(args, { cwd = repo.root, env = repo.env })
  end

  -- pprof -top and -lines of a profile: the hot function and its line.
  local function assert_hot(profile)
    local top = t.run({ "go", "tool", "pprof", "-top", "-lines", profile })
    assert.equals(0, top.code, top.stderr)
    assert.matches("main%.hotLoop [^\n]*hot%.go:%d+", top.stdout)
  end

  -- Once perf has attached to pid: perf starts its command, perfgo's
  -- timer, only when its events are enabled.
  local function perf_attached(pid)
    return wait_for(function()
      local ls = io.popen("ls /proc")
      local found = false
      for p in ls:lines() do
        local cmd = p:match("^%d+$") and t.read("/proc/" .. p .. "/cmdline")
        if cmd then
          local args = {}
          for a in cmd:gmatch("([^%z]*)%z") do args[#args + 1] = a end
          if args[1] == "sh" and args[4] == "perfgo-attach-timer" and args[#args] == tostring(pid) then
            found = true
          end
        end
      end
      ls:close()
      return found
    end, 60)
  end

  setup(function()
    repo = fixture.repo()
    dir = repo.dir .. "/prog"
    os.execute("mkdir -p " .. t.quote(dir))
    t.write(dir .. "/go.mod", "module hot\n\ngo 1.19\n")
    t.write(dir .. "/hot.go", PROGRAM)
    -- a name of its own (the command name: at most 15 characters)
    name = string.format("phot%06x", math.random(0, 0xffffff))
    exe = dir .. "/" .. name
    local r = t.run({ "go", "build", "-o", exe, "." }, { cwd = dir })
    assert(r.code == 0, r.stderr)
  end)

  -- each test's programs end with it
  after_each(function()
    for _, c in ipairs(children) do
      if c:running() then c:kill("KILL") end
      c:wait(10)
    end
    children = {}
  end)

  teardown(function() fixture.cleanup(repo) end)

  it("profiles a process by --pid for --duration: pprof resolves the hot function and line; it keeps running",
    function()
      local pid = start()
      local r = perfgo({ "attach", "profile", "--pid", pid, "--duration", "2s", "-e", "cpu-clock" })
      assert.equals(0, r.code, r.stderr)
      assert.is_true(healthy(pid), "the program was harmed")
      local rundir = fixture.latest(repo)
      local rec = fixture.record(rundir)
      assert.equals("attach", rec.type)
      assert.equals("profile", rec.mode)
      assert.equals("ok", rec.status)
      assert.same({ tonumber(pid) }, rec.target.pids)
      assert.same({ name }, rec.target.names)
      assert.equals(2, rec.attach.duration)
      assert.equals(exe, rec.attach.processes[1].exe)
      assert.is_string(rec.archive)
      -- the archive alone: its profile points at the binary copied there
      assert_hot(rec.archive .. "/perf.pb.gz")
      -- list, view and compare work on it
      local list = perfgo({ "list" })
      assert.equals(0, list.code, list.stderr)
      assert.matches(rec.id:sub(1, 8) .. "[^\n]*attach", list.stdout)
      local view = perfgo({ "view", rec.id:sub(1, 8), "-top" })
      assert.equals(0, view.code, view.stderr)
      assert.matches("main%.hotLoop", view.stdout)
      local cmp = perfgo({ "compare", rec.id:sub(1, 8), rec.id:sub(1, 8) })
      assert.equals(0, cmp.code, cmp.stderr)
      assert.matches("cpu%-clock: A total", cmp.stdout)
    end)

  it("counts a tracepoint at the program's rate (attach stat)", function()
    local pid = start({ "getpid", "500" })
    local r = perfgo({ "attach", "stat", "--pid", pid, "--duration", "2s", "-e", "syscalls:sys_enter_getpid" })
    assert.equals(0, r.code, r.stderr)
    local rundir = fixture.latest(repo)
    local stat = require("cjson").decode(t.read(rundir .. "/stat.json"))
    local n = stat.events[1].value
    assert.is_number(n)
    assert.is_true(math.abs(n - 1000) <= 100, "counted " .. tostring(n) .. " getpid calls, want 1000 +- 10%")
    assert.is_true(healthy(pid))
    -- view shows the stat table of an attach run
    local view = perfgo({ "view" })
    assert.equals(0, view.code, view.stderr)
    assert.matches("syscalls:sys_enter_getpid", view.stdout)
  end)

  it("--name: every match is named; none is an error that records nothing", function()
    local p1 = start()
    local p2 = start()
    local r = perfgo({ "attach", "stat", "--name", "^" .. name .. "$", "--duration", "500ms", "-e", "task-clock" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("matches 2 processes: [^\n]*" .. p1 .. " %(" .. name .. "%)", r.stderr)
    local rec = fixture.record(fixture.latest(repo))
    table.sort(rec.target.pids)
    local want = { tonumber(p1), tonumber(p2) }
    table.sort(want)
    assert.same(want, rec.target.pids)
    local before = #fixture.runs(repo)
    local none = perfgo({ "attach", "profile", "--name", "^no-such-process-xyz$", "--duration", "1s" })
    assert.equals(2, none.code)
    assert.matches("no process on local [^\n]* matches", none.stderr)
    assert.equals(before, #fixture.runs(repo))
    local bad = perfgo({ "attach", "stat", "--name", "a(b" })
    assert.equals(2, bad.code)
    assert.matches("not a regular expression", bad.stderr)
  end)
  -- perfgo attach in the background; waits until its perf is attached.
  local function background(args)
    local out = string.format("%s/perfgo-%d.out", dir, started)
    local argv = { t.bin() }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local child = assert(proc.spawn(argv, { cwd = repo.root, env = repo.env, stdin = "null",
      stdout = { file = out }, stderr = { file = out .. ".err" } }))
    return child, out .. ".err"
  end

  it("Ctrl-C keeps what perf captured; the run is interrupted, the program unharmed", function()
    local pid = start()
    local child, err = background({ "attach", "profile", "--pid", pid, "-e", "cpu-clock" })
    assert.is_truthy(perf_attached(pid), "perf never attached: " .. (t.read(err) or ""))
    -- samples to keep (nothing to wait on: the program samples as it runs)
    os.execute("sleep 1")
    child:kill("INT")
    local res = child:wait(120)
    assert.equals(130, res.code, t.read(err))
    assert.is_true(healthy(pid), "the program was harmed")
    local rundir = fixture.latest(repo)
    local rec = fixture.record(rundir)
    assert.equals("interrupted", rec.status)
    assert.equals("SIGINT", rec.signal)
    assert_hot(rundir .. "/perf.pb.gz")
  end)

  it("a process that exits ends the recording with a note; a deleted binary is read through /proc/PID/exe",
    function()
      -- run from a copy that is deleted once it runs
      local copy = dir .. "/gone-" .. name
      assert(os.execute("cp " .. t.quote(exe) .. " " .. t.quote(copy)))
      local flag = dir .. "/exit-now"
      local pid = start({ "exit-on", flag }, copy)
      os.remove(copy)
      local child, err = background({ "attach", "profile", "--pid", pid, "--duration", "120s", "-e", "cpu-clock" })
      assert.is_truthy(perf_attached(pid), "perf never attached: " .. (t.read(err) or ""))
      os.execute("sleep 1")
      t.write(flag, "")
      local res = child:wait(120)
      local stderr = t.read(err) or ""
      assert.equals(0, res.code, stderr)
      assert.matches("process " .. pid .. " exited during the recording", stderr)
      assert.matches("was deleted or replaced since it started", stderr)
      local rec = fixture.record(fixture.latest(repo))
      assert.equals("ok", rec.status)
      assert.same({ tonumber(pid) }, rec.attach.exited)
      assert.is_true(rec.attach.processes[1].deleted)
      assert.is_true(rec.duration < 100, "the recording went on after the process exited")
      assert_hot(rec.archive .. "/perf.pb.gz")
    end)

  it("refuses another user's process when perfgo does not run as root", function()
    local sshd = require "sshd"
    local pid = start()
    local user = sshd.add_user("sh")
    local ok, e = pcall(function()
      local r = t.run({ "runuser", "-u", user, "--", t.bin(), "attach", "stat", "--pid", pid, "--duration", "1s" },
        { cwd = "/tmp", env = { PERFGO_PROGRESS = "0", HOME = "/tmp" } })
      assert.equals(2, r.code, r.stderr)
      assert.matches("process " .. pid .. " %(" .. name .. "%) on local [^\n]*belongs to root", r.stderr)
      assert.is_truthy(r.stderr:find("perfgo runs as " .. user .. " there", 1, true), r.stderr)
    end)
    sshd.remove_user(user)
    assert(ok, e)
    assert.is_true(healthy(pid))
  end)

  it("--children: a process and its descendants; --pid of no process; c2c needs a hardware PMU", function()
    started = started + 1
    local out = string.format("%s/prog-%d.out", dir, started)
    local sh = assert(proc.spawn({ "sh", "-c", 'echo "parent $$"; "$0" & "$0" & wait', exe },
      { stdin = "null", stdout = { file = out }, stderr = "null" }))
    children[#children + 1] = sh
    local shpid = wait_for(function() return (t.read(out) or ""):match("parent (%d+)") end, 60)
    assert.is_string(shpid)
    local kids = wait_for(function()
      local r = t.run({ "pgrep", "-P", shpid, "-x", name })
      local list = {}
      for p in r.stdout:gmatch("%d+") do list[#list + 1] = tonumber(p) end
      return #list == 2 and list or nil
    end, 60)
    assert.is_table(kids, "the two children never started")
    finally(function() os.execute("kill -9 " .. kids[1] .. " " .. kids[2] .. " 2>/dev/null") end)
    local r = perfgo({ "attach", "stat", "--pid", shpid, "--children", "--duration", "500ms", "-e", "task-clock" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("%-%-children: 2 descendants: ", r.stderr)
    local rec = fixture.record(fixture.latest(repo))
    local want = { tonumber(shpid), kids[1], kids[2] }
    table.sort(want)
    table.sort(rec.target.pids)
    assert.same(want, rec.target.pids)
    local bad = perfgo({ "attach", "stat", "--pid", "12x" })
    assert.equals(2, bad.code)
    assert.matches("%-%-pid: '12x' is not a process id", bad.stderr)
    local none = perfgo({ "attach", "stat", "--pid", "999999999" })
    assert.equals(2, none.code)
    assert.matches("%-%-pid 999999999: no such process", none.stderr)
    local c2c = perfgo({ "attach", "c2c", "--pid", shpid, "--duration", "1s" })
    assert.equals(2, c2c.code)
    assert.matches("perf c2c cannot record", c2c.stderr)
  end)

  it("over SSH (loopback sshd): --name and --pid, binaries copied back by content hash", function()
    local sshd = require "sshd"
    local server = sshd.start()
    local ok, e = pcall(function()
      local pid = start()
      local remote = { "--remote-host", server.alias, "--ssh-config", server.config }
      local r = perfgo({ "attach", "profile", "--name", "^" .. name .. "$", "--duration", "2s", "-e", "cpu-clock",
        table.unpack(remote) })
      assert.equals(0, r.code, r.stderr)
      local rec = fixture.record(fixture.latest(repo))
      assert.equals(server.alias, rec.target.remote_host)
      assert.same({ tonumber(pid) }, rec.target.pids)
      local dso
      for _, a in ipairs(rec.artifacts) do
        if a.type == "dso" and a.file:match("^dsos/%x+%-" .. name .. "$") then dso = a.file end
      end
      assert.is_string(dso, "the binary was not copied back")
      assert_hot(rec.archive .. "/perf.pb.gz")
      local s = perfgo({ "attach", "stat", "--pid", pid, "--duration", "500ms", "-e", "task-clock",
        table.unpack(remote) })
      assert.equals(0, s.code, s.stderr)
      rec = fixture.record(fixture.latest(repo))
      assert.equals("stat", rec.mode)
      assert.equals(server.alias, rec.target.remote_host)
      assert.is_true(healthy(pid))
    end)
    sshd.stop(server)
    assert(ok, e)
  end)

  it("attach shell: a shell on the host in a scratch directory with perf, recorded, its files kept", function()
    local sshd = require "sshd"
    local server = sshd.start()
    local ok, e = pcall(function()
      local r = t.perfgo({ "attach", "shell", "--remote-host", server.alias, "--ssh-config", server.config },
        { cwd = repo.root, env = repo.env, stdin = "echo kept > note.txt\ncommand -v perf\nexit 3\n" })
      assert.equals(3, r.code, r.stderr)
      assert.matches("/perf", r.stdout)
      local rundir = fixture.latest(repo)
      local rec = fixture.record(rundir)
      assert.equals("attach", rec.type)
      assert.equals("shell", rec.mode)
      assert.equals("failed", rec.status)
      assert.equals(3, rec.exit_code)
      assert.equals(server.alias, rec.target.remote_host)
      assert.equals("kept\n", t.read(rundir .. "/files/note.txt"))
    end)
    sshd.stop(server)
    assert(ok, e)
  end)
end)
