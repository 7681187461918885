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

-- Fills tmp with what the archive directory dir holds: the binary and the
-- libraries copied back, the profile with its mappings pointing at them
-- (in dir, where they will be), the script text and git-info.txt.
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
  local script = fs.join(ctx.run.dir, "perf.script.gz")
  if fs.exists(script) then
    ok, err = fs.copy(script, fs.join(tmp, "perf.script.gz"))
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
