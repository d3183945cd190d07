# A crash between holding a call for approval and marking the run waiting:
# on restart the held call stays held (it is not run, nor held twice), and the
# approval, once given, runs it exactly once. A call that asks (ask_manager)
# is not held: its step finishes, and the run waits for the answer.
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
# ask_manager is no held call: it ran (the question is asked) and what
# waits is the answer, so its step is finished while the run waits.
cat >"$T/ask.yaml" <<'EOF'
agents:
  support:
    - on: task
      turns:
        - call: [{ask_manager: {question: "Which customers get the beta?"}}]
EOF
"$FIRMA" task add "Pick the beta customers" --to support >/dev/null
"$FIRMA" serve --scenario "$T/ask.yaml" --until-idle >/dev/null 2>&1
[ "$(q "SELECT status FROM steps WHERE tool='ask_manager'")" = finished ] \
    && ok "ask_manager's step is finished: the question was asked" \
    || not_ok "ask_manager's step is finished" \
        "$(q "SELECT status, response FROM steps WHERE tool='ask_manager'")"
[ "$(q "SELECT status FROM runs WHERE id=(SELECT run_id FROM steps WHERE tool='ask_manager')")" \
    = waiting ] \
    && ok "and the run waits for the answer" \
    || not_ok "the run waits for the answer" "$(q 'SELECT id, status, reason FROM runs')"
run audit verify
expect_rc 0 "the audit chain is intact"
finish
