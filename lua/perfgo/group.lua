--- Groups of runs: the runs of one `perfgo test --remote-host a,b,c`, one
--- per host, each a record of its own tied by the group's id
--- (`group = {id, host, index, size}` in testrun.json). This module knows
--- how a host's perfgo learns it belongs to a group, finds the groups of
--- the history, and prints a group's status table and its comparison
--- (`perfgo compare --group ID`).
local fs = require "perfgo.fs"
local json = require "perfgo.json"
local units = require "perfgo.units"
local errors = require "perfgo.errors"

local M = {}

--- The environment variable through which the group's perfgo tells each
--- host's perfgo its place: "GROUP-ID INDEX SIZE RUN-ID HOST".
M.ENV = "PERFGO_GROUP"

--- The directory where the hosts' perfgo share the binaries they build.
M.BUILDS_ENV = "PERFGO_GROUP_BUILDS"

local function hex32(s)
  return type(s) == "string" and #s == 32 and s:match("^%x+$") ~= nil
end

--- The value of M.ENV for one host.
---@param m {group_id: string, index: integer, size: integer, run_id: string, host: string}
---@return string
function M.env_value(m)
  return string.format("%s %d %d %s %s", m.group_id, m.index, m.size, m.run_id, m.host)
end

--- When this perfgo runs one host of a group: {id, index, size, run_id,
--- host} from M.ENV; else nil.
---@return table|nil
function M.member()
  local v = os.getenv(M.ENV)
  if not v then return nil end
  local gid, index, size, rid, host = v:match("^(%x+) (%d+) (%d+) (%x+) (.+)$")
  if not (hex32(gid) and hex32(rid)) then return nil end
  local builds = os.getenv(M.BUILDS_ENV)
  return { id = gid:lower(), index = tonumber(index), size = tonumber(size), run_id = rid:lower(), host = host,
    builds = builds ~= "" and builds or nil }
end

--- What a record says of its group (testrun.json's `group`).
---@param m table a member (M.member)
---@return table
function M.record_field(m)
  return { id = m.id, host = m.host, index = m.index, size = m.size }
end

--- The group id of a record, or nil.
---@param rec table|nil
---@return string|nil
function M.id_of(rec)
  local g = type(rec) == "table" and type(rec.group) == "table" and rec.group or nil
  return g and type(g.id) == "string" and g.id or nil
end

--- The groups among the runs (newest first, as the runs are): {id, runs
--- (in the order the hosts were given), size}.
---@param runs perfgo.RunEntry[]
---@return table[]
function M.groups(runs)
  local by, out = {}, {}
  for _, e in ipairs(runs) do
    local gid = M.id_of(e.record)
    if gid then
      local g = by[gid]
      if not g then
        local n = math.tointeger(tonumber(e.record.group.size) or 0)
        g = { id = gid, runs = {}, size = n and n > 0 and n or nil }
        by[gid] = g
        out[#out + 1] = g
      end
      g.runs[#g.runs + 1] = e
    end
  end
  for _, g in ipairs(out) do
    table.sort(g.runs, function(a, b)
      local ia, ib = tonumber(a.record.group.index) or 0, tonumber(b.record.group.index) or 0
      if ia ~= ib then return ia < ib end
      return a.id < b.id
    end)
  end
  return out
end

--- Picks a group: "0" the latest, "-N" the N-th before it, or a prefix of
--- its id (a user error naming the choices when there is no such group).
---@param runs perfgo.RunEntry[]
---@param sel string
---@return table group
function M.pick(runs, sel)
  local groups = M.groups(runs)
  if #groups == 0 then
    errors.user("no group of runs recorded in this repository (perfgo test --remote-host a,b,... records one)")
  end
  local n = sel:match("^%-?(%d+)$")
  if n and (sel == "0" or sel:sub(1, 1) == "-") then
    local g = groups[tonumber(n) + 1]
    if not g then
      errors.user(string.format("group %s: only %d group%s recorded", sel, #groups, #groups == 1 and " is" or "s are"))
    end
    return g
  end
  local ids = {}
  for i = 1, math.min(5, #groups) do ids[i] = groups[i].id:sub(1, 8) end
  local known = table.concat(ids, ", ") .. (#groups > 5 and ", ..." or "")
  if not sel:match("^%x+$") then
    errors.user(string.format("'%s' is not a group (give 0, -N or a prefix of a group id: %s)", sel, known))
  end
  local found = {}
  for _, g in ipairs(groups) do
    if g.id:sub(1, #sel) == sel:lower() then found[#found + 1] = g end
  end
  if #found == 0 then errors.user(string.format("no group id starts with '%s' (latest groups: %s)", sel, known)) end
  if #found > 1 then errors.user(string.format("'%s' matches %d groups; give more of the id", sel, #found)) end
  return found[1]
end

-- The events of a stat run's stat.json, or nil.
local function stat_events(e)
  local text = fs.read(fs.join(e.dir, "stat.json"))
  local data = text and json.decode(text)
  if type(data) ~= "table" or type(data.events) ~= "table" then return nil end
  return data.events
end

local function number(v)
  return type(v) == "number" and v or nil
end

-- A profile's summary: the compared value's type and total, the samples.
local function profile_summary(e)
  local p = require("perfgo.pprof").read(fs.join(e.dir, "perf.pb.gz"))
  if not p then return nil end
  local s = p:summary()
  local types = s.sample_types or {}
  local st = types[2] or types[1] or {}
  -- perf's sample count: the first value's total when it counts samples
  local n = types[2] and types[1].total or nil
  return { profile = p, samples = n, type = st.type, unit = st.unit, total = st.total }
end

--- The numbers that tell a host's run apart, in one short line: a stat
--- run's counters, a profile's total and sample count, else the test's
--- time; for a run that did not end well, why.
---@param e perfgo.RunEntry
---@return string
function M.key_numbers(e)
  local rec = e.record
  if not rec then return "corrupt record: " .. tostring(e.problem) end
  if e.status == "error" then return "error: " .. tostring(rec.error or "(no message)") end
  if e.status == "interrupted" then return "interrupted by " .. tostring(rec.signal or "a signal") end
  if e.status == "running" or e.status == "abandoned" then return e.status end
  local parts = {}
  if rec.type == "stat" then
    for _, ev in ipairs(stat_events(e) or {}) do
      if number(ev.value) and #parts < 3 then
        parts[#parts + 1] = string.format("%s %s", tostring(ev.event), units.format(ev.value, ev.unit))
      end
    end
  elseif rec.type == "profile" then
    local s = fs.is_file(fs.join(e.dir, "perf.pb.gz")) and profile_summary(e)
    if s then
      parts[#parts + 1] = string.format("%s %s%s", tostring(s.type or "value"), units.format(s.total or 0, s.unit),
        s.samples and (", " .. units.format(s.samples) .. " samples") or "")
    else
      parts[#parts + 1] = "no profile"
    end
  end
  if #parts == 0 and number(rec.test_duration) then
    parts[1] = string.format("test ran %s", units.time(rec.test_duration * 1e9))
  end
  return table.concat(parts, ", ")
end

local function int(v)
  return tostring(math.type(v) == "float" and math.tointeger(v) or v)
end

--- The status table of a group's runs: host, status, exit code, duration,
--- run id and key numbers, one line each; `missing` rows (hosts without a
--- record: {host, status, note}) are added in their place.
---@param rows table[] {host, entry?} or {host, status, note}
---@return string
function M.status_table(rows)
  local w = 4
  for _, r in ipairs(rows) do w = math.max(w, #r.host) end
  local lines = { string.format("%-" .. w .. "s  %-11s %4s %8s  %-8s  %s", "host", "status", "exit", "time",
    "run", "result") }
  for _, r in ipairs(rows) do
    local e = r.entry
    local rec = e and e.record
    local status = e and (e.status or "corrupt") or r.status
    local exit = rec and rec.exit_code ~= nil and rec.exit_code ~= json.null and int(rec.exit_code) or "-"
    local dur = rec and number(rec.duration) and string.format("%.1fs", rec.duration) or "-"
    lines[#lines + 1] = string.format("%-" .. w .. "s  %-11s %4s %8s  %-8s  %s", r.host, status, exit, dur,
      e and e.id:sub(1, 8) or "-", e and M.key_numbers(e) or (r.note or ""))
  end
  return table.concat(lines, "\n") .. "\n"
end

--- The rows of a recorded group for M.status_table.
---@param g table
---@return table[]
function M.rows(g)
  local rows = {}
  for _, e in ipairs(g.runs) do rows[#rows + 1] = { host = tostring(e.record.group.host), entry = e } end
  return rows
end

-- Stat counters side by side: one column per host, each after the first
-- with its change against the first.
local function stat_side_by_side(runs)
  local cols, order, seen = {}, {}, {}
  for _, e in ipairs(runs) do
    local events = stat_events(e)
    if events then
      local by = {}
      for _, ev in ipairs(events) do
        by[ev.event] = ev
        if not seen[ev.event] then seen[ev.event] = true; order[#order + 1] = ev.event end
      end
      cols[#cols + 1] = { host = tostring(e.record.group.host), by = by }
    end
  end
  if #cols == 0 then return "no host has counters (stat.json)\n" end
  local widths, head = {}, { string.format("%-28s", "event") }
  for i, c in ipairs(cols) do
    widths[i] = math.max(i == 1 and 14 or 24, #c.host)
    head[#head + 1] = string.format("%" .. widths[i] .. "s", c.host)
  end
  local lines = { table.concat(head, " ") }
  for _, name in ipairs(order) do
    local row = { string.format("%-28s", name) }
    local base = number((cols[1].by[name] or {}).value)
    for i, c in ipairs(cols) do
      local ev = c.by[name] or {}
      local v = number(ev.value)
      local text = v and units.format(v, ev.unit) or "-"
      if i > 1 and v and base then
        text = text .. (base ~= 0 and string.format(" (%+.1f%%)", (v - base) / math.abs(base) * 100) or " (new)")
      end
      row[#row + 1] = string.format("%" .. widths[i] .. "s", text)
    end
    lines[#lines + 1] = table.concat(row, " ")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Each host's top functions by flat value.
local function profile_tops(runs, top)
  local functotals = require "perfgo.functotals"
  local out = {}
  for _, e in ipairs(runs) do
    local host = tostring(e.record.group.host)
    local s = fs.is_file(fs.join(e.dir, "perf.pb.gz")) and profile_summary(e)
    if not s then
      out[#out + 1] = string.format("%s: no profile\n", host)
    else
      local col = functotals.value_column(s.profile)
      local totals, total = functotals.function_totals(s.profile, col)
      local names = {}
      for n in pairs(totals) do names[#names + 1] = n end
      table.sort(names, function(x, y)
        if totals[x].flat ~= totals[y].flat then return totals[x].flat > totals[y].flat end
        return x < y
      end)
      local lines = { string.format("%s: %s total %s%s", host, tostring(s.type or "value"),
        units.format(total, s.unit), s.samples and (", " .. units.format(s.samples) .. " samples") or ""),
        string.format("%14s %7s %14s %7s  %s", "flat", "flat%", "cum", "cum%", "function") }
      for i = 1, math.min(top, #names) do
        local t = totals[names[i]]
        lines[#lines + 1] = string.format("%14s %6.2f%% %14s %6.2f%%  %s", units.format(t.flat, s.unit),
          total ~= 0 and t.flat / total * 100 or 0, units.format(t.cum, s.unit),
          total ~= 0 and t.cum / total * 100 or 0, names[i])
      end
      out[#out + 1] = table.concat(lines, "\n") .. "\n"
    end
  end
  return table.concat(out, "\n")
end

--- The comparison of a group's hosts: the status table, then stat
--- counters side by side or each profile's top functions (hosts whose run
--- did not end ok are in the table only).
---@param g table a group (M.pick)
---@param top integer functions per profile
---@return string
function M.compare(g, top)
  local first = g.runs[1].record
  local parts = {
    string.format("group %s: %s run on %d host%s, %s\n", g.id:sub(1, 8), tostring(first.type), #g.runs,
      #g.runs == 1 and "" or "s", tostring(first.timestamp)),
    M.status_table(M.rows(g)),
  }
  local ok = {}
  for _, e in ipairs(g.runs) do
    if e.status == "ok" or e.status == "failed" then ok[#ok + 1] = e end
  end
  if first.type == "stat" then
    parts[#parts + 1] = "\n" .. stat_side_by_side(ok)
  elseif first.type == "profile" then
    parts[#parts + 1] = "\n" .. profile_tops(ok, top)
  end
  return table.concat(parts)
end

return M
