# Tampering with a copy of a real database using the sqlite3 shell, as anyone
# with the file could: every kind of edit must make `firma audit verify` fail
# (exit 5) and name the first broken event.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { not_ok "sqlite3 shell is installed"; finish; }

# A company with some history.
"$FIRMA" --db base.db import "$FIRMA_SRC/examples/solo-startup" >/dev/null
for i in 1 2 3 4 5; do
    "$FIRMA" --db base.db task add "job $i" --to cto >/dev/null
    "$FIRMA" --db base.db task move "$i" doing >/dev/null
done
"$FIRMA" --db base.db hire dev --title Developer --manager cto >/dev/null
last=$(sqlite3 base.db "SELECT max(seq) FROM audit_events")

# fresh NAME: copies the database (and its witness) to NAME.db.
fresh() {
    rm -f "$1".db*
    cp base.db "$1.db"
    cp base.db.audit-head "$1.db.audit-head"
    DB=$1.db
}
verify_fails() { # DESC [TEXT]
    run --db "$DB" audit verify
    expect_rc 5 "$1: verify fails"
    [ -n "${2:-}" ] && expect_out "$2" "$1: the report says where"
}

fresh ok
run --db "$DB" audit verify
expect_rc 0 "an untouched copy verifies"
expect_out "$last events" "all $last events are checked"

fresh edit
sqlite3 "$DB" "UPDATE audit_events SET actor='member:mallory' WHERE seq=12"
verify_fails "an edited actor" "event #12"

fresh details
sqlite3 "$DB" "UPDATE audit_events SET details='{\"title\":\"nothing to see\"}' WHERE seq=20"
verify_fails "edited details" "event #20"

fresh action
sqlite3 "$DB" "UPDATE audit_events SET action='task.view' WHERE seq=$last"
verify_fails "an edited last event" "event #$last"

fresh delete
sqlite3 "$DB" "DELETE FROM audit_events WHERE seq=15"
verify_fails "a deleted event" "an event was deleted, inserted or reordered"

fresh insert
sqlite3 "$DB" "INSERT INTO audit_events(company_id, seq, ts, actor, action, object, details, prev, hash)
               SELECT company_id, $last + 1, ts, 'member:ana', 'agent.fire', 'agent:ceo', '{}', hash, hash
               FROM audit_events WHERE seq=$last"
verify_fails "an appended forged event" "event #$((last + 1))"

fresh reorder
sqlite3 "$DB" "UPDATE audit_events SET id=-1, seq=-1 WHERE seq=10;
               UPDATE audit_events SET id=10, seq=10 WHERE seq=11;
               UPDATE audit_events SET id=11, seq=11 WHERE id=-1"
verify_fails "two swapped events" "event #10"

fresh truncate
sqlite3 "$DB" "DELETE FROM audit_events WHERE seq > $last - 3"
verify_fails "a cut-off tail" "deleted from the end"

fresh truncate2
sqlite3 "$DB" "DELETE FROM audit_events WHERE seq > $last - 3; DELETE FROM audit_checkpoints"
verify_fails "a cut-off tail with its checkpoints deleted" "covers event #$last"

fresh forged
sqlite3 "$DB" "UPDATE audit_checkpoints SET sig=randomblob(64)"
verify_fails "a forged checkpoint signature" "bad signature"

fresh otherkey
FIRMA_KEY_FILE=$T/other.key "$FIRMA" --db "$DB" company >/dev/null
run --db "$DB" --key "$T/nokey" audit verify
expect_rc 0 "without the key the chain is still checked (signatures are not)"
expect_out "signatures not checked" "and it says so"

fresh json
sqlite3 "$DB" "UPDATE audit_events SET object='agent:nobody' WHERE seq=8"
run --db "$DB" --json audit verify
expect_rc 5 "JSON verify fails too"
expect_out '"first_bad_seq": 8' "naming the event"

# Tampering is detected, never repaired silently: the original still verifies.
run --db base.db audit verify
expect_rc 0 "the original database is untouched"
finish
