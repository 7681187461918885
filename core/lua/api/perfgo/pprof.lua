---@meta perfgo.pprof
-- luacheck: no unused
-- LuaLS definitions for perfgo.pprof (core/lua/pprof.c, profile_udata.c,
-- profile_build.c): read, inspect, rewrite, build and write pprof profiles,
-- and the symmap address resolver. require "perfgo.pprof" loads the C
-- module, never this file. Missing or corrupt files return nil, message;
-- wrong arguments and out of memory raise.

---@class perfgo.pprof.WriteOptions
---@field format? "pprof"|"folded" default "pprof"; anything else raises
---@field gzip? boolean pprof only; default true
---folded only: a sample type name or 1-based column (default: the default
---sample type, else the last column); an unknown one raises
---@field sample_type? string|integer

---@class perfgo.pprof.ValueType
---@field type string
---@field unit string

---@class perfgo.pprof.SampleType: perfgo.pprof.ValueType
---@field total integer sum of the column over every sample

---@class perfgo.pprof.Summary
---@field samples integer distinct (stack, labels) entries
---@field locations integer
---@field functions integer
---@field mappings integer
---@field strings integer
---@field skipped_lines integer set by the producer (the parser's unrecognized lines); not stored in pprof files
---@field sample_types perfgo.pprof.SampleType[]
---@field default_sample_type? string
---@field period_type? perfgo.pprof.ValueType
---@field period integer
---@field time_nanos integer
---@field duration_nanos integer
---@field comments string[]

---@class perfgo.pprof.Mapping
---@field id integer 1-based
---@field start integer
---@field limit integer 0xffffffffffffffff (no limit) shows as -1
---@field offset integer
---@field file string
---@field build_id string "" when unknown
---@field has_functions boolean
---@field has_filenames boolean
---@field has_line_numbers boolean
---@field has_inline_frames boolean

---One frame of a sample's stack (inline frames expanded, leaf first).
---@class perfgo.pprof.Frame
---@field func? string function name (absent for a location without lines)
---@field file? string source file
---@field line? integer
---@field address integer the location's address
---@field location integer location id
---@field mapping? string the mapping's file (absent without a mapping)
---@field mapping_id? integer
---@field inlined_into? true the previous (leafward) entry was inlined into this one (same location)

---Argument of Profile:mapping (builder); absent numbers default to 0, limit to "no limit".
---@class perfgo.pprof.MappingSpec
---@field start? integer
---@field limit? integer
---@field offset? integer
---@field file? string
---@field build_id? string
---@field has_functions? boolean
---@field has_filenames? boolean
---@field has_line_numbers? boolean
---@field has_inline_frames? boolean

---A sample label for Profile:add_sample: a string label {key, str} or a
---number label {key, num, unit?}.
---@class perfgo.pprof.Label
---@field key string
---@field str? string
---@field num? integer
---@field unit? string e.g. "cpu"

---A pprof profile (userdata "perfgo.pprof.profile"); profiles from
---perfgo.parser are the same type. Freed by the garbage collector, by
---close() or by a `local p <close>` variable; every method raises
---"profile is closed" after close().
---@class perfgo.pprof.Profile
local Profile = {}

--- Writes the profile atomically (temporary file + rename).
---@param path string
---@param opts? perfgo.pprof.WriteOptions
---@return true|nil ok
---@return string? err names the file
function Profile:write(path, opts) end

--- The same output as write, as a string (default gzipped pprof). Raises on failure.
---@param opts? perfgo.pprof.WriteOptions
---@return string bytes
function Profile:encode(opts) end

--- Counts, sample types with totals, period, time and comments.
---@return perfgo.pprof.Summary
function Profile:summary() end

--- The mappings, in id order.
---@return perfgo.pprof.Mapping[]
function Profile:mappings() end

--- Points mappings at other files: map is a table old file -> new file, or a
--- function that gets each mapping and returns its new file or nil to keep
--- it. Raises if a new file is not a string.
---@param map table<string, string>|fun(m: perfgo.pprof.Mapping): string?
---@return integer changed number of mappings changed
function Profile:rewrite_mappings(map) end

--- Iterator over the samples: `for stack, values, labels in p:samples() do`.
--- values has one integer per sample type; labels maps keys (comm,
--- thread_comm, pid, tid, cpu, ...) to strings or numbers.
---@return fun(): perfgo.pprof.Frame[]?, integer[]?, table<string, string|integer>?
function Profile:samples() end

--- Frees the profile now; idempotent (also __gc and __close).
function Profile:close() end

--- Adds a sample type column (before any sample; raises after).
---@param type string e.g. "cpu"
---@param unit string e.g. "nanoseconds"
---@return integer column 1-based
function Profile:add_sample_type(type, unit) end

--- Sets the default sample type by name (nil clears it).
---@param type? string
function Profile:set_default_sample_type(type) end

--- Sets the period type and period.
---@param type string
---@param unit string
---@param period integer
function Profile:set_period(type, unit, period) end

--- Sets the collection time and duration.
---@param time_nanos integer nanoseconds since the epoch
---@param duration_nanos? integer default 0
function Profile:set_time(time_nanos, duration_nanos) end

--- Appends a comment (shown by `go tool pprof -comments`).
---@param text string
function Profile:add_comment(text) end

--- Records the number of skipped input lines (reported by summary(); not stored in pprof files).
---@param n integer >= 0
function Profile:set_skipped_lines(n) end

--- Adds a mapping, or returns the id of one with exactly these fields.
---@param m perfgo.pprof.MappingSpec
---@return integer id
function Profile:mapping(m) end

--- Adds a function, or returns the id of the same (name, file).
---@param name string
---@param file? string
---@return integer id
function Profile:func(name, file) end

--- Adds a location (deduplicated on mapping and address when the address
--- is not 0; the first call's lines win). Raises on an unknown mapping or
--- function id.
---@param mapping_id integer 0 for none
---@param address integer
---@param lines? {[1]: integer, [2]: integer}[] {func_id, line} pairs, innermost inlined function first
---@return integer id
function Profile:location(mapping_id, address, lines) end

--- Adds a sample; identical stacks with identical labels merge by adding
--- values. Raises without sample types, on an unknown location id, or when
--- values does not have one entry per sample type.
---@param locations integer[] location ids, leaf first
---@param values integer[] one per sample type
---@param labels? perfgo.pprof.Label[]
function Profile:add_sample(locations, values, labels) end

--- Makes a mapping the main binary (written first). Raises on an unknown id.
---@param id integer
function Profile:set_main_mapping(id) end

---@class perfgo.pprof.SymmapOptions
---@field binary_root? string <binary_root>/<profiled path> stands for the profiled file
---@field path_map? table<string, string> profiled path -> local file; a key ending in "/" maps a directory
---@field remote? boolean profiled on another machine: read only files from path_map or binary_root
---what perf printed: file offsets (perf 5.16-6.3) or raw ips (6.4+); default "auto"
---@field addresses? "auto"|"offset"|"raw"

---An MMAP/MMAP2 record for Symmap:mmap.
---@class perfgo.pprof.Mmap
---@field path string required
---@field pid? integer default -1
---@field start? integer
---@field len? integer
---@field pgoff? integer
---@field build_id? string hex
---@field maj? integer device major (giving it marks the device as known)
---@field min? integer
---@field ino? integer
---@field exec? boolean default true

---@class perfgo.pprof.Resolution
---@field mapping_id integer
---@field address integer the address to store in the location
---@field kind "user"|"kernel"|"special"|"unknown"
---@field mode "elf"|"runtime"|"names" ELF-address, runtime-address or names-only mapping
---@field adjust_return boolean subtract 1 from return addresses before creating the location

---The address resolver of a profile (userdata "perfgo.pprof.symmap",
---core/profile/README.md §3); it keeps its profile alive. Every method raises
---after close() or when the profile was closed.
---@class perfgo.pprof.Symmap
local Symmap = {}

--- Records a memory mapping (from perf script --show-mmap-events).
---@param m perfgo.pprof.Mmap
function Symmap:mmap(m) end

--- Records a fork: the child inherits the parent's mappings.
---@param parent_pid integer
---@param child_pid integer
function Symmap:fork(parent_pid, child_pid) end

--- Records an exec (perf's COMM exec record): the process's mappings are reset.
---@param pid integer
function Symmap:exec(pid) end

--- Records a build id (e.g. a `perf buildid-list` line).
---@param path string
---@param hex string
function Symmap:build_id(path, hex) end

--- Resolves a frame to a mapping (created on first use) and an address.
---@param dso string the DSO perf printed
---@param address integer the address perf printed
---@param pid? integer default -1 (unknown)
---@return perfgo.pprof.Resolution
function Symmap:resolve(dso, address, pid) end

--- Call once after the last resolve: fixes the ranges of kernel mappings
--- without an MMAP record and, unless set_main_mapping was called, makes the
--- first user DSO that is not a shared object the main binary.
function Symmap:finish() end

--- Warnings, e.g. one per DSO kept with perf's names only.
---@return string[]
function Symmap:warnings() end

--- Frees the resolver now; idempotent (also __gc and __close).
function Symmap:close() end

---@class perfgo.pprof
local M = {}

--- Loads a profile from a .pb.gz/.pb file, or from profile bytes (gzip is
--- detected). A string that starts with the gzip magic or a control byte,
--- or contains a NUL, is taken as bytes. Memory is bounded by the input:
--- a message larger than `opts.max_size` bytes after gunzip (default
--- 1 GiB) is refused before it is read.
---@param path_or_bytes string
---@param opts? {max_size?: integer}
---@return perfgo.pprof.Profile|nil profile
---@return string? err names the file ("profile data" for bytes)
function M.read(path_or_bytes, opts) end

--- Decodes profile bytes (gzip detected), as read does.
---@param bytes string
---@param opts? {max_size?: integer}
---@return perfgo.pprof.Profile|nil profile
---@return string? err "profile data: ..."
function M.decode(bytes, opts) end

--- An empty profile to build by hand with the builder methods.
---@return perfgo.pprof.Profile
function M.new() end

--- The address resolver for profile. Raises on bad options.
---@param profile perfgo.pprof.Profile
---@param opts? perfgo.pprof.SymmapOptions
---@return perfgo.pprof.Symmap
function M.symmap(profile, opts) end

return M
