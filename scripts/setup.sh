#!/bin/sh
# Installs the Debian packages perfgo needs to build, run and test.
# Idempotent: asks apt only for what is missing, and runs `apt-get update`
# once, only when something has to be installed.
set -eu

PACKAGES="
cmake gcc clang make pkg-config git
liblua5.4-dev lua5.4 zlib1g-dev libdeflate-dev libprotobuf-c-dev protobuf-c-compiler
lua-cjson lua-argparse lua-filesystem lua-busted lua-check luarocks
libclang-rt-14-dev
golang-go linux-perf
openssh-server openssh-client rsync fish
procps binutils file time
"
# perf.data reading: libdw symbolizes (the library perf uses), libzstd reads perf record -z
PACKAGES="$PACKAGES libdw-dev libzstd-dev"
# login shells of the test users in the remote-run tests (tests/sshd)
PACKAGES="$PACKAGES zsh tcsh csh"
# the C format check in ctest (lint.clang_format)
PACKAGES="$PACKAGES clang-format"
# perf.data symbols: C++ and Rust names demangled as perf does (libiberty)
PACKAGES="$PACKAGES libiberty-dev"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=sudo
        else
            echo "setup: need root (or sudo) to install:$missing" >&2
            exit 1
        fi
    else
        SUDO=
    fi
    echo "setup: installing:$missing" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
