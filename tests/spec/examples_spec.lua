-- The Go examples under examples/ (one module): they vet clean, their
-- correctness tests pass, and their hot loops survive compilation as named
-- functions that perf attributes samples to.
local t = require "testutil"

local src = assert(os.getenv("PERFGO_SOURCE_DIR"), "PERFGO_SOURCE_DIR is not set")
local dir = src .. "/examples"

local function go(args, opts)
  local argv = { "go" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  opts = opts or {}
  opts.cwd = opts.cwd or dir
  return t.run(argv, opts)
end

local function ok(r, what)
  assert(r.code == 0, what .. " failed (exit " .. tostring(r.code) .. "):\n" .. r.stdout .. r.stderr)
end

local packages = {
  ["false-sharing"] = { "falsesharing.(*Unpadded).Add", "falsesharing.(*Padded).Add" },
  ["branch-prediction"] = { "branchprediction.Filter", "branchprediction.FilterBranchless" },
  ["data-locality"] = { "datalocality.SumRowMajor", "datalocality.SumColumnMajor", "datalocality.Gather" },
}

describe("examples", function()
  it("are one Go module with the three packages", function()
    assert.matches("module perfgo%.example/examples", t.read(dir .. "/go.mod"))
    local r = go { "list", "./..." }
    ok(r, "go list")
    for name in pairs(packages) do
      assert.matches("perfgo%.example/examples/" .. name:gsub("%-", "%%-"), r.stdout)
      assert.is_truthy(t.read(dir .. "/" .. name .. "/README.md"), name .. " has no README.md")
    end
  end)

  it("pass go vet", function()
    ok(go { "vet", "./..." }, "go vet ./...")
  end)

  it("pass their tests", function()
    local r = go { "test", "-short", "-count=1", "-run", ".", "./..." }
    ok(r, "go test")
    for name in pairs(packages) do
      assert.matches("ok%s+perfgo%.example/examples/" .. name:gsub("%-", "%%-"), r.stdout)
    end
  end)

  it("keep the hot loops as named functions in the test binaries", function()
    local tmp = t.tmpdir()
    for name, funcs in pairs(packages) do
      local bin = tmp .. "/" .. name .. ".test"
      ok(go { "test", "-c", "-o", bin, "./" .. name }, "go test -c ./" .. name)
      local r = go { "tool", "nm", bin }
      ok(r, "go tool nm")
      for _, f in ipairs(funcs) do
        local full = "perfgo.example/examples/" .. name .. "." .. f:gsub("^[^.]+%.", "")
        assert.is_truthy(r.stdout:find(" T " .. full .. "\n", 1, true), full .. " is not in " .. bin)
      end
    end
    t.rmtree(tmp)
  end)

  it("show the false-sharing loop in a cpu-clock perf profile", function()
    local tmp = t.tmpdir()
    local bin = tmp .. "/fs.test"
    ok(go { "test", "-c", "-o", bin, "./false-sharing" }, "go test -c")
    local data = tmp .. "/perf.data"
    local r = t.run({ "perf", "record", "-e", "cpu-clock", "-g", "-o", data, "--", bin,
      "-test.run=^$", "-test.bench=Unpadded", "-test.benchtime=2000000x" }, { env = { LC_ALL = "C" } })
    ok(r, "perf record")
    r = t.run({ "perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol" },
      { env = { LC_ALL = "C" } })
    ok(r, "perf report")
    t.rmtree(tmp)
    assert.matches("examples/false%-sharing%.%(%*Unpadded%)%.Add", r.stdout)
  end)
end)
