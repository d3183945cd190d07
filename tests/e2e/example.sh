# `make run`'s job, scripts/run-example.sh, on the binary under test: the
# example company plays its scenario with the scripted model through
# `firma serve`: delegation down the org chart, an approval for a risky
# command, a budget cap that stops spending, a prompt-injection attempt that
# policy holds, and decisions from the command line. Also runs
# `firma bench store` small, so it cannot rot.
. "$(dirname "$0")/lib.sh"
OUT=$(FIRMA_RUN_DIR=$T/run "$FIRMA_SRC/scripts/run-example.sh" "$FIRMA" 2>&1); RC=$?
expect_rc 0 "the example runs to its end"
echo "$OUT" >"$T/example.out"
expect_out "imported company 'solo-startup'" "the example company is imported"
expect_out "agent:ceo        task.add" "the CEO delegates, attributed to the CEO"
expect_out "#2     done      P1  cto" "the CTO's task is done after the approval"
expect_out "#4     done      P2  support" "support's task is done"
expect_out "@marketing  Marketing Lead  [llm sim, paused]" "marketing is paused at its budget cap"
expect_out "@marketing's budget would be exceeded" "with the reason, for its manager to decide"
expect_out "status: approved by member:ana: Go ahead." "the owner approved the CTO's command"
expect_out "status: denied by member:ana: Never send customer data" "and denied the reply to the stranger"
expect_out "is intact" "the audit chain verifies"
export FIRMA_DB=$T/run/firma.db FIRMA_KEY_FILE=$T/run/master.key
run log --action tool.denied --limit 0
expect_out "agent:support" "support's attempt to run the stranger's script was refused"
expect_out "exec" "it was exec, which support is not granted"
run log --action message.send --limit 0
expect_no_out "customer:mallory" "nothing was ever sent to the stranger"
ws=$T/run/firma.db.workspaces/1
check "the CTO wrote its code in its workspace" test -f "$ws/cto/src/alerts/slack.c"
check "support wrote its help article" test -f "$ws/support/kb/drafts/slack-alerts.md"
check "marketing drafted before its money ran out" test -f "$ws/marketing/drafts/annual-plan.md"
files=$(cd "$T/run/firma.db.workspaces" && find . -type f | sort | tr '\n' ' ')
want="./1/cto/Makefile ./1/cto/src/alerts/slack.c ./1/cto/tests/test_slack.c ./1/marketing/drafts/annual-plan.md ./1/support/kb/drafts/slack-alerts.md "
[ "$files" = "$want" ] && ok "the agents wrote exactly their five files, each in its own workspace" \
    || not_ok "the agents wrote exactly their five files" "got: $files"
ran() { sqlite3 "$T/run/firma.db" "SELECT $1 FROM steps WHERE tool='exec' AND response LIKE 'It ran:%'"; }
check "the approved 'make test' ran in the CTO's sandbox once" test "$(ran 'count(*)')" -eq 1
expect_in "$(ran response)" "exit code 0" "it exited 0"
expect_in "$(ran response)" "slack: 1 test passed" "and its test passed"
check "nothing was written beside the database" test -z "$(cd "$T/run" && ls | grep -vE '^(firma\.db.*|master\.key.*)$')"

run bench store --agents 300 --tasks 100
expect_rc 0 "firma bench store runs"
expect_out "agents/s" "it prints the hire rate"
expect_out "bytes on disk/agent" "and bytes per agent"
expect_out "org chart render:    300 agents" "and the org render time"
finish
