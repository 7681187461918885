#!/bin/sh
# Runs the perf.data fuzz target for a bounded time, seeded with small
# real recordings made on the spot (file mode, pipe mode, -z, several
# events, no callchain): run_fuzz_perfdata.sh FUZZER WORKDIR SECONDS
set -eu
fuzzer=$1 work=$2 secs=$3
rm -rf "$work"
mkdir -p "$work/new" "$work/seeds"
cd "$work"
rec() { name=$1; shift; perf record -q -o "seeds/$name" "$@" -- sh -c 'ls / >/dev/null; ls /usr >/dev/null' >/dev/null 2>&1 || true; }
rec file.data -g -e cpu-clock -F 20000
rec nocg.data -e cpu-clock -F 20000
rec z.data -z -g -e cpu-clock -F 20000
rec multi.data -g -e cpu-clock -e page-faults -F 20000
perf record -q -g -e cpu-clock -F 20000 -o - -- sh -c 'ls / >/dev/null' 2>/dev/null > seeds/pipe.data || true
for f in seeds/*.data; do
    [ -s "$f" ] || rm -f "$f"
done
if [ -z "$(ls seeds)" ]; then
    echo "perf could not record a seed here (perf_event_paranoid?)" >&2
    exit 1
fi
exec "$fuzzer" -seed="${PERFGO_FUZZ_SEED:-1}" -max_total_time="$secs" -max_len=262144 -timeout=20 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$work/seeds"
