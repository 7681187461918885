--- What perfgo tells the user while it works: step lines and warnings on
--- stderr. Step lines appear only when stderr is a terminal (or when
--- PERFGO_PROGRESS=1), so scripts and logs get the test's own output alone;
--- warnings always appear. Arguments are text from inputs as often as not
--- (file names, symbols, perf's messages): they are shown with control
--- characters escaped (perfgo.errors.escape), so that no escape sequence
--- from a file reaches the terminal.
local errors = require "perfgo.errors"
local sys = require "perfgo.sys"

local M = {}

local function enabled()
  local env = os.getenv("PERFGO_PROGRESS")
  if env ~= nil and env ~= "" then return env ~= "0" end
  return sys.isatty(2)
end

local show_steps = enabled()
local color = show_steps and sys.isatty(2) and os.getenv("NO_COLOR") == nil

-- string.format with every string argument escaped.
local function format(fmt, ...)
  local args = table.pack(...)
  for i = 1, args.n do
    if type(args[i]) == "string" then args[i] = errors.escape(args[i]) end
  end
  return string.format(fmt, table.unpack(args, 1, args.n))
end

local function paint(code, s)
  if not color then return s end
  return "\27[" .. code .. "m" .. s .. "\27[0m"
end

local EPIPE = 32

-- Writes and flushes; output nobody reads any more (the reader of a pipe
-- went away) counts as SIGPIPE for a run in progress (perfgo.proc).
local function emit(f, s)
  local ok, _, code = f:write(s)
  if ok then ok, _, code = f:flush() end
  if not ok and code == EPIPE then require("perfgo.proc").interrupt("PIPE") end
end

--- Writes results to stdout (a stat table, ...).
---@param s string
function M.out(s)
  emit(io.stdout, s)
end

--- Writes text to stderr as it is (another perfgo's messages, passed on).
---@param s string
function M.err(s)
  emit(io.stderr, s)
end

--- Whether step lines are shown (a terminal, or PERFGO_PROGRESS=1).
---@return boolean
function M.steps_shown()
  return show_steps
end

--- Announces a step ("building ./pkg for linux/amd64").
---@param fmt string
function M.step(fmt, ...)
  if not show_steps then return end
  emit(io.stderr, paint("1;34", "perfgo: ") .. format(fmt, ...) .. "\n")
end

--- A warning: something went wrong silently and the user should know.
---@param fmt string
function M.warn(fmt, ...)
  emit(io.stderr, paint("1;33", "perfgo: warning: ") .. format(fmt, ...) .. "\n")
end

--- A plain informational line that is always shown (results, paths).
---@param fmt string
function M.info(fmt, ...)
  emit(io.stderr, "perfgo: " .. format(fmt, ...) .. "\n")
end

--- Human-readable byte count.
---@param n number
---@return string
function M.bytes(n)
  if n >= 1 << 30 then return string.format("%.1f GiB", n / (1 << 30)) end
  if n >= 1 << 20 then return string.format("%.1f MiB", n / (1 << 20)) end
  if n >= 1 << 10 then return string.format("%.1f KiB", n / (1 << 10)) end
  return string.format("%d B", n)
end

return M
