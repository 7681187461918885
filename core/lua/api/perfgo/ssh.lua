---@meta perfgo.ssh
-- luacheck: no unused
-- LuaLS definitions for perfgo.ssh (core/lua/ssh.c): sessions over one
-- OpenSSH control master. Remote commands are argv lists, quoted by perfgo
-- and run through `sh -c` on the remote; :run and :spawn use perfgo.proc.
-- require "perfgo.ssh" loads the C module, never this file. Connection and
-- remote failures return nil, message (ssh's own text); wrong arguments raise.

---@class perfgo.ssh.ConnectOptions
---@field host string required: "user@host:port", "host:port", "host" or an alias of the ssh config
---@field user? string
---@field port? integer|string
---@field identity? string private key file (ssh -i)
---@field config? string ssh config file (ssh -F)
---@field options? table<string, string>|string[] extra -o options: {Key = "value"} or {"Key=value"}
---@field control_dir? string where the control socket lives; default $XDG_RUNTIME_DIR/perfgo, else ~/.config/perfgo
---@field connect_timeout? integer seconds; default 10
---@field persist? integer ControlPersist seconds; default 120

---Options of Session:run and Session:spawn: cwd and env apply on the
---remote side; the stream options, input and timeout are perfgo.proc's for
---the local ssh client. Without stdin or input, stdin is held open so that
---the remote command dies with the connection (Ctrl-C included).
---@class perfgo.ssh.RemoteOptions
---@field cwd? string remote working directory
---@field env? table<string, string|false> remote variables; false unsets one
---@field stdin? perfgo.proc.Stdin
---@field stdout? perfgo.proc.Stream
---@field stderr? perfgo.proc.Stream
---@field input? string run only: written to the remote command's stdin
---@field timeout? number run only: seconds, as in perfgo.proc.run

---@class perfgo.ssh.ArgvOptions
---@field cwd? string remote working directory
---@field env? table<string, string|false> remote variables; false unsets one
---@field watchdog? boolean wrap the command so it dies with the connection (spawn it with stdin = "hold")

---@class perfgo.ssh.PutTreeOptions
---@field base? string local directory the files are relative to; default "."
---@field method? "auto"|"rsync"|"tar" default "auto" (rsync when both sides have it)

---@class perfgo.ssh.PutTreeResult
---@field method "rsync"|"tar" the method used
---@field sent string[] files that were sent (with rsync only the changed ones)

---@class perfgo.ssh.Platform
---@field os string GOOS name, e.g. "linux"
---@field arch string GOARCH name, e.g. "amd64"

---A connection (userdata "perfgo.ssh.session"). close(), __gc and __close
---run `ssh -O exit` when this session started the master. Methods other
---than alive and close raise "session is closed" after close().
---@class perfgo.ssh.Session
local Session = {}

--- Runs a remote command to its end, as perfgo.proc.run does locally.
---@param argv string[]
---@param opts? perfgo.ssh.RemoteOptions
---@return perfgo.proc.Result|nil result the remote command's exit code and output
---@return string? err "connection to user@host:port lost: ..." when the master is gone
function Session:run(argv, opts) end

--- Starts a remote command: a perfgo.proc child running the local ssh client.
--- Raises if ssh cannot be started.
---@param argv string[]
---@param opts? perfgo.ssh.RemoteOptions
---@return perfgo.proc.Child
function Session:spawn(argv, opts) end

--- The local argv that runs argv remotely over the master (for perfgo.proc).
---@param argv string[]
---@param opts? perfgo.ssh.ArgvOptions
---@return string[] local_argv
function Session:argv(argv, opts) end

--- Copies a local file to the remote (through a temporary name, mode kept).
---@param local_path string
---@param remote_path string
---@return true|nil ok
---@return string? err
function Session:put(local_path, remote_path) end

--- Copies a remote file here (through a temporary name).
---@param remote_path string
---@param local_path string
---@return true|nil ok
---@return string? err
function Session:get(remote_path, local_path) end

--- Sends files under remote_dir. Raises on an absolute path or one that
--- leaves the base ("..").
---@param files string[] paths relative to opts.base
---@param remote_dir string
---@param opts? perfgo.ssh.PutTreeOptions
---@return perfgo.ssh.PutTreeResult|nil result
---@return string? err
function Session:put_tree(files, remote_dir, opts) end

--- The remote GOOS/GOARCH (cached).
---@return perfgo.ssh.Platform|nil platform
---@return string? err
function Session:platform() end

--- The remote $HOME (cached).
---@return string|nil home
---@return string? err
function Session:home() end

--- mkdir -p on the remote.
---@param path string
---@return true|nil ok
---@return string? err
function Session:mkdir_p(path) end

--- rm -rf on the remote. Raises for "/", "." or an empty path.
---@param path string
---@return true|nil ok
---@return string? err
function Session:remove_tree(path) end

--- Whether the master still answers (ssh -O check); false after close().
---@return boolean
function Session:alive() end

--- "user@hostname:port" as ssh resolved it.
---@return string
function Session:target() end

--- The control socket's path.
---@return string
function Session:control_path() end

--- Ends the session now (ssh -O exit and socket removed if this session
--- started the master); idempotent.
function Session:close() end

---@class perfgo.ssh
local M = {}

--- Connects (or joins a running master for the same target). Raises when
--- host is missing or an option has the wrong type.
---@param opts perfgo.ssh.ConnectOptions
---@return perfgo.ssh.Session|nil session
---@return string? err ssh's own message ("Permission denied (publickey)", ...)
function M.connect(opts) end

--- Quotes a string for a POSIX shell (read the same way by bash, zsh and fish).
---@param s string
---@return string
function M.quote(s) end

--- GOARCH name for `uname -m` output ("x86_64" -> "amd64"); unknown names are returned as is.
---@param uname_m string
---@return string
function M.goarch(uname_m) end

--- GOOS name for `uname -s` output ("Linux" -> "linux"); unknown names are returned lowercased.
---@param uname_s string
---@return string
function M.goos(uname_s) end

return M
