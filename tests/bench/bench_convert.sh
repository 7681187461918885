#!/bin/sh
# Converter benchmark (not a test: it prints figures and asserts nothing).
#
#   tests/bench/bench_convert.sh [BUILD_DIR]
#
# Builds its inputs on the spot in $BENCH_DIR (default /tmp/perfgo-bench):
#   rec.script     a >= 50 MB `perf script` of a Go benchmark recorded with
#                  perf record -e cpu-clock -g -F 20000 (tests/bench/gobench)
#   rec4.script    rec.script four times
#   corpus.script  a >= 200 MB concatenation of the corpus scripts
#   corpus4.script corpus.script four times
#   mmap100k.script 100,000 PERF_RECORD_MMAP2 records of the recorded
#                  process (one file each, as a JIT's jitted-*.so), then
#                  rec.script: every frame is placed among them; its
#                  throughput per byte is compared with rec.script's
#   stacks250k.script, stacks1m.script  250,000 and 1,000,000 samples,
#                  each a stack of its own: peak RSS per distinct stack
# and prints, for `perfgo convert` to pprof (also pinned to one CPU with
# taskset, where it runs in one thread) and to folded: seconds, MB/s,
# samples/s and peak RSS (GNU time; MB/s both per wall second and per CPU
# second, user + sys, which is steadier on a shared machine), and the share
# of CPU time the hypervisor stole meanwhile, next to `cat >/dev/null` and `wc -l`
# on the same file, and next to stackcollapse-perf.pl when FLAMEGRAPH_DIR is
# set. Each perfgo figure is the best of $BENCH_RUNS runs (default 3); the
# perl script runs once. BENCH_FILES picks some of the inputs (default
# rec, rec4, corpus, corpus4 and mmap100k; the RSS ratios need the first
# four, the MMAP figure rec and mmap100k). BENCH_STACKS=1 adds the memory
# per distinct stack (stacks250k and stacks1m, one run each).
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
perfgo=$build/bin/perfgo
work=${BENCH_DIR:-/tmp/perfgo-bench}
runs=${BENCH_RUNS:-3}
corpus=${PERFGO_CORPUS:-}
[ -n "$corpus" ] && [ -f "$corpus/README.md" ] || corpus=$src/tests/corpus

[ -x "$perfgo" ] || { echo "no perfgo binary at $perfgo (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: run scripts/setup.sh" >&2; exit 1; }
mkdir -p "$work"

size_of() { stat -c %s "$1"; }

# ---- inputs ----
if [ ! -s "$work/rec.script" ] || [ "$(size_of "$work/rec.script")" -lt 50000000 ]; then
    rm -rf "$work/gobench"
    cp -r "$src/tests/bench/gobench" "$work/gobench"
    (cd "$work/gobench" && go test -c -o bench.test .)
    benchtime=1s
    while :; do
        echo "recording the Go benchmark (-benchtime=$benchtime) ..." >&2
        perf record -q -e cpu-clock -g -F 20000 -o "$work/rec.data" -- \
            "$work/gobench/bench.test" -test.run='^$' -test.bench=. -test.benchtime=$benchtime \
            >/dev/null 2>&1
        perf script -i "$work/rec.data" > "$work/rec.script" 2>/dev/null
        [ "$(size_of "$work/rec.script")" -ge 50000000 ] && break
        benchtime=$(echo "$benchtime" | sed 's/s$//' | awk '{print $1 * 2 "s"}')
    done
fi
if [ ! -s "$work/rec4.script" ]; then
    cat "$work/rec.script" "$work/rec.script" "$work/rec.script" "$work/rec.script" > "$work/rec4.script"
fi
if [ ! -s "$work/corpus.script" ]; then
    : > "$work/corpus.script"
    while [ "$(size_of "$work/corpus.script")" -lt 200000000 ]; do
        for f in "$corpus"/*/perf*.script; do
            cat "$f" >> "$work/corpus.script"
            printf '\n' >> "$work/corpus.script"
        done
    done
    cat "$work/corpus.script" "$work/corpus.script" "$work/corpus.script" "$work/corpus.script" \
        > "$work/corpus4.script"
fi
if [ ! -s "$work/mmap100k.script" ]; then
    # the recorded process: the first sample header's id (its main thread)
    pid=$(awk '/^[^ \t#]/ && NF > 2 { sub(/\/.*/, "", $2); print $2; exit }' "$work/rec.script")
    lua5.4 "$src/tests/bench/gen_script.lua" mmap 100000 "$pid" "$work/mmap100k.script"
    cat "$work/rec.script" >> "$work/mmap100k.script"
fi
if [ "${BENCH_STACKS:-0}" = 1 ] && [ ! -s "$work/stacks1m.script" ]; then
    lua5.4 "$src/tests/bench/gen_script.lua" stacks 250000 "$work/stacks250k.script"
    lua5.4 "$src/tests/bench/gen_script.lua" stacks 1000000 "$work/stacks1m.script"
fi

# ---- measurements ----
samples_of() {
    LUA_CPATH="$build/?.so;;" lua5.4 - "$1" <<'EOF'
local parser = require "perfgo.parser"
local ok, p = parser.parse_file(arg[1], { profile = false })
assert(ok, p)
print(p:stats().samples)
EOF
}

# CPU time the hypervisor gave to others (steal, in clock ticks), all CPUs
steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
ticks=$(getconf CLK_TCK)
ncpu=$(nproc)

# best_of CMD...: prints "wall_seconds cpu_seconds peak_rss_kb steal_pct":
# the run with the least wall time, its user+sys time, the largest RSS,
# and the share of the CPUs' time stolen from this VM while the rows' runs
# ran (on a shared host, the reason the same command is slower some minutes)
best_of() {
    best=""
    cpu=""
    rss=0
    i=0
    wall=0
    st0=$(steal_ticks)
    while [ $i -lt "$runs" ]; do
        t0=$(date +%s%N)
        /usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$@" >/dev/null 2>"$work/stderr.out" ||
            { cat "$work/stderr.out" >&2; exit 1; }
        t1=$(date +%s%N)
        read -r s u k m < "$work/time.out"
        s=$(awk "BEGIN{print ($t1 - $t0) / 1e9}") # GNU time's %e has 10 ms steps
        wall=$(awk "BEGIN{print $wall + $s}")
        if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then
            best=$s
            cpu=$(awk "BEGIN{print $u + $k}")
        fi
        [ "$m" -gt "$rss" ] && rss=$m
        i=$((i + 1))
    done
    st1=$(steal_ticks)
    echo "$best $cpu $rss $(awk "BEGIN{print 100 * ($st1 - $st0) / $ticks / ($wall * $ncpu)}")"
}

row() { # file tool samples CMD...
    file=$1 tool=$2 n=$3
    shift 3
    set -- $(best_of "$@")
    awk -v f="$(basename "$file")" -v t="$tool" -v sz="$(size_of "$file")" -v s="$1" -v c="$2" \
        -v r="$3" -v n="$n" -v st="$4" \
        'BEGIN { if (s <= 0) s = 0.005; if (c <= 0) c = 0.005;
                 printf "%-15s %-22s %7.1f %6.3f %7.0f %6.2f %7.0f %10.0f %7.1f %6.0f\n", f, t, sz / 1e6, s,
                        sz / 1e6 / s, c, sz / 1e6 / c, n / s, r / 1024, st }'
    echo "$3" > "$work/last_rss"
    awk -v sz="$(size_of "$file")" -v s="$1" -v c="$2" 'BEGIN { if (s <= 0) s = 0.005; if (c <= 0) c = 0.005;
        print sz / 1e6 / s, sz / 1e6 / c }' > "$work/last_mbs"
}

echo "perfgo $("$perfgo" version | head -1 | cut -d' ' -f2), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
printf "%-15s %-22s %7s %6s %7s %6s %7s %10s %7s %6s\n" file tool MB wall_s MB/s cpu_s cpuMB/s samples/s RSS_MB steal%
files=${BENCH_FILES:-rec.script rec4.script corpus.script corpus4.script mmap100k.script}
for f in $files; do
    path=$work/$f
    n=$(samples_of "$path")
    cat "$path" > /dev/null # warm the page cache
    row "$path" "cat >/dev/null" "$n" sh -c "cat '$path' > /dev/null"
    row "$path" "wc -l" "$n" wc -l "$path"
    row "$path" "perfgo convert pprof" "$n" "$perfgo" convert -i "$path" -o "$work/out.pb.gz"
    eval "rss_pprof_${f%%.*}=\$(cat \"\$work/last_rss\")"
    eval "mbs_pprof_${f%%.*}=\$(cat \"\$work/last_mbs\")"
    if "$perfgo" convert --help 2>/dev/null | grep -q benchmark; then
        # what profile runs of Go benchmarks do: the benchmark label too
        row "$path" "perfgo pprof+benchmark" "$n" "$perfgo" convert -i "$path" --labels benchmark \
            -o "$work/out.pb.gz"
    fi
    if command -v taskset >/dev/null 2>&1; then
        # single-threaded: on one CPU the file is read in place, no read-ahead
        row "$path" "perfgo pprof, 1 CPU" "$n" taskset -c 0 "$perfgo" convert -i "$path" -o "$work/out.pb.gz"
    fi
    row "$path" "perfgo convert folded" "$n" "$perfgo" convert -i "$path" --format folded -o "$work/out.folded"
    eval "rss_folded_${f%%.*}=\$(cat \"\$work/last_rss\")"
    row "$path" "perfgo -i - (pipe)" "$n" sh -c "cat '$path' | '$perfgo' convert -i - -o '$work/pipe.pb.gz'"
    if [ -n "${FLAMEGRAPH_DIR:-}" ] && [ -f "$FLAMEGRAPH_DIR/stackcollapse-perf.pl" ]; then
        # one run: it is some 50 times slower, its drift does not matter
        runs_saved=$runs
        runs=1
        row "$path" "stackcollapse-perf.pl" "$n" perl "$FLAMEGRAPH_DIR/stackcollapse-perf.pl" "$path"
        runs=$runs_saved
    fi
done
if [ -n "${mbs_pprof_rec:-}" ] && [ -n "${mbs_pprof_mmap100k:-}" ]; then
    # per byte: MB/s per wall second and per CPU second, mmap100k / rec
    echo "$mbs_pprof_rec $mbs_pprof_mmap100k" | awk '{
        printf "100k MMAP records: pprof throughput per byte %.2f (wall) and %.2f (CPU) of the recording'"'"'s\n",
               $3 / $1, $4 / $2 }'
fi
if [ "${BENCH_STACKS:-0}" = 1 ]; then
    # one run each: the slope between 250k and 1M distinct stacks is the
    # memory a distinct stack costs (the start-up's RSS cancels out)
    for fmt in pprof folded; do
        for f in stacks250k stacks1m; do
            /usr/bin/time -f "%M" -o "$work/time.out" "$perfgo" convert -i "$work/$f.script" \
                --format "$fmt" -o "$work/out.$fmt" >/dev/null 2>&1
            eval "rss_$f=\$(cat \"\$work/time.out\")"
        done
        awk -v a="$rss_stacks250k" -v b="$rss_stacks1m" -v f="$fmt" 'BEGIN {
            printf "distinct stacks, %s: peak RSS %.0f MB for 250k, %.0f MB for 1M: %.0f bytes per distinct stack\n",
                   f, a / 1024, b / 1024, (b - a) * 1024 / 750000 }'
    done
fi
[ -n "${rss_pprof_rec4:-}" ] && [ -n "${rss_pprof_corpus4:-}" ] || exit 0
awk -v a="$rss_pprof_rec4" -v b="$rss_pprof_rec" -v c="$rss_pprof_corpus4" -v d="$rss_pprof_corpus" \
    -v e="$rss_folded_rec4" -v g="$rss_folded_rec" 'BEGIN {
    printf "peak RSS 4x/1x: recording pprof %.2f, folded %.2f; corpus pprof %.2f\n", a / b, e / g, c / d }'
