--- Picks recorded runs: `0` the latest, `-N` the N-th before it, or a
--- prefix of a run id. Shared by view and compare.
local fs = require "perfgo.fs"
local history = require "perfgo.history"
local errors = require "perfgo.errors"

local M = {}

---@class perfgo.RunEntry
---@field id string
---@field dir string
---@field record table|nil
---@field problem string|nil why the record could not be read
---@field time number sort key (seconds)

--- Every run in the history, newest first. Unreadable records are kept,
--- with `problem` saying why.
---@param root string repository root
---@return perfgo.RunEntry[]
function M.runs(root)
  local lfs = require "lfs"
  local base = history.dir(root)
  local out = {}
  for _, name in ipairs(fs.list(base)) do
    local dir = fs.join(base, name)
    if fs.is_dir(dir) then
      local rec, problem = history.read(dir)
      local time = lfs.attributes(dir, "modification") or 0
      if rec and type(rec.timestamp) == "string" then
        local y, mo, d, h, mi, s, frac = rec.timestamp:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)(%.?%d*)")
        if y then
          -- UTC timestamp to epoch seconds without relying on the local zone
          local days = os.time({ year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = 12 })
            - os.time({ year = 1970, month = 1, day = 1, hour = 12 })
          time = days + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) + (tonumber(frac) or 0)
        end
      end
      out[#out + 1] = { id = name, dir = dir, record = rec, problem = problem, time = time }
    end
  end
  table.sort(out, function(a, b)
    if a.time ~= b.time then return a.time > b.time end
    return a.id > b.id
  end)
  return out
end

--- Resolves a selector to one run.
---@param runs perfgo.RunEntry[]
---@param sel string|nil "0", "-N" or an id prefix (nil: the latest)
---@return perfgo.RunEntry
function M.pick(runs, sel)
  sel = sel or "0"
  if #runs == 0 then errors.user("no runs recorded yet in this repository (.perfgo/history is empty)") end
  local n = sel:match("^%-?(%d+)$")
  if n and (sel == "0" or sel:sub(1, 1) == "-") then
    local idx = tonumber(n) + 1
    if idx > #runs then
      errors.user(string.format("run %s: only %d runs are recorded", sel, #runs))
    end
    return runs[idx]
  end
  if not sel:match("^%x+$") then
    errors.user(string.format("'%s' is not a run selector (use 0, -N or an id prefix)", sel))
  end
  local found = {}
  for _, r in ipairs(runs) do
    if r.id:sub(1, #sel) == sel:lower() then found[#found + 1] = r end
  end
  if #found == 0 then errors.user(string.format("no run id starts with '%s'", sel)) end
  if #found > 1 then
    local ids = {}
    for i, r in ipairs(found) do
      ids[#ids + 1] = string.format("  %s  %s", r.id:sub(1, 12), r.record and r.record.timestamp or "?")
      if i == 10 then break end
    end
    errors.user(string.format("'%s' matches %d runs; give more of the id:\n%s", sel, #found,
      table.concat(ids, "\n")))
  end
  return found[1]
end

--- The repository root for browsing commands: git root, else the cwd.
---@return string
function M.repo_root()
  local cwd = fs.abspath(".")
  local ok, git = pcall(require, "perfgo.git")
  if ok then
    local root = git.root(cwd)
    if root then return root end
  end
  return cwd
end

return M
