--- Error values for the two tiers of perfgo's error output.
---
--- A *user error* is something the user can fix (a bad flag, a missing
--- file, an unsupported event): the host prints one line, "perfgo: MESSAGE",
--- and exits with the error's code. Any other Lua error is an internal
--- error and prints a traceback. `--debug` shows tracebacks for both.
---
--- Messages often quote their input (a file name, a line of perf's
--- output): M.escape makes such text safe for a terminal, and a user
--- error's message is escaped (newlines apart) when it is made.
local M = {}

--- Text from inputs (symbols, comm names, perf's messages, file names)
--- made safe for a terminal: control characters are shown escaped (`\n`,
--- `\t`, `\r`, `\e`, else `\xNN`), as are the C1 controls (written
--- `\u0080`..`\u009f` when UTF-8 encoded) and bytes that are not UTF-8,
--- so no escape sequence from a file reaches the terminal. Printable
--- text, UTF-8 included, is unchanged.
---@param s any
---@param keep_newlines? boolean leave "\n" as it is (multi-line messages)
---@return string
function M.escape(s, keep_newlines)
  s = tostring(s)
  if not s:find("[%c\128-\255]") then return s end -- the usual case
  local named = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ["\27"] = "\\e" }
  local out, i, n = {}, 1, #s
  while i <= n do
    local b = s:byte(i)
    if b < 0x20 or b == 0x7f then
      local c = s:sub(i, i)
      out[#out + 1] = (keep_newlines and c == "\n") and c or named[c] or string.format("\\x%02x", b)
      i = i + 1
    elseif b < 0x80 then
      local j = s:find("[%c\128-\255]", i) or n + 1
      out[#out + 1] = s:sub(i, j - 1)
      i = j
    else
      local seq = s:match("^[\194-\244][\128-\191]*", i)
      local ok, cp = false, nil
      if seq then ok, cp = pcall(utf8.codepoint, seq) end
      if ok and utf8.len(seq) == 1 then
        out[#out + 1] = (cp >= 0x80 and cp <= 0x9f) and string.format("\\u%04x", cp) or seq
        i = i + #seq
      else
        out[#out + 1] = string.format("\\x%02x", b)
        i = i + 1
      end
    end
  end
  return table.concat(out)
end

local mt = {
  __tostring = function(e) return e.message end,
}

---@class perfgo.UserError
---@field user_error boolean always true
---@field message string one line a user can act on
---@field exit_code integer the process exit code

--- Builds a user error value without raising it.
---@param message string
---@param exit_code? integer defaults to 2
---@return perfgo.UserError
function M.new(message, exit_code)
  return setmetatable({
    user_error = true,
    message = M.escape(message, true),
    exit_code = exit_code or 2,
  }, mt)
end

--- Raises a user error (exit code 2: a usage or input problem).
---@param message string
function M.user(message)
  error(M.new(message, 2), 0)
end

--- Raises a user error with a specific exit code.
---@param exit_code integer
---@param message string
function M.fail(exit_code, message)
  error(M.new(message, exit_code), 0)
end

--- True when `e` is a user error value.
---@param e any
---@return boolean
function M.is_user(e)
  return type(e) == "table" and e.user_error == true
end

--- The message of any error value, as a string.
---@param e any
---@return string
function M.message(e)
  if M.is_user(e) then return e.message end
  return tostring(e)
end

return M
