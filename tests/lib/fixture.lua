--- Test fixtures for end-to-end runs: a throw-away git repository holding
--- a copy of examples/ and a few small Go packages made to fail in
--- specific ways, plus an archive directory.
local t = require "testutil"

local M = {}

local GO_MOD = "module fixture.test/app\n\ngo 1.19\n"

local FILES = {
  ["app/go.mod"] = GO_MOD,
  ["app/fails/fails.go"] = "package fails\n\nfunc Answer() int { return 41 }\n",
  ["app/fails/fails_test.go"] = [[
package fails

import "testing"

func TestAnswer(t *testing.T) {
	t.Log("checking the answer")
	if Answer() != 42 {
		t.Fatalf("Answer() = %d, want 42", Answer())
	}
}
]],
  ["app/broken/broken.go"] = "package broken\n\nfunc Oops() int { return undefinedName }\n",
  ["app/broken/broken_test.go"] = "package broken\n\nimport \"testing\"\n\nfunc TestOops(t *testing.T) { Oops() }\n",
  ["app/notests/notests.go"] = "package notests\n\nfunc X() {}\n",
  ["app/sleeper/sleeper_test.go"] = [[
package sleeper

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	fmt.Println("sleeper started", os.Getpid())
	time.Sleep(60 * time.Second)
}
]],
  -- exactly 1000 getpid system calls (run it with GODEBUG=asyncpreemptoff=1:
  -- the runtime's preemption signals call getpid too)
  ["app/getpid/getpid_test.go"] = [[
package getpid

import (
	"syscall"
	"testing"
)

func TestGetpid(t *testing.T) {
	for i := 0; i < 1000; i++ {
		syscall.Getpid()
	}
}
]],
  -- busy on the CPU for a minute, saying so first; with $SPIN_CPU_SECONDS,
  -- until it has used that much CPU time (as many cpu-clock samples
  -- however busy the machine is)
  ["app/spinner/spinner_test.go"] = [[
package spinner

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

var sink uint64

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestSpin(t *testing.T) {
	fmt.Println("spinner started", os.Getpid())
	elapsed, limit := func() time.Duration { return 0 }, time.Minute
	if s, err := strconv.Atoi(os.Getenv("SPIN_CPU_SECONDS")); err == nil {
		elapsed, limit = cpuTime, time.Duration(s)*time.Second
	} else {
		start := time.Now()
		elapsed = func() time.Duration { return time.Since(start) }
	}
	for elapsed() < limit {
		for i := uint64(0); i < 1000000; i++ {
			sink += i * i
		}
	}
}
]],
  -- writes a line every 10 ms for up to a minute
  ["app/chatty/chatty_test.go"] = [[
package chatty

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestChat(t *testing.T) {
	fmt.Println("chatty started", os.Getpid())
	for i := 0; i < 6000; i++ {
		fmt.Println("line", i)
		time.Sleep(10 * time.Millisecond)
	}
}
]],
}

--- Creates the fixture repository; returns {root=, archive=, env=}.
function M.repo()
  local dir = t.tmpdir()
  local root = dir .. "/repo"
  local src = os.getenv("PERFGO_SOURCE_DIR")
  assert(os.execute("mkdir -p " .. t.quote(root) .. " && cp -r " .. t.quote(src .. "/examples") .. " "
    .. t.quote(root .. "/examples")))
  for path, text in pairs(FILES) do
    local full = root .. "/" .. path
    os.execute("mkdir -p " .. t.quote(full:match("^(.*)/")))
    t.write(full, text)
  end
  local git = "git -C " .. t.quote(root) .. " "
  assert(os.execute(git .. "init -q -b main && " .. git .. "add -A && " .. git
    .. "-c user.name=perfgo -c user.email=perfgo@localhost commit -qm fixture"))
  local archive = dir .. "/archive"
  return {
    dir = dir,
    root = root,
    archive = archive,
    env = { PERFGO_ARCHIVE = archive, PERFGO_PROGRESS = "0" },
  }
end

--- The run directories in the fixture's history.
function M.runs(repo)
  local out = {}
  local p = io.popen("ls -1 " .. t.quote(repo.root .. "/.perfgo/history") .. " 2>/dev/null")
  for line in p:lines() do out[#out + 1] = repo.root .. "/.perfgo/history/" .. line end
  p:close()
  return out
end

--- The directory of the newest run (by its recorded timestamp).
function M.latest(repo)
  local best, best_ts
  for _, dir in ipairs(M.runs(repo)) do
    local ok, rec = pcall(M.record, dir)
    if ok and (best_ts == nil or rec.timestamp > best_ts) then best, best_ts = dir, rec.timestamp end
  end
  return best
end

--- Decoded testrun.json of a run directory.
function M.record(run_dir)
  local cjson = require "cjson"
  return cjson.decode(assert(t.read(run_dir .. "/testrun.json")))
end

function M.cleanup(repo)
  if repo then t.rmtree(repo.dir) end
end

return M
