#!/usr/bin/env bash
# Installs the Debian packages firma needs to build and test, skipping those
# already installed. Called by `make run`, `make test` and `make bench` (each
# once, with what it needs: build, build and test, build and bench); safe to
# run again.
# Usage: scripts/deps.sh [build|test|bench]
set -euo pipefail

build_pkgs=(gcc make pkg-config libjansson-dev libfyaml-dev libsodium-dev libsqlite3-dev libuv1-dev
            libcurl4-openssl-dev libmicrohttpd-dev bubblewrap util-linux)
# chromium, nodejs and npm: the dashboard's browser test (tests/e2e/dashboard.sh
# runs `npm ci` in tests/browser for playwright-core, which drives this chromium).
test_pkgs=(libcmocka-dev sqlite3 python3 clang libclang-rt-14-dev chromium wrk curl)
bench_pkgs=(wrk curl sqlite3 python3)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
    want+=("${test_pkgs[@]}")
elif [ "${1:-build}" = bench ]; then
    want+=("${bench_pkgs[@]}")
fi

# Node.js may come from elsewhere than Debian (nodesource, nvm): a working
# node and npm on PATH will do.
if [ "${1:-build}" = test ] && ! { command -v node && command -v npm; } >/dev/null; then
    want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "deps: missing packages ${missing[*]}; install them as root (apt-get install ...)" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
