--- Two sets of benchmark results (bench.txt of two runs) side by side,
--- with benchstat's statistics (perfgo.stats): per unit and benchmark the
--- median of each side with its 95% confidence interval, the change of
--- the medians and the Mann-Whitney U test's p-value, "~" when the change
--- is not significant. A benchmark (or a unit) on one side only is listed
--- as such, never dropped.
local benchfmt = require "perfgo.benchfmt"
local stats = require "perfgo.stats"
local units = require "perfgo.units"

local M = {}

-- Samples by unit and benchmark, in the order they first appear.
local function collect(text)
  local by, unit_order, name_order = {}, {}, {}
  for _, r in ipairs(benchfmt.parse(text).results) do
    for _, v in ipairs(r.values) do
      local u = by[v.unit]
      if not u then
        u = {}
        by[v.unit] = u
        unit_order[#unit_order + 1] = v.unit
      end
      if not u[r.name] then
        u[r.name] = {}
        name_order[v.unit] = name_order[v.unit] or {}
        table.insert(name_order[v.unit], r.name)
      end
      table.insert(u[r.name], v.value)
    end
  end
  return by, unit_order, name_order
end

local function union(a, b)
  local out, seen = {}, {}
  for _, list in ipairs({ a or {}, b or {} }) do
    for _, x in ipairs(list) do
      if not seen[x] then
        seen[x] = true
        out[#out + 1] = x
      end
    end
  end
  return out
end

---@class perfgo.BenchRow
---@field name string
---@field a perfgo.StatsSummary|nil
---@field b perfgo.StatsSummary|nil
---@field cmp perfgo.StatsComparison|nil
---@field delta string|nil "~", "+1.23%", ...

---@class perfgo.BenchTable
---@field unit string
---@field rows perfgo.BenchRow[]

--- The comparison of two benchmark data texts, one table per unit.
---@param a_text string the base
---@param b_text string
---@return perfgo.BenchTable[]
function M.tables(a_text, b_text)
  local a, ua, na = collect(a_text)
  local b, ub, nb = collect(b_text)
  local out = {}
  for _, unit in ipairs(union(ua, ub)) do
    local t = { unit = unit, rows = {} }
    for _, name in ipairs(union(na[unit], nb[unit])) do
      local xa, xb = a[unit] and a[unit][name], b[unit] and b[unit][name]
      local row = { name = name, a = xa and stats.summary(xa), b = xb and stats.summary(xb) }
      if xa and xb then
        row.cmp = stats.compare(xa, xb)
        row.delta = stats.format_delta(row.cmp, row.a.center, row.b.center)
      end
      t.rows[#t.rows + 1] = row
    end
    out[#out + 1] = t
  end
  return out
end

local SUPERSCRIPT = { "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹" }

-- Display width (UTF-8 characters).
local function width(s)
  return utf8.len(s) or #s
end

local function pad(s, w, right)
  local fill = string.rep(" ", math.max(0, w - width(s)))
  return right and (fill .. s) or (s .. fill)
end

--- The tables as text: per unit a header and one line per benchmark
--- (its name without "Benchmark"), then the notes the footnote marks
--- refer to.
---@param a_text string
---@param b_text string
---@param names? {a: string, b: string} column titles
---@return string
function M.render(a_text, b_text, names)
  names = names or { a = "A", b = "B" }
  local notes, note_ids = {}, {}
  local function mark(list)
    local m = {}
    for _, w in ipairs(list or {}) do
      if not note_ids[w] then
        notes[#notes + 1] = w
        note_ids[w] = #notes
      end
      m[#m + 1] = SUPERSCRIPT[note_ids[w]] or ("(" .. note_ids[w] .. ")")
    end
    return #m > 0 and (" " .. table.concat(m)) or ""
  end
  local function cell(s, unit)
    if not s then return "" end
    return units.format(s.center, unit) .. " ± " .. stats.pct_range(s) .. mark(s.warnings)
  end
  local lines = {}
  for ti, t in ipairs(M.tables(a_text, b_text)) do
    local rows = { { t.unit, names.a, names.b, "vs base", "" } }
    for _, r in ipairs(t.rows) do
      local name = r.name:gsub("^Benchmark", "")
      if name == "" then name = r.name end
      if r.a and r.b then
        rows[#rows + 1] = { name, cell(r.a, t.unit), cell(r.b, t.unit), r.delta,
          "(" .. stats.format_comparison(r.cmp) .. ")" .. mark(r.cmp.warnings) }
      else
        rows[#rows + 1] = { name, cell(r.a, t.unit), cell(r.b, t.unit), "",
          "(only in " .. (r.a and names.a or names.b) .. ")" }
      end
    end
    local w = { 0, 0, 0, 0 }
    for _, row in ipairs(rows) do
      for i = 1, 4 do w[i] = math.max(w[i], width(row[i])) end
    end
    if ti > 1 then lines[#lines + 1] = "" end
    for ri, row in ipairs(rows) do
      local line = pad(row[1], w[1]) .. "  " .. pad(row[2], w[2], ri > 1) .. "  " .. pad(row[3], w[3], ri > 1)
        .. "  " .. pad(row[4], w[4], ri > 1) .. "  " .. row[5]
      lines[#lines + 1] = (line:gsub("%s+$", ""))
    end
  end
  if #notes > 0 then lines[#lines + 1] = "" end
  for i, n in ipairs(notes) do lines[#lines + 1] = (SUPERSCRIPT[i] or ("(" .. i .. ")")) .. " " .. n end
  if #lines == 0 then return "no benchmark results on either side\n" end
  return table.concat(lines, "\n") .. "\n"
end

return M
