#!/bin/sh
# Remote-run benchmark (not a test: it prints figures and asserts nothing).
#
#   tests/bench/bench_remote.sh [BUILD_DIR]
#
# Runs the same `perfgo test stat` of a short benchmark in a clone of this
# repository locally and over the loopback sshd of tests/sshd, in
# $BENCH_PAIRS interleaved local/remote pairs (default 5), for each remote
# user in $BENCH_USERS (default "plain root"):
#   plain  a test user made for the run, login shell bash, empty start-up
#          files (tests/sshd/sshd.sh adduser)
#   root   root, with whatever root's ~/.bashrc does on this machine
# and prints per pair the local and remote wall seconds, the remote
# overhead, and the SSH sessions and authentications the run cost (counted
# in the harness's sshd log: "Starting session:" and "Accepted publickey"
# lines), then the medians. Then it edits one Go file (the test binary
# changes a little) and runs once more through a relay that counts the
# bytes the client sends to the host, and prints them next to what perfgo
# said it synced.
set -eu
unset LD_PRELOAD

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
perfgo=$build/bin/perfgo
pairs=${BENCH_PAIRS:-5}
users=${BENCH_USERS:-plain root}
[ -x "$perfgo" ] || { echo "no perfgo binary at $perfgo (build first)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench_remote.sh: run as root (it creates a test user)" >&2; exit 1; }

work=$(mktemp -d /tmp/perfgo-bench-remote.XXXXXX)
chmod 711 "$work" # the test user reads the sshd directory's authorized_keys
made_user=
cleanup() {
    sh "$src/tests/sshd/sshd.sh" stop "$work/sshd" 2>/dev/null || true
    [ -n "$made_user" ] && sh "$src/tests/sshd/sshd.sh" deluser "$made_user"
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

sh "$src/tests/sshd/sshd.sh" start "$work/sshd" >"$work/sshd.env"
config=$(sed -n 's/^config=//p' "$work/sshd.env")
log=$(sed -n 's/^log=//p' "$work/sshd.env")
alias=$(sed -n 's/^alias=//p' "$work/sshd.env")

git clone -q "$src" "$work/repo"
repo=$work/repo
files=$(git -C "$repo" ls-files | wc -l)
set -- ./examples/false-sharing -run='^$' -bench=Padded -benchtime=100ms

# Counts the bytes a connection sends each way; appends "up down" to $3.
cat >"$work/relay.pl" <<'EOF'
use strict; use warnings; use IO::Socket::INET; use IO::Select;
my ($host, $port, $log) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port) or die "relay: $!";
binmode STDIN; binmode STDOUT;
my %n = (up => 0, down => 0);
sub done { open my $l, '>>', $log or die; print $l "$n{up} $n{down}\n"; close $l; exit 0; }
# ssh ends its ProxyCommand with SIGHUP when the connection closes
$SIG{HUP} = $SIG{TERM} = $SIG{PIPE} = \&done;
my $sel = IO::Select->new(\*STDIN, $s);
sub put { my ($fh, $buf) = @_; while (length $buf) { my $w = syswrite($fh, $buf); return 0 unless $w; substr($buf, 0, $w) = ''; } 1 }
LOOP: while (my @ready = $sel->can_read) {
    for my $fh (@ready) {
        my $got = sysread($fh, my $buf, 65536);
        last LOOP unless $got;
        if ($fh == $s) { $n{down} += $got; put(\*STDOUT, $buf) or last LOOP; }
        else { $n{up} += $got; put($s, $buf) or last LOOP; }
    }
}
done();
EOF

count() { grep -c "$1" "$log" || true; }
now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run_local() {
    (cd "$repo" && PERFGO_PROGRESS=0 "$perfgo" test stat -e task-clock "$@" >"$work/out" 2>&1) || {
        cat "$work/out" >&2
        echo "bench_remote.sh: the local run failed" >&2
        exit 1
    }
}
run_remote() {
    host=$1
    shift
    (cd "$repo" && PERFGO_PROGRESS=1 "$perfgo" test stat -e task-clock --remote-host "$host" \
        --ssh-config "$config" "$@" >"$work/out" 2>&1) || {
        cat "$work/out" >&2
        echo "bench_remote.sh: the remote run failed" >&2
        exit 1
    }
}

echo "perfgo bench_remote: $(git -C "$src" rev-parse --short HEAD), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "perfgo test stat -e task-clock $* in a clone of this repository ($files files)"
for who in $users; do
    case $who in
    root) host="root@$alias" ;;
    plain)
        made_user=$(sh "$src/tests/sshd/sshd.sh" adduser bash bench)
        host="$made_user@$alias"
        ;;
    *) echo "bench_remote.sh: unknown user kind '$who' (plain or root)" >&2; exit 2 ;;
    esac
    # Warm-up: the build cache, the host's first full sync.
    run_local "$@"
    run_remote "$host" "$@"
    : >"$work/rows"
    printf '%-6s %4s %8s %9s %10s %8s %5s\n' user pair local_s remote_s overhead_s sessions auths
    i=1
    while [ "$i" -le "$pairs" ]; do
        t0=$(now); run_local "$@"; t1=$(now)
        s0=$(count "Starting session:"); a0=$(count "Accepted publickey")
        t2=$(now); run_remote "$host" "$@"; t3=$(now)
        s1=$(count "Starting session:"); a1=$(count "Accepted publickey")
        l=$(secs $((t1 - t0))); r=$(secs $((t3 - t2))); o=$(secs $((t3 - t2 - t1 + t0)))
        printf '%-6s %4d %8s %9s %10s %8d %5d\n' "$who" "$i" "$l" "$r" "$o" $((s1 - s0)) $((a1 - a0))
        echo "$l $r $o $((s1 - s0)) $((a1 - a0))" >>"$work/rows"
        i=$((i + 1))
    done
    ml=$(cut -d' ' -f1 "$work/rows" | median); mr=$(cut -d' ' -f2 "$work/rows" | median)
    mo=$(cut -d' ' -f3 "$work/rows" | median); ms=$(cut -d' ' -f4 "$work/rows" | median)
    ma=$(cut -d' ' -f5 "$work/rows" | median)
    echo "$who: median local $ml s, remote $mr s, overhead $mo s; $ms SSH sessions and $ma authentication(s) per run"

    # A second run after one edited file: what travels.
    echo "const benchNote = \"$(now)\"" >>"$repo/examples/false-sharing/counters.go"
    : >"$work/relay.log"
    run_remote "$host" --ssh-option "ProxyCommand=perl $work/relay.pl %h %p $work/relay.log" "$@"
    up=$(awk '{ s += $1 } END { print s + 0 }' "$work/relay.log")
    said=$(grep -E 'synced|sent' "$work/out" | sed 's/^perfgo: //' | tr '\n' ';' || true)
    echo "$who: second run after editing one file: $up bytes sent to the host over SSH (all sessions); perfgo: ${said:-nothing said}"
    git -C "$repo" checkout -q -- examples/false-sharing/counters.go
    if [ "$who" = plain ]; then
        sh "$src/tests/sshd/sshd.sh" deluser "$made_user"
        made_user=
    fi
done
