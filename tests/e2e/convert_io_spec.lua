-- `perfgo convert`'s inputs and outputs as a user gives them: gzip'd perf
-- script text (what the archive keeps), binary files, output modes and
-- symbolic links, full disks; and no escape sequence from an input
-- reaching the terminal.
local t = require "testutil"

local C = t.corpus_dir()
local SCRIPT = C .. "/multi-event/perf.script"
local FOLDED = C .. "/multi-event/expected-perfgo.folded"

local function sh(script, ...)
  local argv = { "sh", "-c", script, t.bin() }
  for _, a in ipairs({ ... }) do argv[#argv + 1] = a end
  return t.run(argv)
end

local function mode_of(path)
  local r = t.run({ "stat", "-c", "%a", path })
  assert(r.code == 0, r.stderr)
  return (r.stdout:gsub("%s+$", ""))
end

describe("perfgo convert input", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("reads gzip'd perf script text, by its magic, from a file or stdin", function()
    assert.equals(0, t.run({ "sh", "-c", "gzip -c " .. t.quote(SCRIPT) .. " > " .. t.quote(dir .. "/s.gz")
      .. " && cp " .. t.quote(dir .. "/s.gz") .. " " .. t.quote(dir .. "/noext") }).code)
    for _, input in ipairs({ dir .. "/s.gz", dir .. "/noext" }) do
      local r = t.perfgo({ "convert", "-i", input, "--format", "folded" })
      assert.equals(0, r.code, r.stderr)
      assert.equals(t.read(FOLDED), r.stdout)
    end
    local r = t.perfgo({ "convert", "-i", "-", "--format", "folded" }, { stdin = t.read(dir .. "/s.gz") })
    assert.equals(0, r.code, r.stderr)
    assert.equals(t.read(FOLDED), r.stdout)
    -- two gzip members one after the other (gzip -c a b) are one text
    local half = #t.read(SCRIPT) // 2
    local text = t.read(SCRIPT)
    local cut = text:find("\n\n", half, true) + 1
    t.write(dir .. "/a", text:sub(1, cut))
    t.write(dir .. "/b", text:sub(cut + 1))
    assert.equals(0, sh("gzip -c " .. t.quote(dir .. "/a") .. " > " .. t.quote(dir .. "/ab.gz")
      .. " && gzip -c " .. t.quote(dir .. "/b") .. " >> " .. t.quote(dir .. "/ab.gz")).code)
    r = t.perfgo({ "convert", "-i", dir .. "/ab.gz", "--format", "folded" })
    assert.equals(0, r.code, r.stderr)
    assert.equals(t.read(FOLDED), r.stdout)
  end)

  it("refuses a truncated gzip file and binary input, naming the first NUL byte", function()
    assert.equals(0, t.run({ "sh", "-c", "gzip -c " .. t.quote(SCRIPT) .. " | head -c 2000 > "
      .. t.quote(dir .. "/cut.gz") }).code)
    local r = t.perfgo({ "convert", "-i", dir .. "/cut.gz", "-o", dir .. "/x.pb.gz" })
    assert.equals(2, r.code)
    assert.equals("perfgo: " .. dir .. "/cut.gz: gzip: the gzip data is truncated\n", r.stderr)
    r = t.perfgo({ "convert", "-i", "/bin/true", "-o", dir .. "/x.pb.gz" })
    assert.equals(2, r.code)
    assert.equals("perfgo: /bin/true: binary data (a NUL byte) at byte 7: not perf script output or perf.data\n",
      r.stderr)
    assert.is_nil(t.read(dir .. "/x.pb.gz"))
    local late = "prog 1 1.0: 1 cpu-clock:\n\t1 f (/x)\n\nab\0cd\n"
    r = t.perfgo({ "convert", "-i", "-", "--format", "folded" }, { stdin = late })
    assert.equals(2, r.code)
    assert.matches("stdin: binary data (a NUL byte) at byte " .. (late:find("\0", 1, true) - 1), r.stderr, 1, true)
  end)
end)

describe("perfgo convert output", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("gives a new file 0666 & ~umask and keeps the mode of a file it replaces", function()
    for _, fmt in ipairs({ "pprof", "folded" }) do
      local out = dir .. "/out." .. fmt
      local r = sh('umask 027 && "$0" convert -i "$1" --format "$2" -o "$3"', SCRIPT, fmt, out)
      assert.equals(0, r.code, r.stderr)
      assert.equals("640", mode_of(out))
      assert.equals(0, t.run({ "chmod", "600", out }).code)
      r = sh('umask 000 && "$0" convert -i "$1" --format "$2" -o "$3"', SCRIPT, fmt, out)
      assert.equals(0, r.code, r.stderr)
      assert.equals("600", mode_of(out))
    end
  end)

  it("does not follow someone else's symbolic link in a sticky world-writable directory", function()
    local target = dir .. "/precious"
    t.write(target, "keep me\n")
    local sticky = dir .. "/tmp"
    assert.equals(0, t.run({ "sh", "-c", "mkdir -m 1777 " .. t.quote(sticky) }).code)
    local link = sticky .. "/out.pb.gz"
    assert.equals(0, t.run({ "ln", "-s", target, link }).code)
    -- the user's own link is followed: the file it names is replaced
    local r = t.perfgo({ "convert", "-i", SCRIPT, "--format", "folded", "-o", link })
    assert.equals(0, r.code, r.stderr)
    assert.equals(t.read(FOLDED), t.read(target))
    t.write(target, "keep me\n")
    if t.run({ "id", "-u" }).stdout ~= "0\n" then
      pending("making someone else's link needs root")
      return
    end
    assert.equals(0, t.run({ "chown", "-h", "65534:65534", link }).code)
    for _, fmt in ipairs({ "pprof", "folded" }) do
      r = t.perfgo({ "convert", "-i", SCRIPT, "--format", fmt, "-o", link })
      assert.equals(2, r.code)
      assert.matches("cannot write " .. link:gsub("%p", "%%%0") .. ": a symbolic link in a sticky "
        .. "world%-writable directory that belongs to someone else: not followed", r.stderr)
      assert.equals("keep me\n", t.read(target))
    end
  end)

  it("fails when stdout cannot be written (-o - > /dev/full)", function()
    for _, fmt in ipairs({ "pprof", "folded" }) do
      local r = sh('"$0" convert -i "$1" --format "$2" -o - > /dev/full', SCRIPT, fmt)
      assert.equals(2, r.code)
      assert.equals("perfgo: cannot write to stdout: No space left on device\n", r.stderr)
    end
    local r = sh('"$0" version > /dev/full')
    assert.equals(1, r.code)
    assert.equals("perfgo: cannot write to stdout: No space left on device\n", r.stderr)
  end)
end)

describe("perfgo convert messages", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  it("shows text from its input with control characters escaped", function()
    -- a comm that sets the terminal's title, a skipped line that clears it
    local bad = "evil\27]0;pwned\7 1 1.0: 5 cpu-clock:\n\t1 f (/x)\n\n"
      .. "prog 1 1.1: 5 cpu-clock:\n\t1 g (/x)\n\n  \27[2J???\n\n"
    local r = t.perfgo({ "convert", "-i", "-", "--format", "folded", "--event-filter", "page\27[31m" },
      { stdin = bad })
    assert.equals(0, r.code, r.stderr)
    assert.is_nil(r.stderr:find("\27", 1, true))
    assert.matches("page\\e[31m", r.stderr, 1, true)
    r = t.perfgo({ "convert", "-i", "-", "--format", "folded", "--strict" }, { stdin = bad })
    assert.equals(2, r.code)
    assert.is_nil(r.stderr:find("\27", 1, true))
    assert.matches("\\e[2J???", r.stderr, 1, true)
    -- and in errors: the file name of a missing input
    r = t.perfgo({ "convert", "-i", dir .. "/no\27[1mfile" })
    assert.equals(2, r.code)
    assert.is_nil(r.stderr:find("\27", 1, true))
    assert.matches("no\\e[1mfile", r.stderr, 1, true)
  end)
end)

describe("perfgo convert reading binaries", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() t.rmtree(dir) end)

  local function script(dso)
    return "prog 10/10 1.0: 1000 cpu-clock:\n\t1000 main+0x10 (" .. dso .. ")\n\n"
  end

  it("never reads a FIFO, a device or a file under /proc named by a DSO", function()
    local fifo = dir .. "/lib.so"
    assert.equals(0, t.run({ "mkfifo", fifo }).code)
    for _, dso in ipairs({ fifo, "//proc/kmsg", "/./dev/zero", "/a/../proc/self/exe" }) do
      -- a FIFO would block the conversion for ever: `timeout` ends it
      local r = t.run({ "timeout", "20", t.bin(), "convert", "-i", "-", "-o", dir .. "/x.pb.gz" },
        { stdin = script(dso) })
      assert.equals(0, r.code, dso .. ": " .. r.stderr)
      assert.matches("not read", r.stderr, 1, true)
    end
  end)

  it("resolves a DSO name inside --binary-root, whatever its .. says", function()
    local root = dir .. "/root"
    assert.equals(0, t.run({ "mkdir", "-p", root .. "/usr/bin" }).code)
    -- with the root, /../../../../usr/bin/true is <root>/usr/bin/true, here
    -- missing: the host's /usr/bin/true is not read (names only)
    local r = t.perfgo({ "convert", "-i", "-", "-o", dir .. "/x.pb.gz", "--binary-root", root },
      { stdin = script("/../../../../usr/bin/true") })
    assert.equals(0, r.code, r.stderr)
    local pprof = require "perfgo.pprof"
    local p = assert(pprof.read(dir .. "/x.pb.gz"))
    for _, m in ipairs(p:mappings()) do assert.not_equals("/usr/bin/true", m.file) end
    -- with a copy there, that copy is read
    assert.equals(0, t.run({ "cp", "/usr/bin/true", root .. "/usr/bin/true" }).code)
    r = t.perfgo({ "convert", "-i", "-", "-o", dir .. "/x.pb.gz", "--binary-root", root },
      { stdin = script("/../../../../usr/bin/true") })
    assert.equals(0, r.code, r.stderr)
    local files = {}
    for _, m in ipairs(assert(pprof.read(dir .. "/x.pb.gz")):mappings()) do files[#files + 1] = m.file end
    assert.same({ root .. "/usr/bin/true" }, files)
  end)
end)
