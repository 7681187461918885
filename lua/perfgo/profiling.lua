--- After a profile run: `perf script` streamed into perfgo.parser (no
--- temporary file, no whole-file read), the pprof profile written to the
--- run directory, the script text kept compressed for the archive.
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
    and not path:match("%(deleted%)$") and not path:match("^/%[")
end

--- For a remote run: the user-space files the samples touched, copied
--- back once and named by content hash, as a path map for the parser.
--- The test binary maps to the local binary it was built as.
---@param ctx table
---@return table<string,string> path_map
function M.fetch_dsos(ctx)
  local map = {}
  if ctx.binary and ctx.staged_binary then map[ctx.staged_binary] = ctx.binary.path end
  if ctx.target.kind == "local" then return map end
  local data = ctx.target:scratch("perf.data")
  local r = ctx.target:run({ "perf", "buildid-list", "-i", data, "--with-hits" },
    { stdin = "null", env = perf.env })
  if r.code ~= 0 then
    ui.warn("perf buildid-list failed; remote libraries will have names but no lines: %s",
      (r.stderr or ""):gsub("%s+$", ""))
    return map
  end
  local dir = fs.join(ctx.run.dir, "dsos")
  for line in (r.stdout or ""):gmatch("[^\n]+") do
    local path = line:match("^%x+%s+(.+)$")
    if path and is_fetchable(path) and map[path] == nil then
      fs.mkdir_p(dir)
      local tmp = fs.join(dir, ".incoming")
      local ok = ctx.target:get(path, tmp)
      if ok then
        local sum = proc.run({ "sha256sum", tmp }, { stdin = "null" })
        local hash = (sum.stdout or ""):match("^(%x+)")
        if hash then
          local name = hash:sub(1, 16) .. "-" .. fs.basename(path)
          local dest = fs.join(dir, name)
          os.rename(tmp, dest)
          map[path] = dest
          history.add_artifact(ctx.run, "dso", "dsos/" .. name)
        end
      else
        ui.warn("could not copy %s from %s: its frames will have names but no lines", path, ctx.target.host)
      end
      os.remove(tmp)
    end
  end
  return map
end

--- Streams `perf script` from the target into the parser and a gzip
--- process; writes perf.pb.gz and perf.script.gz into the run directory.
---@param ctx table
function M.convert(ctx)
  local parser = require "perfgo.parser"
  local run = ctx.run
  local path_map = M.fetch_dsos(ctx)
  local p = parser.new({
    path_map = path_map,
    binary_root = ctx.opts.binary_root,
    -- remote runs: only the files copied back may translate addresses
    remote = ctx.target.kind == "remote",
    source = string.format("perf script of perfgo run %s (%s)", run.id, ctx.target.description),
  })
  local script_gz = fs.join(run.dir, "perf.script.gz")
  local gz = proc.spawn({ "gzip", "-c", "-6" }, { stdin = "pipe", stdout = { file = script_gz } })
  local err_path = fs.join(run.dir, "perf-script.stderr")
  local child = ctx.target:spawn({ "perf", "script", "-i", ctx.target:scratch("perf.data"), "--show-mmap-events" },
    { stdin = "null", stdout = "pipe", stderr = { file = err_path }, env = perf.env })
  local total, next_report = 0, 8 << 20
  while true do
    local chunk = child:read("stdout", CHUNK)
    if not chunk then break end
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
  history.add_artifact(run, "perf-script", "perf.script.gz")
  local stderr_text = fs.read(err_path) or ""
  local failure = require("perfgo.perfcheck").script_failure(res.code, stderr_text)
  if failure then ui.warn("%s", failure) end
  if stderr_text == "" then os.remove(err_path) else history.add_artifact(run, "log", "perf-script.stderr") end

  local profile, perr = p:finish()
  if not profile then
    ui.warn("converting perf script failed: %s", tostring(perr))
    return
  end
  for _, w in ipairs(p:warnings()) do ui.warn("%s", w) end
  local stats = p:stats()
  if (stats.unrecognized or 0) > 0 then
    ui.warn("%d line(s) of perf script output were not understood and skipped (first: %s)",
      stats.unrecognized, tostring(stats.first_unrecognized))
  end
  local out = fs.join(run.dir, "perf.pb.gz")
  local ok, werr = profile:write(out)
  if not ok and werr then ui.warn("cannot write the profile: %s", werr) return end
  history.add_artifact(run, "profile", "perf.pb.gz")
  local summary = profile:summary()
  ctx.profile, ctx.profile_summary = profile, summary
  local types = summary.sample_types or {}
  local samples = types[1] and types[1].total or 0
  ui.step("profile: %d samples from %s of perf script", samples, ui.bytes(total))
  if samples == 0 and not failure and not ctx.warned_zero_samples then
    ui.warn("the profile has no samples: the test ran too briefly for the event to fire, or the event "
      .. "never fired. Run longer (-bench=. -benchtime=2s), or pick another event (-e cpu-clock).")
  end
  ui.info("profile: %s", out)
end

return M
