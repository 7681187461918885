--- The profile archive: every profile run copied, with its binary, to
--- `<archive root>/<repo>/<path in repo>/<YYYYMMDD-HHMMSS>-<commit>/`, with
--- the profile's mappings pointing at the archived binary so that
--- `go tool pprof perf.pb.gz` there needs nothing else.
local fs = require "perfgo.fs"
local ui = require "perfgo.ui"

local M = {}

--- The archive root: --archive, then $PERFGO_ARCHIVE, then ~/perfgo-profiles.
---@param opts table
---@return string
function M.root(opts)
  if opts.archive and opts.archive ~= "" then return fs.abspath(opts.archive) end
  local env = os.getenv("PERFGO_ARCHIVE")
  if env and env ~= "" then return env end
  return fs.join(os.getenv("HOME") or "/tmp", "perfgo-profiles")
end

--- The directory a run is archived in.
---@param ctx perfgo.Context
---@return string
function M.dir(ctx)
  local repo = fs.basename(ctx.repo.root)
  local stamp = os.date("!%Y%m%d-%H%M%S", math.floor(ctx.run.started))
  local commit = ctx.git and ctx.git.commit and ctx.git.commit:sub(1, 7) or "nocommit"
  local dir = fs.join(M.root(ctx.opts), repo)
  if ctx.package.rel ~= "." then dir = fs.join(dir, ctx.package.rel) end
  return fs.join(dir, stamp .. "-" .. commit)
end

--- Beside an archived perf.data: one "FROM<TAB>TO" line for each file the
--- recording names (FROM) that the archive holds (TO, relative to it);
--- "[kernel.kallsyms]" names the host's kallsyms. `perfgo convert` reads it.
M.PATHS = "perf.data.paths"

--- The path map and kallsyms of an archived recording at data, from the
--- paths file beside it; nil when there is none.
---@param data string
---@return table<string,string>|nil path_map
---@return string|nil kallsyms
function M.read_paths(data)
  local text = fs.read(fs.join(fs.dirname(data), M.PATHS))
  if not text or fs.basename(data) ~= "perf.data" then return nil end
  local dir, map, kallsyms = fs.dirname(data), {}, nil
  for from, to in text:gmatch("([^\t\n]+)\t([^\n]+)") do
    local at = fs.join(dir, to)
    if from == "[kernel.kallsyms]" then kallsyms = at else map[from] = at end
  end
  return map, kallsyms
end

-- Fills tmp with what the archive directory dir holds: the binary and the
-- libraries copied back, the profile with its mappings pointing at them
-- (in dir, where they will be), the recording and git-info.txt.
-- Returns true, or nil and why not.
local function fill(ctx, tmp, dir)
  local git = require "perfgo.git"
  local pprof = require "perfgo.pprof"
  local ok, err = fs.mkdir_p(tmp)
  if not ok then return nil, err end
  local rewrite = {}
  local function copy(src, name)
    local made, merr = fs.mkdir_p(fs.dirname(fs.join(tmp, name)))
    if not made then return nil, merr end
    local copied, cerr = fs.copy(src, fs.join(tmp, name))
    if not copied then return nil, cerr end
    rewrite[src] = fs.join(dir, name)
    return true
  end
  if ctx.binary then
    ok, err = copy(ctx.binary.path, ctx.binary.name)
    if not ok then return nil, err end
  end
  for _, a in ipairs(ctx.run.artifacts) do
    if a.type == "dso" then
      ok, err = copy(fs.join(ctx.run.dir, a.file), a.file)
      if not ok then return nil, err end
    end
  end
  local profile, perr = pprof.read(fs.join(ctx.run.dir, "perf.pb.gz"))
  if not profile then return nil, perr end
  profile:rewrite_mappings(rewrite)
  ok, err = profile:write(fs.join(tmp, "perf.pb.gz"))
  if not ok then return nil, err end
  -- the recording (perf.data, and a remote host's kallsyms), from which
  -- `perfgo convert` makes the profile again; perf script's text when
  -- the run converted that (--via-script)
  for _, name in ipairs({ "perf.data", "kallsyms", "perf.script.gz" }) do
    local src = fs.join(ctx.run.dir, name)
    if fs.exists(src) then
      ok, err = fs.copy(src, fs.join(tmp, name))
      if not ok then return nil, err end
    end
  end
  -- which archived file stands for each file perf.data names, for
  -- `perfgo convert -i perf.data` (M.PATHS)
  if fs.exists(fs.join(tmp, "perf.data")) then
    local lines = {}
    for from, to in pairs(ctx.path_map or {}) do
      local at = rewrite[to]
      if at then lines[#lines + 1] = from .. "\t" .. fs.relative(at, dir) end
    end
    table.sort(lines)
    if fs.exists(fs.join(tmp, "kallsyms")) then lines[#lines + 1] = "[kernel.kallsyms]\tkallsyms" end
    ok, err = fs.write_atomic(fs.join(tmp, M.PATHS), table.concat(lines, "\n") .. (#lines > 0 and "\n" or ""))
    if not ok then return nil, err end
  end
  if ctx.git then
    ok, err = fs.write_atomic(fs.join(tmp, "git-info.txt"), git.info_text(ctx.git))
    if not ok then return nil, err end
  end
  return true
end

--- Archives a profile run: written into a temporary directory beside
--- its place (a dot-directory, which `perfgo list` skips), then renamed
--- into place, so the archive never holds half a run. Failure is a
--- warning, never a failed run.
---@param ctx perfgo.Context
---@return string|nil dir
function M.save(ctx)
  local dir = M.dir(ctx)
  if fs.exists(dir) then dir = dir .. "-" .. ctx.run.id:sub(1, 8) end
  local tmp = fs.join(fs.dirname(dir), ".incoming-" .. ctx.run.id:sub(1, 12))
  local ok, err = fill(ctx, tmp, dir)
  if ok then
    ok, err = os.rename(tmp, dir)
    if not ok then err = string.format("cannot rename %s to %s: %s", tmp, dir, err) end
  end
  if not ok then
    fs.remove_tree(tmp)
    ui.warn("archiving the profile failed: %s", tostring(err))
    return nil
  end
  ui.info("archived: %s", dir)
  return dir
end

return M
