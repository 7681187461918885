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
---@param ctx table
---@return string
function M.dir(ctx)
  local repo = fs.basename(ctx.repo.root)
  local stamp = os.date("!%Y%m%d-%H%M%S", math.floor(ctx.run.started))
  local commit = ctx.git and ctx.git.commit and ctx.git.commit:sub(1, 7) or "nocommit"
  local dir = fs.join(M.root(ctx.opts), repo)
  if ctx.package.rel ~= "." then dir = fs.join(dir, ctx.package.rel) end
  return fs.join(dir, stamp .. "-" .. commit)
end

local function archive(ctx)
  local git = require "perfgo.git"
  local pprof = require "perfgo.pprof"
  local dir = M.dir(ctx)
  if fs.exists(dir) then dir = dir .. "-" .. ctx.run.id:sub(1, 8) end
  assert(fs.mkdir_p(dir))
  local rewrite = {}
  if ctx.binary then
    local dest = fs.join(dir, ctx.binary.name)
    assert(fs.copy(ctx.binary.path, dest))
    rewrite[ctx.binary.path] = dest
  end
  for _, a in ipairs(ctx.run.artifacts) do
    if a.type == "dso" then
      local dest = fs.join(dir, a.file)
      assert(fs.mkdir_p(fs.dirname(dest)))
      assert(fs.copy(fs.join(ctx.run.dir, a.file), dest))
      rewrite[fs.join(ctx.run.dir, a.file)] = dest
    end
  end
  local profile = assert(pprof.read(fs.join(ctx.run.dir, "perf.pb.gz")))
  profile:rewrite_mappings(rewrite)
  assert(profile:write(fs.join(dir, "perf.pb.gz")))
  local script = fs.join(ctx.run.dir, "perf.script.gz")
  if fs.exists(script) then assert(fs.copy(script, fs.join(dir, "perf.script.gz"))) end
  if ctx.git then assert(fs.write_atomic(fs.join(dir, "git-info.txt"), git.info_text(ctx.git))) end
  return dir
end

--- Archives a profile run. Failure is a warning, never a failed run.
---@param ctx table
---@return string|nil dir
function M.save(ctx)
  local ok, dir = pcall(archive, ctx)
  if not ok then
    ui.warn("archiving the profile failed: %s", tostring(dir))
    return nil
  end
  ui.info("archived: %s", dir)
  return dir
end

return M
