--- Error values for the two tiers of perfgo's error output.
---
--- A *user error* is something the user can fix (a bad flag, a missing
--- file, an unsupported event): the host prints one line, "perfgo: MESSAGE",
--- and exits with the error's code. Any other Lua error is an internal
--- error and prints a traceback. `--debug` shows tracebacks for both.
local M = {}

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
    message = tostring(message),
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
