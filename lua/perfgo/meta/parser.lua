---@meta perfgo.parser
-- luacheck: ignore
-- LuaLS definitions for the native module perfgo.parser (core/lua/parser.c).
-- This file is documentation for the language server; require "perfgo.parser"
-- loads the C module, never this file.

---@class perfgo.parser.Options
---@field labels? string|string[] pprof labels: "comm", "thread_comm", "pid", "tid", "cpu" (list or "comm,tid")
---@field event_filter? string pprof: only this event's column; folded: only this event (default: the first seen)
---@field strict? boolean fail at the first unrecognized line instead of skipping and counting it
---@field binary_root? string read profiled binaries as DIR/<profiled path>
---@field path_map? table<string, string> {[profiled_path] = local_path}
---@field remote? boolean profiled on another machine: read only path_map/binary_root files
---@field source? string name used in pprof comments and error messages
---@field profile? boolean false: finish() builds no profile (folded only)
---@field pid? boolean folded root comm-PID
---@field tid? boolean folded root comm-PID/TID
---@field kernel? boolean folded _[k] after kernel frames
---@field jit? boolean folded _[j] after JIT frames
---@field all? boolean kernel and jit
---@field addrs? boolean folded [dso address] for unknown symbols
---@field srcline? boolean folded :FILE:LINE from perf script -F +srcline

---@class perfgo.parser.EventStats
---@field name string
---@field samples integer
---@field weight integer sum of periods (1 per sample without one)
---@field unit string "nanoseconds" or "count"

---@class perfgo.parser.Stats
---@field bytes integer
---@field lines integer
---@field samples integer
---@field frames integer
---@field sideband integer PERF_RECORD_* lines
---@field unrecognized integer
---@field first_unrecognized integer line number, 0 = none
---@field distinct_frames integer
---@field distinct_stacks integer
---@field truncated boolean the input ended inside a sample
---@field time_first_ns? integer
---@field time_last_ns? integer
---@field events perfgo.parser.EventStats[]

---@class perfgo.parser.Parser
local Parser = {}

--- Parses the next chunk of perf script text (lines may span chunks).
---@param chunk string
---@return true|nil ok
---@return string? err "SOURCE:LINE: unrecognized line: TEXT" (strict mode)
function Parser:feed(chunk) end

--- Streams a file ("-" = stdin) without reading it whole.
---@param path string
---@param progress? fun(bytes: integer, samples: integer) called every 16 MB
---@return true|nil ok
---@return string? err
function Parser:feed_file(path, progress) end

--- Ends the input and builds the profile (a perfgo.pprof profile userdata),
--- or returns true when created with profile = false.
---@return userdata|true|nil profile
---@return string? err
function Parser:finish() end

--- The folded stacks (FOLDING.md), after finish(); opts override new()'s.
---@param opts? perfgo.parser.Options
---@return string
function Parser:folded(opts) end

---@return perfgo.parser.Stats
function Parser:stats() end

--- Warnings, each once (skipped lines, dropped events, unreadable binaries).
---@return string[]
function Parser:warnings() end

--- Frees the parser; idempotent (also __gc and __close).
function Parser:close() end

local parser = {}

--- A streaming parser.
---@param opts? perfgo.parser.Options
---@return perfgo.parser.Parser
function parser.new(opts) end

--- Parses a whole file ("-" = stdin).
---@param path string
---@param opts? perfgo.parser.Options
---@return userdata|true|nil profile
---@return perfgo.parser.Parser|string parser_or_err
function parser.parse_file(path, opts) end

--- Parses a string.
---@param s string
---@param opts? perfgo.parser.Options
---@return userdata|true|nil profile
---@return perfgo.parser.Parser|string parser_or_err
function parser.parse_string(s, opts) end

--- Folds a string (no profile is built).
---@param s string
---@param opts? perfgo.parser.Options
---@return string|nil folded
---@return perfgo.parser.Parser|string parser_or_err
function parser.fold(s, opts) end

return parser
