#!/bin/sh
# What `perfgo test bench` costs next to `go test -bench` (a benchmark, not
# a test: it prints figures and asserts nothing).
#
#   sh tests/bench/bench_mode_cost.sh [BUILD_DIR]
#
# In a clone of this repository, runs $BENCH_PAIRS (default 3) interleaved
# pairs of
#   go test ./false-sharing -run='^$' -bench=. -count=$BENCH_COUNT   (in examples/)
#   perfgo test bench ./examples/false-sharing -run='^$' -bench=. -count=$BENCH_COUNT
# (default -count=10; perf stat's default events; both build the test
# binary from a warm build cache), prints each pair's wall seconds and the
# ratio, their medians, and then, from the last bench run, every
# benchmark's per-op numbers over its $BENCH_COUNT samples as
# `perfgo compare` shows them: the median and the 95% interval of the
# median (benchstat's run-to-run spread).
set -eu
unset LD_PRELOAD

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
perfgo=$build/bin/perfgo
pairs=${BENCH_PAIRS:-3}
count=${BENCH_COUNT:-10}
[ -x "$perfgo" ] || { echo "no perfgo binary at $perfgo (build first)" >&2; exit 1; }

work=$(mktemp -d /tmp/perfgo-bench-mode.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
git clone -q "$src" "$work/repo"
cd "$work/repo"
export PERFGO_PROGRESS=0

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "examples/false-sharing, -count=$count, $pairs pairs, $(date -u +%Y-%m-%dT%H:%MZ), loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
(cd examples/false-sharing && go test -c -o /dev/null . >/dev/null) # warm the build cache
printf '%-6s %10s %10s %7s\n' pair "go test" "perfgo" ratio
: >"$work/go" ; : >"$work/pg"
i=1
while [ "$i" -le "$pairs" ]; do
    t0=$(now)
    (cd examples && go test ./false-sharing -run='^$' -bench=. -count="$count" >/dev/null)
    t1=$(now)
    "$perfgo" test bench ./examples/false-sharing -run='^$' -bench=. -count="$count" >/dev/null
    t2=$(now)
    g=$(echo "$t1 - $t0" | bc -l); p=$(echo "$t2 - $t1" | bc -l)
    echo "$g" >>"$work/go"; echo "$p" >>"$work/pg"
    printf '%-6s %10.1f %10.1f %7.2f\n' "$i" "$g" "$p" "$(echo "$p / $g" | bc -l)"
    i=$((i + 1))
done
g=$(median <"$work/go"); p=$(median <"$work/pg")
printf '%-6s %10.1f %10.1f %7.2f\n' median "$g" "$p" "$(echo "$p / $g" | bc -l)"
echo
echo "per-op numbers of the last run over its $count samples (median ± 95% interval of the median):"
"$perfgo" compare 0 0 | sed -n '3,$p' | awk -F'  +' 'NF > 2 { print $1 "  " $2; next } { print }'
