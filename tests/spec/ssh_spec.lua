-- perfgo.ssh against a real OpenSSH sshd on 127.0.0.1 (tests/sshd).
local ssh = require "perfgo.ssh"
local proc = require "perfgo.proc"
local sshd = require "sshd"
local t = require "testutil"

local srv, dir

local function connect(extra)
  local o = { host = srv.alias, config = srv.config, control_dir = dir .. "/ctl" }
  for k, v in pairs(extra or {}) do o[k] = v end
  return ssh.connect(o)
end

local function lua_script(source)
  local path = dir .. "/script.lua"
  t.write(path, 'package.cpath = os.getenv("PERFGO_BUILD_DIR") .. "/?.so;" .. package.cpath\n' .. source)
  return path
end

describe("perfgo.ssh", function()
  setup(function() srv = sshd.start() end)
  teardown(function() sshd.stop(srv) end)
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("runs 20 commands over one session with a single authentication", function()
    local before = sshd.auth_count(srv)
    local s = assert(connect())
    for i = 1, 20 do
      local r = assert(s:run({ "echo", "run", tostring(i) }))
      assert.equals(0, r.code)
      assert.equals("run " .. i .. "\n", r.stdout)
    end
    assert.equals(before + 1, sshd.auth_count(srv))
    s:close()
  end)

  it("keeps the control socket short, private and removes it on close", function()
    local s = assert(connect())
    local sock = s:control_path()
    assert.is_true(#sock < 100)
    assert.matches("^" .. dir:gsub("%p", "%%%0") .. "/ctl/ssh%-%x+$", sock)
    local mode = t.run({ "stat", "-c", "%a", dir .. "/ctl" }).stdout
    assert.equals("700\n", mode)
    assert.equals("root@127.0.0.1:" .. srv.port, s:target():gsub("^[^@]*", "root"))
    assert.is_true(s:alive())
    s:close()
    assert.is_false(s:alive())
    assert.is_nil(t.read(sock))
    assert.has_error(function() s:run({ "true" }) end)
  end)

  it("reaches the host as host:port and user@host too", function()
    local s = assert(ssh.connect({ host = srv.user .. "@127.0.0.1:" .. srv.port, config = srv.config,
      control_dir = dir .. "/ctl" }))
    assert.equals(srv.user .. "\n", s:run({ "id", "-un" }).stdout)
    s:close()
  end)

  it("passes exit codes, stderr, a remote cwd and environment", function()
    local s = assert(connect())
    local r = s:run({ "sh", "-c", "echo oops >&2; exit 42" })
    assert.equals(42, r.code)
    assert.equals("oops\n", r.stderr)
    r = s:run({ "sh", "-c", 'printf "%s|%s" "$PWD" "$X"' }, { cwd = "/tmp", env = { X = "a 'b' c" } })
    assert.equals("/tmp|a 'b' c", r.stdout)
    r = s:run({ "cat" }, { input = "fed through stdin" })
    assert.equals("fed through stdin", r.stdout)
    s:close()
  end)

  it("reports the remote platform with Go names and the home directory", function()
    local s = assert(connect())
    local p = assert(s:platform())
    local m = t.run({ "uname", "-m" }).stdout:gsub("\n", "")
    assert.equals("linux", p.os)
    assert.equals(ssh.goarch(m), p.arch)
    assert.equals(os.getenv("HOME") or "/root", s:home())
    assert.equals("amd64", ssh.goarch("x86_64"))
    assert.equals("arm64", ssh.goarch("aarch64"))
    assert.equals("freebsd", ssh.goos("FreeBSD"))
    s:close()
  end)

  it("put then get round-trips a 5 MB binary file byte for byte", function()
    local s = assert(connect())
    assert.equals(0, t.run({ "sh", "-c", "head -c 5242880 /dev/urandom > " .. t.quote(dir .. "/big") }).code)
    os.execute("chmod 751 " .. t.quote(dir .. "/big"))
    assert(s:mkdir_p(dir .. "/remote side"))
    assert(s:put(dir .. "/big", dir .. "/remote side/big"))
    assert(s:get(dir .. "/remote side/big", dir .. "/back"))
    local a, b = t.read(dir .. "/big"), t.read(dir .. "/back")
    assert.equals(5242880, #b)
    assert.is_true(a == b)
    assert.equals("751\n", t.run({ "stat", "-c", "%a", dir .. "/remote side/big" }).stdout)
    local ok, err = s:get(dir .. "/missing", dir .. "/never")
    assert.is_nil(ok)
    assert.matches("No such file", err)
    assert.is_nil(t.read(dir .. "/never"))
    s:close()
  end)

  it("put_tree with rsync sends only changed files the second time", function()
    local s = assert(connect())
    os.execute("mkdir -p " .. t.quote(dir .. "/src/sub"))
    t.write(dir .. "/src/a.txt", "a")
    t.write(dir .. "/src/sub/b.txt", "b")
    t.write(dir .. "/src/sub/c d.txt", "c")
    local files = { "a.txt", "sub/b.txt", "sub/c d.txt" }
    local r = assert(s:put_tree(files, dir .. "/dst", { base = dir .. "/src" }))
    assert.equals("rsync", r.method)
    table.sort(r.sent)
    assert.same(files, r.sent)
    assert.equals("c", t.read(dir .. "/dst/sub/c d.txt"))
    t.write(dir .. "/src/sub/b.txt", "b changed")
    r = assert(s:put_tree(files, dir .. "/dst", { base = dir .. "/src" }))
    assert.same({ "sub/b.txt" }, r.sent)
    assert.equals("b changed", t.read(dir .. "/dst/sub/b.txt"))
    s:close()
  end)

  it("put_tree with a tar stream sends the files", function()
    local s = assert(connect())
    os.execute("mkdir -p " .. t.quote(dir .. "/src/x y"))
    t.write(dir .. "/src/x y/f", "tar me")
    local r = assert(s:put_tree({ "x y/f" }, dir .. "/dst tar", { base = dir .. "/src", method = "tar" }))
    assert.equals("tar", r.method)
    assert.same({ "x y/f" }, r.sent)
    assert.equals("tar me", t.read(dir .. "/dst tar/x y/f"))
    s:close()
  end)

  it("a path with spaces, quotes, $(...) and a newline arrives intact, nothing runs", function()
    local s = assert(connect())
    local name = "a b 'c' \"d\" $(touch " .. dir .. "/pwned) `touch " .. dir .. "/pwned2`\nend"
    local path = dir .. "/" .. name
    assert(s:mkdir_p(path))
    t.write(dir .. "/local", "payload")
    assert(s:put(dir .. "/local", path .. "/file"))
    assert.equals("payload", t.read(path .. "/file"))
    local r = s:run({ "printf", "%s", name })
    assert.equals(name, r.stdout)
    r = s:run({ "ls", "--", path })
    assert.equals("file\n", r.stdout)
    assert(s:get(path .. "/file", dir .. "/got"))
    assert.equals("payload", t.read(dir .. "/got"))
    assert(s:remove_tree(path))
    assert.is_nil(t.read(path .. "/file"))
    assert.is_nil(t.read(dir .. "/pwned"))
    assert.is_nil(t.read(dir .. "/pwned2"))
    -- the quoting a POSIX shell reads back
    assert.equals(name, t.run({ "sh", "-c", "printf %s " .. ssh.quote(name) }).stdout)
    s:close()
  end)

  it("the remote command line means the same to every login shell and holds only base64", function()
    local s = assert(connect())
    local words = { "it's", "a \\ b", "\\'", "$(touch " .. dir .. "/pwned)", "`touch " .. dir .. "/pwned`",
      "\"q\"", "line\nbreak", "two\nnew\nlines", "!!", "!$ !-1 ^x^y", "-n", "\255\254 bytes", "%1 {a,b} ~ *", "" }
    local argv = { "printf", "%s|" }
    for _, w in ipairs(words) do argv[#argv + 1] = w end
    local line = s:argv(argv, { cwd = dir, env = { V = "a'b!c\nd" } })
    local remote = line[#line] -- what ssh hands to the login shell's -c
    local decoder, payload = remote:match("^(sh %-c '[^'!\\\n]*' perfgo )(.*)$")
    assert.is_not_nil(decoder, remote)
    assert.matches("^[%w+/=]+$", payload)
    local want = table.concat(words, "|") .. "|"
    for _, shell in ipairs({ "sh", "bash", "dash", "zsh", "fish", "tcsh", "csh" }) do
      assert.is_not_nil(proc.which(shell), shell .. " is in scripts/setup.sh")
      local r = proc.run({ shell, "-c", remote })
      assert.equals(want, r.stdout, shell .. ": " .. r.stderr)
    end
    assert.is_nil(t.read(dir .. "/pwned"))
    s:close()
  end)

  it("argv gives a local command line that runs over the master", function()
    local s = assert(connect())
    local argv = s:argv({ "echo", "via", "argv" })
    assert.equals("ssh", argv[1])
    local r = proc.run(argv)
    assert.equals("via argv\n", r.stdout)
    s:close()
  end)

  it("spawn streams remote output as it arrives", function()
    local s = assert(connect())
    local c = s:spawn({ "sh", "-c", "echo one; sleep 0.5; echo two" }, { stdout = "pipe" })
    assert.equals("one\n", c:read("stdout"))
    assert.is_true(c:running())
    assert.equals("two\n", c:read("stdout"))
    assert.is_nil(c:read("stdout"))
    assert.equals(0, c:wait().code)
    s:close()
  end)

  it("connect failures return nil and ssh's own message", function()
    local s, err = connect({ user = "perfgo-no-such-user" })
    assert.is_nil(s)
    assert.matches("Permission denied %(publickey%)", err)
    t.write(dir .. "/wrong_known_hosts", "[127.0.0.1]:" .. srv.port
      .. " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHXzFpQ/GzyU4iCrbuzvQKpGT1Mt9XuROTJCJDPxmiY5\n")
    s, err = connect({ options = { UserKnownHostsFile = dir .. "/wrong_known_hosts" } })
    assert.is_nil(s)
    assert.matches("Host key verification failed", err)
    s, err = ssh.connect({ host = "127.0.0.1", port = 1, config = srv.config, control_dir = dir .. "/ctl" })
    assert.is_nil(s)
    assert.matches("Connection refused", err)
  end)

  it("a remote command is gone within 2 s after perfgo gets SIGINT", function()
    local script = lua_script(([[
      local ssh = require "perfgo.ssh"
      local proc = require "perfgo.proc"
      local s = assert(ssh.connect({ host = %q, config = %q, control_dir = %q }))
      local r = s:run({ "sh", "-c", "echo $$ > %s/remote.pid; exec sleep 300" })
      io.write("interrupted=", tostring(r and r.interrupted), " signal=", tostring(proc.interrupted()))
      s:close()
      os.exit(r and r.interrupted and 130 or 1)
    ]]):format(srv.alias, srv.config, dir .. "/ctl", dir))
    local child = proc.spawn({ "lua5.4", script }, { stdout = "pipe", stderr = "pipe" })
    -- (the file exists a moment before the pid is in it)
    local function pid_of() return (t.read(dir .. "/remote.pid") or ""):match("^(%d+)\n") end
    local deadline = os.time() + 20
    while not pid_of() and os.time() < deadline do os.execute("sleep 0.05") end
    local pid = assert(pid_of(), "the remote command did not start")
    -- a master of its own: the script's close must not end it
    local checker = assert(connect({ control_dir = dir .. "/ctl2" }))
    child:kill("INT")
    local gone
    local t0 = os.time()
    repeat
      gone = checker:run({ "kill", "-0", pid }).code ~= 0
      if not gone then os.execute("sleep 0.1") end
    until gone or os.time() - t0 > 2
    assert.is_true(gone, "remote process " .. pid .. " still runs")
    local st = assert(child:wait(10))
    assert.equals(130, st.code)
    assert.equals("interrupted=true signal=2", child:read("stdout"))
    checker:close()
  end)

  it("after sshd dies the next call fails clearly within the connect timeout", function()
    local own = sshd.start()
    local s = assert(ssh.connect({ host = own.alias, config = own.config, control_dir = dir .. "/ctl",
      connect_timeout = 3 }))
    finally(function() sshd.stop(own) end)
    assert.equals(0, s:run({ "true" }).code)
    sshd.stop(own, true) -- keep its ssh_config for the client
    local t0 = require("perfgo.sys").monotonic()
    local r, err = s:run({ "echo", "hello" })
    local took = require("perfgo.sys").monotonic() - t0
    assert.is_nil(r)
    assert.matches("connection to .* lost %(its SSH master has ended%)", err)
    assert.is_true(took < 3 + 2, "took " .. took .. " s")
    local ok, err2 = s:put(dir .. "/nothing", "/tmp/x")
    assert.is_nil(ok)
    assert.is_string(err2)
    s:close()
  end)
end)
