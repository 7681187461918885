--- The run mode: the command as it is, without perf. Everything it does
--- is a mode's default (perfgo.modebase): run the command, keep its output,
--- its exit and its record.
return {
  name = "run",
  description = "The command as it is, without perf (the default).",
  order = 10,
  default = true,
  perf = false,
  options = {},
}
