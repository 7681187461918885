--- File-system helpers on LuaFileSystem: directories, atomic writes, copies.
local lfs = require "lfs"

local M = {}

--- True when path exists (file, directory or anything else).
---@param path string
---@return boolean
function M.exists(path)
  return lfs.attributes(path, "mode") ~= nil
end

---@param path string
---@return boolean
function M.is_dir(path)
  return lfs.attributes(path, "mode") == "directory"
end

---@param path string
---@return boolean
function M.is_file(path)
  return lfs.attributes(path, "mode") == "file"
end

--- Size in bytes, or nil when the file does not exist.
---@param path string
---@return integer|nil
function M.size(path)
  return lfs.attributes(path, "size")
end

--- The directory part of a path ("." when there is none).
---@param path string
---@return string
function M.dirname(path)
  local d = path:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

--- The last component of a path.
---@param path string
---@return string
function M.basename(path)
  return path:match("([^/]*)/*$")
end

--- Joins path components with "/".
---@param ... string
---@return string
function M.join(...)
  local parts = { ... }
  local out = parts[1]
  for i = 2, #parts do
    local p = parts[i]
    if p:sub(1, 1) == "/" then
      out = p
    elseif out:sub(-1) == "/" then
      out = out .. p
    else
      out = out .. "/" .. p
    end
  end
  return out
end

--- The absolute form of a path, relative to the current directory.
---@param path string
---@return string
function M.abspath(path)
  if path:sub(1, 1) == "/" then return path end
  local cwd, err = lfs.currentdir()
  if not cwd then
    require("perfgo.errors").fail(2, "cannot tell the current directory (was it removed?): " .. tostring(err))
  end
  if path == "." then return cwd end
  return M.join(cwd, (path:gsub("^%./", "")))
end

--- Path of `path` relative to `base` when it lies inside it, else nil.
---@param path string
---@param base string
---@return string|nil
function M.relative(path, base)
  if path == base then return "." end
  local prefix = base:sub(-1) == "/" and base or base .. "/"
  if path:sub(1, #prefix) == prefix then return path:sub(#prefix + 1) end
  return nil
end

--- Creates a directory and its parents. Returns true or nil, message.
---@param path string
---@return boolean|nil, string?
function M.mkdir_p(path)
  if M.is_dir(path) then return true end
  local parent = M.dirname(path)
  if parent ~= path and not M.is_dir(parent) then
    local ok, err = M.mkdir_p(parent)
    if not ok then return nil, err end
  end
  local ok, err = lfs.mkdir(path)
  if not ok and not M.is_dir(path) then
    return nil, string.format("cannot create directory %s: %s", path, err)
  end
  return true
end

--- Reads a whole file; nil, message when it cannot.
---@param path string
---@return string|nil, string?
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  return data
end

--- Writes data atomically: a temporary file in the same directory, then
--- rename. A crash leaves either the old file or the new one, never half.
---@param path string
---@param data string
---@return boolean|nil, string?
function M.write_atomic(path, data)
  local tmp = string.format("%s.tmp.%d", path, math.random(1, 1 << 30))
  local f, err = io.open(tmp, "wb")
  if not f then return nil, string.format("cannot write %s: %s", path, err) end
  local ok, werr = f:write(data)
  if ok then ok, werr = f:flush() end
  f:close()
  if not ok then
    os.remove(tmp)
    return nil, string.format("cannot write %s: %s", path, werr)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    return nil, string.format("cannot write %s: %s", path, rerr)
  end
  return true
end

--- Copies a file (through a temporary file and a rename).
---@param src string
---@param dst string
---@return boolean|nil, string?
function M.copy(src, dst)
  local input, err = io.open(src, "rb")
  if not input then return nil, string.format("cannot read %s: %s", src, err) end
  local tmp = string.format("%s.tmp.%d", dst, math.random(1, 1 << 30))
  local out, oerr = io.open(tmp, "wb")
  if not out then
    input:close()
    return nil, string.format("cannot write %s: %s", dst, oerr)
  end
  while true do
    local chunk = input:read(1 << 20)
    if not chunk then break end
    local ok, werr = out:write(chunk)
    if not ok then
      input:close(); out:close(); os.remove(tmp)
      return nil, string.format("cannot write %s: %s", dst, werr)
    end
  end
  input:close()
  out:close()
  local ok, rerr = os.rename(tmp, dst)
  if not ok then os.remove(tmp); return nil, rerr end
  return true
end

--- Removes a directory tree (only below a directory named by the caller).
---@param path string
function M.remove_tree(path)
  local mode = lfs.symlinkattributes(path, "mode")
  if mode == nil then return end
  if mode == "directory" then
    for entry in lfs.dir(path) do
      if entry ~= "." and entry ~= ".." then M.remove_tree(path .. "/" .. entry) end
    end
    lfs.rmdir(path)
  else
    os.remove(path)
  end
end

--- Entries of a directory (names only, sorted), or an empty list.
---@param path string
---@return string[]
function M.list(path)
  local out = {}
  if not M.is_dir(path) then return out end
  for entry in lfs.dir(path) do
    if entry ~= "." and entry ~= ".." then out[#out + 1] = entry end
  end
  table.sort(out)
  return out
end

return M
