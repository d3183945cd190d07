# The API's routes for the staff and the work, through real HTTP on
# 127.0.0.1 against the real binary: hiring, editing (ETag/If-Match) and
# firing agents, the company's kill switch, goals, threads, task comments,
# spending per day and the ledger; HEAD and OPTIONS; and, at the end, that
# every route the OpenAPI document lists is called by one of the API tests.
. "$(dirname "$0")/lib.sh"
. "$FIRMA_SRC/tests/e2e/lib_api.sh"
export FIRMA_DB=$T/firma.db
q() { sqlite3 "$FIRMA_DB" "$1"; }
run import "$FIRMA_SRC/examples/solo-startup"
expect_rc 0 "import company A"
run import "$FIRMA_SRC/examples/solo-startup" --name other
expect_rc 0 "import company B"
A=(--company solo-startup)
# The example's story, so there is spending to read (the scripted model is priced).
"$FIRMA" "${A[@]}" --as ana task add "Reach 100 paying customers" --to ceo --goal 1 >/dev/null
"$FIRMA" --company other pause --all >/dev/null
run "${A[@]}" serve --scenario "$FIRMA_SRC/examples/solo-startup/scenario.yaml" --until-idle
expect_rc 0 "the agents work the story, spending"
"$FIRMA" "${A[@]}" member add vic --role viewer >/dev/null
"$FIRMA" "${A[@]}" member add olga --role operator >/dev/null
"$FIRMA" "${A[@]}" member add adam --role admin >/dev/null
TA=$(tok "${A[@]}" token create ana)
TV=$(tok "${A[@]}" token create vic)
TO=$(tok "${A[@]}" token create olga)
TAD=$(tok "${A[@]}" token create adam)
TB=$(tok --company other token create ana)
TCTO=$(agent_token cto 2001)
api_start
[ -n "$HP" ] && ok "the server is up" || { not_ok "the server starts" "$(cat "$T/serve.err")"; finish; }
"$FIRMA" "${A[@]}" pause --all >/dev/null # nothing but the API changes things from here

# ---- spending per day and the ledger ----
req GET "/v1/spend/daily?days=7" "$TV"
expect 200 "GET /v1/spend/daily (viewer)"
check "seven days, ending today (UTC)" python3 -c '
import json, sys, datetime
d = json.loads(sys.argv[1]); days = d["days"]
today = datetime.datetime.now(datetime.timezone.utc).date()
assert len(days) == 7 and days[-1] == today.isoformat(), days
assert days[0] == (today - datetime.timedelta(days=6)).isoformat()
for s in [d["company"]] + d["agents"]:
    assert len(s["usd_micro"]) == 7 and len(s["tokens"]) == 7' "$BODY"
spent=$(q "SELECT sum(usd_micro) FROM ledger l JOIN companies c ON c.id=l.company_id WHERE c.name='solo-startup'")
cto_spent=$(q "SELECT sum(l.usd_micro) FROM ledger l JOIN agents a ON a.id=l.agent_id WHERE a.handle='cto' AND a.company_id=1")
check "today's company figure is the ledger's sum ($spent)" python3 -c '
import json, sys; d = json.loads(sys.argv[1])
assert sum(d["company"]["usd_micro"]) == int(sys.argv[2]) > 0, d["company"]' "$BODY" "$spent"
check "and the CTO's is its own rows' sum ($cto_spent)" python3 -c '
import json, sys; d = json.loads(sys.argv[1])
cto = [a for a in d["agents"] if a["agent"] == "cto"][0]
assert sum(cto["usd_micro"]) == int(sys.argv[2]) > 0, cto
assert sum(sum(a["usd_micro"]) for a in d["agents"]) == sum(d["company"]["usd_micro"])' "$BODY" "$cto_spent"
req GET "/v1/spend/daily?agent=cto" "$TV"
expect 200 "?agent= gives one agent's series"
check "only the CTO's, and no company series" python3 -c '
import json, sys; d = json.loads(sys.argv[1])
assert [a["agent"] for a in d["agents"]] == ["cto"] and d["company"] is None and len(d["days"]) == 30' "$BODY"
req GET "/v1/spend/daily" "$TCTO"
expect 200 "an agent's token reads its own spending"
[ "$(jget agents.0.agent)" = cto ] && [ "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["agents"]))' "$BODY")" = 1 ] \
    && ok "and only its own" || not_ok "agent token spend is its own only" "$BODY"
req GET "/v1/spend/daily?agent=ceo" "$TCTO"
expect 403 "an agent's token asking for another agent's spending: 403" '"field":"agent"'
for bad in days=0 days=367 days=x; do
    req GET "/v1/spend/daily?$bad" "$TV"
    expect 422 "?$bad: 422 naming it" '"field":"days"'
done
req GET "/v1/spend/daily" "$TB"
expect 200 "company B's spending"
check "is empty: another company's spending is not mixed in" python3 -c '
import json, sys; d = json.loads(sys.argv[1]); assert d["agents"] == [] and sum(d["company"]["usd_micro"]) == 0, d' "$BODY"

req GET "/v1/ledger?limit=3" "$TV"
expect 200 "GET /v1/ledger" '"kind":'
L1=$(jget entries.0.id); L3=$(jget entries.2.id); NEXT=$(jget next)
check "newest first ($L1 > $L3), and the next cursor is the last shown" \
    test "$L1" -gt "$L3" -a "$NEXT" = "$L3"
req GET "/v1/ledger?limit=3&before=$NEXT" "$TV"
check "the next page starts below it" test "$(jget entries.0.id)" -lt "$L3"
n_ledger=$(q "SELECT count(*) FROM ledger WHERE company_id=1")
req GET "/v1/ledger?limit=1000" "$TV"
[ "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["entries"]))' "$BODY")" = "$n_ledger" ] \
    && ok "a full read gives every row of the company's ledger ($n_ledger)" || not_ok "ledger rows" "$BODY"
req GET "/v1/ledger?agent=cto&limit=1000" "$TCTO"
check "an agent's token reads only its own ledger rows" python3 -c '
import json, sys; d = json.loads(sys.argv[1]); assert d["entries"] and {e["agent"] for e in d["entries"]} == {"cto"}' "$BODY"
req GET "/v1/ledger?agent=ceo" "$TCTO"
expect 403 "and not another's"
req GET "/v1/ledger?agent=nobody" "$TV"
expect 404 "an unknown agent: 404"
req GET "/v1/ledger" "$TB"
[ "$BODY" = '{"entries":[],"next":null}' ] && ok "company B's ledger is its own (empty)" \
    || not_ok "company B ledger" "$BODY"

# ---- hiring, editing, firing ----
HIRE='{"handle": "writer", "title": "Writer", "manager": "marketing", "model": "sim",
       "budget_usd_micro": 2000000, "budget_period": "week", "autonomy": 1,
       "grants": [{"tool": "message", "ceiling": "allow", "on": ["member:*"]}, {"tool": "note"}],
       "instructions": "Write plainly."}'
req POST /v1/agents "$TO" "$HIRE"
expect 403 "an operator cannot hire" "needs the admin role"
req POST /v1/agents "$TCTO" "$HIRE"
expect 403 "an agent's token cannot hire"
req POST /v1/agents "$TAD" "$HIRE"
expect 201 "an admin hires an agent" '"handle":"writer"'
ET=$(header ETag)
[ -n "$ET" ] && ok "the answer has the agent's ETag" || not_ok "hire ETag" "$HEAD"
row=$(q "SELECT json_object('title', a.title, 'manager', m.handle, 'usd', a.budget_usd, 'period',
         a.budget_period, 'grants', json(a.grants), 'ins', a.instructions) FROM agents a
         JOIN agents m ON m.id=a.manager_agent WHERE a.handle='writer' AND a.company_id=1")
check "stored as asked: title, manager, budget, grants (note defaults to ask), instructions" python3 -c '
import json, sys; a = json.loads(sys.argv[1])
assert (a["title"], a["manager"], a["usd"], a["period"], a["ins"]) == ("Writer", "marketing", 2000000, "week", "Write plainly."), a
g = {x["tool"]: x for x in a["grants"]}
assert g["message"]["ceiling"] == "allow" and g["message"]["on"] == ["member:*"], g
assert g["note"]["ceiling"] == "ask" and len(g) == 2, g' "$row"
[ "$(q "SELECT count(*) FROM audit_events WHERE action='agent.hire' AND object='agent:writer' AND actor='member:adam'")" = 1 ] \
    && ok "the hire is audited as the admin" || not_ok "agent.hire audit" "$(q "SELECT action, object, actor FROM audit_events ORDER BY id DESC LIMIT 3")"
req POST /v1/agents "$TAD" "$HIRE"
expect 409 "the same handle again: 409" '"code":"exists"'
req POST /v1/agents "$TB" '{"handle": "w2", "title": "W", "manager": "writer"}'
expect 409 "company B cannot put an agent under company A's agent" '"code":"org_rule"'
for bad in '{"title": "W", "manager": "ceo"}|missing_field|handle' \
           '{"handle": "w3", "manager": "ceo"}|missing_field|title' \
           '{"handle": "w3", "title": "W"}|missing_field|manager' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "salary": 1}|unknown_field|salary' \
           '{"handle": "w3", "title": 7, "manager": "ceo"}|wrong_type|title' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "autonomy": 3}|invalid|autonomy' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "kind": "robot"}|invalid|kind' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "cron": "61 * * * *"}|invalid|cron' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "budget_period": "decade"}|invalid|budget_period' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "budget_usd_micro": -1}|invalid|budget_usd_micro' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "grants": {"tool": "exec"}}|wrong_type|grants' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "grants": ["exec"]}|wrong_type|grants[0]' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "grants": [{"tool": "rm_rf"}]}|invalid|grants[0]' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "grants": [{"tool": "exec", "ceiling": "maybe"}]}|invalid|grants[0]' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "grants": [{"tool": "exec", "on": "make"}]}|wrong_type|grants[0]' \
           '{"handle": "w3", "title": "W", "manager": "ceo", "grants": [{"tool": "exec", "why": 1}]}|unknown_field|grants[0]'; do
    IFS='|' read -r body code field <<<"$bad"
    req POST /v1/agents "$TAD" "$body"
    expect 422 "hire with $field wrong: 422 $code" "\"field\":\"$field\""
    grep -qF "\"code\":\"$code\"" <<<"$BODY" || not_ok "  ... and the code is $code" "$BODY"
done
req POST /v1/agents "$TAD" '{"handle": "Bad Handle", "title": "W", "manager": "ceo"}'
expect 422 "a handle that is not one: 422" "not a valid handle"
req POST /v1/agents "$TAD" '{"handle": "w3", "title": "W", "manager": "nobody"}'
expect 409 "an unknown manager: 409 org_rule" "neither an agent nor a member"
req POST /v1/agents "$TAD" '{"handle": "w3", "title": "W", "manager": "ceo", "kind": "process"}'
expect 422 "a process agent without a command: 422" "needs a command"
[ "$(q "SELECT count(*) FROM agents WHERE handle='w3'")" = 0 ] && ok "none of the refused hires left an agent" \
    || not_ok "refused hires left nothing" "$(q "SELECT handle FROM agents WHERE handle='w3'")"

req GET /v1/agents/writer "$TV"
[ "$(header ETag)" = "$ET" ] && ok "GET gives the same ETag while nothing changed" || not_ok "stable ETag" "$HEAD"
req PATCH /v1/agents/writer "$TO" '{"title": "Senior writer"}'
expect 403 "an operator cannot edit an agent"
req PATCH /v1/agents/writer "$TAD" '{"title": "Senior writer", "manager": "ceo"}' -H 'If-Match: "0000"'
expect 412 "a stale If-Match: 412" '"code":"precondition_failed"'
[ "$(q "SELECT title FROM agents WHERE handle='writer'")" = Writer ] && ok "and nothing changed" \
    || not_ok "412 changed nothing" "$(q "SELECT title FROM agents WHERE handle='writer'")"
req PATCH /v1/agents/writer "$TAD" '{"title": "Senior writer", "manager": "ceo", "budget_usd_micro": 3000000, "cron": "0 9 * * 1", "autonomy": 0}' \
    -H "If-Match: \"0000\", $ET"
expect 200 "If-Match with a list holding the current tag: the change is made" '"title":"Senior writer"'
[ "$(jget manager)" = ceo ] && [ "$(jget budget.usd_micro)" = 3000000 ] && [ "$(jget cron)" = "0 9 * * 1" ] \
    && [ "$(jget autonomy)" = 0 ] && [ "$(q "SELECT autonomy FROM agents WHERE handle='writer'")" = 0 ] \
    && ok "manager, budget, schedule and autonomy changed" || not_ok "edit applied" "$BODY"
[ "$(header ETag)" != "$ET" ] && ok "and the ETag changed with it" || not_ok "ETag changed" "$HEAD"
[ "$(jget grants.0.tool)" = message ] && ok "fields not sent are kept (grants)" || not_ok "grants kept" "$BODY"
[ -n "$(q "SELECT next_timer_at FROM agents WHERE handle='writer'")" ] && ok "the new schedule sets its timer" \
    || not_ok "timer set" "$(q "SELECT next_timer_at FROM agents WHERE handle='writer'")"
q "SELECT details FROM audit_events WHERE action='agent.update' AND object='agent:writer'" | grep -q title \
    && ok "the edit is audited with what changed" || not_ok "agent.update audit" "$(q "SELECT details FROM audit_events WHERE action='agent.update'")"
req PATCH /v1/agents/writer "$TAD" '{"title": "Stale", "grants": []}' -H "If-Match: $ET"
expect 412 "the old tag no longer matches"
req PATCH /v1/agents/ceo "$TAD" '{"manager": "writer"}'
expect 409 "a reporting cycle is refused" '"code":"org_rule"'
req PATCH /v1/agents/writer "$TAD" '{"handle": "scribe"}'
expect 422 "a handle cannot be changed (unknown field)" '"field":"handle"'
req PATCH /v1/agents/writer "$TAD" '{"grants": []}'
expect 200 "grants: [] takes every grant away" '"grants":[]'
req PATCH /v1/agents/writer "$TB" '{"title": "x"}'
expect 404 "company B cannot see company A's agent" '"code":"not_found"'
req PATCH /v1/agents/writer "$TAD" '{"title": '
expect 400 "malformed JSON: 400 with where" "line 1"

req DELETE /v1/agents/writer "$TO"
expect 403 "an operator cannot fire"
req DELETE /v1/agents/writer "$TB"
expect 404 "company B cannot fire company A's agent"
req DELETE /v1/agents/writer "$TAD"
expect 200 "an admin fires the agent" '"status":"fired"'
req GET /v1/agents "$TV"
grep -q '"handle":"writer"' <<<"$BODY" && not_ok "a fired agent leaves the list" "$BODY" || ok "a fired agent leaves the list"
req POST /v1/tasks "$TO" '{"title": "for the fired", "assignee": "writer"}'
expect 422 "a fired agent takes no work" "has been fired"

# ---- the company's kill switch ----
"$FIRMA" "${A[@]}" resume --all >/dev/null
req POST /v1/company/pause "$TV"
expect 403 "a viewer cannot pause the company"
req POST /v1/company/pause "$TO"
expect 200 "an operator pauses the whole company" '"status":"paused"'
[ "$(q "SELECT count(*) FROM agents WHERE company_id=1 AND status='active'")" = 0 ] && \
    [ "$(q "SELECT count(*) FROM agents WHERE company_id=2 AND status='paused'")" -gt 0 ] \
    && ok "every agent of A is paused, and only A's" || not_ok "company pause" "$(q "SELECT company_id, handle, status FROM agents")"
req POST /v1/company/resume "$TO" '{"team": true}'
expect 422 "resume takes no fields" '"code":"unknown_field"'
req POST /v1/company/resume "$TO"
expect 200 "and resumes it" '"status":"active"'
[ "$(q "SELECT count(*) FROM agents WHERE company_id=1 AND status='paused'")" = 0 ] && ok "none of A's is paused now" \
    || not_ok "company resume" "$(q "SELECT handle, status FROM agents WHERE company_id=1")"
"$FIRMA" "${A[@]}" pause --all >/dev/null

# ---- goals ----
req GET /v1/goals "$TV"
expect 200 "GET /v1/goals" '"owner":"ceo"'
req GET "/v1/goals?status=done" "$TV"
expect 422 "an unknown goal status: 422" '"field":"status"'
req POST /v1/goals "$TV" '{"title": "Viewer goal"}'
expect 403 "a viewer cannot add a goal"
req POST /v1/goals "$TO" '{"title": "Launch in Japan", "description": "Tokyo first", "parent": 1, "owner": "marketing"}'
expect 201 "an operator adds a goal" '"owner":"marketing"'
G=$(jget id)
[ "$(q "SELECT parent_id, status FROM goals WHERE id=$G")" = "1|active" ] && ok "stored under its parent, active" \
    || not_ok "goal stored" "$(q "SELECT * FROM goals WHERE id=$G")"
req GET "/v1/goals/$G" "$TCTO"
expect 200 "GET /v1/goals/{id}" "Launch in Japan"
GB=$(q "SELECT min(id) FROM goals WHERE company_id=2")
req GET "/v1/goals/$GB" "$TA"
expect 404 "company B's goal is not found from A"
req POST /v1/goals "$TO" "{\"title\": \"x\", \"parent\": $GB}"
expect 404 "nor can it be a parent" "no goal"
req POST /v1/goals "$TO" '{"title": ""}'
expect 422 "an empty title: 422" '"field":"title"'
req PATCH "/v1/goals/$G" "$TO" '{"status": "achieved"}'
expect 200 "an operator closes the goal" '"status":"achieved"'
req PATCH "/v1/goals/$G" "$TO" '{"status": "won"}'
expect 422 "an unknown status: 422" '"field":"status"'
req PATCH "/v1/goals/abc" "$TO" '{"status": "dropped"}'
expect 404 "a goal id that is not one: 404"
[ "$(q "SELECT count(*) FROM audit_events WHERE action='goal.status' AND object='goal:$G'")" = 1 ] \
    && ok "audited goal.status" || not_ok "goal.status audit"

# ---- task comments and threads ----
req POST /v1/tasks "$TO" '{"title": "Draft the pricing page", "assignee": "marketing"}'
TK=$(jget id)
wakes0=$(q "SELECT count(*) FROM wakes WHERE agent_id=(SELECT id FROM agents WHERE handle='marketing' AND company_id=1)")
req POST "/v1/tasks/$TK/comments" "$TV" '{"text": "looks good"}'
expect 403 "a viewer cannot comment"
req POST "/v1/tasks/$TK/comments" "$TO" '{"text": "Mention the annual plan."}'
expect 201 "an operator comments on the task" '"from":"member:olga"'
req POST "/v1/tasks/$TK/comments" "$TA" '{"text": "And the free trial."}'
expect 201 "a second comment"
wakes1=$(q "SELECT count(*) FROM wakes WHERE agent_id=(SELECT id FROM agents WHERE handle='marketing' AND company_id=1)")
check "each comment wakes the assignee ($wakes0 -> $wakes1)" test "$wakes1" -eq $((wakes0 + 2))
req GET "/v1/tasks/$TK/comments" "$TV"
expect 200 "GET the task's comments" "Mention the annual plan."
check "both, oldest first, in one thread" python3 -c '
import json, sys; d = json.loads(sys.argv[1])
assert [m["text"] for m in d["messages"]] == ["Mention the annual plan.", "And the free trial."], d
assert [m["from"] for m in d["messages"]] == ["member:olga", "member:ana"] and d["thread"]' "$BODY"
TH=$(jget thread)
req GET "/v1/tasks/$TK/comments?limit=1" "$TV"
C1=$(jget next)
req GET "/v1/tasks/$TK/comments?limit=1&after=$C1" "$TV"
expect 200 "comments page by ?after=" "And the free trial."
req GET "/v1/tasks/$TK/comments" "$TCTO"
expect 404 "the CTO's token cannot read marketing's task's comments"
req GET "/v1/threads?task=$TK" "$TV"
expect 200 "GET /v1/threads?task=" "\"id\":$TH"
[ "$(jget threads.0.message_count)" = 2 ] && ok "the thread counts its two messages" || not_ok "message_count" "$BODY"
req GET "/v1/threads/$TH" "$TV"
expect 200 "GET /v1/threads/{id}" "And the free trial."
"$FIRMA" "${A[@]}" message support "Hi, my checks are red" --from customer:carol@example.com >/dev/null
req GET "/v1/threads?limit=1" "$TV"
expect 200 "the newest thread first"
TC=$(jget threads.0.id)
req GET "/v1/threads/$TC" "$TV"
[ "$(jget messages.0.tainted)" = True ] && [ "$(jget messages.0.from)" = customer:carol@example.com ] \
    && ok "a stranger's message shows as tainted, from them" || not_ok "tainted message" "$BODY"
req GET "/v1/threads?limit=1&before=$TC" "$TV"
check "?before= pages to older threads" test "$(jget threads.0.id)" -lt "$TC"
req GET "/v1/threads/$TH" "$TB"
expect 404 "company B cannot read A's thread"
req GET "/v1/threads" "$TCTO"
expect 403 "threads are not for agent tokens"
req POST "/v1/tasks/$TK/comments" "$TO" '{"text": ""}'
expect 422 "an empty comment: 422" '"field":"text"'
req POST "/v1/tasks/$TK/comments" "$TO" "{\"text\": \"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
expect 422 "a comment over 64 KiB: 422" '"field":"text"'
req POST "/v1/tasks/999999/comments" "$TO" '{"text": "hello?"}'
expect 404 "a comment on no task: 404"

# The assignee, woken, runs on the comments (test_context checks how its
# prompt shows them: a comment on task #N, and the run is about that task).
"$FIRMA" "${A[@]}" resume marketing >/dev/null
run "${A[@]}" serve --until-idle
expect_rc 0 "serve runs marketing's wakes"
[ "$(q "SELECT count(*) FROM wakes w JOIN messages m ON m.id=w.ref WHERE w.kind='message' AND m.thread_id=$TH AND w.run_id>0 AND w.done_at>0")" = 2 ] \
    && ok "both comments' wakes were taken by a run and done" \
    || not_ok "comment wakes done" "$(q "SELECT * FROM wakes WHERE kind='message' ORDER BY id DESC LIMIT 3")"
"$FIRMA" "${A[@]}" pause --all >/dev/null

# ---- the audit log, newest first ----
last=$(q "SELECT max(seq) FROM audit_events WHERE company_id=1")
req GET "/v1/audit?order=newest&limit=2" "$TV"
expect 200 "GET /v1/audit?order=newest"
S1=$(jget events.0.seq); S2=$(jget events.1.seq); NX=$(jget next)
[ "$S1" = "$last" ] && [ "$S2" = $((last - 1)) ] && [ "$NX" = "$S2" ] \
    && ok "the newest event first ($last), then the one before, next is the last shown" \
    || not_ok "newest first" "$BODY (last $last)"
req GET "/v1/audit?order=newest&limit=2&before=$NX" "$TV"
[ "$(jget events.0.seq)" = $((last - 2)) ] && ok "?before= pages back" || not_ok "audit before" "$BODY"
req GET "/v1/audit?order=newest&action=goal.&limit=1" "$TV"
[ "$(jget events.0.action)" = goal.status ] && ok "filters apply newest first too" || not_ok "audit filter newest" "$BODY"
req GET "/v1/audit?order=newest&after=3" "$TV"
expect 422 "order=newest with ?after=: 422 naming it" '"field":"after"'
req GET "/v1/audit?before=3" "$TV"
expect 422 "oldest first with ?before=: 422 naming it" '"field":"before"'
req GET "/v1/audit?order=sideways" "$TV"
expect 422 "an unknown order: 422" '"field":"order"'

# ---- HEAD and OPTIONS ----
# curl -I reads no body whatever is sent, so HEAD goes over a plain socket.
headraw=$(python3 - "$PORT" "/v1/tasks/$TK" "$TV" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n"
           % (sys.argv[2], sys.argv[3])).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())
PY
)
grep -q "^HTTP/1.1 200" <<<"$headraw" && grep -qi '^ETag: "' <<<"$headraw" && ok "HEAD on a task: 200 with its ETag" \
    || not_ok "HEAD on a task" "$headraw"
[ -z "$(sed '1,/^\r\?$/d' <<<"$headraw")" ] && ok "and no body after the headers" || not_ok "HEAD sends no body" "$headraw"
req OPTIONS "/v1/agents/ceo" ""
expect 204 "OPTIONS needs no token and says what the path takes"
[ "$(header Allow)" = "GET, PATCH, DELETE, HEAD, OPTIONS" ] && ok "Allow: GET, PATCH, DELETE, HEAD, OPTIONS" \
    || not_ok "OPTIONS Allow" "$HEAD"
grep -qi "Access-Control" <<<"$HEAD" && not_ok "no CORS permission is given" "$HEAD" || ok "no CORS permission is given"
req OPTIONS "/v1/nothing" ""
expect 404 "OPTIONS on no route: 404"
req DELETE "/v1/goals/$G" "$TO"
expect 405 "a method the path does not take: 405"
grep -qi "^Allow: GET, PATCH, HEAD, OPTIONS" <<<"$HEAD" && ok "with Allow" || not_ok "405 Allow" "$HEAD"
req PROPFIND /v1/tasks "$TV"
expect 405 "a method the API does not use: 405" "PROPFIND is not a method"
[ "$(header Allow)" = "GET, POST, HEAD, OPTIONS" ] && ok "with the path's Allow, not every method" \
    || not_ok "unknown method Allow" "$HEAD"
req PROPFIND /v1/nothing "$TV"
expect 404 "and on no route: 404"

# ---- every route of the document is called by an API test ----
req GET /v1/openapi.json ""
missing=$(python3 - "$BODY" "$FIRMA_SRC"/tests/e2e/api*.sh <<'PY'
import json, re, sys
doc = json.loads(sys.argv[1])
src = "".join(open(f).read() for f in sys.argv[2:])
for path, ops in doc["paths"].items():
    for method in ops:
        pat = re.escape(path)
        pat = re.sub(r"\\\{[a-z_]+\\\}", r"[^ \"?/]+", pat)
        if method.upper() == "GET":
            # GETs are also made through helpers and loops: the path is enough
            found = re.search(pat + r"(?![a-z/])", src)
        else:
            found = re.search(r"req " + method.upper() + r' "?' + pat + r"(?![a-z/])", src)
        if not found:
            print(method.upper(), path)
PY
)
[ -z "$missing" ] && ok "every route in /v1/openapi.json is called by tests/e2e/api*.sh" \
    || not_ok "routes no API test calls" "$missing"

kill $SERVE; wait $SERVE 2>/dev/null
grep -q "AddressSanitizer\|runtime error" "$T/serve.err" && not_ok "the server ran clean" "$(cat "$T/serve.err")" \
    || ok "the server ran clean (no sanitizer reports)"

# ---- changes made while serving get a signed checkpoint, not only at the end ----
api_start --checkpoint-every 1
[ -n "$HP" ] && ok "a server with --checkpoint-every 1" || not_ok "serve --checkpoint-every 1" "$(cat "$T/serve.err")"
req POST /v1/goals "$TO" '{"title": "Signed while serving"}'
expect 201 "a change over the API"
head_seq=$(q "SELECT max(seq) FROM audit_events WHERE company_id=1")
for _ in $(seq 50); do
    [ "$(q "SELECT max(seq) FROM audit_checkpoints WHERE company_id=1")" = "$head_seq" ] && break
    sleep 0.1
done
[ "$(q "SELECT max(seq) FROM audit_checkpoints WHERE company_id=1")" = "$head_seq" ] \
    && ok "is covered by a signed checkpoint while the server still runs (seq $head_seq)" \
    || not_ok "checkpoint while serving" "head $head_seq, checkpoints $(q "SELECT seq FROM audit_checkpoints WHERE company_id=1")"
kill -0 $SERVE 2>/dev/null && ok "(the server is still up)" || not_ok "server still up"
req GET /v1/audit/verify "$TV"
expect 200 "and the chain verifies with it" '"ok":true'
kill $SERVE; wait $SERVE 2>/dev/null
run serve --checkpoint-every x --until-idle
expect_rc 6 "--checkpoint-every that is not a number of seconds is refused"
expect_out "want seconds from 0 to 86400" "saying what it wants"
finish
