--- `perfgo clean --remote-host H [--all]`: removes perfgo's files from a
--- host: this repository's mirror and left-over runs, or with --all those
--- of every repository. Runs still in progress are left alone.
local M = {
  name = "clean",
  summary = "Remove perfgo's files (repository mirrors, left-over runs) from a remote host.",
}

---@param cmd table argparse command
function M.define(cmd)
  cmd:usage("Usage: perfgo clean --remote-host HOST [--all] [--ssh-config FILE] [-o KEY=VALUE]...")
  cmd:description([[
Removes what perfgo keeps on a remote host under
${XDG_CACHE_HOME:-~/.cache}/perfgo/: the mirror of this repository (which
makes the next sync incremental) and any run directories left behind
(kept with --keep, or from a run that could not clean up). With --all,
every repository's. Runs in progress on the host are left alone.]])
  cmd:option("--remote-host", "The host ([user@]host[:port] or an ssh config alias)."):args(1)
  cmd:option("--ssh-config", "ssh config file to use (ssh -F).")
  cmd:option("-o --ssh-option", "ssh option KEY=VALUE (repeatable).")
    :count("*"):argname("<key=value>")
  cmd:flag("--all", "Remove the files of every repository, not only this one's.")
end

---@param args table
---@return integer
function M.run(args)
  local errors = require "perfgo.errors"
  local ui = require "perfgo.ui"
  local remote = require "perfgo.remote"
  if not args.remote_host or args.remote_host == "" then
    errors.user("clean: give the host with --remote-host HOST")
  end
  local key
  if not args.all then
    local fs = require "perfgo.fs"
    local cwd = fs.abspath(".")
    key = require("perfgo.target").repo_key(require("perfgo.git").root(cwd) or cwd)
  end
  ui.step("connecting to %s", args.remote_host)
  local session = remote.session({ host = args.remote_host, config = args.ssh_config,
    options = remote.ssh_options(args.ssh_option) })
  local ok, r = pcall(remote.clean, session, args.remote_host, key)
  session:close()
  if not ok then error(r, 0) end
  local kib = 0
  for _, x in ipairs(r.removed) do kib = kib + x.kib end
  for _, x in ipairs(r.removed) do ui.step("removed %s:%s", args.remote_host, x.path) end
  for _, b in ipairs(r.busy) do ui.info("left %s:%s alone: a run is using it", args.remote_host, b) end
  if #r.removed == 0 then
    ui.info("nothing to remove on %s%s", args.remote_host,
      key and " for this repository (--all: every repository's files)" or "")
  else
    ui.info("removed %d director%s (%s) from %s:%s", #r.removed, #r.removed == 1 and "y" or "ies",
      ui.bytes(kib * 1024), args.remote_host, r.top or "")
  end
  return 0
end

return M
