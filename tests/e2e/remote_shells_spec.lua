-- Remote runs for accounts whose login shell is bash, dash, zsh, fish,
-- tcsh or csh (test users of tests/sshd): hostile arguments, environment
-- values and directory names arrive byte for byte, and nothing in them
-- runs.
local t = require "testutil"
local fixture = require "fixture"
local sshd = require "sshd"
local ssh = require "perfgo.ssh"

local SHELLS = { "bash", "dash", "zsh", "fish", "tcsh", "csh" }

describe("remote runs under any login shell", function()
  local repo, server, dir, canary
  local hostile
  setup(function()
    repo = fixture.repo()
    server = sshd.start()
    dir = t.tmpdir()
    -- the test users make directories (and would make the canary) here
    os.execute("chmod 1777 " .. t.quote(dir))
    canary = dir .. "/canary"
    local touch = "touch " .. canary
    hostile = {
      "plain", "a b", "it's", "\"dq\"", "$(" .. touch .. ")", "`" .. touch .. "`", "; " .. touch, "| " .. touch,
      "one\nnew line", "two\n" .. touch .. "\nnew lines", "!", "!!", "!$ !-1 ^a^b", "-n", "--", "\\", "\\'",
      "%1 {a,b} ~ * ? [x]", "$HOME ${HOME} $0", "\255\254 not UTF-8", "tab\there", "",
    }
  end)
  teardown(function()
    if server then sshd.stop(server) end
    t.rmtree(dir)
    fixture.cleanup(repo)
  end)

  -- What printf '%s\0' prints for each argument.
  local function nul_joined(list)
    local out = {}
    for i, a in ipairs(list) do out[i] = a .. "\0" end
    return table.concat(out)
  end

  for _, shell in ipairs(SHELLS) do
    it(shell .. ": arguments, environment and working directory arrive byte for byte", function()
      local user = sshd.add_user(shell)
      finally(function() sshd.remove_user(user) end)
      local host = user .. "@" .. server.alias

      -- the API: session:run with a hostile cwd and env value
      local s = assert(ssh.connect({ host = host, config = server.config, control_dir = dir .. "/ctl-" .. shell }))
      local cwd = dir .. "/" .. shell .. " d'ir $(" .. "touch " .. canary .. ")\n!x"
      assert(s:mkdir_p(cwd))
      local argv = { "sh", "-c", 'printf "%s\\0" "$PWD" "$V" "$@"', "x" }
      for _, a in ipairs(hostile) do argv[#argv + 1] = a end
      local env_value = "v 'a' \"b\" $(touch " .. canary .. ")\n!!\255"
      local r = s:run(argv, { cwd = cwd, env = { V = env_value } })
      assert.equals(0, r.code, r.stderr)
      local want = { cwd, env_value }
      for _, a in ipairs(hostile) do want[#want + 1] = a end
      assert.is_true(r.stdout == nul_joined(want), shell .. " changed the bytes: " .. r.stdout:gsub("%z", "|"))
      s:close()

      -- a whole run: sync, the agent, the command, in a hostile directory
      -- of the working tree
      local sub = "sub " .. shell .. " $(id) `id` ; id 'q'\n!!\255"
      os.execute("mkdir -p " .. t.quote(repo.root .. "/" .. sub))
      t.write(repo.root .. "/" .. sub .. "/file", "x")
      local cmd = { "exec", "run", "--remote-host", host, "--ssh-config", server.config, "--",
        "sh", "-c", 'printf "%s\\0" "${PWD##*/}" "$@"', "x" }
      for _, a in ipairs(hostile) do cmd[#cmd + 1] = a end
      local e = t.perfgo(cmd, { cwd = repo.root .. "/" .. sub, env = repo.env })
      assert.equals(0, e.code, e.stderr)
      want = { sub }
      for _, a in ipairs(hostile) do want[#want + 1] = a end
      assert.is_true(e.stdout == nul_joined(want), shell .. ": the run changed the bytes: " .. e.stdout:gsub("%z", "|"))
      assert.is_nil(t.read(canary), "something ran on the host")
    end)
  end
end)
