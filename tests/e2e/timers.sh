# Agents' timers on the real binary: an agent with a 1 s heartbeat gets timer
# wakes under `firma serve` and its sim script answers them; a paused agent
# with the same schedule gets none until it is resumed; timer wakes never pile
# up; SIGTERM ends serve cleanly; --until-idle fires no timers. Bounded: every
# wait gives up after 30 s, and a serve that will not stop is killed.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
"$FIRMA" import "$FIRMA_SRC/examples/solo-startup" >/dev/null
"$FIRMA" hire beat --title Watcher --manager ceo --heartbeat 1s --budget 5 --grant note:allow \
    >/dev/null
"$FIRMA" hire sleepy --title Sleeper --manager ceo --heartbeat 1s --budget 5 --grant note:allow \
    >/dev/null
"$FIRMA" pause sleepy >/dev/null
cat >scenario.yaml <<'YAML'
agents:
  beat:
    - on: timer
      match: "Your scheduled check-in (heartbeat, every 1s"
      turns:
        - call: [{note: {key: seen, text: checked in}}]
        - say: All quiet.
YAML
q() { sqlite3 "$FIRMA_DB" "$1"; }
timer_wakes() { # handle, extra condition
    q "SELECT count(*) FROM wakes w JOIN agents a ON a.id=w.agent_id
       WHERE a.handle='$1' AND w.kind='timer' ${2:-}"
}
# wait_for N CMD...: polls until CMD prints a number >= N, for at most 30 s.
wait_for() {
    local want=$1 i; shift
    for i in $(seq 1 150); do
        [ "$("$@")" -ge "$want" ] && return 0
        sleep 0.2
    done
    return 1
}
# serve_until N HANDLE: serves until HANDLE has N handled timer wakes, then
# SIGTERM; $RC and $OUT get serve's status and output. A serve that does not
# stop within 30 s is killed (and its status is not 0).
serve_until() {
    "$FIRMA" serve --scenario scenario.yaml >serve.out 2>serve.err &
    local pid=$! i
    wait_for "$1" timer_wakes "$2" "AND w.done_at>0"
    local reached=$?
    kill -TERM "$pid"
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
    RC=$?
    OUT=$(cat serve.out serve.err)
    return $reached
}

[ -z "$(q "SELECT next_timer_at FROM agents WHERE handle='sleepy'")" ] \
    && ok "a paused agent has no timer" || not_ok "a paused agent has no timer"
[ -n "$(q "SELECT next_timer_at FROM agents WHERE handle='beat'")" ] \
    && ok "a hired agent with a heartbeat has one" || not_ok "a hired agent has a timer"
run agent show sleepy
expect_out "schedule: heartbeat 1s; next check-in none while not active" \
    "agent show says a paused agent has no check-in"

serve_until 3 beat && ok "the heartbeat woke @beat three times" \
    || not_ok "the heartbeat woke @beat three times" "$(timer_wakes beat) timer wakes; $OUT"
expect_rc 0 "SIGTERM stops serve cleanly"
expect_out "timer wakes:" "serve counts the timer wakes"
expect_out "firma serve: SIGTERM received, stopping" "and says why it stopped"
runs=$(q "SELECT count(*) FROM runs r JOIN agents a ON a.id=r.agent_id
          WHERE a.handle='beat' AND r.status='done'")
[ "$runs" -ge 3 ] && ok "each check-in was a run that ended its turn ($runs)" \
    || not_ok "check-ins ran" "$runs done runs"
calls=$(q "SELECT count(*) FROM steps s JOIN runs r ON r.id=s.run_id JOIN agents a
           ON a.id=r.agent_id WHERE a.handle='beat' AND s.kind='tool' AND s.tool='note'")
[ "$calls" -ge 3 ] && ok "the sim script answered the timer wakes (note called $calls times)" \
    || not_ok "the sim script answered the timer wakes" "$calls note calls"
[ "$(q "SELECT body FROM notes n JOIN agents a ON a.id=n.agent_id WHERE a.handle='beat'")" \
    = "checked in" ] && ok "and its note was kept" || not_ok "its note was kept"
OUT=$(q "SELECT DISTINCT payload FROM wakes WHERE kind='timer' AND agent_id=
         (SELECT id FROM agents WHERE handle='beat')")
expect_out '{"every_s":1,"schedule":"heartbeat"}' "a timer wake says which schedule fired"
gaps=$(q "SELECT count(*) FROM wakes a JOIN wakes b ON b.agent_id=a.agent_id AND b.kind='timer'
          AND b.id=(SELECT min(id) FROM wakes WHERE agent_id=a.agent_id AND kind='timer'
                    AND id>a.id)
          WHERE a.kind='timer' AND b.due_at - a.due_at < 1000000")
[ "$gaps" -eq 0 ] && ok "check-ins are at least a heartbeat apart" \
    || not_ok "check-ins are at least a heartbeat apart" "$gaps closer"
piled=$(q "SELECT count(*) FROM (SELECT agent_id FROM wakes WHERE kind='timer' AND done_at=0
           GROUP BY agent_id HAVING count(*) > 1)")
[ "$piled" -eq 0 ] && ok "no agent has more than one timer wake waiting" \
    || not_ok "timer wakes do not pile up" "$piled agents"
[ "$(timer_wakes sleepy)" -eq 0 ] && ok "the paused agent got no timer wake" \
    || not_ok "the paused agent got no timer wake" "$(timer_wakes sleepy)"
[ "$(q "SELECT count(*) FROM runs r JOIN agents a ON a.id=r.agent_id WHERE a.handle='sleepy'")" \
    -eq 0 ] && ok "and did not run" || not_ok "the paused agent did not run"

# Resumed, its heartbeat starts again.
"$FIRMA" resume sleepy >/dev/null
[ -n "$(q "SELECT next_timer_at FROM agents WHERE handle='sleepy'")" ] \
    && ok "resuming re-arms the timer" || not_ok "resuming re-arms the timer"
run --json agent show sleepy
expect_out '"next_timer_at": "20' "agent show gives its next check-in"
serve_until 1 sleepy && ok "the resumed agent is woken by its heartbeat" \
    || not_ok "the resumed agent is woken by its heartbeat" "$OUT"
expect_rc 0 "serve stops cleanly again"

# --until-idle drains the queue and fires no timer, however due.
sleep 1.2
before=$(timer_wakes beat)
run serve --scenario scenario.yaml --until-idle
expect_rc 0 "serve --until-idle ends"
expect_no_out "timer wakes:" "--until-idle fires no timer"
[ "$(timer_wakes beat)" -eq "$before" ] && ok "no timer wake was written" \
    || not_ok "no timer wake was written" "$before -> $(timer_wakes beat)"

run audit verify
expect_rc 0 "the audit chain is intact"
finish
