# A crash between holding a call for approval and marking the run waiting:
# on restart the held call stays held (it is not run, nor held twice), and the
# approval, once given, runs it exactly once.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
"$FIRMA" import "$FIRMA_SRC/examples/solo-startup" >/dev/null
"$FIRMA" task add "Ship Slack alerts (v1.2)" --to cto >/dev/null
serve() { "$FIRMA" serve --scenario "$FIRMA_SRC/examples/solo-startup/scenario.yaml" --until-idle; }
serve >/dev/null 2>&1
q() { sqlite3 "$FIRMA_DB" "$1"; }
[ "$(q "SELECT status FROM runs WHERE id=1")" = waiting ] && ok "the CTO's run waits for approval" \
    || not_ok "the CTO's run waits for approval" "$(q 'SELECT * FROM runs')"
# Pretend the process died before it wrote "waiting".
q "UPDATE runs SET status='running' WHERE id=1"
OUT=$(serve 2>&1)
expect_out "resumed 1 run(s)" "the interrupted run is resumed"
[ "$(q "SELECT status FROM runs WHERE id=1")" = waiting ] && ok "it goes back to waiting" \
    || not_ok "it goes back to waiting" "$(q 'SELECT status, reason FROM runs WHERE id=1')"
[ "$(q "SELECT count(*) FROM approvals")" = 1 ] && ok "the call is not held twice" \
    || not_ok "the call is not held twice" "$(q 'SELECT id, tool FROM approvals')"
[ "$(q "SELECT status FROM steps WHERE tool='exec'")" = started ] && ok "nor run without approval" \
    || not_ok "nor run without approval" "$(q "SELECT status, response FROM steps WHERE tool='exec'")"
"$FIRMA" --as ana approve 1 >/dev/null
serve >/dev/null 2>&1
[ "$(q "SELECT status FROM steps WHERE tool='exec'")" = finished ] \
    && ok "once approved, the held call is settled" \
    || not_ok "the held call is settled" "$(q "SELECT status, response FROM steps WHERE tool='exec'")"
run --json task show 1
expect_out '"status": "done"' "and the CTO finishes its task"
run audit verify
expect_rc 0 "the audit chain is intact"
finish
