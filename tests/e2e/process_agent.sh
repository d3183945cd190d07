# Process agents through the real binary: the owner's own program runs per
# wake in its sandbox, reads the wakes as JSON on stdin, and acts through
# JSON lines on stdout — each action checked like a model's tool call.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
run import "$FIRMA_SRC/examples/solo-startup"
expect_rc 0 "import the example company"
run hire triage --title "Inbox triage" --manager ceo --kind process \
    --command "/usr/bin/python3 /workspace/bot.py" \
    --autonomy 1 --grant "message:allow:member:*" --grant complete_task:allow --grant note:allow --grant exec:allow
expect_rc 0 "hire a process agent"
WS=$FIRMA_DB.workspaces/1/triage
mkdir -p "$WS"
cat >"$WS/bot.py" <<'PY'
import json, os, sys
w = json.load(sys.stdin)
seen = {"input": w, "env": dict(os.environ),
        "host_visible": [p for p in ["/root", "/work", "DBPATH"] if os.path.exists(p)]}
with open("/workspace/seen.json", "w") as f:
    json.dump(seen, f)
for wk in w["wakes"]:
    if wk["kind"] == "task":
        t = wk["task"]
        print(json.dumps({"action": "note", "key": "last", "text": t["title"]}))
        print(json.dumps({"action": "message", "to": "member:ana", "text": "triaged: " + t["title"]}))
        print("this is not an action")
        print(json.dumps({"action": "message", "to": "customer:eve@example.com", "text": "hi"}))
        print(json.dumps({"action": "exec", "command": "ls"}))
        print(json.dumps({"action": "delegate", "to": "cto", "title": "not granted"}))
        print(json.dumps({"action": "complete_task", "result": "triaged"}))
PY
sed -i "s|DBPATH|$FIRMA_DB|" "$WS/bot.py"
run task add "Sort the inbox" --to triage
expect_rc 0 "give it a task"
run serve --until-idle
expect_rc 0 "serve runs the program"
expect_out "runs: 1 started, 1 done" "its run ends done"
run task show 1
expect_out "done" "the task is done, by the program's complete_task"
expect_out "triaged" "with the program's result"

q() { sqlite3 "$FIRMA_DB" "$1"; }
check "the run has a process step then seven action steps" \
    test "$(q "SELECT group_concat(kind, ',') FROM (SELECT kind FROM steps ORDER BY seq)")" = \
    "process,tool,tool,tool,tool,tool,tool,tool"
check "the message to the owner was delivered" \
    test "$(q "SELECT count(*) FROM messages WHERE sender='agent:triage' AND body='triaged: Sort the inbox'")" -eq 1
resp() { q "SELECT response FROM steps WHERE seq=$1"; }
expect_in "$(resp 4)" "is not a JSON object" "a line that is not JSON is recorded as such"
expect_in "$(resp 5)" "Refused by policy" "a message outside the grant's pattern is refused"
expect_in "$(resp 6)" "is for model agents" "exec is not an action for a process"
expect_in "$(resp 7)" "You have no tool named 'delegate'" "an ungranted action is refused"
check "the refusals are audited" \
    test "$(q "SELECT count(*) FROM audit_events WHERE action='tool.denied' AND actor='agent:triage'")" -ge 2
check "the note was kept" test "$(q "SELECT count(*) FROM notes WHERE key='last'")" -eq 1

S=$WS/seen.json
py() { python3 -c "import json,sys; s=json.load(open('$S')); print($1)"; }
check "the program saw its task on stdin" test "$(py 's["input"]["wakes"][0]["task"]["title"]')" = "Sort the inbox"
check "and who it is" test "$(py 's["input"]["agent"]')" = "triage"
check "it was not a redelivery" test "$(py 's["input"]["redelivered"]')" = "False"
check "its environment names its run" test "$(py 's["env"].get("FIRMA_RUN")')" = "$(q "SELECT id FROM runs")"
check "and holds nothing of firma's own (no key file, no database path)" \
    test "$(py 'sorted(k for k in s["env"] if k.startswith("FIRMA_"))')" = "['FIRMA_AGENT', 'FIRMA_COMPANY', 'FIRMA_RUN', 'FIRMA_TOKEN']"
tok=$(py 's["env"]["FIRMA_TOKEN"]')
check "it was given a token of its own" test "${tok:0:4}" = fma_
check "the database holds only the token's hash, for this agent and run" \
    test "$(q "SELECT hex(hash) FROM tokens WHERE kind='agent' AND run_id=(SELECT id FROM runs LIMIT 1) AND agent_id=(SELECT id FROM agents WHERE handle='triage')")" = \
    "$(python3 -c "import hashlib,sys; print(hashlib.blake2b(sys.argv[1].encode(), digest_size=32).hexdigest().upper())" "$tok")"
check "the token text is nowhere in the database file" bash -c "! grep -qF '${tok:4}' '$FIRMA_DB'"
check "the token was revoked when the program ended" \
    test "$(q "SELECT count(*) FROM tokens WHERE revoked_at > 0")" -eq "$(q "SELECT count(*) FROM tokens")"
check "HOME is its workspace" test "$(py 's["env"]["HOME"]')" = "/workspace"
check "it could not see the host's /root, /work or the database" test "$(py 's["host_visible"]')" = "[]"
check "(the database is there on the host)" test -f "$FIRMA_DB"

# A program that fails acts on nothing, and its task is blocked with why.
run hire broken --title Broken --manager ceo --kind process \
    --command 'echo "{\"action\":\"complete_task\",\"result\":\"x\"}"; echo "bad config" >&2; exit 3' \
    --grant complete_task
run task add "Never done" --to broken
run serve --until-idle
expect_rc 0 "serve runs the failing program"
run task show 2
expect_out "blocked" "its task is blocked"
expect_out "the program exited with status 3: bad config" "with its exit status and stderr"

# The time limit kills it, and everything it started. The sleeps carry this
# test's pid, so the check below cannot see another test's (the machine may
# run several suites at once).
nap="300.$$"
run hire sleepy --title Sleepy --manager ceo --kind process --command "sleep $nap & sleep $nap" \
    --grant complete_task
run task add "Take forever" --to sleepy
start=$(date +%s)
run serve --until-idle --tool-timeout 1
expect_rc 0 "serve with --tool-timeout 1"
check "it did not wait for the program (took $(( $(date +%s) - start )) s)" test $(( $(date +%s) - start )) -lt 30
run task show 3
expect_out "the program ran longer than 1 s and was killed" "the task says it was killed"
check "no sleep $nap is left running" bash -c "! pgrep -f 'sleep 300[.]$$'"
# The default limits hold without --tool-timeout: 1.5 GiB is over the
# default 1 GiB of memory.
run hire hog --title Hog --manager ceo --kind process --autonomy 1 --grant complete_task:allow \
    --command "/usr/bin/python3 -c 'b = bytearray(1536 << 20); print(\"{}\")'"
run task add "Eat memory" --to hog
run serve --until-idle
run task show "$(q "SELECT max(id) FROM tasks")"
expect_out "MemoryError" "a program over the default memory limit fails (no --tool-timeout given)"

# Killed while its program runs: on restart the program runs again and is
# told so ("redelivered": true); its task is done once.
run hire slowpoke --title Slowpoke --manager ceo --kind process --autonomy 1 \
    --command "/usr/bin/python3 /workspace/bot$$.py" --grant complete_task:allow
SW=$FIRMA_DB.workspaces/1/slowpoke
mkdir -p "$SW"
cat >"$SW/bot$$.py" <<'PY'
import json, sys, time
w = json.load(sys.stdin)
with open("/workspace/log", "a") as f:
    f.write("%s\n" % w["redelivered"])
if not w["redelivered"]:
    time.sleep(60)
print(json.dumps({"action": "complete_task", "result": "done after a restart"}))
PY
run task add "Survive a crash" --to slowpoke
"$FIRMA" serve >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$SW/log" ] && break; sleep 0.1; done
# firma and what it started, on the host: other suites on the machine may
# well have a token on a command line (curl -H "Authorization: Bearer ...").
tree() { echo "$1"; local c; for c in $(pgrep -P "$1"); do tree "$c"; done; }
argv_of() { for p in $(tree "$1"); do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null; echo; done; }
check "firma and its program run ($(tree $pid | wc -l) processes)" test "$(tree $pid | wc -l)" -ge 3
check "its token is in no process's command line on the host" \
    test "$(argv_of $pid | grep -c 'fm[a]_')" -eq 0
kill -9 $pid; wait $pid 2>/dev/null
check "the first delivery started" grep -qx False "$SW/log"
check "killing firma also ended its program (no sandbox left behind)" \
    bash -c "! pgrep -f '/workspace/bo[t]$$[.]py'"
run serve --until-idle
expect_rc 0 "serve restarts"
expect_out "resumed 1 run(s)" "and resumes the interrupted run"
check "the program ran again, told it was a redelivery" \
    test "$(tr '\n' ' ' <"$SW/log")" = "False True "
run task show 5
expect_out "done after a restart" "the task is done once, after the restart"
check "the interrupted process step is of unknown outcome" \
    test "$(q "SELECT count(*) FROM steps s JOIN runs r ON r.id=s.run_id JOIN agents a ON a.id=r.agent_id WHERE a.handle='slowpoke' AND s.kind='process' AND s.status='unknown'")" -eq 1
# The kill switch between a program and its actions: paused while its
# program runs, the agent takes none of the actions; resumed, it does.
run hire pausy --title Pausy --manager ceo --kind process --autonomy 1 \
    --command "sleep 2; echo '{\"action\":\"complete_task\",\"result\":\"after resume\"}'" \
    --grant complete_task:allow
run task add "Wait for me" --to pausy
"$FIRMA" serve --until-idle >"$T/pausy.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
    [ "$(q "SELECT count(*) FROM steps s JOIN runs r ON r.id=s.run_id JOIN agents a ON a.id=r.agent_id WHERE a.handle='pausy' AND s.kind='process'")" -ge 1 ] && break
    sleep 0.1
done
run pause pausy
expect_rc 0 "pause the agent while its program runs"
wait $pid
run task show 6
expect_no_out "after resume" "none of the program's actions were taken"
check "the run says why" test "$(q "SELECT count(*) FROM runs WHERE reason LIKE '%paused while its program ran%'")" -eq 1
run resume pausy
run serve --until-idle
run task show 6
expect_out "after resume" "resumed, the agent's program runs again and its action is taken"
run audit verify
expect_rc 0 "the audit chain is intact"
finish
