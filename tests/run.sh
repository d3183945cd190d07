#!/usr/bin/env bash
# Runs the whole suite and ends with one line "N passed, N failed".
#  - unit tests (cmocka, TAP output) from build/release and build/asan
#  - end-to-end tests (tests/e2e/*.sh) driving the real firma binary
# Every test prints TAP lines ("ok ..." / "not ok ..."); a test program that
# dies or exits non-zero without saying why counts as one failure.
# Usage: tests/run.sh [PATTERN]   (only the test files whose name contains PATTERN)
set -u
cd "$(dirname "$0")/.."
pattern=${1:-}
passed=0
failed=0
failures=()
art=tests/artifacts
mkdir -p "$art"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=TAP
export FIRMA_SRC=$PWD

count() { # name, logfile, exit code
    local name=$1 log=$2 rc=$3 p f
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name exited with status $rc" >>"$log"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures+=("$name")
        echo "FAIL $name ($p passed, $f failed): see $log"
        grep -A20 '^not ok ' "$log" | head -60
    else
        echo "ok   $name ($p passed)"
    fi
}

for mode in release asan; do
    for t in build/$mode/tests/test_*; do
        [ -x "$t" ] || continue
        name="unit/$mode/$(basename "$t")"
        case "$name" in *"$pattern"*) ;; *) continue ;; esac
        log="$art/${name//\//_}.log"
        (cd "$(mktemp -d)" && timeout 300 "$OLDPWD/$t") >"$log" 2>&1
        count "$name" "$log" $?
    done
done

export FIRMA=${FIRMA:-$PWD/build/asan/firma}
for t in tests/e2e/*.sh; do
    case "$(basename "$t")" in lib*.sh) continue ;; esac # helpers, not tests
    [ -f "$t" ] || continue
    name="e2e/$(basename "$t" .sh)"
    case "$name" in *"$pattern"*) ;; *) continue ;; esac
    log="$art/${name//\//_}.log"
    timeout 600 bash "$t" >"$log" 2>&1
    count "$name" "$log" $?
done

if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
