#!/bin/sh
# perf.data benchmark (not a test: it prints figures and asserts nothing).
#
#   tests/bench/bench_perfdata.sh [BUILD_DIR]
#
# Records tests/bench/gobench in $BENCH_DIR (default /tmp/perfgo-bench-pd)
# with perf record -e cpu-clock -g -F 20000 until the recording holds at
# least 100k samples (rec.data), once more compressed (rec-z.data, perf
# record -z), and once at twice the length (rec2.data, for the RSS). Then,
# interleaved, $BENCH_RUNS times each (default 7):
#   perfgo convert -i rec.data -o /dev/null      perf.data -> pprof
#   perfgo convert -i rec-z.data -o /dev/null    the same, compressed
#   perf script -i rec.data > /dev/null          perf script alone
#   perf script ... | perfgo convert -i -        the text path
# and prints the median wall seconds, the median peak RSS of the process
# that uses most (GNU time), and the ratios.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
perfgo=$build/bin/perfgo
work=${BENCH_DIR:-/tmp/perfgo-bench-pd}
runs=${BENCH_RUNS:-7}
[ -x "$perfgo" ] || { echo "no perfgo binary at $perfgo (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: run scripts/setup.sh" >&2; exit 1; }
mkdir -p "$work"

div() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

record() { # NAME BENCHTIME [EXTRA]
    perf record -q -e cpu-clock -g -F 20000 $3 -o "$work/$1" -- \
        "$work/gobench/bench.test" -test.run='^$' -test.bench=. -test.benchtime="$2" >/dev/null 2>&1
}

if [ ! -s "$work/rec.data" ]; then
    rm -rf "$work/gobench"
    cp -r "$src/tests/bench/gobench" "$work/gobench"
    (cd "$work/gobench" && go test -c -o bench.test .)
    benchtime=1
    while :; do
        echo "recording the Go benchmark (-benchtime=${benchtime}s) ..." >&2
        record rec.data "${benchtime}s" ""
        n=$(perf script -i "$work/rec.data" -F period 2>/dev/null | wc -l)
        [ "$n" -ge 100000 ] && break
        benchtime=$((benchtime * 2))
    done
    echo "$benchtime" > "$work/benchtime"
    record rec-z.data "${benchtime}s" -z
    record rec2.data "$((benchtime * 2))s" ""
fi
benchtime=$(cat "$work/benchtime")

# one timed run: wall seconds and peak RSS (KB) of CMD, appended to FILE
timed() { # FILE CMD...
    out=$1
    shift
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$work/rss" sh -c "$*" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}') $(tail -1 "$work/rss")" >> "$out"
}

median() { # FILE COLUMN
    sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {print v[int((NR + 1) / 2)]}'
}

rm -f "$work"/t.*
for i in $(seq "$runs"); do
    timed "$work/t.pd" "$perfgo convert -i $work/rec.data -o /dev/null"
    timed "$work/t.pdz" "$perfgo convert -i $work/rec-z.data -o /dev/null"
    timed "$work/t.pd2" "$perfgo convert -i $work/rec2.data -o /dev/null"
    timed "$work/t.script" "perf script -i $work/rec.data > /dev/null"
    timed "$work/t.text" "perf script -i $work/rec.data --show-mmap-events | $perfgo convert -i - -o /dev/null"
done

n1=$(perf script -i "$work/rec.data" -F period 2>/dev/null | wc -l)
n2=$(perf script -i "$work/rec2.data" -F period 2>/dev/null | wc -l)
echo "perfgo $("$perfgo" version 2>/dev/null | head -1 | awk '{print $2}'), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), median of $runs interleaved runs"
echo "rec.data: $(stat -c %s "$work/rec.data") bytes, $n1 samples (gobench, -benchtime=${benchtime}s); rec-z.data: $(stat -c %s "$work/rec-z.data") bytes; rec2.data: $n2 samples"
printf '%-44s %8s %8s\n' "command" "wall_s" "RSS_MB"
row() { printf '%-44s %8.3f %8.1f\n' "$1" "$(median "$2" 1)" "$(div "$(median "$2" 2)" 1024)"; }
row "perfgo convert -i rec.data (perf.data)" "$work/t.pd"
row "perfgo convert -i rec-z.data (perf -z)" "$work/t.pdz"
row "perfgo convert -i rec2.data (2x samples)" "$work/t.pd2"
row "perf script -i rec.data > /dev/null" "$work/t.script"
row "perf script | perfgo convert -i - (text)" "$work/t.text"
pd=$(median "$work/t.pd" 1)
echo "perf script alone / perfgo on perf.data: $(div "$(median "$work/t.script" 1)" "$pd")x"
echo "text path / perfgo on perf.data:         $(div "$(median "$work/t.text" 1)" "$pd")x"
echo "peak RSS, 2x samples / 1x:               $(div "$(median "$work/t.pd2" 2)" "$(median "$work/t.pd" 2)")"
