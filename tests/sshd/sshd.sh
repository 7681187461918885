#!/bin/sh
# A throwaway OpenSSH server on 127.0.0.1 for tests.
#
#   tests/sshd/sshd.sh start [DIR]         starts sshd, prints its facts as KEY=VALUE
#   tests/sshd/sshd.sh stop DIR            stops it (listener and its connections)
#   tests/sshd/sshd.sh adduser SHELL [TAG] creates a test user whose login shell is
#                                          SHELL (bash, dash, zsh, fish, tcsh, csh or
#                                          a path) and prints its name
#   tests/sshd/sshd.sh deluser NAME        ends the user's processes, removes it
#
# Everything lives in DIR (a new /tmp/perfgo-sshd.XXXXXX when not given):
# a generated host key, a generated client key in authorized_keys, a
# known_hosts file naming the host key, and an ssh config file with the host
# alias `perfgo-test` (and defaults for any host). Clients use
# `ssh -F DIR/ssh_config perfgo-test`, so neither ~/.ssh nor /etc/ssh is
# read or written. sshd logs at LogLevel VERBOSE to DIR/sshd.log (one
# "Accepted publickey" line per authentication).
#
# Printed: dir, port, alias, config, identity, known_hosts, log, user, pid.
#
# Test users (root only) are made with `useradd -p '*'` (no password, but not
# locked, so sshd accepts their key), a home directory and empty shell
# start-up files; their names start with perfgo-t and end in random hex, so
# parallel test runs never collide. Every server's authorized_keys is
# readable by them: log in as `NAME@perfgo-test`.
set -eu
# A PERFGO_SANITIZE build's tests preload libasan into every process they
# start (plain lua5.4 loads sanitized modules); sshd and ps are not built
# for it, and ps can hang under it.
unset LD_PRELOAD

usage() {
    echo "usage: $0 start [DIR] | stop DIR | adduser SHELL [TAG] | deluser NAME" >&2
    exit 2
}

find_sshd() {
    for p in "$(command -v sshd 2>/dev/null || true)" /usr/sbin/sshd /usr/local/sbin/sshd; do
        if [ -n "$p" ] && [ -x "$p" ]; then
            echo "$p"
            return 0
        fi
    done
    echo "sshd.sh: no sshd found (install openssh-server, see scripts/setup.sh)" >&2
    exit 1
}

random_port() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    echo $((20000 + n % 40000))
}

start() {
    dir=${1:-}
    if [ -z "$dir" ]; then
        dir=$(mktemp -d /tmp/perfgo-sshd.XXXXXX)
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # Test users read authorized_keys as themselves: the directory is
    # searchable, the private keys stay readable by the owner only.
    chmod 711 "$dir"
    sshd=$(find_sshd)
    user=$(id -un)
    # Privilege separation wants this directory (missing on a fresh machine).
    [ -d /run/sshd ] || mkdir -p /run/sshd 2>/dev/null || true

    ssh-keygen -q -t ed25519 -N '' -C perfgo-test-host -f "$dir/host_key" </dev/null >/dev/null
    ssh-keygen -q -t ed25519 -N '' -C perfgo-test-client -f "$dir/client_key" </dev/null >/dev/null
    cp "$dir/client_key.pub" "$dir/authorized_keys"
    chmod 600 "$dir/host_key" "$dir/client_key"
    chmod 644 "$dir/authorized_keys"
    : >"$dir/sshd.log"

    tries=0
    while :; do
        tries=$((tries + 1))
        port=$(random_port)
        cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
LogLevel VERBOSE
MaxSessions 64
MaxStartups 64
Subsystem sftp internal-sftp
CONF
        # sshd needs an absolute path to re-execute itself. It runs without
        # the sanitizer runtime a sanitized test build preloads (its seccomp
        # sandbox does not allow ASan's system calls).
        if env -u LD_PRELOAD "$sshd" -f "$dir/sshd_config" -E "$dir/sshd.log" 2>>"$dir/sshd.log"; then
            break
        fi
        if [ "$tries" -ge 20 ]; then
            echo "sshd.sh: sshd did not start; its log:" >&2
            cat "$dir/sshd.log" >&2
            exit 1
        fi
    done
    # sshd writes its pid file once it listens.
    i=0
    while [ ! -s "$dir/sshd.pid" ] && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done

    printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$dir/known_hosts"
    cat >"$dir/ssh_config" <<CONF
Host perfgo-test
    HostName 127.0.0.1
    Port $port
    User $user

Host *
    IdentityFile $dir/client_key
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    LogLevel ERROR
CONF
    echo "dir=$dir"
    echo "port=$port"
    echo "alias=perfgo-test"
    echo "config=$dir/ssh_config"
    echo "identity=$dir/client_key"
    echo "known_hosts=$dir/known_hosts"
    echo "log=$dir/sshd.log"
    echo "user=$user"
    echo "pid=$(cat "$dir/sshd.pid")"
}

# The listener's children serve the open connections: they go first.
stop() {
    dir=${1:-}
    [ -n "$dir" ] || usage
    [ -s "$dir/sshd.pid" ] || return 0
    pid=$(cat "$dir/sshd.pid")
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        kill -9 "$child" 2>/dev/null || true
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/sshd.pid"
}

adduser() {
    shell=${1:-}
    [ -n "$shell" ] || usage
    [ "$(id -u)" -eq 0 ] || { echo "sshd.sh: adduser needs root" >&2; exit 1; }
    case $shell in
    /*) path=$shell ;;
    *) path=$(command -v "$shell" 2>/dev/null || true) ;;
    esac
    [ -n "$path" ] && [ -x "$path" ] || {
        echo "sshd.sh: no login shell '$shell' (install it, see scripts/setup.sh)" >&2
        exit 1
    }
    tag=$(printf %s "${2:-$(basename "$path")}" | tr -c 'a-z0-9' '-' | cut -c1-8)
    name=perfgo-t$tag-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
    useradd -m -p '*' -s "$path" -K UMASK=022 "$name" >/dev/null
    home=$(getent passwd "$name" | cut -d: -f6)
    # Empty start-up files: nothing that prints or takes time.
    for f in "$home"/.bashrc "$home"/.profile "$home"/.bash_logout; do
        [ -f "$f" ] && : >"$f"
    done
    echo "$name"
}

deluser() {
    name=${1:-}
    case $name in
    perfgo-t*) ;;
    *) echo "sshd.sh: refusing to remove '$name' (not a test user)" >&2; exit 2 ;;
    esac
    getent passwd "$name" >/dev/null || return 0
    # Whatever the user still runs goes first, each by its process id.
    for _ in 1 2 3 4 5; do
        pids=$(ps -o pid= -u "$name" 2>/dev/null || true)
        [ -n "$pids" ] || break
        for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
        sleep 0.1
    done
    userdel -r "$name" >/dev/null 2>&1 || userdel -f -r "$name" >/dev/null 2>&1 || true
}

case "${1:-}" in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
adduser) shift; adduser "$@" ;;
deluser) shift; deluser "$@" ;;
*) usage ;;
esac
