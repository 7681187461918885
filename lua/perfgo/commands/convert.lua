--- `perfgo convert`: perf.data or `perf script` text -> pprof profile or
--- folded stacks.
---
--- The input is streamed (`-i -` reads stdin), so
--- `perf script | perfgo convert -i - -o perf.pb.gz` and
--- `perf record -o - ... | perfgo convert -i -` work on any size. A
--- perf.data file is told from text by its magic and read natively.
local errors = require "perfgo.errors"

local M = {
  name = "convert",
  summary = "Convert perf.data or perf script output to a pprof profile or folded stacks.",
}

local LABELS = { comm = true, thread_comm = true, pid = true, tid = true, cpu = true }

---@param cmd table argparse command
function M.define(cmd)
  cmd:description("Reads a perf.data file (file or pipe mode, perf record -z too) or the text of "
    .. "`perf script` (a file, or stdin with -i -) and writes a pprof profile (gzipped protobuf, "
    .. "for `go tool pprof`) or folded stacks (for flamegraph.pl, inferno, speedscope). perf.data "
    .. "is read and symbolized without perf script, with the same result.")
  cmd:epilog("Examples:\n"
    .. "  perf script | perfgo convert -o perf.pb.gz && go tool pprof -top perf.pb.gz\n"
    .. "  perfgo convert -i perf.data -o out.folded --all\n"
    .. "  perf record -g -o - -- ./prog | perfgo convert -i - -o prog.pb.gz\n"
    .. "For the best symbolization (go tool pprof -lines/-list), print with\n"
    .. "  perf script -F comm,pid,tid,time,period,event,ip,sym,symoff,dso --show-mmap-events --show-task-events")
  cmd:option("-i --input", "perf.data or perf script text (gzip'd or not) to read; - for stdin.", "-")
  cmd:option("-o --output", "File to write; - for stdout. Default: perf.pb.gz for pprof, "
    .. "stdout for folded.")
  cmd:option("--format", "Output format: pprof or folded. Default: folded when the output "
    .. "ends in .folded, else pprof.")
    :choices({ "pprof", "folded" })
  cmd:option("--labels", "pprof sample labels, comma-separated: comm, thread_comm, pid, tid, cpu, "
    .. "benchmark (the Go benchmark on each stack, as profile runs label it).")
  cmd:option("--event-filter", "Keep only samples of this event (folded: default the first event seen).")
  cmd:flag("--pid", "Folded: root frame comm-PID.")
  cmd:flag("--tid", "Folded: root frame comm-PID/TID.")
  cmd:flag("--kernel", "Folded: annotate kernel frames with _[k].")
  cmd:flag("--jit", "Folded: annotate JIT frames with _[j].")
  cmd:flag("--all", "Folded: --kernel and --jit.")
  cmd:flag("--addrs", "Folded: name unknown symbols [dso <address>].")
  cmd:flag("--srcline", "Append :FILE:LINE to folded frames, from perf script -F +srcline's lines; "
    .. "perf.data: read from the binaries' line tables, into the profile's file:line too.")
  cmd:flag("--strict", "Fail (exit 2) at the first line that is not perf script output.")
  cmd:option("--binary-root", "Find profiled binaries under this directory (DIR/<path>).")
  cmd:option("--kallsyms", "perf.data: the /proc/kallsyms of the recording's host, for kernel "
    .. "frames (default: perf's build-id cache, or this host's when it runs the recording's kernel).")
end

-- The sample labels and the stack labels (benchmark: the Go rule's) of
-- --labels.
local function labels_of(s)
  if not s then return nil end
  local list, stack = {}, nil
  for name in s:gmatch("[^,%s]+") do
    if name == "benchmark" then
      stack = require("perfgo.rules").load("go").stack_labels
    elseif not LABELS[name] then
      errors.user(string.format("--labels: unknown label '%s' (use comm, thread_comm, pid, tid, cpu, benchmark)",
        name))
    else
      list[#list + 1] = name
    end
  end
  return list, stack
end

local function is_tty(fd)
  return require("perfgo.sys").isatty(fd)
end

--- Writes the output: stdout ("-"), or a file replaced whole (through
--- perfgo.sys.write_file: modes kept, symbolic links checked). Every
--- write error stops perfgo with a message, stdout's included.
local function write_output(path, data)
  if path == "-" then
    local ok, err = io.stdout:write(data)
    if ok then ok, err = io.stdout:flush() end
    if not ok then errors.user("cannot write to stdout: " .. tostring(err)) end
    return
  end
  local ok, err = require("perfgo.sys").write_file(path, data)
  if not ok then errors.user("cannot write " .. err) end
end

--- Options for perfgo.parser.new from the parsed arguments.
---@param args table
---@param format string "pprof" or "folded"
---@return table
function M.parser_options(args, format)
  local labels, stack_labels = labels_of(args.labels)
  -- an archived perf.data: the binaries and kallsyms archived beside it
  local path_map, kallsyms
  if args.input and args.input ~= "-" then
    path_map, kallsyms = require("perfgo.archive").read_paths(args.input)
  end
  return {
    path_map = path_map,
    profile = format == "pprof",
    labels = labels,
    stack_labels = stack_labels,
    event_filter = args.event_filter,
    pid = args.pid or nil,
    tid = args.tid or nil,
    kernel = args.kernel or nil,
    jit = args.jit or nil,
    all = args.all or nil,
    addrs = args.addrs or nil,
    srcline = args.srcline or nil,
    strict = args.strict or nil,
    binary_root = args.binary_root,
    kallsyms = args.kallsyms or kallsyms,
    source = args.input == "-" and "stdin" or args.input,
  }
end

---@param args table parsed arguments
---@return integer exit code
function M.run(args)
  local parser = require "perfgo.parser"
  local format = args.format
  if not format then
    format = (args.output and args.output:match("%.folded$")) and "folded" or "pprof"
  end
  local output = args.output or (format == "pprof" and "perf.pb.gz" or "-")
  if args.input == "-" and is_tty(0) then
    errors.user("convert: no input: give -i FILE, or pipe perf script output into it")
  end

  local p = parser.new(M.parser_options(args, format))
  -- A progress line on a terminal, for inputs large enough to be called
  -- back for (the terminal check runs at the first call).
  local tty
  local function progress(bytes, samples)
    if tty == nil then tty = is_tty(2) end
    if tty then
      io.stderr:write(string.format("\rperfgo: read %.1f MB, %d samples", bytes / 1e6, samples))
    end
  end
  local ok, err, reason = p:feed_file(args.input, progress)
  if tty then io.stderr:write("\r\27[K") end
  if not ok and reason == "unsupported" then
    errors.user(string.format("%s; convert perf script's text instead: perf script -i %s | perfgo convert -i -",
      err, args.input == "-" and "FILE" or args.input))
  end
  if not ok then errors.user(err) end
  local result, ferr = p:finish()
  if not result then errors.user(ferr) end

  if format == "folded" then
    write_output(output, p:folded())
  elseif output == "-" then
    write_output(output, result:encode())
  else
    local wok, werr = result:write(output)
    if not wok and werr then errors.user("cannot write " .. werr) end
  end
  local ui = require "perfgo.ui"
  for _, w in ipairs(p:warnings()) do ui.warn("%s", w) end
  local stats = p:stats()
  if stats.samples == 0 then
    ui.warn("no samples in %s", args.input == "-" and "stdin" or args.input)
  end
  p:close()
  return 0
end

return M
