-- How `--remote-host a,b,c` is read, and the command line each host's
-- perfgo gets: the same, with that host alone.
local fanout = require "perfgo.fanout"
local test_cmd = require "perfgo.commands.test"
local exec_cmd = require "perfgo.commands.exec"

describe("several hosts", function()
  it("are named comma-separated, repeated, or both, in order", function()
    assert.same({ "a", "u@b:2222", "c" }, fanout.hosts({ "a,u@b:2222", "c" }))
    assert.same({ "a" }, fanout.hosts("a"))
    assert.same({ "a", "b" }, fanout.hosts({ " a , b ," }))
    assert.same({}, fanout.hosts({}))
    assert.same({}, fanout.hosts(nil))
  end)

  it("a host named twice is a mistake, named", function()
    local ok, err = pcall(fanout.hosts, { "a,b", "a" })
    assert.is_false(ok)
    assert.equals("--remote-host: host 'a' is given twice", err.message)
  end)

  it("each host's perfgo gets the command line with its host alone", function()
    local argv = { "--config", "p.lua", "test", "stat", "-e", "task-clock", "--remote-host", "a,b",
      "--parallel", "2", "--remote-host=c", "--parallel=1", "./pkg", "-bench=.", "--", "-x" }
    assert.same({ "--config", "p.lua", "test", "stat", "--remote-host", "b", "-e", "task-clock", "./pkg", "--",
      "-bench=.", "--", "-x" }, fanout.child_argv(argv, test_cmd, "b"))
  end)

  it("exec keeps its command after --, and the mode it defaults to", function()
    local argv = { "exec", "-e", "cpu-clock", "--remote-host", "a,b", "--", "ls", "-l", "--remote-host" }
    assert.same({ "exec", "profile", "--remote-host", "a", "-e", "cpu-clock", "--", "ls", "-l", "--remote-host" },
      fanout.child_argv(argv, exec_cmd, "a"))
  end)
end)
