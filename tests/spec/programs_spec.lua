-- perfgo.programs: a missing program is one line naming its Debian package.
local programs = require "perfgo.programs"
local proc = require "perfgo.proc"

describe("perfgo.programs", function()
  it("knows the package of each program perfgo runs", function()
    assert.same({ "golang-go", "linux-perf", "rsync", "openssh-client", "openssh-client", "gzip" },
      { programs.package("go"), programs.package("perf"), programs.package("rsync"), programs.package("ssh"),
        programs.package("/usr/bin/scp"), programs.package("gzip") })
    assert.is_nil(programs.package("perfgo-no-such-program"))
  end)

  it("says what to install, and where", function()
    assert.equals("rsync is not installed on box (no 'rsync' in PATH): install the Debian package rsync "
      .. "(apt-get install rsync)", programs.missing_message("rsync", "box"))
    assert.equals("frob is not installed (no 'frob' in PATH)", programs.missing_message("frob"))
  end)

  it("turns a result that could not start into the user error, exit 2", function()
    local ok, err = pcall(programs.check, proc.run({ "perfgo-no-such-program" }), "go")
    assert.is_false(ok)
    assert.same({ true, 2 }, { err.user_error, err.exit_code })
    assert.matches("^go is not installed .*golang%-go", err.message)
    local r = proc.run({ "true" })
    assert.equals(r, programs.check(r, "true"))
    ok, err = pcall(programs.require, "perfgo-no-such-program")
    assert.same({ false, 2 }, { ok, err.exit_code })
    assert.is_string(programs.require("sh"))
  end)
end)
