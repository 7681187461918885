#!/bin/sh
# Installs what perfgo needs, builds it, and runs the whole test suite.
# ctest's summary is the last thing printed.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building" >&2
scripts/build.sh
echo "== testing" >&2
cd "${PERFGO_BUILD_DIR:-build}"
exec ctest --output-on-failure --timeout 900 "$@"
