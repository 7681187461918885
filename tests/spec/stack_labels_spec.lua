-- perfgo.parser's stack_labels option (the Go rule's benchmark label) on
-- the go-bench corpus recording: four benchmarks under testing.(*B).runN.
local parser = require "perfgo.parser"
local t = require "testutil"

local RULE = { key = "benchmark", caller = "testing.(*B).runN", prefix = "Benchmark", strip_package = true }

local function by_label(profile, key)
  local out, total = {}, 0
  for stack, values, labels in profile:samples() do
    local v = labels and labels[key] or ""
    local e = out[v] or { samples = 0, stacks = {} }
    e.samples = e.samples + values[1]
    e.stacks[#e.stacks + 1] = stack
    out[v] = e
    total = total + values[1]
  end
  return out, total
end

local function has_key(set, pattern)
  for k in pairs(set) do
    if k:match(pattern) then return true end
  end
  return false
end

describe("parser stack_labels", function()
  local script = t.corpus_dir() .. "/go-bench/perf.script"

  it("labels each sample with the benchmark runN called, totals adding up", function()
    local p = assert(parser.parse_file(script, { stack_labels = { RULE } }))
    local got, total = by_label(p, "benchmark")
    assert.equal(1234, total)
    local names, sum = {}, 0
    for v, e in pairs(got) do
      sum = sum + e.samples
      if v ~= "" then names[#names + 1] = v end
    end
    table.sort(names)
    assert.same({ "BenchmarkGoroutines", "BenchmarkMapAccess", "BenchmarkSort", "BenchmarkStringBuild" }, names)
    assert.equal(total, sum)
    -- every labelled stack has runN right above a frame of that benchmark
    for v, e in pairs(got) do
      for _, stack in ipairs(e.stacks) do
        local k
        for i, f in ipairs(stack) do
          if f.func == "testing.(*B).runN" then k = i break end
        end
        if v ~= "" then
          assert.is_true(k and k > 1)
          assert.matches("%." .. v .. "$", stack[k - 1].func)
        end
      end
    end
  end)

  it("leaves runN's own calls and other goroutines unlabelled", function()
    local p = assert(parser.parse_file(script, { stack_labels = { RULE } }))
    local got = by_label(p, "benchmark")
    for _, stack in ipairs(got[""].stacks) do
      for i = 2, #stack do
        if stack[i].func == "testing.(*B).runN" then
          assert.not_matches("%.Benchmark", stack[i - 1].func)
        end
      end
    end
  end)

  it("keeps the package path unless told to strip it, and any name without a prefix", function()
    local p = assert(parser.parse_file(script, { stack_labels = {
      { key = "bench", caller = "testing.(*B).runN" } } }))
    local got = by_label(p, "bench")
    assert.is_true(got["example.com/corpusbench.BenchmarkSort"] ~= nil)
    assert.is_true(has_key(got, "^runtime%."))
  end)

  it("adds nothing when the caller never appears", function()
    local p = assert(parser.parse_file(script, { stack_labels = {
      { key = "benchmark", caller = "no.such.function" } } }))
    local got = by_label(p, "benchmark")
    assert.is_false(has_key(got, "."))
    assert.equal(1234, got[""].samples)
  end)

  it("refuses malformed rules", function()
    local function new(rules) return function() parser.new({ stack_labels = rules }) end end
    assert.has_error(new("benchmark"),
      "option 'stack_labels' must be a list of {key=, caller=, prefix=, strip_package=}")
    assert.has_error(new({ { key = "b" } }), "option 'stack_labels'[1].caller must be a string")
    assert.has_error(new({ { key = "", caller = "x" } }), "option 'stack_labels'[1].key must be a non-empty string")
    assert.has_error(new({ { key = "b", caller = "x", callr = "y" } }),
      "option 'stack_labels'[1] has an unknown field (fields: key, caller, prefix, strip_package)")
    assert.has_error(new({ { key = "b", caller = "x", strip_package = "yes" } }),
      "option 'stack_labels'[1].strip_package must be a boolean")
    assert.has_error(new({ RULE, RULE, RULE, RULE, RULE }), "option 'stack_labels' lists 5 labels (at most 4)")
  end)
end)
