--- The host state that moves benchmark numbers, as configuration lines of
--- the Go benchmark format: the CPU model, the kernel, the frequency
--- governor, turbo/boost, SMT, the load average when the run starts, the
--- isolated CPUs and perf_event_paranoid. All of it is read by one shell
--- command on the target (`target:run(argv)`), so a remote host costs one
--- round trip.
local benchfmt = require "perfgo.benchfmt"

local M = {}

--- The keys perfgo writes, in the order written, with what they hold.
M.KEYS = {
  { "cpu", "the CPU model (/proc/cpuinfo)" },
  { "kernel", "uname -sr" },
  { "cpu-governor", "cpufreq scaling governor of each CPU (one value when all agree)" },
  { "cpu-boost", "turbo/boost: on, off or unknown" },
  { "smt", "simultaneous multithreading: on, off, forceoff, notsupported or unknown" },
  { "loadavg", "the 1, 5 and 15 minute load averages when the run started" },
  { "isolated-cpus", "CPUs isolated from the scheduler (isolcpus), or none" },
  { "perf-event-paranoid", "kernel.perf_event_paranoid" },
  { "nproc", "CPUs the run may use (its GOMAXPROCS by default)" },
}

-- One line per fact, `name=value`; a fact that cannot be read prints
-- nothing, and the parser fills in "unknown".
M.SCRIPT = [==[
cpu=$(sed -n 's/^\(model name\|Model\|Hardware\|cpu model\|cpu\)[[:space:]]*:[[:space:]]*//p' \
  /proc/cpuinfo 2>/dev/null | head -n 1)
echo "cpu=$cpu"
echo "kernel=$(uname -sr)"
govs=$(cat /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor 2>/dev/null | sort | uniq -c |
  awk '{printf "%s%s(%s)", (NR>1?",":""), $2, $1}')
n=$(cat /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor 2>/dev/null | sort -u | wc -l)
if [ "$n" = 1 ]; then govs=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor); fi
if [ -z "$govs" ]; then govs="none (no cpufreq)"; fi
echo "governor=$govs"
if [ -r /sys/devices/system/cpu/intel_pstate/no_turbo ]; then
  echo "no_turbo=$(cat /sys/devices/system/cpu/intel_pstate/no_turbo)"
fi
if [ -r /sys/devices/system/cpu/cpufreq/boost ]; then
  echo "boost=$(cat /sys/devices/system/cpu/cpufreq/boost)"
fi
if [ -r /sys/devices/system/cpu/smt/control ]; then
  echo "smt=$(cat /sys/devices/system/cpu/smt/control)"
  echo "smt_active=$(cat /sys/devices/system/cpu/smt/active 2>/dev/null)"
fi
echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "isolated=$(cat /sys/devices/system/cpu/isolated 2>/dev/null)"
echo "paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)"
echo "nproc=$(nproc 2>/dev/null)"
]==]

--- The argv that prints the facts (for target:run).
---@return string[]
function M.argv()
  return { "sh", "-c", M.SCRIPT }
end

--- The facts from the script's output, as configuration values by key
--- (M.KEYS); what could not be read is "unknown".
---@param out string
---@return table<string, string>
function M.parse(out)
  local raw = {}
  for line in (out or ""):gmatch("[^\n]+") do
    local k, v = line:match("^([%w_]+)=(.*)$")
    if k then raw[k] = v:gsub("%s+$", ""):gsub("[%c]", " ") end
  end
  local function known(v) return v ~= nil and v ~= "" and v or nil end
  local info = {
    cpu = known(raw.cpu),
    kernel = known(raw.kernel),
    ["cpu-governor"] = known(raw.governor),
    ["loadavg"] = known(raw.loadavg),
    ["perf-event-paranoid"] = known(raw.paranoid),
    nproc = known(raw.nproc),
  }
  -- intel_pstate says no_turbo (1 = off); acpi-cpufreq and others boost
  if known(raw.no_turbo) then
    info["cpu-boost"] = raw.no_turbo == "0" and "on" or "off"
  elseif known(raw.boost) then
    info["cpu-boost"] = raw.boost == "1" and "on" or "off"
  end
  if known(raw.smt) then
    local active = raw.smt_active == "1" and "active" or raw.smt_active == "0" and "inactive" or nil
    info.smt = active and raw.smt ~= "notsupported" and (raw.smt .. " (" .. active .. ")") or raw.smt
  end
  if raw.isolated ~= nil then info["isolated-cpus"] = raw.isolated ~= "" and raw.isolated or "none" end
  for _, kv in ipairs(M.KEYS) do info[kv[1]] = info[kv[1]] or "unknown" end
  return info
end

--- Reads the facts on a target.
---@param target table perfgo.target (local or remote)
---@return table<string, string>
function M.gather(target)
  local r = target:run(M.argv(), { stdin = "null" })
  return M.parse(r and r.code == 0 and r.stdout or "")
end

--- Configuration lines: the facts in M.KEYS order, then extra pairs
--- ({key, value} in order).
---@param info table<string, string>
---@param extra? {[1]: string, [2]: string}[]
---@return string[]
function M.config_lines(info, extra)
  local out = {}
  for _, kv in ipairs(M.KEYS) do out[#out + 1] = benchfmt.config_line(kv[1], info[kv[1]] or "unknown") end
  for _, kv in ipairs(extra or {}) do out[#out + 1] = benchfmt.config_line(kv[1], kv[2]) end
  return out
end

return M
