#!/usr/bin/env bash
# The HTTP API under load: wrk against `firma serve --listen` on 127.0.0.1
# while agents are working, printing requests per second and latency
# percentiles for reading a list of 500 tasks and for creating tasks.
# Usage: bench/api_load.sh [SECONDS]   (FIRMA= the binary; default the release build)
# It starts its own server in a temporary folder and stops it; nothing is
# asserted: these are figures.
set -euo pipefail
cd "$(dirname "$0")/.."
FIRMA=${FIRMA:-$PWD/build/release/firma}
SECS=${1:-10}
command -v wrk >/dev/null || { echo "api_load: wrk is not installed (scripts/deps.sh bench)" >&2; exit 1; }
dir=$(mktemp -d)
SERVE=
WORK=
cleanup() {
    set +e
    [ -n "$WORK" ] && kill "$WORK" 2>/dev/null
    [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
export FIRMA_DB=$dir/firma.db FIRMA_KEY_FILE=$dir/key
"$FIRMA" import examples/solo-startup >/dev/null
# Busy agents: 20 of them, each working tasks of a note and a complete_task,
# so runs go on (and write) during the whole load.
{
    echo "agents:"
    for i in $(seq 20); do
        printf '  w%d:\n    - on: task\n      turns:\n' "$i"
        printf '        - call: [{note: {key: k, text: working}}]\n'
        printf '        - call: [{complete_task: {result: done}}]\n'
        printf '        - say: Done.\n'
    done
} >"$dir/scenario.yaml"
for i in $(seq 20); do
    "$FIRMA" hire "w$i" --title Worker --manager ceo --budget 1000 --autonomy 1 \
        --grant note:allow --grant complete_task:allow >/dev/null
done
T=$("$FIRMA" token create ana --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$FIRMA" serve --listen 127.0.0.1:0 --scenario "$dir/scenario.yaml" >"$dir/serve.out" 2>"$dir/serve.err" &
SERVE=$!
for _ in $(seq 100); do grep -q "API on" "$dir/serve.err" && break; sleep 0.1; done
HP=$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/serve.err" | head -1)
[ -n "$HP" ] || { cat "$dir/serve.err" >&2; exit 1; }
post() { curl -sf -o /dev/null -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
    -d "$1" "$HP/v1/tasks"; }
# 500 tasks in the backlog (unassigned: they stay put), and a stream of work
# for the busy agents.
for i in $(seq 500); do post "{\"title\": \"Backlog item $i\"}"; done
work() { while :; do for i in $(seq 20); do post "{\"title\": \"job\", \"assignee\": \"w$i\"}" || true; done; sleep 0.2; done; }
work &
WORK=$!
cat >"$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"title": "Made under load"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $T"
LUA
figures() { # what wrk printed -> one line
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +90%/ {p90=$2} /^ +99%/ {p99=$2}
         /Non-2xx/ {bad=$NF} END {printf "%s req/s; latency p50 %s, p90 %s, p99 %s; non-2xx: %s\n", rps, p50, p90, p99, bad ? bad : 0}'
}
echo "firma API under load (wrk, 2 threads, 16 connections, ${SECS} s each, 20 agents working meanwhile)"
printf '  GET /v1/tasks?limit=500 (500 tasks a page): '
wrk -t2 -c16 -d"${SECS}s" --latency -H "Authorization: Bearer $T" "$HP/v1/tasks?limit=500" | figures
printf '  POST /v1/tasks (create, audited):          '
wrk -t2 -c16 -d"${SECS}s" --latency -s "$dir/post.lua" "$HP/v1/tasks" | figures
kill "$WORK" 2>/dev/null || true
WORK=
runs=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM runs WHERE status='done'")
echo "  runs done by the agents meanwhile: $runs"
