--- Picks recorded runs: `0` the latest, `-N` the N-th before it, or a
--- prefix of a run id. Shared by view and compare.
local fs = require "perfgo.fs"
local history = require "perfgo.history"
local errors = require "perfgo.errors"

local M = {}

--- Every run in the history, newest first. Unreadable records are kept,
--- with `problem` saying why; `status` is what the record reads as
--- (history.status: a "running" record whose perfgo is gone is
--- "abandoned").
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
      if rec then
        local y, mo, d, h, mi, s, frac = rec.timestamp:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)(%.?%d*)")
        if y then
          -- UTC timestamp to epoch seconds without relying on the local zone
          local days = os.time({ year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = 12 })
            - os.time({ year = 1970, month = 1, day = 1, hour = 12 })
          time = days + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) + (tonumber(frac) or 0)
        end
      end
      out[#out + 1] = { id = name, dir = dir, record = rec, problem = problem, time = time,
        status = rec and history.status(rec) or nil }
    end
  end
  table.sort(out, function(a, b)
    if a.time ~= b.time then return a.time > b.time end
    return a.id > b.id
  end)
  return out
end

--- The shortest prefix of `id` (8 characters at least) that no other run
--- shares.
---@param runs perfgo.RunEntry[]
---@param id string
---@return string
function M.unique_prefix(runs, id)
  local n = 8
  for _, r in ipairs(runs) do
    if r.id ~= id then
      local k = 0
      while k < #id and r.id:sub(k + 1, k + 1) == id:sub(k + 1, k + 1) do k = k + 1 end
      n = math.max(n, k + 1)
    end
  end
  return id:sub(1, math.min(n, #id))
end

-- Edit distance between two short strings.
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function describe(runs, r)
  local rec = r.record
  return string.format("  %s  %s %s %s", M.unique_prefix(runs, r.id), rec and rec.type or "?",
    r.status or "corrupt", rec and rec.timestamp or "")
end

-- The runs whose ids are closest to sel, as lines.
local function closest(runs, sel)
  local scored = {}
  local key = sel:lower()
  for _, r in ipairs(runs) do
    scored[#scored + 1] = { r = r, d = distance(key, r.id:sub(1, math.max(#key, 1))) }
  end
  table.sort(scored, function(x, y)
    if x.d ~= y.d then return x.d < y.d end
    return x.r.time > y.r.time
  end)
  local lines = {}
  for i = 1, math.min(3, #scored) do lines[i] = describe(runs, scored[i].r) end
  return table.concat(lines, "\n")
end

--- Whether sel has the form of a run selector: 0, -N or a hex id prefix.
---@param sel string
---@return boolean
function M.is_selector(sel)
  return sel == "0" or sel:match("^%-%d+$") ~= nil or sel:match("^%x+$") ~= nil
end

--- Resolves a selector to one run. 0 and -N count the runs that are not
--- in progress (a run still running is picked only by its id).
---@param runs perfgo.RunEntry[]
---@param sel string|nil "0", "-N" or an id prefix (nil: the latest)
---@return perfgo.RunEntry
function M.pick(runs, sel)
  sel = sel or "0"
  if #runs == 0 then errors.user("no runs recorded yet in this repository (.perfgo/history is empty)") end
  if not M.is_selector(sel) then
    errors.user(string.format("'%s' is not a run (give 0, -N or a prefix of a run id); the closest ids:\n%s",
      sel, closest(runs, sel)))
  end
  local n = sel:match("^%-?(%d+)$")
  if n and (sel == "0" or sel:sub(1, 1) == "-") then
    local done = {}
    for _, r in ipairs(runs) do
      if r.status ~= "running" then done[#done + 1] = r end
    end
    local idx = tonumber(n) + 1
    if idx > #done then
      errors.user(string.format("run %s: only %d finished run%s recorded", sel, #done, #done == 1 and " is" or "s are"))
    end
    return done[idx]
  end
  local found = {}
  for _, r in ipairs(runs) do
    if r.id:sub(1, #sel) == sel:lower() then found[#found + 1] = r end
  end
  if #found == 0 then
    errors.user(string.format("no run id starts with '%s'; the closest ids:\n%s", sel, closest(runs, sel)))
  end
  if #found > 1 then
    local ids = {}
    for i, r in ipairs(found) do
      ids[#ids + 1] = describe(runs, r)
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
  return require("perfgo.git").root(cwd) or cwd
end

return M
