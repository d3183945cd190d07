# kill -9 soak of `firma serve`: the server is killed at random moments while
# agents work through 150 tasks, restarted, killed again ... then allowed to
# finish. Afterwards every task is done exactly once, no run is left running,
# no wake is left behind, and the audit chain is intact. Bounded: 8 kills.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
"$FIRMA" import "$FIRMA_SRC/examples/solo-startup" >/dev/null
cat >scenario.yaml <<'YAML'
agents:
  cto:
    - on: task
      turns:
        - call: [{note: {key: last, text: working}}, {write_file: {path: src/out.txt, text: x}}]
        - call: [{complete_task: {result: finished}}]
        - say: Done.
  support:
    - on: task
      turns:
        - call: [{note: {key: last, text: working}}, {write_file: {path: kb/drafts/a.md, text: x}}]
        - call: [{complete_task: {result: finished}}]
        - say: Done.
YAML
for i in $(seq 1 75); do
    "$FIRMA" task add "soak cto $i" --to cto >/dev/null
    "$FIRMA" task add "soak support $i" --to support >/dev/null
done
kills=0
progress=
for round in 1 2 3 4 5 6 7 8; do
    "$FIRMA" serve --scenario scenario.yaml >"serve$round.log" 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
    progress="$progress $(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM tasks WHERE status='done'")"
done
echo "# tasks done after each kill:$progress"
last=${progress##* }
[ "$kills" -ge 6 ] && [ "$last" -lt 150 ] && ok "killed firma serve $kills times mid-work ($last of 150 done before the last start)" \
    || not_ok "the kills landed mid-work" "kills: $kills, done after the kills: $last"
run serve --scenario scenario.yaml --until-idle
expect_rc 0 "a last serve finishes the work"
run --json task list --status done
done_n=$(grep -c '"title": "soak' <<<"$OUT")
[ "$done_n" -eq 150 ] && ok "all 150 tasks are done" || not_ok "all 150 tasks are done" "$done_n done"
# Done once: no task has two calls of complete_task that took effect (a
# second one would be refused, and its result says so).
twice=$(sqlite3 "$FIRMA_DB" "SELECT w.ref FROM steps s JOIN wakes w ON w.run_id=s.run_id AND w.kind='task'
        WHERE s.tool='complete_task' AND s.response LIKE 'Task #% is done.'
        GROUP BY w.ref HAVING count(*) > 1")
done_calls=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM steps WHERE tool='complete_task' AND response LIKE 'Task #% is done.'")
[ -z "$twice" ] && [ "$done_calls" -eq 150 ] && ok "each task was completed by exactly one call ($done_calls)" \
    || not_ok "each task was completed by exactly one call" "twice: $twice; calls: $done_calls"
open_runs=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM runs WHERE status IN ('running','queued')")
[ "$open_runs" -eq 0 ] && ok "no run is left running" || not_ok "no run is left running" "$open_runs"
left=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM wakes WHERE done_at=0 AND agent_id IN
        (SELECT id FROM agents WHERE handle IN ('cto','support'))")
[ "$left" -eq 0 ] && ok "no wake is left behind" || not_ok "no wake is left behind" "$left pending"
reserved=$(sqlite3 "$FIRMA_DB" "SELECT coalesce(sum(usd_micro), 0) FROM ledger WHERE kind IN ('reserve','release')")
[ "$reserved" -eq 0 ] && ok "no reservation is left open (cut-off calls were settled)" \
    || not_ok "no reservation is left open" "$reserved micro-dollars still reserved"
orphans=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM audit_events WHERE action='budget.orphan'")
echo "# reservations cut off by a kill and settled at restart: $orphans"
unknown=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM steps WHERE status='unknown'")
echo "# steps whose outcome was unknown after a kill: $unknown"
run audit verify
expect_rc 0 "the audit chain is intact after the kills"
finish
