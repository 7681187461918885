---@meta _
-- luacheck: no unused
-- The contract a perfgo.lua programs against, in one place: the context
-- the workflow steps share (perfgo.Context), the rules that build and run
-- a project (perfgo.Rule), the perf modes (perfgo.Mode) and their
-- options, where a run happens (perfgo.Target), what is run
-- (perfgo.Workload) and the run's record (perfgo.Run). LuaLS reads these
-- definitions (installed in share/perfgo/api/); perfgo never loads this
-- file. tests/spec/contract_spec.lua checks them against the code: every
-- field a step sets is declared, and the Rule and Mode keys are those
-- perfgo accepts.

---The context of one run, passed to every workflow step, hook, rule and
---mode function. Each field says which step sets it; a field is nil
---until then (and stays nil when its step did not run or had nothing
---to set).
---@class perfgo.Context
---@field command_name string the command: "test", "exec", "attach" (set by the command)
---@field record_type? string the record's type when it is not the mode's name: "attach" (set by the command)
---@field rule_name string the rule asked for: "go", "exec", --rule (set by the command)
---@field mode_name string the mode asked for: "run", "stat", "profile", "c2c", ... (set by the command)
---@field opts table the parsed options, perfgo.lua defaults applied (set by the command; checked and normalized by resolve)
---@field package_arg? string test: the package as given (set by the command)
---@field passthrough? string[] the arguments after the package, or the command of exec (set by the command)
---@field args string[] perfgo's command line as given, for the record (set by the command)
---@field group? {id: string, index: integer, size: integer, run_id: string, host: string, builds?: string} one host of several (--remote-host a,b): its group, its place and its run id, from the perfgo that started it (set by the command, perfgo.group.member)
---@field cwd string the directory perfgo runs in (resolve)
---@field repo {root: string, git: boolean} the repository root, git or not (resolve)
---@field git? perfgo.GitInfo commit, branch, dirty state (resolve; nil outside git)
---@field rule perfgo.Rule the rule (resolve)
---@field mode perfgo.Mode the mode (resolve)
---@field package? perfgo.Package what runs, as the rule resolved it (resolve, by rule.resolve)
---@field build_flags? string[] flags for the build (resolve, by rule.resolve)
---@field run_flags? string[] arguments for the program (resolve, by rule.resolve)
---@field exec_argv? string[] exec: the command as given (resolve, by the exec rule)
---@field attach_duration? number attach: --duration in seconds (resolve, by the attach rule)
---@field attach? {pids: integer[], processes: table[], duration?: number, exited?: integer[]} attach: the processes attached to (resolve, by the attach rule's preflight; exited after execute)
---@field run_id string the run's id, 32 hex digits (resolve)
---@field host_platform {os: string, arch: string} this machine's GOOS/GOARCH (resolve)
---@field target perfgo.Target where the run happens (resolve)
---@field run perfgo.Run the run's directory and artifacts; from here on the run is recorded (resolve)
---@field binary? {path: string, name: string} the program built (build, by rule.build)
---@field staged_binary? string the binary's path on the target (stage)
---@field sync? {files: integer, changed: integer, sent: integer, method: string, binary_sent?: integer} remote: what syncing the tree and the binary sent (stage)
---@field workload perfgo.Workload what runs (execute, from rule.command)
---@field wrapped_argv? string[] the command line that ran, perf's around the workload (execute, by mode.wrap)
---@field workdir? string the working directory on the target (execute)
---@field result? perfgo.proc.Result how the command line ended (execute)
---@field test? perfgo.TestExit how the workload itself ended (execute, by mode.outcome)
---@field stat_csv? string stat: perf stat's CSV output (execute, by the stat mode's outcome)
---@field stat? table[] stat: the counters (collect, by the stat mode)
---@field perf_zstd? boolean profile: perf record -z, where the target's perf compresses and perf.data is read here (preflight, by the profile mode)
---@field path_map? table<string,string> profile: the local file that stands for each file perf.data names (convert, perfgo.profiling; attach: its rule's build sets the processes' binaries first)
---@field bench? perfgo.BenchRunResult bench: what was measured (execute, by the bench mode)
---@field profile? perfgo.pprof.Profile profile: the profile written, only when it has samples (convert, by the profile mode)
---@field archive_dir? string profile: where the run was archived (archive, by the profile mode)
---@field current_step string the step running (the workflow)
---@field error? any why the run failed: a perfgo.UserError or an internal error (the workflow)
---@field failed_step? string the step that failed (the workflow)
---@field signal? integer the signal that interrupted the run (the workflow)
---@field outcome? perfgo.Outcome how the run ended (the workflow, before record)
---@field process? table the perfgo process's identity in the record (record)

---What a rule resolved to run.
---@class perfgo.Package
---@field pattern string as given
---@field import_path string its name (Go: the import path)
---@field dir string its directory on this machine
---@field rel string that directory relative to the repository root

---How the workload ended: its exit code, and the signal that ended it.
---@class perfgo.TestExit
---@field code integer
---@field signal? integer

---What a run runs: a command, or processes that already run.
---@class perfgo.Workload
---@field argv? string[] the command
---@field cwd? string its directory, relative to the repository root
---@field pids? integer[] processes to attach to (perf -p), instead of or while the command runs

---A rule: how to build and run one kind of project (rules/README.md).
---It declares what it is and implements what the workflow calls; it may
---extend another rule, whose functions it then replaces, getting each
---replaced one as its last argument, base.
---@class perfgo.Rule
---@field name string its name (set from where it is declared)
---@field description? string one line
---@field extends? string the rule it builds on
---@field origin string where it was declared ("FILE:LINE", or "rule NAME")
---@field stack_labels? table[] labels read off every profile sample's stack (perfgo.parser's stack_labels)
---@field resolve fun(ctx: perfgo.Context, base?: function) checks what to run; sets ctx.package, ctx.build_flags, ctx.run_flags
---@field preflight fun(ctx: perfgo.Context, base?: function) checks on the target before the run is recorded (default: none)
---@field stage fun(ctx: perfgo.Context, base?: function) makes what runs available on the target (default: ctx.target:stage)
---@field build fun(ctx: perfgo.Context, base?: function) builds ctx.binary for ctx.target.platform (default: nothing)
---@field command fun(ctx: perfgo.Context, base?: function): (string[]|perfgo.Workload), string? the argv and its directory relative to the repository root, or a workload
---@field go_profile_flags fun(dir: string, base?: function): string[] flags that make the program write Go's profiles into dir (default: none)

---An option a mode takes (on perfgo test and exec, and in perfgo.lua
---`defaults`).
---@class perfgo.ModeOption
---@field name string the key in ctx.opts and defaults ("freq")
---@field flags string its flags ("-F --freq")
---@field help string one line for --help
---@field argname? string the value's name in --help ("<hz>")
---@field many? boolean repeatable (a list)
---@field flag? boolean takes no value (true or false)
---@field check? fun(value: any): any, string? the value normalized, or nil and why it is wrong
---@field record? string its key in the record's perf section (default: name)

---A perf mode: what a run does around its command (lua/perfgo/modes/).
---It declares what it is and implements what differs; what it does not
---implement it inherits (perfgo.modebase, or the mode it extends), and a
---function that replaces an inherited one gets that one as its last
---argument, base.
---@class perfgo.Mode
---@field name string its name (set from where it is declared)
---@field description string one line for --help
---@field extends? string the mode it builds on
---@field origin string where it was declared
---@field order? number its place in lists and --help (default 100)
---@field perf? boolean it runs perf: perf's environment, the events probed when a remote host connects
---@field options? perfgo.ModeOption[] the options it takes; any other perf option is refused on the command line and ignored as a default
---@field default? boolean the mode when none is named (run)
---@field implied_by? string the mode when none is named but this option is given (profile: event)
---@field writes_profile? boolean its runs hold a pprof profile (perf.pb.gz): view and compare take --bench
---@field preflight fun(ctx: perfgo.Context, base?: function) checks on the target before the run is recorded
---@field execute fun(ctx: perfgo.Context, workload: perfgo.Workload, base?: function) runs the workload; sets ctx.wrapped_argv, ctx.workdir, ctx.result, ctx.test
---@field wrap fun(ctx: perfgo.Context, workload: perfgo.Workload, base?: function): string[] the command line that runs the workload
---@field outcome fun(ctx: perfgo.Context, workload: perfgo.Workload, result: perfgo.proc.Result|nil, err: string|nil, base?: function): perfgo.TestExit how the workload ended, or raises when it never ran
---@field collect fun(ctx: perfgo.Context, base?: function) results from the target into the run directory
---@field convert fun(ctx: perfgo.Context, base?: function) results converted (perf script to pprof)
---@field archive fun(ctx: perfgo.Context, base?: function) what is kept beyond the history
---@field describe fun(ctx: perfgo.Context, base?: function): table the record's perf section
---@field view fun(entry: perfgo.RunEntry, args: table, base?: function): integer|nil perfgo view of a run: the exit code, or nil for the generic view
---@field compare fun(a: perfgo.RunEntry, b: perfgo.RunEntry, args: table, base?: function): integer perfgo compare of two runs of the mode

---Where a run happens: this machine or a remote host, behind one
---interface so that steps never branch on which.
---@class perfgo.Target
---@field kind "local"|"remote"
---@field platform {os: string, arch: string} GOOS/GOARCH
---@field description string "local linux/amd64", "user@host (linux/arm64)"
---@field host? string remote: the host as given
local Target = {}

---Makes the repository and the binary available there; sets ctx.staged_binary.
---@param ctx perfgo.Context
function Target:stage(ctx) end

---The absolute path there of a path relative to the repository root.
---@param rel? string
---@return string
function Target:path(rel) end

---A path in the run's scratch directory there.
---@param name string
---@return string
function Target:scratch(name) end

---Runs argv there, like perfgo.proc.run (opts.cwd relative to the
---repository root). A command whose output is only captured is a helper,
---with a time limit.
---@param argv string[]
---@param opts? table
---@return perfgo.proc.Result|nil, string?
function Target:run(argv, opts) end

---Starts argv there, like perfgo.proc.spawn (for streaming output).
---@param argv string[]
---@param opts? table
---@return perfgo.proc.Child
function Target:spawn(argv, opts) end

---Copies a file from there to local_path.
---@param path string
---@param local_path string
---@return boolean|nil, string?
function Target:get(path, local_path) end

---Copies several files from there: {{remote, local}, ...}; returns the
---remote paths that could not be read.
---@param list {[1]: string, [2]: string}[]
---@return string[]
function Target:get_many(list) end

---What perf.preflight decides on: perf there, the sysctls, root, and the
---probe of the events (remote: gathered when the host was connected).
---@param o {events?: string[], kptr?: boolean}
---@return table
function Target:perf_facts(o) end

---Removes what the run left there.
---@param ctx perfgo.Context
function Target:cleanup(ctx) end

---A run's directory in the history (.perfgo/history/<id>/).
---@class perfgo.Run
---@field id string 32 hex digits
---@field dir string the run's directory
---@field started number seconds since the epoch
---@field t0 number monotonic start
---@field artifacts {type: string, file: string, size: integer}[] the files of the run directory it lists

---How a run ended (perfgo.workflow.outcome): the status, the exit code,
---and the record agree.
---@class perfgo.Outcome
---@field status "ok"|"failed"|"error"|"interrupted"
---@field exit_code integer what perfgo exits with, and the record says
---@field error? string what went wrong (status error; also kept when interrupted)
---@field signal? string the signal that interrupted the run ("SIGINT")

---What is recorded of the repository (perfgo.git).
---@class perfgo.GitInfo
---@field root string
---@field commit string|nil full hash (nil before the first commit)
---@field short string|nil
---@field branch string|nil nil when detached
---@field dirty boolean uncommitted changes to tracked files
---@field describe string|nil

---A recorded run as `perfgo list`, view and compare read it.
---@class perfgo.RunEntry
---@field id string
---@field dir string
---@field record table|nil testrun.json
---@field problem string|nil why the record could not be read
---@field status string|nil what the record reads as ("abandoned" for a running record whose perfgo is gone)
---@field time number sort key (seconds)
