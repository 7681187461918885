-- Several hosts at once (`--remote-host a,b,c`) over loopback sshd servers
-- of tests/sshd: two servers (ports, aliases and keys of their own), each
-- logged into as a test user of its own, are two hosts; a port nobody
-- listens on is a host that is down. Each host's run is a record of its own tied by a
-- group id; the group is listed together and compared.
local t = require "testutil"
local fixture = require "fixture"
local sshd = require "sshd"
local proc = require "perfgo.proc"
local cjson = require "cjson"

-- Waits (up to `seconds`) until fn() is true.
local function eventually(fn, seconds)
  local deadline = os.time() + seconds
  while not fn() and os.time() <= deadline do os.execute("sleep 0.1") end
  return fn()
end

local function escape(s)
  return (s:gsub("%p", "%%%0"))
end

describe("perfgo on several hosts at once", function()
  local repo, servers, config, users, hosts
  local DOWN = "127.0.0.1:1"
  setup(function()
    repo = fixture.repo()
    servers, config = sshd.start_hosts(2)
    users = { sshd.add_user("bash"), sshd.add_user("dash") }
    hosts = { users[1] .. "@" .. servers[1].alias, users[2] .. "@" .. servers[2].alias }
  end)
  teardown(function()
    -- the first server's directory holds the shared config: it goes last
    for i = #(servers or {}), 1, -1 do sshd.stop(servers[i]) end
    for _, u in ipairs(users or {}) do sshd.remove_user(u) end
    fixture.cleanup(repo)
  end)

  -- The records of a group, in host order.
  local function group_records(gid)
    local out = {}
    for _, d in ipairs(fixture.runs(repo)) do
      local rec = fixture.record(d)
      if rec.group and rec.group.id:sub(1, #gid) == gid then out[#out + 1] = { dir = d, rec = rec } end
    end
    table.sort(out, function(a, b) return a.rec.group.index < b.rec.group.index end)
    return out
  end

  local function sessions()
    local n = {}
    for i, srv in ipairs(servers) do n[i] = sshd.session_count(srv) end
    return n
  end

  local function perfgo(args)
    return t.perfgo(args, { cwd = repo.root, env = repo.env })
  end

  it("a host that is down fails alone: the others' results, one record each, the worst exit code", function()
    local before = sessions()
    local r = perfgo({ "test", "stat", "-e", "task-clock", "--remote-host", hosts[1] .. "," .. DOWN,
      "--remote-host", hosts[2], "--ssh-config", config, "./examples/false-sharing",
      "-run=^$", "-bench=Padded", "-benchtime=50ms" })
    -- live output, each line after its host's name
    for _, h in ipairs(hosts) do
      assert.matches("\n" .. escape(h) .. " +| BenchmarkPadded", "\n" .. r.stdout)
    end
    assert.matches(escape(DOWN) .. " +| perfgo: cannot connect to " .. escape(DOWN), r.stderr)
    -- each host was its own server
    for i, n in ipairs(sessions()) do assert.is_true(n > before[i], "no session on " .. servers[i].alias) end
    local gid = r.stderr:match("perfgo: group (%x+): 2 ok, 1 error;")
    assert.is_not_nil(gid, r.stderr)
    local recs = group_records(gid)
    assert.equals(3, #recs)
    local order = { hosts[1], DOWN, hosts[2] }
    for i, x in ipairs(recs) do
      assert.equals(order[i], x.rec.group.host)
      assert.equals(order[i], x.rec.target.remote_host)
      assert.equals(3, x.rec.group.size)
    end
    for _, i in ipairs({ 1, 3 }) do
      local rec = recs[i].rec
      assert.equals("ok", rec.status)
      assert.equals(0, rec.exit_code)
      local stat = cjson.decode(t.read(recs[i].dir .. "/stat.json"))
      assert.matches("^task%-clock", stat.events[1].event)
      assert.matches("BenchmarkPadded", t.read(recs[i].dir .. "/stdout.txt"))
    end
    local down = recs[2].rec
    assert.equals("error", down.status)
    assert.matches("cannot connect to " .. escape(DOWN), down.error)
    assert.is_true(down.exit_code ~= 0)
    -- perfgo exits with the failed host's code, and says so in its table
    assert.equals(down.exit_code, r.code)
    assert.matches("\n" .. escape(DOWN) .. " +error +" .. math.tointeger(down.exit_code) .. " ", r.stdout)
    assert.matches("\n" .. escape(hosts[1]) .. " +ok +0 .* task%-clock", r.stdout)

    -- listed together, under the group's line
    local l = perfgo({ "list" })
    assert.equals(0, l.code, l.stderr)
    local head = l.stdout:find("group " .. gid .. ", 3 hosts: 2 ok, 1 error\n", 1, true)
    assert.is_not_nil(head, l.stdout)
    local block = l.stdout:sub(head)
    for _, x in ipairs(recs) do assert.is_not_nil(block:find(x.rec.id:sub(1, 8), 1, true)) end
    local j = cjson.decode(perfgo({ "list", "--json" }).stdout)
    local in_group = 0
    for _, e in ipairs(j) do
      if type(e.group) == "table" and e.group.id:sub(1, 8) == gid then in_group = in_group + 1 end
    end
    assert.equals(3, in_group)

    -- compared: the counters side by side, the failure named
    local c = perfgo({ "compare", "--group", gid })
    assert.equals(0, c.code, c.stderr)
    local header = c.stdout:match("\nevent +([^\n]+)")
    assert.is_not_nil(header, c.stdout)
    assert.matches(escape(hosts[1]) .. " +" .. escape(hosts[2]), header)
    assert.matches("\ntask%-clock%S* +[%d.]+ m?s +[%d.]+ m?s %([+-][%d.]+%%%)", c.stdout)
    assert.matches(escape(DOWN) .. " +error", c.stdout)
    local c0 = perfgo({ "compare", "--group", "0" })
    assert.equals(c.stdout, c0.stdout)
  end)

  it("profiles: --parallel 1 runs the hosts one after the other, one build; compare shows each host's top functions",
    function()
      local r = perfgo({ "test", "profile", "-e", "cpu-clock", "--remote-host", hosts[1] .. "," .. hosts[2],
        "--parallel", "1", "--ssh-config", config, "./examples/false-sharing", "-run=^$",
        "-bench=Padded", "-benchtime=100ms" })
      assert.equals(0, r.code, r.stderr)
      local gid = r.stderr:match("perfgo: group (%x+): 2 ok;")
      assert.is_not_nil(gid, r.stderr)
      local recs = group_records(gid)
      assert.equals(2, #recs)
      local function epoch(ts)
        local h, m, s = ts:match("T(%d+):(%d+):([%d.]+)Z$")
        return tonumber(h) * 3600 + tonumber(m) * 60 + tonumber(s)
      end
      -- the second host started after the first had ended
      assert.is_true(epoch(recs[2].rec.timestamp) >= epoch(recs[1].rec.timestamp) + recs[1].rec.duration - 0.01)
      -- built once for the platform both hosts share: one binary, two links
      local lfs = require "lfs"
      local ino = {}
      for i, x in ipairs(recs) do ino[i] = lfs.attributes(x.dir .. "/perfgo.test.linux.amd64", "ino") end
      assert.is_not_nil(ino[1])
      assert.equals(ino[1], ino[2])
      local c = perfgo({ "compare", "--group", gid, "--top", "3" })
      assert.equals(0, c.code, c.stderr)
      for _, h in ipairs(hosts) do
        local at = c.stdout:find("\n" .. h .. ": cpu-clock", 1, true)
        assert.is_not_nil(at, c.stdout)
        assert.matches("^[^\n]*\n[^\n]*function\n[^\n]*%%  [^\n]*Padded%)?%.Add", c.stdout:sub(at + 1))
      end
    end)

  it("Ctrl-C stops every host's test; each run is recorded as interrupted, nothing is left on the hosts",
    function()
      local dir = t.tmpdir()
      -- the third host waits for its turn (--parallel 2): it never gets one
      local child = proc.spawn({ t.bin(), "test", "run", "--remote-host", hosts[1] .. "," .. hosts[2] .. "," .. DOWN,
        "--parallel", "2", "--ssh-config", config, "./app/sleeper" }, { cwd = repo.root, env = repo.env, stdin = "null",
        stdout = { file = dir .. "/out" }, stderr = { file = dir .. "/err" } })
      local started = eventually(function()
        local out = t.read(dir .. "/out") or ""
        return out:find(hosts[1] .. " | sleeper started", 1, true) and out:find(hosts[2] .. " | sleeper started", 1,
          true)
      end, 120)
      assert.is_truthy(started, (t.read(dir .. "/out") or "") .. (t.read(dir .. "/err") or ""))
      child:kill("INT")
      local st = assert(child:wait(60), "perfgo did not end after SIGINT")
      local err = t.read(dir .. "/err") or ""
      assert.equals(130, st.code, err)
      local gid = err:match("perfgo: group (%x+): 2 interrupted, 1 not run;")
      assert.is_not_nil(gid, err)
      local recs = group_records(gid)
      assert.equals(2, #recs)
      for _, x in ipairs(recs) do
        assert.equals("interrupted", x.rec.status)
        assert.equals(130, x.rec.exit_code)
        assert.equals("SIGINT", x.rec.signal)
      end
      assert.matches(escape(DOWN) .. " +not run", t.read(dir .. "/out"))
      local l = perfgo({ "list", "--limit", "2" })
      assert.matches("group " .. gid .. ", 3 hosts: 2 interrupted, 1 not run\n", l.stdout)
      t.rmtree(dir)
      for _, u in ipairs(users) do
        assert.is_true(eventually(function() return #sshd.user_processes(u) == 0 end, 20),
          "processes left for " .. u)
      end
    end)

  it("mistakes are found once, before any host is contacted, and nothing is recorded", function()
    local before, seen = #fixture.runs(repo), sessions()
    local r = perfgo({ "test", "stat", "--remote-host", hosts[1] .. "," .. hosts[2], "--ssh-config", config,
      "./app/notests" })
    assert.equals(2, r.code)
    assert.equals(1, select(2, r.stderr:gsub("\n", "")), r.stderr)
    assert.matches("has no test files", r.stderr)
    r = perfgo({ "test", "stat", "--remote-host", hosts[1] .. "," .. hosts[1], "./examples/false-sharing" })
    assert.equals(2, r.code)
    assert.matches("host '" .. escape(hosts[1]) .. "' is given twice", r.stderr)
    r = perfgo({ "test", "stat", "--remote-host", "a,b", "--parallel", "0", "./examples/false-sharing" })
    assert.equals(2, r.code)
    assert.matches("%-%-parallel", r.stderr)
    r = perfgo({ "compare", "--group", "ffffffff" })
    assert.equals(2, r.code)
    assert.matches("no group id starts with 'ffffffff'", r.stderr)
    assert.equals(before, #fixture.runs(repo))
    assert.same(seen, sessions())
  end)
end)
