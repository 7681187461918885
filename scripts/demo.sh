#!/bin/sh
# Installs what perfgo needs, builds it, profiles examples/false-sharing
# locally and prints the top functions of the profile it recorded.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building perfgo" >&2
scripts/build.sh
bin="$(pwd)/${PERFGO_BUILD_DIR:-build}/bin/perfgo"
echo "== perfgo test profile -e cpu-clock ./examples/false-sharing -bench=. -run='^\$'" >&2
PERFGO_PROGRESS=${PERFGO_PROGRESS:-1} "$bin" test profile -e cpu-clock ./examples/false-sharing -bench=. -run='^$'
latest=$(ls -td .perfgo/history/*/ | head -n 1)
echo "== go tool pprof -top ${latest}perf.pb.gz" >&2
go tool pprof -top "${latest}perf.pb.gz" | head -n 25
