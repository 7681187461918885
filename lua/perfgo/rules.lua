--- Finds rules: project, then user, then the rules shipped with perfgo.
local host_ok, host = pcall(require, "perfgo.host")
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"

local M = {}

--- Rules registered at run time (by perfgo.lua's `rules` table); they win
--- over files.
M.registered = {}

--- Directories searched for `<name>.lua`, most specific first.
---@param repo_root string|nil
---@return string[]
function M.search_path(repo_root)
  local dirs = {}
  if repo_root then dirs[#dirs + 1] = fs.join(repo_root, ".perfgo", "rules") end
  local home = os.getenv("HOME")
  local config = os.getenv("XDG_CONFIG_HOME")
  if config and config ~= "" then
    dirs[#dirs + 1] = fs.join(config, "perfgo", "rules")
  elseif home then
    dirs[#dirs + 1] = fs.join(home, ".config", "perfgo", "rules")
  end
  if host_ok and host.rules_dir then dirs[#dirs + 1] = host.rules_dir end
  local env = os.getenv("PERFGO_RULES_DIR")
  if env and env ~= "" then dirs[#dirs + 1] = env end
  return dirs
end

local function check(rule, origin)
  for _, field in ipairs({ "resolve", "build", "command" }) do
    if type(rule[field]) ~= "function" then
      errors.user(string.format("rule %s: missing function '%s'", origin, field))
    end
  end
  return rule
end

--- Loads rule `name`.
---@param name string
---@param repo_root string|nil
---@return table rule
function M.load(name, repo_root)
  if M.registered[name] then return check(M.registered[name], name) end
  for _, dir in ipairs(M.search_path(repo_root)) do
    local path = fs.join(dir, name .. ".lua")
    if fs.is_file(path) then
      local chunk, err = loadfile(path)
      if not chunk then errors.user(string.format("rule %s: %s", name, err)) end
      local ok, rule = pcall(chunk)
      if not ok then errors.user(string.format("rule %s: %s", name, errors.message(rule))) end
      if type(rule) ~= "table" then
        errors.user(string.format("rule %s (%s) must return a table", name, path))
      end
      rule.origin = path
      return check(rule, path)
    end
  end
  errors.user(string.format("no rule named '%s' (looked in %s)", name,
    table.concat(M.search_path(repo_root), ", ")))
end

return M
