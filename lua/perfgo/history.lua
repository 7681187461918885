--- The run history: `.perfgo/history/<id>/` at the repository root.
---
--- Each run directory holds testrun.json, stdout.txt, stderr.txt and the
--- run's artifacts. testrun.json is written when the run starts, with
--- status "running" and the identity of the perfgo process (host, pid,
--- start time), and replaced atomically (temporary file, then rename) when
--- it ends. A "running" record whose process is gone from this host is
--- shown as "abandoned" (perfgo was killed before it could finish); the
--- file itself is left as it is.
local sys = require "perfgo.sys"
local fs = require "perfgo.fs"
local json = require "perfgo.json"

local M = {}

--- The history directory of a repository.
---@param root string
---@return string
function M.dir(root)
  return fs.join(root, ".perfgo", "history")
end

--- Creates the directory of a new run; nil and why when it cannot.
---@param root string repository root
---@param id? string the run id (default: a new random one)
---@return perfgo.Run|nil, string?
function M.new_run(root, id)
  id = id or sys.random_id()
  local dir = fs.join(M.dir(root), id)
  local ok, err = fs.mkdir_p(dir)
  if not ok then return nil, "cannot create the run history: " .. err end
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

--- Writes testrun.json atomically: true, or nil and why not.
---@param run perfgo.Run
---@param record table
---@return true|nil, string?
function M.write(run, record)
  return fs.write_atomic(fs.join(run.dir, "testrun.json"), json.encode(record))
end

--- The statuses a record can have. "abandoned" is never written: it is
--- what a "running" record whose process is gone reads as.
M.STATUSES = { "running", "ok", "failed", "error", "interrupted", "abandoned" }
local is_status = {}
for _, s in ipairs(M.STATUSES) do is_status[s] = true end

-- Fields every record has, and their JSON types.
local REQUIRED = { id = "string", type = "string", status = "string", timestamp = "string" }
local OPTIONAL = {
  exit_code = "number", duration = "number", args = "table", package = "table", target = "table",
  git = "table", artifacts = "table", perf = "table", error = "string", signal = "string",
  pid = "number", host = "string", archive = "string", group = "table",
}

--- Why a decoded testrun.json is not a usable run record, or nil.
---@param rec any
---@return string|nil
function M.invalid(rec)
  if type(rec) ~= "table" then return "it is not a JSON object" end
  if rec[1] ~= nil or next(rec) == nil then return "it is not a JSON object with the run's fields" end
  for k, ty in pairs(REQUIRED) do
    if type(rec[k]) ~= ty then
      return string.format("field '%s' is %s, not a %s", k, rec[k] == nil and "missing" or type(rec[k]), ty)
    end
  end
  for k, ty in pairs(OPTIONAL) do
    if rec[k] ~= nil and rec[k] ~= json.null and type(rec[k]) ~= ty then
      return string.format("field '%s' is a %s, not a %s", k, type(rec[k]), ty)
    end
  end
  if not is_status[rec.status] or rec.status == "abandoned" then
    return string.format("unknown status '%s'", rec.status)
  end
  if type(rec.artifacts) == "table" then
    for _, a in ipairs(rec.artifacts) do
      if type(a) ~= "table" or type(a.file) ~= "string" then return "an artifact has no file name" end
    end
  end
  return nil
end

--- Reads a run record. Returns the record, or nil and the reason it
--- cannot be read (missing, half-written, not JSON, not a run record).
---@param dir string
---@return table|nil, string?
function M.read(dir)
  local path = fs.join(dir, "testrun.json")
  local text, err = fs.read(path)
  if not text then return nil, "no testrun.json (" .. tostring(err) .. ")" end
  local rec, jerr = json.decode(text)
  if rec == nil then return nil, "testrun.json is not valid JSON: " .. tostring(jerr) end
  local why = M.invalid(rec)
  if why then return nil, "testrun.json is not a run record: " .. why end
  return rec
end

-- The fields of /proc/<pid>/stat after the command name.
local function proc_stat(pid)
  local text = fs.read("/proc/" .. pid .. "/stat")
  local rest = text and text:match("^%d+ %b() (.*)$")
  if not rest then return nil end
  local f = {}
  for x in rest:gmatch("%S+") do f[#f + 1] = x end
  return f
end

--- The identity of this perfgo process, as a running record holds it:
--- host, pid and start time (clock ticks since boot), and the boot id.
---@return {host: string, pid: integer, pid_start: string?, boot_id: string?}
function M.self()
  local text = fs.read("/proc/self/stat") or ""
  local pid = tonumber(text:match("^(%d+)")) or 0
  local f = pid > 0 and proc_stat(pid) or nil
  local boot = fs.read("/proc/sys/kernel/random/boot_id")
  return { host = sys.hostname(), pid = pid, pid_start = f and f[20],
    boot_id = boot and boot:match("[%w-]+") }
end

--- The status a record reads as: "abandoned" for a "running" record whose
--- perfgo process is gone from this host (or the host rebooted); otherwise
--- its own. A run on another host keeps "running".
---@param rec table
---@return string
function M.status(rec)
  if rec.status ~= "running" then return rec.status end
  if type(rec.host) ~= "string" or rec.host ~= sys.hostname() or math.type(rec.pid) == nil then
    return "running"
  end
  local me = M.self()
  if rec.boot_id and me.boot_id and rec.boot_id ~= me.boot_id then return "abandoned" end
  local f = proc_stat(math.tointeger(rec.pid) or 0)
  if not f or f[1] == "Z" or (rec.pid_start and f[20] ~= rec.pid_start) then return "abandoned" end
  return "running"
end

return M
