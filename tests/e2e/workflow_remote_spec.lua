-- `perfgo test --remote-host` against a real OpenSSH sshd on 127.0.0.1
-- (tests/lib/sshd.lua): sync, cross-build, run, stream, collect, clean up.
local t = require "testutil"
local fixture = require "fixture"
local sshd = require "sshd"

-- Where a run's files are on the host, from what the run recorded (the
-- remote is this machine): {run = <its directory>, repo = <the
-- repository's directory>}. The workdir is <repo>/runs/<id>/tree/<package>.
local function remote_paths(rec)
  local workdir = assert(rec.target and rec.target.workdir, "the record names no remote workdir")
  local run, repo = workdir:match("^((.*)/runs/[%x]+)/tree")
  assert(run, "unexpected remote workdir " .. workdir)
  return { run = run, repo = repo }
end

local function exists(path)
  return os.execute("test -e " .. t.quote(path)) == true
end

-- The host finishes its cleanup after perfgo has gone: wait for it.
local function gone(path)
  for _ = 1, 100 do
    if not exists(path) then return true end
    os.execute("sleep 0.1")
  end
  return false
end

describe("perfgo test --remote-host", function()
  local repo, server
  setup(function()
    repo = fixture.repo()
    server = sshd.start()
  end)
  teardown(function()
    if server then sshd.stop(server) end
    fixture.cleanup(repo)
  end)

  local function perfgo(args)
    local argv = { "test" }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    return t.perfgo(argv, { cwd = repo.root, env = repo.env })
  end

  it("profiles on the remote, streams output, symbolizes, removes the remote dir", function()
    local r = perfgo({ "profile", "-e", "cpu-clock", "--remote-host", server.alias, "--ssh-config", server.config,
      "./examples/false-sharing", "-bench=Unpadded", "-run=^$", "-benchtime=300ms" })
    assert.equals(0, r.code, r.stderr)
    assert.matches("BenchmarkUnpadded", r.stdout)
    local dir = fixture.latest(repo)
    local rec = fixture.record(dir)
    assert.equals(server.alias, rec.target.remote_host)
    assert.equals("linux", rec.target.os)
    assert.matches("BenchmarkUnpadded", t.read(dir .. "/stdout.txt"))
    local top = t.run({ "go", "tool", "pprof", "-lines", "-top", dir .. "/perf.pb.gz" })
    assert.equals(0, top.code, top.stderr)
    assert.matches("Unpadded%)%.Add [^\n]*counters%.go:%d+", top.stdout)
    -- perf.data and the host's kallsyms came back and were converted
    -- here: kernel frames are named, no perf script text was made
    local kinds = {}
    for _, a in ipairs(rec.artifacts) do kinds[a.type] = true end
    assert.is_true(kinds["perf-data"] and kinds.kallsyms, "perf.data and kallsyms kept")
    assert.is_nil(kinds["perf-script"])
    local kernel = t.run({ "go", "tool", "pprof", "-top", "-nodecount=500", dir .. "/perf.pb.gz" })
    assert.matches("entry_SYSCALL_64", kernel.stdout)
    -- the run's directory is gone; the mirror (the cache for the next
    -- sync) holds the tree
    local paths = remote_paths(rec)
    assert.is_true(gone(paths.run), paths.run .. " was left on the host")
    assert.is_true(exists(paths.repo .. "/mirror/tree/examples/false-sharing/counters.go"))
    assert.is_false(exists(paths.repo .. "/mirror/tree/.perfgo"))
  end)

  it("keeps the remote dir with --keep and says where", function()
    local r = perfgo({ "run", "--keep", "--remote-host", server.alias, "--ssh-config", server.config,
      "./app/fails" })
    assert.equals(1, r.code)
    assert.matches("Answer%(%) = 41", r.stdout)
    assert.matches("kept the remote working directory", r.stderr)
    local paths = remote_paths(fixture.record(fixture.latest(repo)))
    assert.matches(paths.run:gsub("%p", "%%%0"), r.stderr)
    assert.is_true(exists(paths.run .. "/tree/app/fails/fails_test.go"))
    assert.is_true(exists(paths.run .. "/bin"))
    local c = t.perfgo({ "clean", "--remote-host", server.alias, "--ssh-config", server.config },
      { cwd = repo.root, env = repo.env })
    assert.equals(0, c.code, c.stderr)
    assert.is_false(exists(paths.run))
    assert.is_false(exists(paths.repo))
  end)

  it("exec profile brings back the remote's own files and symbolizes with them", function()
    t.write(repo.root .. "/spin.c", [[
#include <stdio.h>
__attribute__((noinline)) static unsigned long spin(unsigned long n)
{
    volatile unsigned long acc = 0;
    for (unsigned long i = 0; i < n; i++)
        acc += i * i;
    return acc;
}
int main(void) { printf("%lu\n", spin(200000000UL)); return 0; }
]])
    local cc = t.run({ "gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-o", "spin", "spin.c" }, { cwd = repo.root })
    assert.equals(0, cc.code, cc.stderr)
    local r = t.perfgo({ "exec", "profile", "-e", "cpu-clock", "--remote-host", server.alias, "--ssh-config",
      server.config, "--", "./spin" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, r.code, r.stderr)
    local dir = fixture.latest(repo)
    local rec = fixture.record(dir)
    local copied = {}
    for _, a in ipairs(rec.artifacts) do
      if a.type == "dso" then copied[#copied + 1] = a.file end
    end
    local names = table.concat(copied, " ")
    assert.matches("dsos/%x+%-spin", names)
    -- the profile reads the copy, not the remote path
    local files = {}
    for _, m in ipairs(assert(require("perfgo.pprof").read(dir .. "/perf.pb.gz")):mappings()) do
      files[#files + 1] = m.file
    end
    assert.matches(dir:gsub("%p", "%%%0") .. "/dsos/%x+%-spin", table.concat(files, " "))
    local top = t.run({ "go", "tool", "pprof", "-lines", "-top", dir .. "/perf.pb.gz" })
    assert.equals(0, top.code, top.stderr)
    assert.matches("spin [^\n]*spin%.c:%d+", top.stdout)
  end)

  it("never runs perf script on the host: perf.data is converted here", function()
    -- a user whose login shell puts first on PATH a perf that logs its
    -- subcommand, then runs the real one
    local bin = t.tmpdir()
    finally(function() t.rmtree(bin) end)
    local log = bin .. "/perf-calls.log"
    t.write(bin .. "/perf", "#!/bin/sh\necho \"$1\" >> " .. log .. "\nexec /usr/bin/perf \"$@\"\n")
    t.write(bin .. "/shell", "#!/bin/sh\nPATH=" .. bin .. ":$PATH\nexport PATH\nexec /bin/sh \"$@\"\n")
    t.write(log, "")
    assert.is_true(os.execute("chmod 755 " .. t.quote(bin) .. " " .. t.quote(bin .. "/perf") .. " "
      .. t.quote(bin .. "/shell") .. " && chmod 666 " .. t.quote(log)))
    local user = sshd.add_user(bin .. "/shell")
    finally(function() sshd.remove_user(user) end)
    t.write(repo.root .. "/spin2.c", "int main(void) { volatile unsigned long a = 0; "
      .. "for (unsigned long i = 0; i < 300000000UL; i++) a += i; return 0; }\n")
    local cc = t.run({ "gcc", "-O1", "-fno-omit-frame-pointer", "-o", "spin2", "spin2.c" }, { cwd = repo.root })
    assert.equals(0, cc.code, cc.stderr)
    local r = t.perfgo({ "exec", "profile", "-e", "cpu-clock", "--remote-host", user .. "@" .. server.alias,
      "--ssh-config", server.config, "--", "./spin2" }, { cwd = repo.root, env = repo.env })
    assert.equals(0, r.code, r.stderr)
    local calls = t.read(log)
    assert.matches("record", calls) -- the wrapper was the perf that ran
    assert.not_matches("script", calls)
    local dir = fixture.latest(repo)
    local top = t.run({ "go", "tool", "pprof", "-top", dir .. "/perf.pb.gz" })
    assert.equals(0, top.code, top.stderr)
    assert.matches("main", top.stdout)
    assert.matches("converted by perfgo from perf.data", top.stdout)
  end)

  it("a host that refuses the connection is a clear error", function()
    local r = perfgo({ "run", "--remote-host", "127.0.0.1:1", "--ssh-option", "ConnectTimeout=3",
      "./app/fails" })
    assert.is_not.equals(0, r.code)
    assert.matches("cannot connect to 127%.0%.0%.1:1", r.stderr)
  end)
end)
