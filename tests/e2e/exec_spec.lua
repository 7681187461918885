-- `perfgo exec`: any command under perf, with history, no build.
local t = require "testutil"
local fixture = require "fixture"

local PROGRAM = [[
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static unsigned long spin(unsigned long n)
{
    volatile unsigned long acc = 0;
    for (unsigned long i = 0; i < n; i++)
        acc += i * i;
    return acc;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000000UL;
    printf("spin %lu\n", spin(n));
    return 3;
}
]]

describe("perfgo exec", function()
  local repo
  setup(function()
    repo = fixture.repo()
    t.write(repo.root .. "/spin.c", PROGRAM)
    local r = t.run({ "gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-o", "spin", "spin.c" }, { cwd = repo.root })
    assert.equals(0, r.code, r.stderr)
  end)
  teardown(function() fixture.cleanup(repo) end)

  it("profiles a C program and passes its exit code through", function()
    local r = t.perfgo({ "exec", "profile", "-e", "cpu-clock", "--", "./spin", "300000000" },
      { cwd = repo.root, env = repo.env })
    assert.equals(3, r.code, r.stderr)
    assert.matches("^spin %d+", r.stdout)
    local rec = fixture.record(fixture.latest(repo))
    assert.equals("profile", rec.type)
    assert.equals(3, rec.exit_code)
    local top = t.run({ "go", "tool", "pprof", "-top", fixture.latest(repo) .. "/perf.pb.gz" })
    assert.equals(0, top.code, top.stderr)
    assert.matches("spin", top.stdout)
  end)

  it("without a command says how to give one", function()
    local r = t.perfgo({ "exec", "profile" }, { cwd = repo.root, env = repo.env })
    assert.equals(2, r.code)
    assert.matches("no command given", r.stderr)
  end)
end)
