--- The exec rule: run any command as given (`perfgo exec ... -- CMD ARGS`).
--- Nothing is built; the command runs in the current directory (on a
--- remote target: the same directory of the synced working tree).
local errors = require "perfgo.errors"
local fs = require "perfgo.fs"

-- What the rule is (rules/README.md); it builds nothing (the default build).
local M = {
  name = "exec",
  description = "Any command, run as given in the current directory; nothing is built.",
}

---@param ctx table
function M.resolve(ctx)
  local argv = ctx.passthrough or {}
  if #argv == 0 then
    errors.user("exec: no command given (usage: perfgo exec [MODE] [flags] -- CMD ARGS...)")
  end
  ctx.exec_argv = argv
  ctx.package = {
    pattern = argv[1],
    import_path = argv[1],
    dir = ctx.cwd,
    rel = fs.relative(ctx.cwd, ctx.repo.root) or ".",
  }
  ctx.build_flags, ctx.run_flags = {}, {}
end

---@param ctx table
---@return string[] argv, string workdir relative to the repository root
function M.command(ctx)
  local argv = {}
  for i, a in ipairs(ctx.exec_argv) do argv[i] = a end
  return argv, ctx.package.rel
end

return M
