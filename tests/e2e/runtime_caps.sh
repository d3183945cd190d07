# The runtime against a model that misbehaves (scripted with sim): tools it was
# not given, arguments that do not fit, the same call over and over, a model
# that never stops — each refused or capped with a reason a person can read,
# never a hang; and the kill switch stops an agent between steps.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
"$FIRMA" import "$FIRMA_SRC/examples/solo-startup" >/dev/null
cat >scenario.yaml <<'YAML'
agents:
  cto:
    - on: task
      match: bad calls
      turns:
        - call:
            - launch_missiles: {target: moon}
            - write_file: {path: src/a.txt}
            - message: {to: "agent:nobody", text: hello}
            - read_file: {path: ../../etc/passwd}
            - read_file: {path: "src/../../../etc/passwd"}
        - say: I tried.
    - on: task
      match: loop
      turns:
        - call: [{note: {key: k, text: same}}]
        - call: [{note: {key: k, text: same}}]
        - call: [{note: {key: k, text: same}}]
        - call: [{note: {key: k, text: same}}]
        - call: [{note: {key: k, text: same}}]
        - say: never reached
    - on: task
      match: endless
      turns:
YAML
# An endless script: 30 distinct notes, more than the cap of 16 model calls.
for i in $(seq 1 30); do
    printf '        - call: [{note: {key: k%d, text: t}}]\n' "$i" >>scenario.yaml
done
step_responses() { sqlite3 "$FIRMA_DB" "SELECT response FROM steps WHERE run_id=$1 AND kind='tool' ORDER BY seq"; }
run_reason() { sqlite3 "$FIRMA_DB" "SELECT status || ': ' || reason FROM runs WHERE id=$1"; }

"$FIRMA" task add "bad calls" --to cto >/dev/null
run serve --scenario scenario.yaml --until-idle
expect_rc 0 "serve survives a model that calls nonsense"
OUT=$(step_responses 1)
expect_out "You have no tool named 'launch_missiles'" "an ungiven tool is refused"
expect_out "Bad arguments for write_file: arguments: missing required argument 'text'" \
    "arguments that do not fit the schema are refused, saying why"
expect_out "nobody" "a message to no one is an error the model reads"
expect_out "Refused by policy: @cto's grants for read_file do not cover ../../etc/passwd" \
    "a path outside the grants is refused by policy"
expect_out "inside your workspace" "a granted-looking path that climbs out is refused by the workspace"
OUT=$(run_reason 1)
expect_out "done: ended its turn" "and the run still ends normally"

"$FIRMA" task add "loop forever" --to cto >/dev/null
run serve --scenario scenario.yaml --until-idle
OUT=$(run_reason 2)
expect_out "failed: stopped: the same note call was repeated more than 3 times" \
    "repeating one call is capped"
run --json task show 2
expect_out '"status": "blocked"' "the capped run's task is blocked, for a person to see"

"$FIRMA" task add "endless work" --to cto >/dev/null
run serve --scenario scenario.yaml --until-idle
OUT=$(run_reason 3)
expect_out "failed: stopped: reached the cap of 16 model calls in one run" "a run has a step cap"
calls=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM steps WHERE run_id=3 AND kind='model'")
[ "$calls" -eq 16 ] && ok "exactly 16 model calls were made" || not_ok "16 model calls" "$calls"
runs=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM runs")
[ "$runs" -eq 3 ] && ok "a capped run is not retried in a loop" || not_ok "no retry loop" "$runs runs"

"$FIRMA" pause cto >/dev/null
"$FIRMA" task add "bad calls again" --to cto >/dev/null
run serve --scenario scenario.yaml --until-idle
expect_out "runs: 0 started" "a paused agent is not woken"
"$FIRMA" resume cto >/dev/null
run serve --scenario scenario.yaml --until-idle
expect_out "runs: 1 started" "once resumed, its waiting work runs"
run log --action tool.denied --limit 0
expect_out "launch_missiles" "refusals are in the audit log"
run audit verify
expect_rc 0 "the audit chain is intact"
finish
