--- `perfgo clean --remote-host H [--all]`: removes perfgo's files from a
--- host: this repository's mirror and left-over runs, or with --all those
--- of every repository. Runs still in progress are left alone.
local M = {
  name = "clean",
  summary = "Remove perfgo's files (repository mirrors, left-over runs) from a remote host.",
}

---@param cmd table argparse command
function M.define(cmd)
  cmd:usage("Usage: perfgo clean --remote-host HOST[,HOST...] [--all] [--ssh-config FILE] [-o KEY=VALUE]...")
  cmd:description([[
Removes what perfgo keeps on a remote host under
${XDG_CACHE_HOME:-~/.cache}/perfgo/: the mirror of this repository (which
makes the next sync incremental) and any run directories left behind
(kept with --keep, or from a run that could not clean up). With --all,
every repository's. Runs in progress on the host are left alone.]])
  cmd:option("--remote-host", "The host ([user@]host[:port] or an ssh config alias); several: "
    .. "a,b,c or repeated."):count("*"):argname("<host>")
  cmd:option("--ssh-config", "ssh config file to use (ssh -F).")
  cmd:option("-o --ssh-option", "ssh option KEY=VALUE (repeatable).")
    :count("*"):argname("<key=value>")
  cmd:flag("--all", "Remove the files of every repository, not only this one's.")
end

---@param args table
-- Cleans one host.
local function clean(args, host, key)
  local ui = require "perfgo.ui"
  local remote = require "perfgo.remote"
  ui.step("connecting to %s", host)
  local session = remote.session({ host = host, config = args.ssh_config,
    options = remote.ssh_options(args.ssh_option) })
  local ok, r = pcall(remote.clean, session, host, key)
  session:close()
  if not ok then error(r, 0) end
  local kib = 0
  for _, x in ipairs(r.removed) do kib = kib + x.kib end
  for _, x in ipairs(r.removed) do ui.step("removed %s:%s", host, x.path) end
  for _, b in ipairs(r.busy) do ui.info("left %s:%s alone: a run is using it", host, b) end
  if #r.removed == 0 then
    ui.info("nothing to remove on %s%s", host,
      key and " for this repository (--all: every repository's files)" or "")
  else
    ui.info("removed %d director%s (%s) from %s:%s", #r.removed, #r.removed == 1 and "y" or "ies",
      ui.bytes(kib * 1024), host, r.top or "")
  end
end

---@param args table
---@return integer
function M.run(args)
  local errors = require "perfgo.errors"
  local hosts = require("perfgo.fanout").hosts(args.remote_host)
  if #hosts == 0 then
    errors.user("clean: give the host with --remote-host HOST")
  end
  local key
  if not args.all then
    local fs = require "perfgo.fs"
    local cwd = fs.abspath(".")
    key = require("perfgo.target").repo_key(require("perfgo.git").root(cwd) or cwd)
  end
  if #hosts == 1 then
    clean(args, hosts[1], key)
    return 0
  end
  -- several hosts: each in turn; one that fails is named, the others cleaned
  local code = 0
  for _, host in ipairs(hosts) do
    local ok, err = pcall(clean, args, host, key)
    if not ok then
      if not errors.is_user(err) then error(err, 0) end
      require("perfgo.ui").info("%s: %s", host, errors.message(err))
      if code == 0 then code = err.exit_code end
    end
  end
  return code
end

return M
