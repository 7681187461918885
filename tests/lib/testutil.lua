--- Helpers shared by the busted specs: run a command and capture its
--- stdout, stderr and exit code; temporary directories; file I/O.
local M = {}

--- Quotes a string for a POSIX shell.
---@param s string
---@return string
function M.quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

--- Reads a whole file, or nil when it cannot be opened.
---@param path string
---@return string|nil
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- Writes a whole file, creating or truncating it.
function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

--- A new empty temporary directory (removed by M.rmtree).
---@return string
function M.tmpdir()
  local p = assert(io.popen("mktemp -d /tmp/perfgo-test.XXXXXX"))
  local dir = p:read("l")
  p:close()
  return dir
end

function M.rmtree(dir)
  if dir and dir:match("^/tmp/perfgo%-test%.") then
    os.execute("rm -rf " .. M.quote(dir))
  end
end

--- Runs argv (a list) with optional env (table) and cwd; returns
--- {code=, stdout=, stderr=}.
---@param argv string[]
---@param opts? {env?: table<string,string>, cwd?: string, stdin?: string}
function M.run(argv, opts)
  opts = opts or {}
  local dir = M.tmpdir()
  local parts = {}
  if opts.cwd then parts[#parts + 1] = "cd " .. M.quote(opts.cwd) .. " &&" end
  parts[#parts + 1] = "env"
  -- env wants every -u before the first assignment
  for k, v in pairs(opts.env or {}) do
    if v == false then parts[#parts + 1] = "-u " .. M.quote(k) end
  end
  for k, v in pairs(opts.env or {}) do
    if v ~= false then parts[#parts + 1] = M.quote(k .. "=" .. v) end
  end
  for _, a in ipairs(argv) do parts[#parts + 1] = M.quote(a) end
  local stdin = "/dev/null"
  if opts.stdin then
    stdin = dir .. "/stdin"
    M.write(stdin, opts.stdin)
  end
  local cmd = table.concat(parts, " ") .. " <" .. M.quote(stdin) .. " >" .. M.quote(dir .. "/out")
    .. " 2>" .. M.quote(dir .. "/err")
  local _, _, code = os.execute(cmd)
  local r = { code = code, stdout = M.read(dir .. "/out"), stderr = M.read(dir .. "/err") }
  M.rmtree(dir)
  return r
end

--- Runs the perfgo binary under test with the given arguments.
function M.perfgo(args, opts)
  local argv = { M.bin() }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return M.run(argv, opts)
end

--- Path of the perfgo binary under test.
function M.bin()
  local bin = os.getenv("PERFGO_BIN")
  assert(bin, "PERFGO_BIN is not set (run the specs through ctest)")
  return bin
end

--- Size of a file in bytes, or nil.
function M.filesize(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

--- The perf script conformance corpus: $PERFGO_CORPUS, else tests/corpus
--- of the source tree. Raises when neither exists.
---@return string
function M.corpus_dir()
  local src = os.getenv("PERFGO_SOURCE_DIR") or "."
  for _, d in ipairs({ os.getenv("PERFGO_CORPUS") or "", src .. "/tests/corpus" }) do
    if d ~= "" and M.read(d .. "/README.md") then return d end
  end
  error("perf script corpus not found: set PERFGO_CORPUS to its directory "
    .. "(tried $PERFGO_CORPUS and tests/corpus)")
end

--- Counts the lines of a string.
function M.lines(s)
  local n = 0
  for _ in s:gmatch("[^\n]*\n") do n = n + 1 end
  return n
end

return M
