#!/bin/sh
# Configures and builds perfgo in ./build (or $PERFGO_BUILD_DIR).
# Extra arguments go to the cmake configure step.
set -eu
cd "$(dirname "$0")/.."
build=${PERFGO_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERFGO_WERROR=ON "$@" >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2
    exit 1
}
cmake --build "$build" -j "$(nproc)" >"$build.build.log" 2>&1 || {
    cat "$build.build.log" >&2
    exit 1
}
