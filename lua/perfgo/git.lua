--- What perfgo records about the repository a run comes from.
local proc = require "perfgo.proc"
local fs = require "perfgo.fs"

local M = {}

local function git(dir, ...)
  local r = proc.run({ "git", "-C", dir, ... }, { stdin = "null", timeout = 60 })
  if r.timed_out then return nil, string.format("'git %s' did not finish within 60 s", (...)) end
  if r.code ~= 0 then return nil, (r.stderr or ""):gsub("%s+$", "") end
  return (r.stdout:gsub("\n$", ""))
end

--- The repository root containing dir, or nil when dir is not in a git
--- work tree (or git is missing).
---@param dir string
---@return string|nil
function M.root(dir)
  local root = git(dir, "rev-parse", "--show-toplevel")
  if root and root ~= "" then return root end
  return nil
end

--- Commit, branch and dirty state of the repository at root.
---@param root string
---@return perfgo.GitInfo
function M.info(root)
  local info = { root = root, dirty = false }
  info.commit = git(root, "rev-parse", "HEAD")
  info.short = info.commit and info.commit:sub(1, 12)
  local branch = git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
  info.branch = branch ~= "" and branch or nil
  local status = git(root, "status", "--porcelain", "--untracked-files=no")
  info.dirty = status ~= nil and status ~= ""
  info.describe = git(root, "describe", "--always", "--dirty")
  return info
end

-- perfgo's own directory (the run history, binaries) is never part of
-- the tree a run needs, whether or not the repository ignores it.
local function is_perfgo_dir(name)
  return name == ".perfgo" or name:sub(1, 8) == ".perfgo/"
end

-- The files under root of a directory that is not a git work tree: every
-- regular file and symbolic link, without .git and .perfgo.
local function plain_files(root)
  local r = proc.run({ "find", ".", "(", "-name", ".git", "-o", "-name", ".perfgo", ")", "-prune", "-o",
    "(", "-type", "f", "-o", "-type", "l", ")", "-print0" }, { cwd = root, stdin = "null", timeout = 300 })
  if r.code ~= 0 then
    return nil, "cannot list the files of " .. root .. ": " .. (r.stderr or ""):gsub("%s+$", "")
  end
  local files = {}
  for name in r.stdout:gmatch("([^%z]+)%z") do files[#files + 1] = name:gsub("^%./", "") end
  return files
end

--- The files a remote run needs, relative to root: in a git work tree the
--- tracked files plus untracked files that are not ignored (never
--- .perfgo/); elsewhere every file under root but .git/ and .perfgo/.
---@param root string
---@return string[]|nil, string?
function M.files(root)
  if not M.root(root) then return plain_files(root) end
  local r = proc.run({ "git", "-C", root, "ls-files", "-z", "--cached", "--others",
    "--exclude-standard" }, { stdin = "null", timeout = 300 })
  if r.code ~= 0 then return nil, "git ls-files failed: " .. (r.stderr or "") end
  local files, seen = {}, {}
  for name in r.stdout:gmatch("([^%z]+)%z") do
    -- deleted-but-tracked files are listed by --cached; skip what is gone;
    -- a file with unmerged stages is listed once per stage
    if not is_perfgo_dir(name) and not seen[name] and fs.exists(fs.join(root, name)) then
      seen[name] = true
      files[#files + 1] = name
    end
  end
  return files
end

--- The text of git-info.txt for an archive: commit, branch, state, remote.
---@param info perfgo.GitInfo
---@return string
function M.info_text(info)
  local lines = {
    "commit: " .. (info.commit or "(none)"),
    "branch: " .. (info.branch or "(detached)"),
    "dirty: " .. tostring(info.dirty),
    "describe: " .. (info.describe or ""),
  }
  local remote = git(info.root, "remote", "get-url", "origin")
  if remote then lines[#lines + 1] = "remote: " .. remote end
  local log = git(info.root, "log", "-1", "--format=%an <%ae>%n%aI%n%s")
  if log then lines[#lines + 1] = "last commit:\n" .. log end
  return table.concat(lines, "\n") .. "\n"
end

return M
