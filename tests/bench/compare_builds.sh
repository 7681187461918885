#!/bin/sh
# Parser throughput of two builds side by side (a benchmark: prints
# figures, asserts nothing). For a change that must not slow the parser:
#
#   tests/bench/compare_builds.sh BUILD_A BUILD_B [FILE...]
#
# BUILD_x is a build directory (or a copy of its bin/ and perfgo/). FILE
# defaults to $BENCH_DIR/rec.script and corpus.script, the inputs
# tests/bench/bench_convert.sh makes (BENCH_DIR: /tmp/perfgo-bench).
# For each file and each kind of run -- `parse`, the parser alone
# (perfgo.parser with profile = false, from lua5.4), and `convert`, perfgo
# convert to gzip'd pprof -- hyperfine runs A and B, $BENCH_RUNS times each
# (default 5), in $BENCH_ROUNDS rounds (default 5) that swap which goes
# first, so that a burst of load on a shared machine falls on both. It
# prints each round's medians and the median of the rounds' B/A ratios,
# for wall time and for CPU time (user + system, means: hyperfine reports
# no CPU median), which is steadier on a shared machine.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 BUILD_A BUILD_B [FILE...]" >&2; exit 2; }
a=$(cd "$1" && pwd)
b=$(cd "$2" && pwd)
shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_DIR:-/tmp/perfgo-bench}
runs=${BENCH_RUNS:-5}
rounds=${BENCH_ROUNDS:-5}
[ $# -gt 0 ] || set -- "$work/rec.script" "$work/corpus.script"
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }
for d in "$a" "$b"; do
    [ -f "$d/perfgo/parser.so" ] && [ -x "$d/bin/perfgo" ] ||
        { echo "$d: no perfgo/parser.so or bin/perfgo (build first)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/parse.lua" <<'LUA'
local parser = require "perfgo.parser"
local p = parser.new({ profile = false })
assert(p:feed_file(arg[1]))
assert(p:finish())
LUA

cmd() { # build kind file
    if [ "$2" = parse ]; then
        echo "env LUA_CPATH=$1/?.so;; lua5.4 $tmp/parse.lua $3"
    else
        echo "env PERFGO_LUA_DIR=$src/lua $1/bin/perfgo convert -i $3 -o $tmp/out.pb.gz"
    fi
}

echo "A = $a"
echo "B = $b"
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
for f in "$@"; do
    [ -s "$f" ] || { echo "$f: missing (run tests/bench/bench_convert.sh once)" >&2; exit 1; }
    cat "$f" > /dev/null
    for kind in parse convert; do
        : > "$tmp/ratios"
        r=1
        while [ "$r" -le "$rounds" ]; do
            if [ $((r % 2)) = 1 ]; then first=$a second=$b afirst=1; else first=$b second=$a afirst=0; fi
            hyperfine -N -w 1 -r "$runs" --export-csv "$tmp/round.csv" \
                "$(cmd "$first" "$kind" "$f")" "$(cmd "$second" "$kind" "$f")" >/dev/null 2>&1 ||
                { echo "hyperfine failed: $(cmd "$first" "$kind" "$f")" >&2; exit 1; }
            # CSV: command,mean,stddev,median,user,system,min,max
            awk -F, -v afirst="$afirst" -v r="$r" -v f="$(basename "$f")" -v k="$kind" 'NR > 1 {
                    w = ((NR == 2) == (afirst == 1)) ? "A" : "B"; med[w] = $4; cpu[w] = $5 + $6 }
                END { printf "%-14s %-8s round %d: median A %.3f s  B %.3f s  B/A %.3f   cpu A %.3f s  B %.3f s  B/A %.3f\n",
                             f, k, r, med["A"], med["B"], med["B"] / med["A"], cpu["A"], cpu["B"], cpu["B"] / cpu["A"]
                      print med["B"] / med["A"], cpu["B"] / cpu["A"] > "/dev/stderr" }' "$tmp/round.csv" 2>>"$tmp/ratios"
            r=$((r + 1))
        done
        sort -n -k1,1 "$tmp/ratios" | awk '{ w[NR] = $1 } END { m = (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2; printf "  wall B/A median of rounds %.3f", m }'
        sort -n -k2,2 "$tmp/ratios" | awk -v f="$(basename "$f")" -v k="$kind" '{ c[NR] = $2 } END { m = (NR % 2) ? c[(NR + 1) / 2] : (c[NR / 2] + c[NR / 2 + 1]) / 2; printf "   cpu B/A median of rounds %.3f   (%s, %s)\n", m, f, k }'
    done
done
