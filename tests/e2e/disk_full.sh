# A full disk (simulated with a file-size limit, the closest a test can get
# without root-only tricks): commands fail with a clear message naming the
# database, and nothing is half-done — every change either happened whole,
# with its audit event, or not at all.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
limited() { # BLOCKS ARGS...: runs firma with files capped at BLOCKS x 1 KiB
    local blocks=$1; shift
    OUT=$(trap '' XFSZ; ulimit -f "$blocks"; "$FIRMA" "$@" 2>&1); RC=$?
}
limited 20 import "$FIRMA_SRC/examples/solo-startup"
expect_rc 1 "an import onto a full disk fails"
expect_out "$FIRMA_DB: cannot write the database" "naming the database"
expect_out "nothing of this change was saved" "and saying nothing was saved"
rm -f "$FIRMA_DB"*
run import "$FIRMA_SRC/examples/solo-startup"
expect_rc 0 "the import works once there is room"
body=$(head -c 3000 /dev/zero | tr '\0' x)
added=0 failed=0
for i in $(seq 1 400); do
    limited 400 task add "filler $i" --body "$body" --to cto
    if [ "$RC" -eq 0 ]; then added=$((added + 1)); else failed=1; break; fi
done
[ "$failed" -eq 1 ] && ok "the disk fills up after $added tasks" || not_ok "the disk fills up"
expect_rc 1 "the failing task add exits 1"
expect_out "cannot write the database" "with a clear message"
run task list
cnt=$(grep -c "filler" <<<"$OUT")
[ "$cnt" -eq "$added" ] && ok "exactly the $added reported tasks exist" \
    || not_ok "exactly the reported tasks exist" "$cnt tasks listed, $added reported"
run audit verify
expect_rc 0 "the audit chain is intact after the failures"
run log --action task.add --limit 0
cnt=$(grep -c "task.add" <<<"$OUT")
[ "$cnt" -eq "$added" ] && ok "one audit event per task that exists" \
    || not_ok "one audit event per task" "$cnt events, $added tasks"
finish
