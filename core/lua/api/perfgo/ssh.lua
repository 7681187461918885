---@meta perfgo.ssh
-- luacheck: no unused
-- LuaLS definitions for perfgo.ssh (core/lua/ssh.c, ssh_channel.c):
-- sessions over an OpenSSH control master of their own. Remote commands are
-- argv lists, quoted by perfgo; the remote login shell (sh, bash, dash,
-- zsh, fish, tcsh, csh) gets a constant decoder and the script in base64,
-- and sh runs it. :run and :spawn use perfgo.proc.
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
---the remote command dies with the connection; a SIGINT to the local side
---(Ctrl-C) reaches the remote command as SIGINT.
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

---A long-lived remote sh script perfgo talks to through its stdin and
---stdout (userdata "perfgo.ssh.channel"). While it is open, a thread writes
---"\n" to its stdin every `heartbeat` seconds between perfgo's own writes;
---when perfgo ends, however it ends, its stdin reaches end of file. Its
---local ssh client is not one of perfgo.proc's children: Ctrl-C does not
---end it. close(), __gc and __close end it.
---@class perfgo.ssh.Channel
local Channel = {}

--- Writes all of s to the script's stdin.
---@param s string
---@param timeout? number seconds; default no limit
---@return true|nil ok
---@return string? err "timeout", "interrupted" (a signal), "eof" (the script is gone) or a system message
function Channel:write(s, timeout) end

--- Reads what the script wrote on its stdout, as soon as something arrives.
---@param timeout? number seconds; default no limit
---@return string|nil chunk
---@return string? err "eof", "timeout", "interrupted" or a system message
function Channel:read(timeout) end

--- What the script wrote on its stderr so far (up to 64 KiB).
---@return string
function Channel:stderr() end

--- Whether the script's stdout is still open.
---@return boolean
function Channel:running() end

--- Stops the heartbeat, closes the script's stdin, reads what it still
--- writes for up to grace seconds (until it closes its stdout and stderr),
--- then, unless wait_exit is false, waits the rest of grace for it to end;
--- then reaps the local ssh (ending it if needed). Idempotent.
---@param grace? number seconds; default 5
---@param wait_exit? boolean default true
---@return integer|nil code the exit code of the local ssh client (nil when not waited for)
function Channel:close(grace, wait_exit) end

---A connection (userdata "perfgo.ssh.session"). close(), __gc and __close
---run `ssh -O exit`: every session has a master of its own. Commands over
---it never open a connection of their own: when the master is gone they
---fail. Methods other
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

--- The host as ssh is given it (name or alias, without user and port).
---@return string
function Session:destination() end

--- Starts a channel: script runs on the host under sh.
---@param script string
---@param opts? {heartbeat?: number} seconds between heartbeats, default 1
---@return perfgo.ssh.Channel|nil channel
---@return string? err
function Session:channel(script, opts) end

--- The -e argument that makes rsync reach the host over this master.
---@return string|nil rsh
---@return string? err when an ssh option cannot be said in rsync's -e syntax
function Session:rsync_shell() end

--- Ends the session now (ssh -O exit and the socket removed); idempotent.
function Session:close() end

---@class perfgo.ssh
local M = {}

--- Connects: starts a master of its own (one authentication). Raises when
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

--- What the remote login shell gets to make sh run script: a constant
--- decoder and the script in base64 (words appended become its "$@").
---@param script string
---@return string
function M.login_command(script) end

--- The sh script that runs argv with a remote cwd and environment (what
--- Session:run sends, before the encoding).
---@param argv string[]
---@param opts? perfgo.ssh.ArgvOptions
---@return string
function M.command_script(argv, opts) end

--- s in base64 (padded, without line breaks).
---@param s string
---@return string
function M.base64(s) end

--- GOOS name for `uname -s` output ("Linux" -> "linux"); unknown names are returned lowercased.
---@param uname_s string
---@return string
function M.goos(uname_s) end

return M
