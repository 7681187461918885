---@meta perfgo.perfdata
-- luacheck: no unused
-- LuaLS definitions for perfgo.perfdata (core/lua/perfdata.c): the
-- perf.data reader. require "perfgo.perfdata" loads the C module, never
-- this file. Unreadable or corrupt files return nil, message; wrong
-- arguments and out of memory raise.

---@class perfgo.perfdata.Event
---@field name string as perf names it ("cpu-clock", "sched:sched_switch")
---@field type integer PERF_TYPE_*
---@field config integer
---@field sample_type integer PERF_SAMPLE_* bits
---@field sample_period integer the period, or the frequency when freq
---@field freq boolean

---@class perfgo.perfdata.BuildId
---@field path string
---@field build_id string lowercase hex
---@field pid integer
---@field kernel boolean

---@class perfgo.perfdata.Info
---@field pipe boolean pipe mode (perf record -o -)
---@field unfinished boolean the header was never finished (perf was stopped)
---@field hostname? string
---@field os_release? string
---@field version? string perf's version
---@field arch? string
---@field cpu_desc? string
---@field nr_cpus_online integer
---@field nr_cpus_avail integer
---@field clockid? integer the clock of the sample times (perf record -k), with:
---@field clock_wall_ns? integer the time of day at one moment, in ns since the epoch
---@field clock_ref_ns? integer that moment on the sample clock, in ns
---@field cmdline string[]
---@field events perfgo.perfdata.Event[]
---@field build_ids perfgo.perfdata.BuildId[]

---A record. Every record has type, type_id, misc, offset and, when it has
---one, time; the others have the fields of their type: sample (event, ip,
---pid, tid, cpu, period, addr, callchain, raw), mmap/mmap2 (pid, tid,
---start, len, pgoff, prot, filename), comm (pid, tid, comm, exec),
---fork/exit (pid, ppid, tid, ptid), lost/lost_samples (lost).
---@class perfgo.perfdata.Record
---@field type string "sample", "mmap", "mmap2", "comm", "fork", "exit", "lost", "lost_samples", "throttle", "unthrottle", "read", "finished_round", "header_attr", "header_feature", "header_build_id", "other"
---@field type_id integer
---@field misc integer
---@field offset integer where the record was in the file
---@field time? integer

---@class perfgo.perfdata.Symbol
---@field dso string as perf script prints it ("[unknown]" when no map holds the address)
---@field symbol? string nil when no symbol holds the address
---@field offset? integer from the symbol's start
---@field file? string source file, from DWARF
---@field line? integer

---@class perfgo.perfdata.Reader
local Reader = {}

---The header and feature sections.
---@return perfgo.perfdata.Info
function Reader:info() end

---The next record in time order; nil at the end; nil, message when the
---file is corrupt (then no more records). Maps and thread names are kept
---for symbolize().
---@return perfgo.perfdata.Record|nil record
---@return string? err
function Reader:next() end

---Iterator over the records (raises on a corrupt file).
---@return fun(): perfgo.perfdata.Record|nil
function Reader:records() end

---What perf script names an address of process pid, with the maps of
---the records read so far.
---@param pid integer
---@param addr integer
---@param kernel? boolean a kernel address
---@return perfgo.perfdata.Symbol
function Reader:symbolize(pid, addr, kernel) end

---The files of the user-space executable mappings in the records not yet
---read, each once in the order first mapped (reads to the end): what to
---copy back to symbolize a recording made elsewhere.
---@return string[]|nil files
---@return string? err
function Reader:mapped_files() end

---Warnings so far (a truncated file, DSOs that could not be read).
---@return string[]
function Reader:warnings() end

---Frees the reader (also done by __gc and __close).
function Reader:close() end

local M = {}

---Opens a perf.data file ("-" = stdin; file or pipe mode).
---@param path string
---@return perfgo.perfdata.Reader|nil reader
---@return string? err
function M.open(path) end

---Whether a file starts with perf.data's magic.
---@param path string
---@return boolean
function M.is_perfdata(path) end

---perfgo.parser.new(opts) fed with the perf.data at path; finish() and
---folded() then give the profile and the folded stacks.
---@param path string
---@param opts? perfgo.parser.Options
---@param progress? fun(bytes: integer, samples: integer)
---@return perfgo.parser.Parser|nil parser
---@return string kind_or_err "perf.data", or the message
---@return string? reason "unsupported" when only perf script can read the recording
function M.parser(path, opts, progress) end

return M
