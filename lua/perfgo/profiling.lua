--- After a profile run: perf.data read natively by perfgo.parser (no `perf
--- script`), the pprof profile written to the run directory, perf.data
--- kept there for the archive. A remote run copies back perf.data, the
--- host's kallsyms and the files the samples touched, in one transfer, and
--- converts here. With --via-script, or for a recording the reader cannot
--- handle (--call-graph dwarf, AUX tracing), `perf script` is streamed from
--- the target into the parser instead, and its text kept compressed.
local proc = require "perfgo.proc"
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local history = require "perfgo.history"
local perf = require "perfgo.perf"

local M = {}

local CHUNK = 1 << 16

-- DSOs whose files cannot be fetched or are not user-space files.
local function is_fetchable(path)
  return path:sub(1, 1) == "/" and not path:match("^/memfd:") and not path:match("^/tmp/perf%-%d+%.map$")
    and not path:match("%(deleted%)$") and not path:match("^/%[") and not path:match("^//")
    and not path:match("^/dev/") and path ~= "/anon_hugepage"
end

-- The files `perf buildid-list --with-hits` names for the recording on
-- the target (the perf script path: it has build ids; with perf record -z
-- the list is not written).
local function buildid_files(ctx)
  local r = ctx.target:run({ "perf", "buildid-list", "-i", ctx.target:scratch("perf.data"), "--with-hits" },
    { stdin = "null", env = perf.env })
  if not r or r.code ~= 0 then
    ui.warn("perf buildid-list failed; remote libraries will have names but no lines: %s",
      r and (r.stderr or ""):gsub("%s+$", "") or "no result")
    return {}
  end
  local out = {}
  for line in (r.stdout or ""):gmatch("[^\n]+") do
    local path = line:match("^%x+%s+(.+)$")
    if path then out[#out + 1] = path end
  end
  return out
end

--- For a remote run: the user-space files of the recording (files; by
--- default those perf buildid-list names), copied back once and named by
--- content hash, as a path map for the parser. The test binary maps to the
--- local binary it was built as.
---@param ctx perfgo.Context
---@param files? string[] remote paths
---@return table<string,string> path_map
function M.fetch_dsos(ctx, files)
  local map = {}
  if ctx.binary and ctx.staged_binary then map[ctx.staged_binary] = ctx.binary.path end
  -- files the rule copied here already (attach: the processes' binaries)
  for path, file in pairs(ctx.path_map or {}) do map[path] = file end
  if ctx.target.kind == "local" then return map end
  local before = select(2, proc.interrupted()) or 0
  files = files or buildid_files(ctx)
  local dir = fs.join(ctx.run.dir, "dsos")
  local want, seen = {}, {}
  for _, path in ipairs(files) do
    if is_fetchable(path) and map[path] == nil and not seen[path] then
      seen[path] = true
      want[#want + 1] = { path, fs.join(dir, string.format(".incoming-%d", #want + 1)) }
    end
  end
  -- Ctrl-C since the list was asked for: no copying
  if #want == 0 or (select(2, proc.interrupted()) or 0) > before then return map end
  fs.mkdir_p(dir)
  -- One request for all of them (no SSH session per file).
  local missing = {}
  for _, p in ipairs(ctx.target:get_many(want)) do missing[p] = true end
  for _, w in ipairs(want) do
    local path, tmp = w[1], w[2]
    local hash
    if not missing[path] then
      local sum = proc.run({ "sha256sum", tmp }, { stdin = "null", timeout = 120 })
      hash = (sum.stdout or ""):match("^(%x+)")
    end
    if hash then
      local name = hash:sub(1, 16) .. "-" .. fs.basename(path)
      local dest = fs.join(dir, name)
      os.rename(tmp, dest)
      map[path] = dest
      history.add_artifact(ctx.run, "dso", "dsos/" .. name)
    else
      ui.warn("could not copy %s from %s: its frames are not symbolized", path, ctx.target.host)
    end
    os.remove(tmp)
  end
  return map
end

--- The offset from the recording's clock to the time of day, in
--- nanoseconds, from the reference time perf stores with a clock chosen by
--- -k: from the clock data of the perf.data copied here (data), else from
--- `perf report --header-only` on the target ("reference time: ... = <tod>
--- (TOD) = <clock> (monotonic)"); nil when there is none.
---@param ctx perfgo.Context
---@param data? string
---@return integer|nil
function M.clock_offset(ctx, data)
  if data then
    local reader = require("perfgo.perfdata").open(data)
    local info = reader and reader:info()
    if reader then reader:close() end
    if info and info.clock_wall_ns and info.clock_ref_ns then return info.clock_wall_ns - info.clock_ref_ns end
    if info then return nil end
  end
  local r = ctx.target:run({ "perf", "report", "--header-only", "-i", ctx.target:scratch("perf.data") },
    { stdin = "null", env = perf.env })
  local tod, clock = ((r and r.stdout) or ""):match("reference time:[^\n]-= ([%d.]+) %(TOD%) = ([%d.]+) %(")
  if not tod then return nil end
  -- in two parts, so the sum stays exact in nanoseconds
  local function ns(text)
    local int, frac = text:match("^(%d+)%.?(%d*)$")
    return tonumber(int) * 1000000000 + tonumber(((frac or "") .. "000000000"):sub(1, 9))
  end
  return ns(tod) - ns(clock)
end

-- Signals that arrived so far (perfgo.proc).
local function signals()
  return select(2, proc.interrupted()) or 0
end

-- The profile of a finished parser: written to the run directory and
-- set as ctx.profile when it has samples. data: the perf.data here (for
-- its clock), what: what was read, for the summary line.
local function finish(ctx, p, data, what)
  local errors = require "perfgo.errors"
  local run = ctx.run
  local profile, perr = p:finish()
  if not profile then errors.fail(1, "converting the recording failed: " .. tostring(perr)) end
  for _, w in ipairs(p:warnings()) do ui.warn("%s", w) end
  local stats = p:stats()
  if (stats.unrecognized or 0) > 0 then
    ui.warn("%d line(s) of perf script output were not understood and skipped (first: %s)",
      stats.unrecognized, tostring(stats.first_unrecognized))
  end
  local summary = profile:summary()
  local types = summary.sample_types or {}
  local samples = types[1] and types[1].total or 0
  if samples == 0 then
    ui.warn("the profile has no samples, so none was written: the test ran too briefly for the event "
      .. "to fire, or the event never fired. Run longer (-bench=. -benchtime=2s), or pick another event "
      .. "(-e cpu-clock).")
    return
  end
  local offset = M.clock_offset(ctx, data)
  if offset and summary.time_nanos then profile:set_time(summary.time_nanos + offset, summary.duration_nanos) end
  local out = fs.join(run.dir, "perf.pb.gz")
  local ok, werr = profile:write(out)
  if not ok then errors.fail(1, "cannot write the profile: " .. tostring(werr)) end
  history.add_artifact(run, "profile", "perf.pb.gz")
  ctx.profile = profile
  ui.step("profile: %d samples from %s", samples, what)
  ui.info("profile: %s", out)
end

--- Streams `perf script` from the target into the parser and a gzip
--- process; writes perf.pb.gz and perf.script.gz into the run directory.
--- Sets ctx.profile only when a profile with samples was written: no
--- empty profile is ever claimed. A signal during the conversion stops it
--- (nothing half-converted is kept); perf script failing is an error.
---@param ctx perfgo.Context
---@param path_map? table<string,string> the files copied back, when they were
function M.convert_script(ctx, path_map)
  local parser = require "perfgo.parser"
  local errors = require "perfgo.errors"
  local run = ctx.run
  local signals_before = signals()
  path_map = path_map or M.fetch_dsos(ctx)
  local p = parser.new({
    path_map = path_map,
    binary_root = ctx.opts.binary_root,
    -- remote runs: only the files copied back may translate addresses
    remote = ctx.target.kind == "remote",
    source = string.format("perf script of perfgo run %s (%s)", run.id, ctx.target.description),
    -- labels the rule reads off the stacks (the Go rule: benchmark)
    stack_labels = ctx.rule and ctx.rule.stack_labels,
  })
  local script_gz = fs.join(run.dir, "perf.script.gz")
  local gz, gerr = proc.spawn({ "gzip", "-c", "-6" }, { stdin = "pipe", stdout = { file = script_gz } })
  if not gz then errors.fail(1, "cannot keep the perf script text: " .. tostring(gerr)) end
  local err_path = fs.join(run.dir, "perf-script.stderr")
  local child, serr = ctx.target:spawn({ "perf", "script", "-i", ctx.target:scratch("perf.data"),
    "--show-mmap-events" }, { stdin = "null", stdout = "pipe", stderr = { file = err_path }, env = perf.env })
  if not child then errors.fail(1, "cannot run perf script: " .. tostring(serr)) end
  if signals_before > 0 then
    ui.info("interrupted: converting what perf captured so far (interrupt again to stop)")
  end
  local total, next_report = 0, 8 << 20
  while true do
    local chunk = child:read("stdout", CHUNK)
    if not chunk or signals() > signals_before then break end
    p:feed(chunk)
    gz:write(chunk)
    total = total + #chunk
    if total >= next_report then
      ui.step("converting: %s of perf script read", ui.bytes(total))
      next_report = next_report + (32 << 20)
    end
  end
  local res = child:wait()
  gz:close_stdin()
  gz:wait()
  local stderr_text = fs.read(err_path) or ""
  if stderr_text == "" then os.remove(err_path) else history.add_artifact(run, "log", "perf-script.stderr") end
  if signals() > signals_before then
    os.remove(script_gz)
    ui.warn("the conversion was stopped: no profile was written")
    return
  end
  local failure = require("perfgo.perfcheck").script_failure(res.code, stderr_text)
  if failure then
    os.remove(script_gz)
    errors.fail(1, failure)
  end
  history.add_artifact(run, "perf-script", "perf.script.gz")
  local data = ctx.target.kind == "local" and ctx.target:scratch("perf.data") or nil
  finish(ctx, p, data, ui.bytes(total) .. " of perf script")
end

--- Brings perf.data into the run directory (copied back from a remote
--- host, with the host's kallsyms and the files the samples touched) and
--- converts it here, without perf script; falls back to convert_script
--- for --via-script and for recordings the reader cannot handle (saying
--- why). Sets ctx.profile only when a profile with samples was written. A
--- signal during the conversion stops it (nothing half-converted is kept).
---@param ctx perfgo.Context
function M.convert(ctx)
  if ctx.opts.via_script then return M.convert_script(ctx) end
  local parser = require "perfgo.parser"
  local errors = require "perfgo.errors"
  local run = ctx.run
  local signals_before = signals()
  local data = fs.join(run.dir, "perf.data")
  local remote = ctx.target.kind == "remote"
  local kallsyms, path_map
  if remote then
    -- perf.data and the host's kernel symbols (captured beside it, as perf
    -- keeps them in its build-id cache) in one transfer; then the files
    -- its processes mapped, named by the copy
    kallsyms = fs.join(run.dir, "kallsyms")
    ctx.target:run({ "sh", "-c", 'cat /proc/kallsyms > "$1" 2>/dev/null', "sh", ctx.target:scratch("kallsyms") },
      { stdin = "null" })
    local missing = {}
    for _, m in ipairs(ctx.target:get_many({ { ctx.target:scratch("perf.data"), data },
      { ctx.target:scratch("kallsyms"), kallsyms } })) do
      missing[m] = true
    end
    if missing[ctx.target:scratch("perf.data")] then
      errors.fail(1, string.format("cannot copy perf.data back from %s", ctx.target.host))
    end
    if missing[ctx.target:scratch("kallsyms")] or (fs.size(kallsyms) or 0) == 0 then
      os.remove(kallsyms)
      kallsyms = nil
    end
    local reader, rerr = require("perfgo.perfdata").open(data)
    local files = reader and reader:mapped_files() or {}
    if reader then reader:close() end
    if not reader then ui.warn("cannot list the files perf.data maps: %s", tostring(rerr)) end
    path_map = M.fetch_dsos(ctx, files)
  else
    local ok, err = fs.copy(ctx.target:scratch("perf.data"), data)
    if not ok then errors.fail(1, "cannot keep perf.data in the run directory: " .. tostring(err)) end
    path_map = M.fetch_dsos(ctx)
  end
  history.add_artifact(run, "perf-data", "perf.data")
  if kallsyms then history.add_artifact(run, "kallsyms", "kallsyms") end
  ctx.path_map = path_map -- for the archive: which file stands for which
  if signals_before > 0 then
    ui.info("interrupted: converting what perf captured so far (interrupt again to stop)")
  end
  local p = parser.new({
    path_map = path_map,
    binary_root = ctx.opts.binary_root,
    -- remote runs: only the files copied back may be read
    remote = remote,
    kallsyms = kallsyms,
    source = string.format("perf.data of perfgo run %s (%s)", run.id, ctx.target.description),
    stack_labels = ctx.rule and ctx.rule.stack_labels,
  })
  local STOP = {}
  local next_report = 32 << 20
  local done, ok, err, reason = pcall(p.feed_file, p, data, function(bytes)
    if signals() > signals_before then error(STOP, 0) end
    if bytes >= next_report then
      ui.step("converting: %s of perf.data read", ui.bytes(bytes))
      next_report = bytes + (32 << 20)
    end
  end)
  if not done and ok == STOP then
    p:close()
    ui.warn("the conversion was stopped: no profile was written")
    return
  end
  if not done then error(ok, 0) end
  if not ok and reason == "unsupported" then
    p:close()
    ui.info("converting with perf script instead: %s", tostring(err))
    return M.convert_script(ctx, path_map)
  end
  if not ok then errors.fail(1, "converting perf.data failed: " .. tostring(err)) end
  finish(ctx, p, data, ui.bytes(fs.size(data) or 0) .. " of perf.data")
end

return M
