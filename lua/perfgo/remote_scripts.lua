--- The sh scripts perfgo runs on a remote host (each reaches the login
--- shell as base64, see perfgo.ssh): the run's agent, the wrapper around
--- rsync's server side, and `perfgo clean`.
---
--- Layout on the host, under ${XDG_CACHE_HOME:-$HOME/.cache}/perfgo/:
---   repositories/<key>/mirror/    the tree (tree/) and test binary (bin/)
---                                 of the last run that ended: a cache that
---                                 makes the next sync send only what
---                                 changed
---   repositories/<key>/lock       taken while the mirror is replaced
---   repositories/<key>/runs/<id>/ one run: tree/ (hard links into the
---                                 mirror where files are unchanged), bin/,
---                                 perf's output, pids/ (process groups
---                                 the run started), agent.pid
local ssh = require "perfgo.ssh"

local M = {}

local q = ssh.quote

-- Where a host keeps perfgo's files, and one run's directories. Relative
-- XDG_CACHE_HOME values are invalid by the XDG spec and ignored.
local PATHS = [[
top=${XDG_CACHE_HOME:-}
case $top in /*) ;; *) top=$HOME/.cache ;; esac
top=$top/perfgo
have() { command -v "$1" >/dev/null 2>&1; }
]]

-- Ends every process group a run registered (TERM, then KILL), and
-- removes the run's directory, or only the agent's bookkeeping with keep=1.
local CLEANUP = [[
groups() {
  for f in "$run"/pids/*; do
    [ -f "$f" ] || continue
    read -r a b <"$f" 2>/dev/null || a=
    for g in $a $b; do
      case $g in ''|*[!0-9]*|0|1) ;; *) echo "$g" ;; esac
    done
  done
}
cleanup() {
  gs=$(groups)
  if [ -n "$gs" ]; then
    for g in $gs; do kill -TERM -"$g" 2>/dev/null; done
    n=0
    while [ $n -lt 20 ]; do
      left=
      for g in $gs; do kill -0 -"$g" 2>/dev/null && left=1; done
      [ -n "$left" ] || break
      sleep 0.1
      n=$((n + 1))
    done
    for g in $gs; do kill -KILL -"$g" 2>/dev/null; done
  fi
  if [ "$keep" = 1 ]; then
    rm -rf "$run/pids" "$run/agent.pid" "$run/.o" "$run/.e" "$run/.hb" "$run/.mark"
  else
    [ -e "$run/.synced" ] && promote
    rm -rf "$run"
    rmdir "$repo/runs" 2>/dev/null
  fi
}
# The run's synced tree and binary become the repository's mirror (a
# rename, under the lock); the old mirror is removed afterwards, in the
# background.
promote() {
  new=$repo/mirror.new.$$
  old=$repo/mirror.old.$$
  mkdir "$new" 2>/dev/null || return
  mv "$run/tree" "$new/tree" 2>/dev/null || { rm -rf "$new"; return; }
  [ -d "$run/bin" ] && mv "$run/bin" "$new/bin"
  (
    if have flock; then flock -w 60 9 || exit 1; fi
    if [ -e "$repo/mirror" ]; then
      [ -d "$new/bin" ] || mv "$repo/mirror/bin" "$new/bin" 2>/dev/null
      mv "$repo/mirror" "$old" || exit 1
    fi
    mv "$new" "$repo/mirror"
  ) 9>"$repo/lock"
  if [ -e "$old" ] || [ -e "$new" ]; then
    (rm -rf "$old" "$new" &) </dev/null >/dev/null 2>&1
  fi
}
]]

-- The facts perfgo needs before a run, as KEY=VALUE lines (builtins where
-- they do).
local FACTS = [[
facts() {
  printf 'uname='
  uname -s -m
  printf 'home=%s\ntop=%s\nrepo=%s\nrun=%s\n' "$HOME" "$top" "$repo" "$run"
  while read -r k v _; do
    [ "$k" = Uid: ] && printf 'uid=%s\n' "$v"
  done </proc/self/status
  for x in perf rsync setsid flock timeout tar; do
    printf '%s=' "$x"
    command -v "$x" 2>/dev/null || echo
  done
  for k in perf_event_paranoid kptr_restrict; do
    v=
    [ -r /proc/sys/kernel/$k ] && read -r v </proc/sys/kernel/$k
    printf '%s=%s\n' "$k" "$v"
  done
}
# The event probe: perf stat around true, answered as a frame.
probe() {
  if [ -n "$events" ] && have perf; then
    if have timeout; then T="timeout -k 5 $probe_timeout"; else T=; fi
    LC_ALL=C $T perf stat -x, -e "$events" -- true >"$run/.o" 2>"$run/.e" </dev/null
    frame $?
  else
    : >"$run/.o"
    : >"$run/.e"
    frame 127
  fi
}
]]

-- One answer: "R CODE OUT_BYTES ERR_BYTES\n", then the two outputs.
local FRAME = [[
frame() {
  set -- "$1" $(wc -c "$run/.o" "$run/.e")
  printf 'R %s %s %s\n' "$1" "$2" "$4"
  cat "$run/.o" "$run/.e"
}
]]

-- A request is "SECONDS BASE64-SCRIPT". It runs in its own session (so
-- that the whole group can be ended), under timeout(1) where the host has
-- it, in the background: the agent keeps reading heartbeats meanwhile.
local HANDLE = [[
handle() {
  t=${1%% *}
  s=$(printf %s "${1#* }" | base64 -d) || s='echo "perfgo: a request did not decode" >&2; exit 125'
  if have timeout; then T="timeout -k 5 $t"; else T=; fi
  if have setsid; then
    setsid $T sh -c "$s" </dev/null >"$run/.o" 2>"$run/.e" &
  else
    $T sh -c "$s" </dev/null >"$run/.o" 2>"$run/.e" &
  fi
  p=$!
  echo "$p" >"$run/pids/$p"
  wait "$p"
  c=$?
  rm -f "$run/pids/$p"
  frame "$c"
}
]]

-- Ends the run when no heartbeat came for a whole period: perfgo is gone,
-- stopped, or cannot reach the host any more.
local WATCH = [[
watch() {
  trap 'kill "$z" 2>/dev/null; exit 0' TERM
  : >"$run/.mark"
  while :; do
    sleep "$period" &
    z=$!
    wait "$z"
    if [ "$run/.hb" -nt "$run/.mark" ]; then
      : >"$run/.mark"
      continue
    fi
    echo "perfgo agent: no word from perfgo for ${period}s: ending the run" >&2
    cleanup
    kill -TERM "$agent" 2>/dev/null
    exit 0
  done
}
]]

--- The agent: one per run, started first. It makes the run's directory,
--- prints a banner and the facts, then answers requests until its stdin
--- ends (perfgo closed it, died, or the connection went), and then ends
--- what the run started and removes the run's directory.
---@param o {key: string, run_id: string, keep: boolean, stall: number, events?: string, probe_timeout: number}
---@return string
function M.agent(o)
  return table.concat({
    "key=" .. q(o.key) .. "; id=" .. q(o.run_id) .. "; keep=" .. (o.keep and "1" or "0"),
    "events=" .. q(o.events or "") .. "; probe_timeout=" .. math.floor(o.probe_timeout),
    "period=" .. math.max(2, math.floor((o.stall + 1) / 2)),
    PATHS,
    [[repo=$top/repositories/$key
run=$repo/runs/$id
if ! mkdir -p "$run/pids"; then
  echo "perfgo: cannot create $run on $(uname -n)" >&2
  exit 1
fi
agent=$$
echo "$agent" >"$run/agent.pid"
: >"$run/.hb"
trap '' PIPE
]],
    CLEANUP, FACTS, FRAME, HANDLE, WATCH,
    [[printf 'perfgo-agent 1\n'
facts >"$run/.o" 2>"$run/.e"
frame 0
probe
watch &
w=$!
trap 'kill "$w" 2>/dev/null; cleanup; exit 0' TERM
while IFS= read -r line; do
  : >"$run/.hb"
  [ -n "$line" ] || continue
  handle "$line" &
done
# perfgo is done (or gone): let it go at once, then clean up here
exec </dev/null >/dev/null 2>&1
kill "$w" 2>/dev/null
cleanup
wait
]],
  }, "\n")
end

--- The remote side of a sync, given to rsync as --rsync-path: runs the
--- rsync server ("$@") and marks the run's tree complete when it
--- succeeded (the agent makes a complete tree the repository's mirror
--- when the run ends, so the next run's sync sends only what changed).
---@param run string the run's directory
---@param rsync string the rsync program on the host
---@return string
function M.sync(run, rsync)
  return table.concat({
    "run=" .. q(run) .. "; rsync=" .. q(rsync),
    [[read -r _ _ _ _ g _ </proc/$$/stat 2>/dev/null && echo "$g" >"$run/pids/sync"
"$rsync" "$@"
s=$?
rm -f "$run/pids/sync"
[ "$s" -eq 0 ] && : >"$run/.synced"
exit "$s"
]],
  }, "\n")
end

--- `perfgo clean`: removes perfgo's files for one repository (key) or all
--- of them, leaving runs whose agent still lives. Prints "removed PATH
--- KIB" and "busy PATH" lines.
---@param key string|nil nil: every repository
---@return string
function M.clean(key)
  return table.concat({
    "key=" .. q(key or ""),
    PATHS,
    [[alive() {
  p=
  read -r p <"$1/agent.pid" 2>/dev/null || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && grep -q perfgo "/proc/$p/cmdline" 2>/dev/null
}
size() { du -sk "$1" 2>/dev/null | cut -f1; }
clean_repo() {
  busy=
  for r in "$1"/runs/*; do
    [ -d "$r" ] || continue
    if alive "$r"; then
      echo "busy $r"
      busy=1
    else
      echo "removed $r $(size "$r")"
      rm -rf "$r"
    fi
  done
  # the mirror, its lock, and anything an older perfgo left there
  for m in "$1"/* "$1"/.[!.]*; do
    [ -e "$m" ] || [ -L "$m" ] || continue
    [ "$m" = "$1/runs" ] && continue
    echo "removed $m $(size "$m")"
    rm -rf "$m"
  done
  if [ -z "$busy" ]; then
    rmdir "$1/runs" 2>/dev/null
    rmdir "$1" 2>/dev/null
  fi
}
echo "top $top"
if [ -n "$key" ]; then
  [ -d "$top/repositories/$key" ] && clean_repo "$top/repositories/$key"
else
  for d in "$top"/repositories/*; do
    [ -d "$d" ] && clean_repo "$d"
  done
  rmdir "$top/repositories" 2>/dev/null
  rmdir "$top" 2>/dev/null
fi
exit 0
]],
  }, "\n")
end

return M
