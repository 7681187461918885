--- The profile mode: `perf record -g` samples the command; its samples
--- become a pprof profile (perf.pb.gz, for go tool pprof) that is archived
--- with the binary, viewed in pprof, and compared function by function.
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local units = require "perfgo.units"
local perf = require "perfgo.perf"

-- A whole number above 0.
local function whole(v)
  return require("perfgo.runopts").positive_integer(v)
end

local M = {
  name = "profile",
  description = "perf record: sampled call stacks as a pprof profile (perf.pb.gz); the default with -e.",
  order = 30,
  perf = true,
  implied_by = "event",
  writes_profile = true,
  options = {
    perf.options.event,
    {
      name = "count", flags = "-c --count", argname = "<n>",
      help = "profile: sample every N events (perf record -c).", check = whole,
    },
    {
      name = "freq", flags = "-F --freq", argname = "<hz>",
      help = "profile: sampling frequency in Hz (perf record -F).", check = whole,
    },
    {
      name = "call_graph", flags = "--call-graph",
      help = "profile: call graph method: fp (the default), dwarf[,SIZE] or lbr.",
      check = function(v)
        local why = string.format("'%s' is not a call graph method: use fp, dwarf, dwarf,SIZE (SIZE in bytes, "
          .. "8 to 65528) or lbr", tostring(v))
        if type(v) ~= "string" then return nil, why end
        if v == "fp" or v == "lbr" or v == "dwarf" then return v end
        local size = v:match("^dwarf,(%d+)$")
        if size and tonumber(size) >= 8 and tonumber(size) <= 65528 then return v end
        return nil, why
      end,
    },
    {
      name = "via_script", flags = "--via-script", flag = true,
      help = "profile: convert perf script's text, run where the recording is, instead of reading perf.data "
        .. "here (and record without -z).",
    },
    perf.options.perf_arg,
  },
}

-- Whether the target's perf compresses (perf record -z: built with zstd).
local function perf_zstd(ctx)
  local r = ctx.target:run({ "perf", "version", "--build-options" }, { stdin = "null", env = perf.env })
  return r ~= nil and r.code == 0 and (r.stdout or ""):match("zstd: +%[ on") ~= nil
end

--- perf's own checks, and whether kernel symbols can be read.
---@param ctx perfgo.Context
function M.preflight(ctx)
  require("perfgo.programs").require("gzip")
  perf.preflight(ctx, { kernel_symbols = true })
  -- perf.data read here: recorded compressed where perf can, which makes
  -- it several times smaller to copy back (perf.data read by perf script
  -- keeps perf's build-id list, which -z leaves out)
  ctx.perf_zstd = not ctx.opts.via_script and perf_zstd(ctx)
end

---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@return string[]
function M.wrap(ctx, workload)
  local opts = ctx.opts
  local out = { "perf", "record", "-o", ctx.target:scratch("perf.data") }
  if opts.call_graph then
    out[#out + 1] = "--call-graph"; out[#out + 1] = opts.call_graph
  else
    out[#out + 1] = "-g"
  end
  for _, e in ipairs(opts.event or {}) do out[#out + 1] = "-e"; out[#out + 1] = e end
  -- Sample times on CLOCK_MONOTONIC, which every kind of event accepts
  -- (the kernel refuses CLOCK_REALTIME for tracepoints); perf stores a
  -- reference time of day with it, from which the profile's date comes
  -- (profiling.clock_offset). Unless the user picked a clock.
  local has_clock = false
  for _, a in ipairs(opts.perf_arg or {}) do
    if a == "-k" or a:match("^%-%-clockid") or a:match("^%-k") then has_clock = true end
  end
  if not has_clock then out[#out + 1] = "-k"; out[#out + 1] = "CLOCK_MONOTONIC" end
  if ctx.perf_zstd then out[#out + 1] = "-z" end
  if opts.count then out[#out + 1] = "-c"; out[#out + 1] = tostring(opts.count) end
  if opts.freq then out[#out + 1] = "-F"; out[#out + 1] = tostring(opts.freq) end
  return perf.command(ctx, out, workload)
end

--- perf record exits as the command did (128+N after a signal); without
--- its "Captured and wrote" line it failed.
---@param ctx perfgo.Context
---@param workload perfgo.Workload
---@param r perfgo.proc.Result|nil
---@param err? string
---@return perfgo.TestExit
function M.outcome(ctx, workload, r, err)
  return perf.recorded(ctx, workload, r, err, "perf record")
end

--- perf's warnings; for an empty profile, convert says what it means.
---@param ctx perfgo.Context
function M.collect(ctx)
  perf.warn_recording(ctx, function(w) return w:find("zero samples", 1, true) ~= nil end)
end

--- perf.data converted here, or perf script's text (perfgo.profiling).
---@param ctx perfgo.Context
function M.convert(ctx)
  require("perfgo.profiling").convert(ctx)
end

--- Only a profile with samples, of a binary perfgo built or of processes
--- perfgo attached to (their binaries copied), is worth keeping.
---@param ctx perfgo.Context
function M.archive(ctx)
  if not (ctx.binary or ctx.attach) or not ctx.profile then return end
  ctx.archive_dir = require("perfgo.archive").save(ctx)
end

---@param ctx perfgo.Context
---@param base fun(ctx: perfgo.Context): table
---@return table
function M.describe(ctx, base)
  local out = base(ctx)
  out.call_graph = ctx.opts.call_graph or "fp"
  return out
end

--- The profile in pprof (`go tool pprof`, or a standalone pprof), with the
--- flags given; -top without flags when stdout is not a terminal; --bench
--- NAME: only that benchmark's samples (pprof -tagfocus).
---@param entry perfgo.RunEntry
---@param args table
---@return integer|nil
function M.view(entry, args)
  local profile = fs.join(entry.dir, "perf.pb.gz")
  if entry.status == "running" or not fs.is_file(profile) then
    if args.bench then
      errors.user(string.format("--bench is for profiles of Go benchmarks; run %s is a %s run without a profile",
        entry.id:sub(1, 8), tostring(entry.record.type)))
    end
    return nil
  end
  local argv = require("perfgo.commands.view").pprof_argv()
  local flags = args.passthrough or {}
  if #flags == 0 and not require("perfgo.sys").isatty(1) then flags = { "-top" } end
  if args.bench then
    local benchlabels = require "perfgo.benchlabels"
    local p, err = require("perfgo.pprof").read(profile)
    if not p then errors.user(string.format("%s: %s", profile, tostring(err))) end
    benchlabels.check(p, args.bench, "run " .. entry.id:sub(1, 8))
    argv[#argv + 1] = "-tagfocus=" .. benchlabels.tagfocus(args.bench)
  end
  for _, f in ipairs(flags) do argv[#argv + 1] = f end
  argv[#argv + 1] = profile
  -- in perfgo's process group: pprof's interactive mode reads the
  -- terminal, and Ctrl-C there reaches it directly
  local r = require("perfgo.proc").run(argv, { stdin = "inherit", stdout = "inherit", stderr = "inherit",
    pgroup = false })
  require("perfgo.programs").check(r, argv[1])
  return r.code
end

-- The top changed functions of two profiles (of one benchmark), as text.
local function profile_table(pa, pb, top, bench)
  local functotals = require "perfgo.functotals"
  local col, st = functotals.value_column(pa)
  local ta, totala = functotals.function_totals(pa, col, bench)
  local tb, totalb = functotals.function_totals(pb, col, bench)
  local names, seen = {}, {}
  for n in pairs(ta) do names[#names + 1] = n; seen[n] = true end
  for n in pairs(tb) do if not seen[n] then names[#names + 1] = n end end
  local function delta(n, field)
    return ((tb[n] or {})[field] or 0) - ((ta[n] or {})[field] or 0)
  end
  table.sort(names, function(x, y)
    local dx, dy = math.abs(delta(x, "flat")), math.abs(delta(y, "flat"))
    if dx ~= dy then return dx > dy end
    return x < y
  end)
  local kind = st and st.unit
  local name = st and st.type or "value"
  local lines = {
    string.format("%s%s: A total %s, B total %s (%s)", name, bench and (" of " .. bench) or "",
      units.format(totala, kind), units.format(totalb, kind), units.change(totala, totalb)),
    string.format("%14s %7s %14s %7s  %s", "flat delta", "", "cum delta", "", "function"),
  }
  for i = 1, math.min(top, #names) do
    local n = names[i]
    local df, dc = delta(n, "flat"), delta(n, "cum")
    lines[#lines + 1] = string.format("%14s %6.2f%% %14s %6.2f%%  %s", units.delta(df, kind),
      totala ~= 0 and df / totala * 100 or 0, units.delta(dc, kind), totala ~= 0 and dc / totala * 100 or 0, n)
  end
  return table.concat(lines, "\n") .. "\n"
end

--- The functions whose flat and cumulative values changed most (of one
--- benchmark: --bench).
---@param a perfgo.RunEntry
---@param b perfgo.RunEntry
---@param args table
---@return integer
function M.compare(a, b, args)
  local pprof = require "perfgo.pprof"
  local function profile_of(e)
    local p, err = pprof.read(fs.join(e.dir, "perf.pb.gz"))
    if not p then
      errors.user(string.format("run %s has no readable profile (it ended %s): %s", e.id:sub(1, 8), e.status,
        tostring(err)))
    end
    if args.bench then require("perfgo.benchlabels").check(p, args.bench, "run " .. e.id:sub(1, 8)) end
    return p
  end
  local pa, pb = profile_of(a), profile_of(b)
  io.stdout:write(profile_table(pa, pb, args.top or 15, args.bench))
  return 0
end

return M
