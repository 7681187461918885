--- Checks run before and after perf, as pure decisions over facts the
--- workflow gathers (whether perf exists, sysctl values, the output of a
--- probe `perf stat`, the stderr of perf record / perf script). Each check
--- returns nil when all is well, or a message a user can act on: what
--- happened, and what to change.
local M = {}

--- Debian package that provides perf.
M.PERF_PACKAGE = "linux-perf"

--- Environment perf must run with so numbers parse the same everywhere.
M.ENV = { LC_ALL = "C" }

local HARDWARE = {
  "cycles", "cpu%-cycles", "instructions", "branches", "branch%-", "cache%-", "ref%-cycles",
  "bus%-cycles", "stalled%-", "L1%-", "LLC%-", "dTLB%-", "iTLB%-", "node%-",
  "mem%-loads", "mem%-stores", "topdown", "slots",
}

--- Removes a hybrid PMU prefix (`cpu_core/cycles/` -> `cycles`) and a
--- privilege modifier (`cycles:u` -> `cycles`).
---@param event string
---@return string
function M.base_event(event)
  local inner = event:match("^cpu_%w+/(.-)/?$")
  local e = inner or event
  return (e:gsub(":[ukhHGpPS]+$", ""))
end

--- Whether an event counts in hardware (needs a PMU the machine exposes).
---@param event string
---@return boolean
function M.is_hardware(event)
  if event:match("^cpu[%w_]*/") or event:match("^r%x+$") then return true end
  local base = M.base_event(event)
  for _, p in ipairs(HARDWARE) do
    if base:match("^" .. p) then return true end
  end
  return false
end

--- The message for an event perf reports as `<not supported>`.
---@param event string
---@return string
function M.unsupported_event(event)
  local base = M.base_event(event)
  if M.is_hardware(event) then
    return ("event '%s' is not supported on this machine (no hardware PMU access, e.g. in a VM): "
      .. "use a software event such as -e cpu-clock"):format(base)
  end
  return ("event '%s' is not supported on this machine: run 'perf list' for the events it has, "
    .. "or use a software event such as -e cpu-clock"):format(base)
end

--- The message when perf is not installed, or nil when it is.
---@param found boolean whether a `perf` executable was found
---@param where? string the host it is missing on (nil: this machine)
---@return string|nil
function M.perf_missing(found, where)
  if found then return nil end
  return require("perfgo.programs").missing_message("perf", where)
    .. ", or the perf package of your distribution"
end

local function lower_paranoid(to)
  return ("lower it with 'sudo sysctl kernel.perf_event_paranoid=%d' (to keep it, add "
    .. "'kernel.perf_event_paranoid = %d' to /etc/sysctl.d/99-perf.conf), or run as root"):format(to, to)
end

--- Decides whether kernel.perf_event_paranoid lets this run use perf.
--- Levels: 2 allows profiling one's own processes in user space, 1 adds
--- kernel and system-wide (-a, c2c) counting, 3 and above (a Debian
--- addition) forbid perf to users without CAP_PERFMON.
---@param value string|number|nil contents of /proc/sys/kernel/perf_event_paranoid
---@param opts? {root?: boolean, system_wide?: boolean, kernel?: boolean}
---@return string|nil
function M.paranoid(value, opts)
  opts = opts or {}
  local level = tonumber(tostring(value or ""):match("^%s*(%-?%d+)"))
  if opts.root or level == nil then return nil end
  if level >= 3 then
    return ("kernel.perf_event_paranoid is %d, which forbids perf to users without CAP_PERFMON: %s")
      :format(level, lower_paranoid(2))
  end
  if level >= 2 and (opts.system_wide or opts.kernel) then
    local what = opts.system_wide and "system-wide counting (perf c2c, -a)" or "kernel profiling"
    return ("kernel.perf_event_paranoid is %d, which forbids %s to users without CAP_PERFMON: %s")
      :format(level, what, lower_paranoid(1))
  end
  return nil
end

--- Warning for kernel.kptr_restrict hiding kernel symbols, or nil.
--- 0 shows kernel addresses, 1 only to CAP_SYSLOG (root), 2 to nobody.
---@param value string|number|nil contents of /proc/sys/kernel/kptr_restrict
---@param opts? {root?: boolean}
---@return string|nil
function M.kptr_restrict(value, opts)
  opts = opts or {}
  local level = tonumber(tostring(value or ""):match("^%s*(%d+)"))
  if level == nil or level == 0 or (level == 1 and opts.root) then return nil end
  return ("kernel.kptr_restrict is %d, so kernel symbols are hidden: kernel frames will show as "
    .. "[unknown]; %s 'sudo sysctl kernel.kptr_restrict=0' to see them"):format(
    level, level == 1 and "run as root, or set" or "set")
end

--- The command that probes whether events can be counted: perf stat in
--- CSV mode around `true`. Run it with env M.ENV; perf writes the
--- counters to stderr.
---@param events string|string[] comma-separated events or a list
---@param perf? string perf executable, default "perf"
---@return string[]
function M.probe_argv(events, perf)
  if type(events) == "table" then events = table.concat(events, ",") end
  assert(type(events) == "string" and events ~= "", "probe_argv: events must be a non-empty string or list")
  return { perf or "perf", "stat", "-x,", "-e", events, "--", "true" }
end

--- Reads the result of running probe_argv: nil when every event can be
--- counted, else the message to stop with. A hybrid event (cpu_core/...,
--- cpu_atom/...) is usable when any of its copies is supported. With the
--- one event probed, a message names it as given (perf's own message may
--- show only part of it).
---@param result {code: integer, stdout?: string, stderr?: string}
---@param events? string[] the events probed
---@return string|nil
function M.probe(result, events)
  local out = (result.stdout or "") .. "\n" .. (result.stderr or "")
  local err = M.perf_error(out, events and #events == 1 and events[1] or nil)
  if err then return err end
  local seen, order = {}, {}
  for line in out:gmatch("[^\n]+") do
    local value, event = line:match("^([^,]*),[^,]*,([^,]+),")
    if value and event then
      local base = M.base_event(event)
      if not seen[base] then seen[base] = { supported = false }; order[#order + 1] = base end
      if value ~= "<not supported>" then seen[base].supported = true end
    end
  end
  for _, base in ipairs(order) do
    if not seen[base].supported then return M.unsupported_event(base) end
  end
  if result.code ~= 0 then
    local first = (result.stderr or ""):match("[^\n]+") or "no message"
    return ("perf stat failed (exit %s): %s"):format(tostring(result.code), first)
  end
  if #order == 0 then
    return "perf stat printed no counters; run it by hand to see why: " .. table.concat(M.probe_argv("cpu-clock"), " ")
  end
  return nil
end

--- Recognizes the errors perf prints when it refuses to start: access
--- denied by kernel.perf_event_paranoid, an unknown event.
---@param text string perf's stderr
---@param event? string the one event perf was given, to name it whole
---@return string|nil
function M.perf_error(text, event)
  if text:find("Access to performance monitoring and observability operations is limited", 1, true) then
    local level = tonumber(text:match("perf_event_paranoid setting is (%-?%d+)"))
    local to = level and (level >= 3 and 2 or math.max(level - 1, -1)) or 1
    return ("perf was denied access to performance monitoring by kernel.perf_event_paranoid (%s): %s")
      :format(level or "unknown", lower_paranoid(to))
  end
  local bad = text:match("event syntax error: '([^']*)'")
  if bad then
    return ("perf does not know the event '%s': run 'perf list' for the events this machine has")
      :format(event or bad)
  end
  return nil
end

--- Why perf could not start the command it was to measure, from its
--- stderr ("No such file or directory", ...), or nil.
---@param text string
---@return string|nil
function M.workload_failure(text)
  return text:match("Failed to collect '[^\n]-' for the '[^\n]-' workload: ([^\n]+)")
    or text:match("\nWorkload failed: ([^\n]+)") or text:match("^Workload failed: ([^\n]+)")
end

--- The message for perf failing before the command ran: perf's own words
--- (the lines before its usage text), recognized errors first.
---@param what string "perf record", "perf stat"
---@param code integer perf's exit status
---@param text string perf's stderr
---@param signal? integer the signal that ended perf
---@return string
function M.perf_failure(what, code, text, signal)
  local known = M.perf_error(text)
  if known then return known end
  local lines = {}
  for line in text:gmatch("[^\n]+") do
    if line:match("^%s*Usage:") then break end
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and line ~= "Error:" then lines[#lines + 1] = line end
    if #lines == 3 then break end
  end
  local why = #lines > 0 and table.concat(lines, " ") or "no message"
  local how = signal and ("killed by signal " .. signal) or ("exit " .. code)
  return ("%s failed (%s), so the command was not measured: %s"):format(what, how, why)
end

--- The signal that ended the command under perf stat, which exits 0 then
--- and prints "<command>: <description>" (psignal). The last such line
--- counts; other lines may follow it.
---@param text string perf stat's stderr
---@param command string the command's argv[0], as perf was given it
---@param descriptions table<integer, string> signal number -> description
---@return integer|nil
function M.stat_signal(text, command, descriptions)
  local by_desc = {}
  for n, d in pairs(descriptions) do by_desc[d] = n end
  local found
  local prefix = command .. ": "
  for line in text:gmatch("[^\n]+") do
    if line:sub(1, #prefix) == prefix then
      found = by_desc[line:sub(#prefix + 1)] or found
    end
  end
  return found
end

---@class perfgo.PerfFacts
---@field perf_found boolean a perf executable exists
---@field paranoid? string|number /proc/sys/kernel/perf_event_paranoid
---@field kptr_restrict? string|number /proc/sys/kernel/kptr_restrict
---@field root? boolean running as root (or with CAP_PERFMON)
---@field system_wide? boolean the mode counts system-wide (c2c, -a)
---@field kernel? boolean kernel samples are wanted
---@field probe? {code: integer, stdout?: string, stderr?: string} result of probe_argv
---@field events? string[] the events probed

--- All the checks before a run, in the order a user should fix them.
---@param facts perfgo.PerfFacts
---@return string|nil error the message to stop with, or nil to go on
---@return string[] warnings to print and go on
function M.preflight(facts)
  local warnings = {}
  local err = M.perf_missing(facts.perf_found)
    or M.paranoid(facts.paranoid, facts)
    or (facts.probe and M.probe(facts.probe, facts.events))
  if not err then
    warnings[#warnings + 1] = M.kptr_restrict(facts.kptr_restrict, facts)
  end
  return err or nil, warnings
end

--- Warnings hidden in the stderr of perf record / perf script / perf
--- report (or the output of `perf report --stats`): lost events, lost
--- samples, throttling, restricted kernel symbols, an empty profile.
---@param text string
---@return string[] warnings, empty when there is nothing to say
function M.record_warnings(text)
  local t = "\n" .. text
  local w = {}
  local function add(fmt, ...) w[#w + 1] = fmt:format(...) end
  local function stat(name) return tonumber(t:match("\n%s*" .. name .. " events:%s*(%d+)")) or 0 end
  local ev, chunks = t:match("Processed (%d+) events and lost (%d+) chunks!")
  chunks = tonumber(chunks) or stat("LOST")
  if chunks > 0 then
    add("perf lost %d chunk(s) of events%s: the kernel's buffer filled faster than perf wrote it out, "
      .. "so the profile is missing samples; lower the frequency (-F) or give perf a bigger buffer "
      .. "(-m, e.g. -m 512)", chunks, ev and (" (" .. ev .. " events processed)") or "")
  end
  local nsamp, pct = t:match("Processed (%d+) samples and lost ([%d.]+)%%!")
  if nsamp then
    add("perf lost %s%% of %s samples: the profile under-represents the busiest moments; lower the "
      .. "frequency (-F) or give perf a bigger buffer (-m)", pct, nsamp)
  elseif stat("LOST_SAMPLES") > 0 then
    add("perf reported %d lost-sample record(s): the profile is missing samples; lower the frequency "
      .. "(-F) or give perf a bigger buffer (-m)", stat("LOST_SAMPLES"))
  end
  local max, from, to = t:match("Maximum frequency rate %(([%d,]+) Hz%) exceeded, throttling from ([%d,]+) Hz "
    .. "to ([%d,]+) Hz")
  if max then
    add("perf throttled sampling from %s Hz to %s Hz (kernel.perf_event_max_sample_rate is %s): ask for "
      .. "-F %s or less, or raise the sysctl kernel.perf_event_max_sample_rate", from, to, max, max)
  end
  if stat("THROTTLE") > 0 then
    add("the kernel throttled sampling %d time(s) during the run because its sampling interrupts "
      .. "took too long, so some stretches have no samples; lower the frequency (-F)", stat("THROTTLE"))
  end
  if t:find("Kernel address maps (/proc/{kallsyms,modules}) ", 1, true) then
    add("kernel symbols are restricted, so kernel frames will show as [unknown]: set "
      .. "'sudo sysctl kernel.kptr_restrict=0' (and run as root) to resolve them")
  end
  local wrote = t:match("%[ perf record: Captured and wrote [^%]]*%]")
  local n = wrote and tonumber(wrote:match("%((%d+) samples%)") or "0")
  if n == 0 then
    add("the profile has zero samples: the test ran too briefly for the sampling rate, or the event "
      .. "never fired; run the benchmarks longer (-benchtime) or use -e cpu-clock")
  end
  return w
end

--- The message for a failed `perf script` run, or nil when it worked.
---@param code integer exit status of perf script
---@param stderr? string
---@return string|nil
function M.script_failure(code, stderr)
  if code == 0 then return nil end
  stderr = stderr or ""
  local why = stderr:match("([^\n]*incompatible file format[^\n]*)")
    or stderr:match("(failed to open [^\n]*)")
    or stderr:match("([^\n]*[Ee]rror[^\n]*)")
    or stderr:match("[^\n]+") or "no message"
  return ("perf script failed (exit %s), so no profile could be made: %s"):format(tostring(code), why)
end

return M
