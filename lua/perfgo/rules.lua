--- Rules: how to build and run one kind of project (rules/README.md). A rule is looked up by name: perfgo.lua's
--- `rules` (the project's over the user's), then the files
--- `.perfgo/rules/<name>.lua` of the repository, `~/.config/perfgo/rules/`,
--- then the rules shipped with perfgo. A rule may extend another
--- (perfgo.declare).
local host_ok, host = pcall(require, "perfgo.host")
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"
local declare = require "perfgo.declare"

local M = {}

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

-- The rule files named `name`, most specific first.
local function find(name, repo_root)
  local out = {}
  for _, dir in ipairs(M.search_path(repo_root)) do
    local path = fs.join(dir, name .. ".lua")
    if fs.is_file(path) then
      local chunk, err = loadfile(path)
      if not chunk then errors.user(string.format("rule %s: %s", name, err)) end
      local ok, decl = pcall(chunk)
      if not ok then errors.user(string.format("rule %s: %s", name, errors.message(decl))) end
      out[#out + 1] = { decl = decl, path = path }
    end
  end
  return out
end

--- What a rule is made of (perfgo.declare): what it declares and the
--- functions the workflow calls, with the number of arguments before base.
---@type perfgo.Kind
M.KIND = {
  name = "rule",
  section = "rules",
  fields = { name = "string", description = "string", extends = "string", stack_labels = "table" },
  methods = { resolve = 1, preflight = 1, stage = 1, build = 1, command = 1, go_profile_flags = 1 },
  required = { "resolve", "command" },
  defaults = {
    -- nothing to check on the target
    preflight = function(_ctx) end,
    -- the target receives the working tree and the binary
    stage = function(ctx) ctx.target:stage(ctx) end,
    -- nothing to build: the command runs as it is
    build = function(_ctx) end,
    -- no flags of Go's own profiling (a rule for Go test binaries gives them)
    go_profile_flags = function(_dir) return {} end,
  },
  find = find,
}

local registry = declare.registry(M.KIND)

--- Adds a rule declared in perfgo.lua (checked already).
---@param name string
---@param decl table
---@param where perfgo.Where
function M.register(name, decl, where)
  registry:register(name, decl, where)
end

--- Forgets the rules perfgo.lua registered (for tests).
function M.reset()
  registry:reset()
end

--- Loads rule `name`.
---@param name string
---@param repo_root string|nil
---@return table
function M.load(name, repo_root)
  local rule = registry:find(name, repo_root)
  if rule then return rule end
  errors.user(string.format("no rule named '%s' (looked in perfgo.lua, %s)", name,
    table.concat(M.search_path(repo_root), ", ")))
end

return M
