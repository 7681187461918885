--- The run history: `.perfgo/history/<id>/` at the repository root.
---
--- Each run directory holds testrun.json (written atomically: temporary
--- file, then rename), stdout.txt, stderr.txt and the run's artifacts.
local sys = require "perfgo.sys"
local fs = require "perfgo.fs"
local json = require "perfgo.json"
local errors = require "perfgo.errors"

local M = {}

--- The history directory of a repository.
---@param root string
---@return string
function M.dir(root)
  return fs.join(root, ".perfgo", "history")
end

---@class perfgo.Run
---@field id string 32 hex digits
---@field dir string the run's directory
---@field started number seconds since the epoch
---@field t0 number monotonic start
---@field artifacts table[]

--- Creates the directory of a new run.
---@param root string repository root
---@param id? string the run id (default: a new random one)
---@return perfgo.Run
function M.new_run(root, id)
  id = id or sys.random_id()
  local dir = fs.join(M.dir(root), id)
  local ok, err = fs.mkdir_p(dir)
  if not ok then errors.fail(1, "cannot create the run history: " .. err) end
  return { id = id, dir = dir, started = sys.realtime(), t0 = sys.monotonic(), artifacts = json.array({}) }
end

--- RFC 3339 UTC timestamp with milliseconds.
---@param t number seconds since the epoch
---@return string
function M.timestamp(t)
  local secs = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. string.format(".%03dZ", math.floor((t - secs) * 1000))
end

--- Registers a file of the run directory as an artifact.
---@param run perfgo.Run
---@param kind string e.g. "profile", "stat", "binary"
---@param file string name inside the run directory
function M.add_artifact(run, kind, file)
  for _, a in ipairs(run.artifacts) do
    if a.file == file then
      a.size = fs.size(fs.join(run.dir, file)) or 0
      return
    end
  end
  local size = fs.size(fs.join(run.dir, file))
  if size then run.artifacts[#run.artifacts + 1] = { type = kind, file = file, size = size } end
end

--- Writes testrun.json atomically.
---@param run perfgo.Run
---@param record table
function M.write(run, record)
  local ok, err = fs.write_atomic(fs.join(run.dir, "testrun.json"), json.encode(record))
  if not ok then errors.fail(1, err) end
end

--- Reads a run record. Returns the record, or nil and the reason it
--- cannot be read (missing, half-written, not JSON).
---@param dir string
---@return table|nil, string?
function M.read(dir)
  local path = fs.join(dir, "testrun.json")
  local text, err = fs.read(path)
  if not text then return nil, "no testrun.json (" .. tostring(err) .. ")" end
  local rec, jerr = json.decode(text)
  if type(rec) ~= "table" then return nil, "testrun.json is not valid JSON: " .. tostring(jerr) end
  return rec
end

return M
