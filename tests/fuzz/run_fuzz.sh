#!/bin/sh
# Runs the perf script fuzz target for a bounded time, seeded with the
# corpus scripts: run_fuzz.sh FUZZER WORKDIR SECONDS
set -eu
fuzzer=$1 work=$2 secs=$3
corpus=${PERFGO_CORPUS:-}
if [ -z "$corpus" ] || [ ! -f "$corpus/README.md" ]; then corpus=$(cd "$(dirname "$0")/../corpus" && pwd); fi
if [ ! -f "$corpus/README.md" ]; then
    echo "perf script corpus not found: set PERFGO_CORPUS (tried \$PERFGO_CORPUS and tests/corpus)" >&2
    exit 1
fi
rm -rf "$work"
mkdir -p "$work/new" "$work/seeds"
# seeds: the corpus scripts (libFuzzer cuts them to -max_len), plus their
# first 8 KiB so that every variant is also seen whole-header-first
for f in "$corpus"/*/perf*.script; do
    name=$(echo "$f" | sed "s|$corpus/||; s|/|_|g")
    cp "$f" "$work/seeds/$name"
    head -c 8192 "$f" > "$work/seeds/head_$name"
done
# inputs that once crashed the parser, kept as regression seeds
for f in "$(dirname "$0")"/regressions/*; do
    [ -f "$f" ] && cp "$f" "$work/seeds/regression_$(basename "$f")"
done
# A fixed seed by default, so a run is repeatable; PERFGO_FUZZ_SEED=0 asks
# libFuzzer for a random one (longer hunts outside CI).
exec "$fuzzer" -seed="${PERFGO_FUZZ_SEED:-1}" -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$work/seeds"
