--- `perfgo list`: recorded runs and archived profiles, newest first.
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"
local json = require "perfgo.json"
local runsel = require "perfgo.select"

local M = {
  name = "list",
  summary = "List recorded runs and archived profiles, newest first.",
}

function M.define(cmd)
  cmd:option("--type", "What to list: runs, profiles or all."):choices({ "runs", "profiles", "all" })
    :default("runs")
  cmd:option("--path", "Only runs of this package path (relative to the repository root).")
  cmd:option("--limit", "At most N entries."):convert(require("perfgo.runopts").count_option("--limit"))
    :argname("<n>")
  cmd:flag("--json", "Print one JSON array (for scripts).")
  cmd:option("--archive", "Archive root (default $PERFGO_ARCHIVE or ~/perfgo-profiles).")
end


-- JSON numbers decode as floats: show whole numbers without ".0".
local function int(v)
  return tostring(math.type(v) == "float" and math.tointeger(v) or v)
end

local function short_time(ts)
  if type(ts) ~= "string" then return "?" end
  local d, t = ts:match("^(%d+%-%d+%-%d+)T(%d+:%d+)")
  return d and (d .. " " .. t) or ts
end

local function duration(s)
  if type(s) ~= "number" then return "?" end
  if s < 60 then return string.format("%.1fs", s) end
  return string.format("%dm%02ds", math.floor(s / 60), math.floor(s % 60))
end

local function fit(s, width)
  if #s <= width then return s end
  return s:sub(1, width - 3) .. "..."
end

local function target_text(rec)
  local t = type(rec.target) == "table" and rec.target or {}
  local plat = string.format("%s/%s", t.os or "?", t.arch or "?")
  if t.remote_host then return tostring(t.remote_host) .. " " .. plat end
  return "local " .. plat
end

local function git_text(rec)
  local g = type(rec.git) == "table" and rec.git or nil
  if not g or type(g.commit) ~= "string" then return "no git" end
  return string.format("%s@%s%s", tostring(g.branch or "detached"), g.commit:sub(1, 8),
    g.dirty == true and "+dirty" or "")
end

local function args_text(rec)
  if type(rec.args) ~= "table" then return "" end
  local parts = {}
  for _, a in ipairs(rec.args) do parts[#parts + 1] = tostring(a) end
  return table.concat(parts, " ")
end

-- The artifacts a user looks for first come first.
local ORDER = { profile = 1, stat = 2, c2c = 3, ["go-profile"] = 4, folded = 5, ["stat-text"] = 6,
  ["perf-data"] = 7, ["perf-script"] = 8, binary = 9, stdout = 10, stderr = 11 }

local function artifacts_text(rec)
  if type(rec.artifacts) ~= "table" then return "" end
  local list = {}
  for _, a in ipairs(rec.artifacts) do
    if type(a) == "table" and a.type ~= "dso" and a.file then list[#list + 1] = a end
  end
  table.sort(list, function(a, b)
    local oa, ob = ORDER[a.type] or 50, ORDER[b.type] or 50
    if oa ~= ob then return oa < ob end
    return tostring(a.file) < tostring(b.file)
  end)
  local parts = {}
  for _, a in ipairs(list) do
    parts[#parts + 1] = string.format("%s %s", a.file, ui.bytes(tonumber(a.size) or 0))
  end
  return table.concat(parts, ", ")
end

local function rel_dir(dir, root)
  return fs.relative(dir, root) or dir
end

-- The third line: what went wrong, or who is running it.
local function outcome_text(e)
  local rec = e.record
  if e.status == "running" then
    return string.format("in progress: perfgo pid %s on %s", int(rec.pid), tostring(rec.host))
  elseif e.status == "abandoned" then
    return string.format("perfgo (pid %s on %s) stopped before the run ended", int(rec.pid), tostring(rec.host))
  elseif e.status == "interrupted" then
    return "interrupted by " .. tostring(rec.signal or "a signal")
  elseif e.status == "error" then
    return "error: " .. tostring(rec.error or "(no message)")
  end
  return nil
end

local function print_run(e, root)
  local rec = e.record
  if not rec then
    print(string.format("%-11s %s  corrupt record: %s", "??", e.id:sub(1, 8), e.problem))
    print("     " .. rel_dir(e.dir, root))
    return
  end
  local pkg = type(rec.package) == "table" and (rec.package.path or rec.package.pattern) or "?"
  print(fit(string.format("%-11s %s %s %-7s %s", e.status, short_time(rec.timestamp), e.id:sub(1, 8),
    tostring(rec.type), tostring(pkg)), 80))
  local ended = "not ended"
  if e.status ~= "running" and e.status ~= "abandoned" then
    ended = string.format("exit %s after %s", int(rec.exit_code), duration(rec.duration))
  end
  print(fit(string.format("     %s  %s  %s  %s", ended, target_text(rec), git_text(rec), args_text(rec)), 80))
  local why = outcome_text(e)
  if why then print(fit("     " .. why, 80)) end
  local arts = artifacts_text(rec)
  if arts ~= "" then print(fit("     " .. arts, 80)) end
  print(fit("     " .. rel_dir(e.dir, root), 80))
end

-- The line above a group's runs: its id, hosts and how they ended.
local function group_header(g)
  local counts, order = {}, {}
  for _, e in ipairs(g.runs) do
    local st = e.status or "corrupt"
    if not counts[st] then order[#order + 1] = st end
    counts[st] = (counts[st] or 0) + 1
  end
  local tally = {}
  for _, st in ipairs(order) do tally[#tally + 1] = counts[st] .. " " .. st end
  local missing = (g.size or #g.runs) - #g.runs
  if missing > 0 then tally[#tally + 1] = missing .. " not run" end
  return fit(string.format("group %s, %d host%s: %s", g.id:sub(1, 8), g.size or #g.runs,
    (g.size or #g.runs) == 1 and "" or "s", table.concat(tally, ", ")), 80)
end

local function run_json(e)
  local rec = e.record or {}
  return {
    id = e.id, dir = e.dir, corrupt = e.record == nil or nil, problem = e.problem,
    status = e.status, type = rec.type, timestamp = rec.timestamp, duration = rec.duration,
    exit_code = rec.exit_code, error = rec.error, signal = rec.signal, args = rec.args,
    package = rec.package, target = rec.target, git = rec.git, artifacts = rec.artifacts,
    archive = rec.archive, pid = rec.pid, host = rec.host, group = rec.group,
  }
end

--- Archived profiles: directories under the archive root holding
--- perf.pb.gz (not dot-directories).
---@param root string
---@return table[]
function M.profiles(root)
  local lfs = require "lfs"
  local out = {}
  local function walk(dir, depth)
    if depth > 12 then return end
    if fs.is_file(fs.join(dir, "perf.pb.gz")) then
      out[#out + 1] = {
        dir = dir, rel = fs.relative(dir, root) or dir,
        size = fs.size(fs.join(dir, "perf.pb.gz")),
        time = lfs.attributes(fs.join(dir, "perf.pb.gz"), "modification") or 0,
      }
      return
    end
    for _, name in ipairs(fs.list(dir)) do
      local sub = fs.join(dir, name)
      -- a dot-directory is an archive being written (perfgo.archive)
      if name:sub(1, 1) ~= "." and fs.is_dir(sub) then walk(sub, depth + 1) end
    end
  end
  walk(root, 0)
  table.sort(out, function(a, b) return a.time > b.time end)
  return out
end

function M.run(args)
  local root = runsel.repo_root()
  local want_runs = args.type ~= "profiles"
  local want_profiles = args.type ~= "runs"
  local entries, profiles = {}, {}
  if want_runs then
    for _, e in ipairs(runsel.runs(root)) do
      local rec = e.record
      local path = rec and type(rec.package) == "table" and rec.package.path
      if not args.path or path == args.path:gsub("^%./", ""):gsub("/$", "") then
        entries[#entries + 1] = e
      end
    end
  end
  if want_profiles then
    local archive_root = require("perfgo.archive").root(args)
    for _, p in ipairs(M.profiles(archive_root)) do
      if not args.path or p.rel:find(args.path:gsub("^%./", ""), 1, true) then profiles[#profiles + 1] = p end
    end
  end
  local limit = args.limit or math.huge
  if args.json then
    local out = json.array({})
    for i, e in ipairs(entries) do
      if i > limit then break end
      local j = run_json(e)
      j.kind = "run"
      out[#out + 1] = j
    end
    for i, p in ipairs(profiles) do
      if i > limit then break end
      out[#out + 1] = { kind = "profile", dir = p.dir, path = p.rel, size = p.size }
    end
    io.stdout:write(json.encode(out))
    return 0
  end
  if want_runs then
    if #entries == 0 then
      print(args.path and ("no runs of " .. args.path .. " recorded in " .. root)
        or ("no runs recorded yet in " .. root .. " (perfgo test ... records one)"))
    end
    -- the runs of a group (one per host) together, where its newest is
    local group = require "perfgo.group"
    local members = {}
    for _, g in ipairs(group.groups(entries)) do members[g.id] = g end
    local shown = 0
    for _, e in ipairs(entries) do
      if shown >= limit then break end
      local gid = group.id_of(e.record)
      local g = gid and members[gid]
      if g then
        members[gid] = nil
        print(group_header(g))
        for _, m in ipairs(g.runs) do print_run(m, root) end
        shown = shown + #g.runs
      elseif not gid then
        print_run(e, root)
        shown = shown + 1
      end
    end
  end
  if want_profiles then
    if want_runs then print("") end
    if #profiles == 0 then print("no archived profiles yet") end
    for i, p in ipairs(profiles) do
      if i > limit then break end
      print(fit(string.format("%s  %8s  %s", os.date("%Y-%m-%d %H:%M", p.time), ui.bytes(p.size or 0), p.rel), 80))
    end
  end
  return 0
end

return M
