-- perfgo.benchrun and perfgo.benchenv on a remote target: every command
-- (the host facts in one batched command, the calibration, perf stat and
-- reading its CSV) runs through a real OpenSSH session on 127.0.0.1, as
-- perfgo.target's remote target runs them.
local t = require "testutil"
local sshd = require "sshd"
local ssh = require "perfgo.ssh"
local benchrun = require "perfgo.benchrun"
local benchenv = require "perfgo.benchenv"

local GO = [[
package getpid

import (
	"syscall"
	"testing"
)

func BenchmarkGetpid2(b *testing.B) {
	for i := 0; i < b.N; i++ {
		syscall.Getpid()
		syscall.Getpid()
	}
}
]]

describe("benchrun over SSH", function()
  local srv, dir, session, runs
  setup(function()
    srv = sshd.start()
    dir = t.tmpdir()
    t.write(dir .. "/go.mod", "module remote.test/getpid\n\ngo 1.19\n")
    t.write(dir .. "/getpid_test.go", GO)
    local r = t.run({ "go", "test", "-c", "-o", dir .. "/getpid.test", "." }, { cwd = dir })
    assert(r.code == 0, r.stderr)
    session = assert(ssh.connect({ host = srv.alias, config = srv.config, control_dir = dir .. "/ctl" }))
  end)
  teardown(function()
    if session then session:close() end
    sshd.stop(srv)
    t.rmtree(dir)
  end)

  -- the remote target's run: a command, its directory under the
  -- repository root (here the package directory itself)
  local function target()
    runs = 0
    return {
      run = function(_, argv, opts)
        runs = runs + 1
        local o = {}
        for k, v in pairs(opts or {}) do o[k] = v end
        if o.stdin == "null" then o.stdin = nil end
        o.cwd = o.cwd and (dir .. "/" .. o.cwd) or nil
        return session:run(argv, o)
      end,
    }
  end

  it("reads the host's facts in one command", function()
    local info = benchenv.gather(target())
    assert.equals(1, runs)
    assert.matches("^Linux ", info.kernel)
    assert.matches("^%d+$", info.nproc)
    assert.matches("^%-?%d$", info["perf-event-paranoid"])
  end)

  it("measures getpid per op there", function()
    local res = benchrun.run({
      target = target(), binary = dir .. "/getpid.test", cwd = ".",
      flags = { "-test.bench=Getpid2", "-test.benchtime=3000x" },
      events = { "syscalls:sys_enter_getpid" }, stat_file = dir .. "/remote-stat.csv",
      env = { GODEBUG = "asyncpreemptoff=1" },
    })
    assert.same({}, res.failures)
    assert.equals(1, res.lines)
    local v = tonumber(res.text:match("([%d.]+) syscalls:sys_enter_getpid/op"))
    assert.is_true(math.abs(v - 2) <= 0.02, tostring(v))
    assert.matches("\nkernel: Linux ", res.text)
  end)
end)
