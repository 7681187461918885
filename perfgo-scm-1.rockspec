-- `luarocks make` builds perfgo's native modules (perfgo.sys, perfgo.parser,
-- perfgo.pprof, perfgo.proc, perfgo.ssh) and the perfgo command with CMake,
-- so that any Lua 5.4 program can `require "perfgo.parser"`.
rockspec_format = "3.0"
package = "perfgo"
version = "scm-1"
source = {
  url = "git+file://.",
}
description = {
  summary = "Run tests under Linux perf; perf script to pprof and folded stacks",
  detailed = [[
perfgo's native Lua modules: a fast streaming perf script parser, a pprof
encoder/decoder (protobuf-c, zlib), process and SSH primitives.]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  ZLIB = { header = "zlib.h" },
  PROTOBUFC = { header = "protobuf-c/protobuf-c.h" },
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    PERFGO_MODULE_INSTALL_DIR = "$(LIBDIR)/perfgo",
    PERFGO_TESTS = "OFF",
    PERFGO_WERROR = "OFF",
  },
}
