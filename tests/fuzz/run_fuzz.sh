#!/bin/sh
# Runs one libFuzzer target for a bounded time, seeded with a tiny corpus
# of real inputs and with the inputs behind past fixes:
#
#   run_fuzz.sh TARGET FUZZER WORKDIR SECONDS
#
# TARGET is one of
#   perfscript  seeds: the conformance corpus' scripts (tests/corpus)
#   pprof       seeds: tests/fuzz/seeds/pprof (Go's and perfgo's profiles)
#   elf         seeds: the first 16 KiB of real ELF files found here
#               (/bin/true, its libc, the fuzzer itself)
#   symmap      seeds: tests/fuzz/seeds/symmap (record streams)
# and every target also gets tests/fuzz/regressions/TARGET, the inputs
# behind past fixes. ctest runs each target for some seconds with a fixed
# seed; a longer hunt runs this script with a random one, e.g. an hour:
#
#   PERFGO_FUZZ_SEED=0 sh tests/fuzz/run_fuzz.sh pprof build/tests/fuzz/fuzz_pprof /tmp/fuzz-pprof 3600
#
# Inputs that fail are left in WORKDIR (crash-*, timeout-*, oom-*, leak-*):
# add them to tests/fuzz/regressions/TARGET with the fix.
set -eu
target=$1 fuzzer=$2 work=$3 secs=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work/new" "$work/seeds"
maxlen=65536
case $target in
perfscript)
    corpus=${PERFGO_CORPUS:-}
    if [ -z "$corpus" ] || [ ! -f "$corpus/README.md" ]; then corpus=$here/../corpus; fi
    if [ ! -f "$corpus/README.md" ]; then
        echo "perf script corpus not found: set PERFGO_CORPUS (tried \$PERFGO_CORPUS and tests/corpus)" >&2
        exit 1
    fi
    # the corpus scripts (libFuzzer cuts them to -max_len), plus their
    # first 8 KiB so that every variant is also seen whole-header-first
    for f in "$corpus"/*/perf*.script; do
        name=$(echo "$f" | sed "s|$corpus/||; s|/|_|g")
        cp "$f" "$work/seeds/$name"
        head -c 8192 "$f" > "$work/seeds/head_$name"
    done
    ;;
pprof) maxlen=262144 ;;
elf)
    # program and section headers, notes: all within the first pages
    libc=$(ldd /bin/true 2>/dev/null | awk '/libc\.so/ { print $3 }')
    for f in /bin/true "$libc" "$fuzzer"; do
        [ -f "$f" ] && head -c 16384 "$f" > "$work/seeds/elf_$(basename "$f")"
    done
    ;;
symmap)
    maxlen=4096
    # the fuzzer's sandbox of files (see fuzz_symmap.c)
    export PERFGO_FUZZ_SANDBOX="$work/sandbox"
    ;;
*)
    echo "run_fuzz.sh: unknown target '$target' (perfscript, pprof, elf, symmap)" >&2
    exit 2
    ;;
esac
for kind in seeds regressions; do
    [ -d "$here/$kind/$target" ] || continue
    for f in "$here/$kind/$target"/*; do
        [ -f "$f" ] && cp "$f" "$work/seeds/${kind}_$(basename "$f")"
    done
done
# A fixed seed by default, so that a run is repeatable; PERFGO_FUZZ_SEED=0
# asks libFuzzer for a random one.
exec "$fuzzer" -seed="${PERFGO_FUZZ_SEED:-1}" -max_total_time="$secs" -max_len="$maxlen" \
    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/new" "$work/seeds"
