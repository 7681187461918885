-- An example perfgo.lua: put a file like this at the root of a repository
-- (or pass it with `perfgo --config FILE`). It returns a table; every key
-- below is optional. perfgo reports unknown keys and misspelt step names
-- with this file's name and line.
local fs = require "perfgo.fs"

return {
  -- Flag values for any command, used when the command line does not give
  -- them. A subtable named after a command applies to that command only.
  defaults = {
    -- A default remote host (here taken from the environment, so the file
    -- works on a machine without one): every test run goes there.
    remote_host = os.getenv("PERFGO_EXAMPLE_HOST"),
    -- The default event for profile and stat runs.
    event = { "cpu-clock" },
    -- Options for one command only (test or exec: the commands that read
    -- this file).
    exec = { call_graph = "fp" },
  },

  -- Perf modes, added or replaced (see lua/perfgo/modes/ for the shipped
  -- ones). Here profile runs record the CPU of each sample: the shipped
  -- profile mode, replaced by one that extends it; the function it
  -- replaces comes as the last argument, base.
  modes = {
    profile = {
      extends = "profile",
      wrap = function(ctx, workload, base)
        local argv = base(ctx, workload) -- perf record ... -- the command
        table.insert(argv, 3, "--sample-cpu")
        return argv
      end,
    },
  },

  -- Wrap or replace workflow steps: function(ctx, base) ... end.
  steps = {
    -- Post-processing: a folded-stacks file next to the profile, for
    -- flame-graph tools (flamegraph.pl, inferno, speedscope).
    convert = function(ctx, base)
      base(ctx)
      if ctx.profile then
        local out = fs.join(ctx.run.dir, "perf.folded")
        ctx.profile:write(out, { format = "folded" })
        require("perfgo.history").add_artifact(ctx.run, "folded", "perf.folded")
      end
    end,
  },

  -- Hooks around steps: before_<step> / after_<step>.
  hooks = {
    -- A notification when a run is recorded.
    after_record = function(ctx)
      io.stderr:write(string.format("perfgo.lua: run %s finished: exit %s\n",
        ctx.run.id:sub(1, 8), tostring(require("perfgo.workflow").exit_code(ctx))))
    end,
  },

  -- Rules for projects that are not Go: `perfgo test --rule cc ./prog.c`.
  -- It extends the Go rule, so the binary runs as Go's test binaries do
  -- (its `command`: in the package's directory, with the arguments after
  -- the package); it says only how to find the program and build it.
  rules = {
    cc = {
      extends = "go",
      description = "A C program built with cc -O2 -g and frame pointers.",
      resolve = function(ctx)
        local src = fs.abspath(ctx.package_arg)
        if not fs.is_file(src) then
          require("perfgo.errors").user("cc rule: no such C file: " .. ctx.package_arg)
        end
        ctx.package = {
          pattern = ctx.package_arg, import_path = src, dir = fs.dirname(src),
          rel = fs.relative(fs.dirname(src), ctx.repo.root) or ".",
        }
        ctx.build_flags, ctx.run_flags = {}, ctx.passthrough or {}
      end,
      build = function(ctx)
        local name = "prog." .. ctx.target.platform.os .. "." .. ctx.target.platform.arch
        local out = fs.join(ctx.run.dir, name)
        local r = require("perfgo.proc").run({ "cc", "-O2", "-g", "-fno-omit-frame-pointer", "-o", out,
          ctx.package.import_path }, { stdin = "null" })
        if r.code ~= 0 then
          io.stderr:write(r.stderr)
          require("perfgo.errors").fail(1, "cc rule: compiling " .. ctx.package.pattern .. " failed")
        end
        ctx.binary = { path = out, name = name }
      end,
    },
  },

  -- New subcommands: `perfgo where`.
  commands = {
    where = {
      summary = "Print where this repository's runs and profiles are kept.",
      define = function(cmd)
        cmd:flag("--archive-only", "Print only the archive root.")
      end,
      run = function(args)
        local root = require("perfgo.select").repo_root()
        if not args.archive_only then print("history: " .. require("perfgo.history").dir(root)) end
        print("archive: " .. require("perfgo.archive").root({}))
        return 0
      end,
    },
  },
}
