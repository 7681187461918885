---@meta perfgo.parser
-- luacheck: no unused
-- LuaLS definitions for perfgo.parser (core/lua/parser.c): the streaming
-- `perf script` parser. require "perfgo.parser" loads the C module, never
-- this file. Parse errors (strict mode) and unreadable files return
-- nil, message; wrong arguments, bad options and out of memory raise.

---A label read off each stack by the profile builder.
---@class perfgo.StackLabel
---@field key string the label's key ("benchmark")
---@field caller string a function name: the label's value is the function it called (the next frame toward the leaf)
---@field prefix? string the value must begin with this, else the sample gets no such label
---@field strip_package? boolean drop the Go package path from the value ("a/b.BenchmarkX" -> "BenchmarkX")

---Options of parser.new, parse_file, parse_string and fold (the folded-text
---options are also accepted by Parser:folded). Wrong types raise.
---@class perfgo.parser.Options
---@field strict? boolean stop at the first unrecognized line (nil, "SOURCE:LINE: ...") instead of counting it
---@field profile? boolean false: finish() builds no profile and returns true (folded text only); default true
---@field labels? string|string[] pprof sample labels: "comm", "thread_comm", "pid", "tid", "cpu" (a list or "comm,tid")
---@field stack_labels? perfgo.StackLabel[] labels read off each stack (at most 4)
---@field event_filter? string pprof: only this event's column; folded: only this event (default: the first seen)
---@field binary_root? string read profiled binaries as <binary_root>/<profiled path>
---@field path_map? table<string, string> profiled path -> local file; a key ending in "/" maps a directory
---@field remote? boolean profiled on another machine: read only files from path_map or binary_root
---@field source? string name used in pprof comments and error messages (default: the file path, "stdin", "input")
---@field pid? boolean folded: root frame comm-PID
---@field tid? boolean folded: root frame comm-PID/TID
---@field kernel? boolean folded: _[k] after kernel frames
---@field jit? boolean folded: _[j] after JIT frames
---@field all? boolean folded: kernel and jit
---@field addrs? boolean folded: [dso <address>] for frames without a symbol
---@field srcline? boolean folded: append :FILE:LINE (from perf script -F +srcline); perf.data input: read each frame's source line as perf script -F +srcline prints it (for folded output and the profile's file:line)
---@field kallsyms? string perf.data input: the kallsyms of the recording's host (default: perf's build-id cache, or /proc/kallsyms when the running kernel is the recording's)
---@field debug_dir? string perf.data input: perf's build-id cache (default ~/.debug unless remote)

---Options of Parser:folded: the folded-text subset of perfgo.parser.Options.
---@class perfgo.parser.FoldOptions
---@field event_filter? string only this event (default: as given to new, else the first seen)
---@field pid? boolean root frame comm-PID (the parser must have been created with pid = true)
---@field tid? boolean root frame comm-PID/TID (the parser must have been created with tid = true)
---@field kernel? boolean _[k] after kernel frames
---@field jit? boolean _[j] after JIT frames
---@field all? boolean kernel and jit
---@field addrs? boolean [dso <address>] for frames without a symbol
---@field srcline? boolean append :FILE:LINE (perf.data input: only when the parser was created with srcline = true)

---@class perfgo.parser.EventStats
---@field name string event name as perf printed it, e.g. "cpu-clock:u"
---@field samples integer
---@field weight integer sum of the periods (1 per sample without one)
---@field unit "nanoseconds"|"count" unit of the period

---@class perfgo.parser.Stats
---@field bytes integer input bytes read
---@field lines integer
---@field samples integer
---@field frames integer callchain lines
---@field sideband integer PERF_RECORD_* lines
---@field unrecognized integer lines skipped (not understood)
---@field first_unrecognized integer line number of the first one, 0 = none
---@field distinct_frames integer
---@field distinct_stacks integer
---@field truncated boolean the input ended inside a sample
---@field time_first_ns? integer timestamp of the first sample (when perf printed times)
---@field time_last_ns? integer timestamp of the last sample
---@field events perfgo.parser.EventStats[] one entry per event, in order of appearance

---A streaming parser (userdata "perfgo.parser.parser"), freed by the garbage
---collector, by close() or by a `local p <close>` variable. Every method
---raises "parser is closed" after close().
---@class perfgo.parser.Parser
local Parser = {}

--- Parses the next chunk of perf script text (lines may span chunks).
--- Raises after finish().
---@param chunk string
---@return true|nil ok
---@return string? err "SOURCE:LINE: ..." in strict mode at an unrecognized line
function Parser:feed(chunk) end

--- Streams a file ("-" = stdin) into the parser, never holding it whole. A
--- perf.data file (by its magic) is read natively (perfgo.perfdata): its
--- samples enter the parser as perf script's text would, so finish() and
--- folded() give what the text path gives.
---@param path string
---@param progress? fun(bytes: integer, samples: integer) called every 16 MB of text (8 MB of perf.data); its errors propagate
---@return true|nil ok
---@return string err_or_kind "text" or "perf.data" on success; else "PATH: <strerror>", a strict-mode parse error, or why perf.data cannot be read
---@return string? reason "unsupported" when the recording needs perf script (DWARF or LBR call stacks, AUX tracing)
function Parser:feed_file(path, progress) end

--- Ends the input and builds the pprof profile; with profile = false returns
--- true. Raises if called twice or if the profile cannot be built.
---@return perfgo.pprof.Profile|true|nil profile
---@return string? err a strict-mode parse error in the last line
function Parser:finish() end

--- The folded stacks (core/perfscript/README.md), sorted, one "stack count" line each.
--- Raises before finish(), and when pid/tid is asked for but was not
--- given to parser.new (the threads were merged).
---@param opts? perfgo.parser.FoldOptions override the options given to new
---@return string folded
function Parser:folded(opts) end

--- Counters (valid at any time, final after finish()).
---@return perfgo.parser.Stats
function Parser:stats() end

--- Warnings, each once (skipped lines, dropped events, unreadable binaries...).
---@return string[]
function Parser:warnings() end

--- Frees the parser now; idempotent (also __gc and __close).
function Parser:close() end

---@class perfgo.parser
local M = {}

--- A new streaming parser. Raises on bad options.
---@param opts? perfgo.parser.Options
---@return perfgo.parser.Parser
function M.new(opts) end

--- new(opts), feed_file(path), finish() in one call ("-" = stdin).
---@param path string
---@param opts? perfgo.parser.Options
---@return perfgo.pprof.Profile|true|nil profile true when opts.profile == false
---@return perfgo.parser.Parser|string parser_or_err the finished parser (stats, warnings, folded), or the message
function M.parse_file(path, opts) end

--- new(opts), feed(s), finish() in one call.
---@param s string perf script text
---@param opts? perfgo.parser.Options
---@return perfgo.pprof.Profile|true|nil profile true when opts.profile == false
---@return perfgo.parser.Parser|string parser_or_err the finished parser, or the message
function M.parse_string(s, opts) end

--- Folds perf script text (no profile is built; opts.profile is forced to false).
---@param s string perf script text
---@param opts? perfgo.parser.Options
---@return string|nil folded
---@return perfgo.parser.Parser|string parser_or_err the finished parser, or the message
function M.fold(s, opts) end

return M
