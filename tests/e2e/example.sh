# `make run`'s job, scripts/run-example.sh, on the binary under test: the
# example company is imported, work is delegated down the org chart, and the
# audit log verifies. Also runs `firma bench store` small, so it cannot rot.
. "$(dirname "$0")/lib.sh"
OUT=$(FIRMA_RUN_DIR=$T/run "$FIRMA_SRC/scripts/run-example.sh" "$FIRMA" 2>&1); RC=$?
expect_rc 0 "the example runs to its end"
expect_out "imported company 'solo-startup'" "the example company is imported"
expect_out "└── @ceo  Chief Executive Officer" "the org chart is shown"
expect_out "agent:ceo        task.add" "the CEO's delegation is attributed to the CEO"
expect_out "(refused, exit 4)" "the illegal move is refused"
expect_out "#4     blocked" "the task board shows a blocked task"
expect_out "is intact" "the audit chain verifies"
check "the database is under the run folder" test -f "$T/run/firma.db"

run bench store --agents 300 --tasks 100
expect_rc 0 "firma bench store runs"
expect_out "agents/s" "it prints the hire rate"
expect_out "bytes on disk/agent" "and bytes per agent"
expect_out "org chart render:    300 agents" "and the org render time"
finish
