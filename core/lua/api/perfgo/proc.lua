---@meta perfgo.proc
-- luacheck: no unused
-- LuaLS definitions for perfgo.proc (core/lua/proc.c): run programs from an
-- argv list (never through a shell), stream or tee their output, wait with
-- timeouts, forward Ctrl-C. require "perfgo.proc" loads the C module, never
-- this file. Wrong arguments raise; a program that cannot be started, and
-- kill/write/read failures and timeouts, return nil, message (run: a result
-- with code 127 or 126 and `error`). A child in its own process group
-- (the default) dies with perfgo, even when perfgo is killed with SIGKILL.

---Where a child's stdout or stderr goes: "inherit" (ours), "null", "pipe"
---(read it with Child:read/lines), {file = path, append = true?}, or
---{tee = path} (shown live on our stdout/stderr AND written to path).
---@alias perfgo.proc.Stream "inherit"|"null"|"pipe"|{file: string, append?: boolean}|{tee: string}

---Where a child's stdin comes from: "inherit", "null", "pipe" (Child:write),
---"hold" (a pipe we never write: end of file only when we go), a path to
---read, or {file = path}.
---@alias perfgo.proc.Stdin "inherit"|"null"|"pipe"|"hold"|string|{file: string}

---A signal: a number or a name, with or without "SIG".
---@alias perfgo.proc.Signal
---| integer
---| "TERM" | "INT" | "KILL" | "HUP" | "QUIT" | "USR1" | "USR2" | "PIPE" | "STOP" | "CONT"
---| "SIGTERM" | "SIGINT" | "SIGKILL" | "SIGHUP" | "SIGQUIT" | "SIGUSR1" | "SIGUSR2" | "SIGPIPE" | "SIGSTOP" | "SIGCONT"

---@class perfgo.proc.SpawnOptions
---@field env? table<string, string|number|false> variables to set; false removes one
---@field env_mode? "merge"|"replace" "merge" (default) starts from our environment, "replace" from an empty one
---@field cwd? string working directory of the child
---@field stdin? perfgo.proc.Stdin default "inherit" (spawn) / "null" (run)
---@field stdout? perfgo.proc.Stream default "inherit" (spawn) / "pipe" (run)
---@field stderr? perfgo.proc.Stream default "inherit" (spawn) / "pipe" (run)
---@field pgroup? boolean false: stay in perfgo's process group (needed to read the terminal); default true

---@class perfgo.proc.RunOptions: perfgo.proc.SpawnOptions
---@field input? string written to the child's stdin, then closed (stdin becomes "pipe")
---@field timeout? number seconds; then SIGTERM to the group, SIGKILL 2 s later

---How a child ended.
---@class perfgo.proc.Status
---@field code integer exit code, or 128 + signal
---@field signal? integer set when a signal ended it
---@field duration number seconds it ran
---@field interrupted boolean perfgo got SIGINT/SIGTERM/SIGHUP (or SIGPIPE, signals held) while it ran

---@class perfgo.proc.Result: perfgo.proc.Status
---@field stdout string what was piped or tee'd ("" otherwise)
---@field stderr string what was piped or tee'd ("" otherwise)
---@field timed_out? true the timeout expired and the child was killed
---@field error? string the program could not be started (then code is 127 when it was not found, else 126, and stderr holds the message)

---A running or finished child (userdata "perfgo.proc.child"). When it is
---collected, closed (`local c <close>`) or still alive when perfgo exits,
---its process group gets SIGTERM, then SIGKILL a second later, and it is
---reaped. Keep a reference while it should run.
---@class perfgo.proc.Child
local Child = {}

--- Waits for the child to end. Raises if waiting fails.
---@param timeout_s? number seconds; default: no limit
---@return perfgo.proc.Status|nil status
---@return "timeout"? err the child keeps running
function Child:wait(timeout_s) end

--- Sends a signal to the child's process group (or the child, with pgroup = false).
--- Raises on an unknown signal name.
---@param sig? perfgo.proc.Signal default "TERM"
---@return true|nil ok
---@return string? err "process has exited", ...
function Child:kill(sig) end

--- Reads a chunk from a piped stream as soon as one arrives. Raises if the
--- stream is not "pipe".
---@param stream "stdout"|"stderr"
---@param n? integer at most this many bytes; default 65536
---@return string|nil chunk nil at end of file
---@return string? err on a read error
function Child:read(stream, n) end

--- Iterator over the lines of a piped stream, without their "\n".
---@param stream "stdout"|"stderr"
---@return fun(): string?
function Child:lines(stream) end

--- Writes to the child's stdin (stdin must be "pipe").
---@param s string
---@return true|nil ok
---@return string? err "stdin is not a pipe", "Broken pipe", ...
function Child:write(s) end

--- Closes the child's stdin pipe (the child sees end of file).
function Child:close_stdin() end

---@return integer pid
function Child:pid() end

--- Whether the child is still running (does not block).
---@return boolean
function Child:running() end

---@class perfgo.proc
local M = {}

--- Starts a program; a name without "/" is looked up in the PATH of the
--- child's environment. Returns nil and "cannot run 'foo': ..." when it
--- cannot be started (also for a bad cwd or an unopenable file).
---@param argv (string|number)[] program and arguments
---@param opts? perfgo.proc.SpawnOptions
---@return perfgo.proc.Child|nil child
---@return string? err
function M.spawn(argv, opts) end

--- Runs a program to its end and captures its output. A program that
--- cannot be started gives a result with `error` set.
---@param argv (string|number)[]
---@param opts? perfgo.proc.RunOptions
---@return perfgo.proc.Result
function M.run(argv, opts) end

--- The last signal (2 = SIGINT, 15 = SIGTERM, 1 = SIGHUP, 13 = SIGPIPE) that
--- arrived while children ran or signals were held, if any, and how many
--- arrived since.
---@return integer|nil sig
---@return integer? count
function M.interrupted() end

--- Holds SIGINT, SIGTERM and SIGHUP until release_signals (calls nest):
--- each is recorded for interrupted(); the first asks every child to stop
--- with SIGINT, the second kills them, only the third ends perfgo. Output
--- to perfgo's stdout/stderr that fails with EPIPE counts as SIGPIPE.
function M.hold_signals() end

--- Ends what hold_signals started.
function M.release_signals() end

--- While signals are held, acts as if `sig` had arrived (e.g. "PIPE" when
--- perfgo's own output is gone); does nothing otherwise.
---@param sig perfgo.proc.Signal
function M.interrupt(sig) end

--- The name of a signal number ("SIGINT") and its description ("Interrupt").
---@param sig integer
---@return string|nil name
---@return string? description
function M.signal_name(sig) end

--- Forgets the signal reported by interrupted().
function M.clear_interrupted() end

--- Finds a program like the shell does.
---@param name string
---@param path? string a PATH-like list; default $PATH
---@return string|nil path absolute path
---@return string? err "NAME: ..."
function M.which(name, path) end

return M
