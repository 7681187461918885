#!/bin/sh
# Installs what perfgo needs, builds it, and shows what it does.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building perfgo" >&2
scripts/build.sh
bin="${PERFGO_BUILD_DIR:-build}/bin/perfgo"
"$bin" version
"$bin" --help
