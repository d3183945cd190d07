# Helpers for end-to-end tests: each check prints one TAP line.
# Source it; it makes a temp dir $T (removed at exit) and cds there.
# $FIRMA is the binary under test, $FIRMA_SRC the source tree.
set -u
: "${FIRMA:?set FIRMA to the firma binary}"
: "${FIRMA_SRC:?set FIRMA_SRC to the source tree}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
export FIRMA_KEY_FILE=$T/master.key
n=0
nfail=0
OUT=
RC=0

# run ARGS...: runs firma with ARGS, keeping stdout+stderr in $OUT and the status in $RC.
run() {
    OUT=$("$FIRMA" "$@" 2>&1)
    RC=$?
}
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); nfail=$((nfail + 1))
    echo "not ok $n - $1"
    printf '#   %s\n' "${2:-}" | head -40
}
# expect_rc CODE DESC: the last run exited with CODE.
expect_rc() {
    if [ "$RC" -eq "$1" ]; then ok "$2"; else not_ok "$2" "exit $RC, wanted $1; output: $OUT"; fi
}
# expect_in VALUE TEXT DESC: VALUE contains TEXT (a fixed string); a
# failure shows VALUE.
expect_in() {
    if grep -qF -- "$2" <<<"$1"; then ok "$3"; else not_ok "$3" "no '$2' in: $1"; fi
}
expect_not_in() {
    if grep -qF -- "$2" <<<"$1"; then not_ok "$3" "unexpected '$2' in: $1"; else ok "$3"; fi
}
# expect_out TEXT DESC: the last run's output contains TEXT (or not).
expect_out() { expect_in "$OUT" "$1" "$2"; }
expect_no_out() { expect_not_in "$OUT" "$1" "$2"; }
# check DESC CMD...: passes when CMD succeeds.
check() {
    local d=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d" "command failed: $*"; fi
}
finish() { exit $((nfail > 0)); }
