--- `perfgo version`: perfgo's version and the versions of what it is built on.
local host = require "perfgo.host"

local M = {
  name = "version",
  summary = "Show perfgo's version and the Lua, protobuf-c, zlib and libdeflate versions.",
}

---@param cmd table argparse command
function M.define(cmd)
  cmd:description("Prints perfgo's version, then the versions of Lua, protobuf-c, zlib and "
    .. "libdeflate it was built with.")
  cmd:flag("-v --verbose", "Also show the binary and the script directories in use, and how "
    .. "many modules were loaded precompiled.")
end

--- The version text, two lines.
---@return string
function M.text()
  return string.format("perfgo %s\n%s, protobuf-c %s, zlib %s, libdeflate %s\n",
    host.version, host.lua_version, host.protobuf_c_version, host.zlib_version, host.libdeflate_version)
end

---@param _args table parsed arguments
---@return integer exit code
function M.run(args)
  io.stdout:write(M.text())
  if args.verbose then
    io.stdout:write(string.format("binary: %s\nscripts: %s (%s)\nrules: %s\n",
      host.exe, host.lua_dir, host.origin, host.rules_dir))
    if host.luac_dir ~= "" then
      io.stdout:write(string.format("precompiled: %s (%d modules loaded from it)\n",
        host.luac_dir, host.luac_loaded()))
    end
  end
  return 0
end

return M
