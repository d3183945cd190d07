# The HTTP API through real HTTP on 127.0.0.1, against the real binary:
# every route's happy path, auth across roles, companies and agent scopes,
# and bad input of every kind answered with its documented 4xx (docs/api.md).
. "$(dirname "$0")/lib.sh"
. "$FIRMA_SRC/tests/e2e/lib_api.sh"
export FIRMA_DB=$T/firma.db
run import "$FIRMA_SRC/examples/solo-startup"
expect_rc 0 "import company A"
run import "$FIRMA_SRC/examples/solo-startup" --name other
expect_rc 0 "import company B into the same database"
A=(--company solo-startup)
# Agents stay still, so nothing but the API changes the tasks.
"$FIRMA" "${A[@]}" pause --all >/dev/null && "$FIRMA" --company other pause --all >/dev/null
"$FIRMA" "${A[@]}" member add vic --role viewer >/dev/null
"$FIRMA" "${A[@]}" member add olga --role operator >/dev/null
TA=$(tok "${A[@]}" token create ana --name laptop)
TV=$(tok "${A[@]}" token create vic)
TO=$(tok "${A[@]}" token create olga)
TCAP=$(tok "${A[@]}" token create ana --role viewer)
TB=$(tok --company other token create ana)
run "${A[@]}" token list
expect_out "laptop" "token list shows the token's name"
expect_no_out "$TA" "token list never shows a token's text"

# Agent tokens as the runtime gives them to process agents: one agent, one run.
TCEO=$(agent_token ceo 1001)
TCEO2=$(agent_token ceo 1002)
TMKT=$(agent_token marketing 1003)

# The server, on a free port of 127.0.0.1.
api_start
if [ -n "$HP" ]; then ok "serve --listen 127.0.0.1:0 says where it listens"; else
    not_ok "serve --listen says where it listens" "$(cat "$T/serve.err")"; kill $SERVE; finish; fi
if ss -ltn "sport = :$PORT" | grep -q "127.0.0.1:$PORT"; then ok "it listens on loopback"; else
    not_ok "it listens on loopback" "$(ss -ltn "sport = :$PORT")"; fi

# ---- open routes, auth ----
req GET /healthz ""
expect 200 "GET /healthz needs no token" '"ok":true'
req GET /v1/company ""
expect 401 "no token: 401" '"code":"unauthorized"'
grep -qi "WWW-Authenticate: Bearer" <<<"$HEAD" && ok "401 says Bearer" || not_ok "401 says Bearer" "$HEAD"
req GET /v1/company "fma_not-a-real-token"
expect 401 "a bad token: 401" "unknown token"
req GET /v1/company "" "" -H "Authorization: Basic YW5hOmFuYQ=="
expect 401 "not a bearer token: 401"

# ---- company, org, agents, budget ----
req GET /v1/company "$TA"
expect 200 "GET /v1/company" '"name":"solo-startup"'
req GET /v1/company "$TB"
expect 200 "company B's token sees company B" '"name":"other"'
req GET /v1/org "$TV"
expect 200 "GET /v1/org (viewer)" '"manager":"member:ana"'
req GET /v1/agents "$TV"
expect 200 "GET /v1/agents" '"handle":"cto"'
req GET /v1/agents/cto "$TV"
expect 200 "GET /v1/agents/{handle}" '"status":"paused"'
req GET /v1/agents/nobody "$TV"
expect 404 "an unknown agent: 404" '"code":"not_found"'
req GET /v1/budget "$TV"
expect 200 "GET /v1/budget" '"cap_usd_micro"'
req POST /v1/agents/cto/resume "$TO"
expect 200 "operator resumes an agent" '"status":"active"'
req POST /v1/agents/cto/pause "$TO" '{"team": true}'
expect 200 "operator pauses an agent's team" '"status":"paused"'
req POST /v1/agents/cto/pause "$TV"
expect 403 "viewer cannot pause" "needs the operator role"
req POST /v1/agents/nobody/pause "$TO"
expect 404 "pausing an unknown agent: 404" "no agent 'nobody'"
req POST /v1/agents/cto/messages "$TO" '{"text": "status report, please"}'
expect 201 "operator sends an agent a message" '"from":"member:olga"'

# ---- tasks ----
req POST /v1/tasks "$TA" '{"title": "Write the launch post", "assignee": "marketing", "priority": 1}'
expect 201 "POST /v1/tasks" '"assignee":"marketing"'
T1=$(jget id)
grep -qi '^ETag: "' <<<"$HEAD" && ok "a created task has an ETag" || not_ok "created task ETag" "$HEAD"
req POST /v1/tasks "$TO" '{"title": "Fix the status page", "assignee": "ceo"}'
expect 201 "operator adds a task"
T2=$(jget id)
req POST /v1/tasks "$TO" '{"title": "Unassigned idea"}'
T3=$(jget id)
req POST /v1/tasks "$TB" '{"title": "B secret plan"}'
expect 201 "company B adds a task"
TBID=$(jget id)
req POST /v1/tasks "$TV" '{"title": "viewer wants"}'
expect 403 "viewer cannot add a task" '"code":"forbidden"'
req POST /v1/tasks "$TCAP" '{"title": "capped owner wants"}'
expect 403 "an owner's token capped at viewer cannot add a task"

req GET "/v1/tasks?limit=2" "$TV"
expect 200 "GET /v1/tasks, first page" "Write the launch post"
NEXT=$(jget next)
[ -n "$NEXT" ] && ok "a full page has a next cursor" || not_ok "next cursor" "$BODY"
req GET "/v1/tasks?limit=2&after=$NEXT" "$TV"
expect 200 "GET /v1/tasks, next page" "Unassigned idea"
[ "$(jget next)" = "" ] && ok "the last page has no next" || not_ok "last page next" "$BODY"
req GET "/v1/tasks?assignee=ceo" "$TV"
expect 200 "filter by assignee" "Fix the status page"
grep -qF "Write the launch post" <<<"$BODY" && not_ok "assignee filter leaves out others" "$BODY" \
    || ok "assignee filter leaves out others"
req GET "/v1/tasks?status=done" "$TV"
expect 200 "filter by status" '"tasks":[]'
req GET "/v1/tasks?status=nonsense" "$TV"
expect 422 "an unknown status: 422 naming it" '"field":"status"'
req GET "/v1/tasks?limit=abc" "$TV"
expect 422 "a bad limit: 422 naming it" '"field":"limit"'
req GET /v1/tasks "$TB"
grep -qF "Write the launch post" <<<"$BODY" && not_ok "company B lists only its own tasks" "$BODY" \
    || ok "company B lists only its own tasks"
req GET "/v1/tasks/$T1" "$TB"
expect 404 "company B cannot read company A's task"
req PATCH "/v1/tasks/$T1" "$TB" '{"status": "doing"}'
expect 404 "company B cannot change company A's task"

req GET "/v1/tasks/$T1" "$TV"
expect 200 "GET /v1/tasks/{id}" '"title":"Write the launch post"'
ETAG=$(grep -i '^ETag:' <<<"$HEAD" | cut -d' ' -f2 | tr -d '\r')
req PATCH "/v1/tasks/$T1" "$TO" '{"status": "doing"}' -H 'If-Match: "0000"'
expect 412 "PATCH with a stale If-Match: 412" '"code":"precondition_failed"'
req PATCH "/v1/tasks/$T1" "$TO" '{"status": "doing"}' -H "If-Match: $ETAG"
expect 200 "PATCH with the current ETag moves the task" '"status":"doing"'
req PATCH "/v1/tasks/$T1" "$TO" '{"status": "review"}' -H "If-Match: $ETAG"
expect 412 "the old ETag no longer matches"
req PATCH "/v1/tasks/$T1" "$TO" '{"status": "doing", "assignee": "cto"}'
expect 409 "an illegal move: 409, and nothing changes" '"code":"illegal_transition"'
req GET "/v1/tasks/$T1" "$TV"
expect 200 "the failed PATCH left the assignee" '"assignee":"marketing"'
req PATCH "/v1/tasks/$T3" "$TO" '{"assignee": "cto"}'
expect 200 "PATCH assigns" '"assignee":"cto"'
req PATCH "/v1/tasks/$T3" "$TV" '{"assignee": null}'
expect 403 "viewer cannot PATCH"

# ---- agent tokens: their own agent only ----
req GET /v1/tasks "$TCEO"
expect 200 "an agent lists tasks" "Fix the status page"
grep -qF "Write the launch post" <<<"$BODY" && not_ok "an agent sees only its own tasks" "$BODY" \
    || ok "an agent sees only its own tasks"
req GET "/v1/tasks/$T1" "$TCEO"
expect 404 "an agent cannot read another agent's task"
req GET /v1/agents/ceo "$TCEO"
expect 200 "an agent reads itself" '"handle":"ceo"'
req GET /v1/agents/cto "$TCEO"
expect 404 "an agent cannot read another agent"
req GET /v1/agents "$TCEO"
expect 403 "an agent cannot list the agents"
req POST /v1/tasks "$TCEO" '{"title": "agent wants"}'
expect 403 "an agent cannot add tasks here"
req POST "/v1/tasks/$T2/checkout" "$TCEO"
expect 200 "an agent checks out its task" '"checkout_run":1001'
req POST "/v1/tasks/$T2/checkout" "$TCEO2" '{"lease_s": 60}'
expect 409 "another run's checkout: 409" '"code":"conflict"'
req POST "/v1/tasks/$T2/checkout" "$TA"
expect 403 "a member's token holds no run to check out for"

# ---- approvals ----
python3 - "$FIRMA_DB" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
cid, aid = c.execute("SELECT a.company_id, a.id FROM agents a JOIN companies c ON c.id=a.company_id "
                     "WHERE c.name='solo-startup' AND a.handle='ceo'").fetchone()
for tool in ("fetch", "exec"):
    c.execute("INSERT INTO approvals(company_id, agent_id, kind, tool, args, reason, approver, status, "
              "created_at) VALUES (?, ?, 'tool', ?, '{}', 'ask', 'member:ana', 'pending', ?)",
              (cid, aid, tool, int(time.time() * 1e6)))
c.commit()
PY
req GET /v1/approvals "$TV"
expect 200 "GET /v1/approvals" '"tool":"fetch"'
AP1=$(jget approvals.0.id)
AP2=$(jget approvals.1.id)
req GET /v1/approvals "$TB"
expect 200 "company B sees none of A's approvals" '"approvals":[]'
req POST "/v1/approvals/$AP1/approve" "$TV"
expect 403 "viewer cannot approve"
req POST "/v1/approvals/$AP1/approve" "$TB"
expect 404 "company B cannot approve A's approval"
req POST "/v1/approvals/$AP1/approve" "$TA" '{"why": "fine"}'
expect 200 "owner approves" '"status":"approved"'
req POST "/v1/approvals/$AP1/approve" "$TA"
expect 409 "deciding twice: 409"
req POST "/v1/approvals/$AP2/deny" "$TA"
expect 422 "a denial needs why" '"field":"why"'
req POST "/v1/approvals/$AP2/deny" "$TA" "{\"why\": \"$(head -c 4097 /dev/zero | tr '\0' w)\"}"
expect 422 "a why over 4096 bytes: 422" "why: at most 4096 bytes"
req POST "/v1/approvals/$AP2/deny" "$TA" '{"why": "not now"}'
expect 200 "owner denies" '"status":"denied"'
req GET "/v1/approvals?status=all" "$TV"
expect 200 "?status=all lists decided ones" '"decided_by":"member:ana"'

# ---- audit ----
req GET "/v1/audit?actor=member:olga" "$TV"
expect 200 "GET /v1/audit filtered by actor: API changes are audited as member:HANDLE" '"action":"task.add"'
req GET "/v1/audit?action=task.&limit=2" "$TV"
expect 200 "GET /v1/audit filtered by action, paged" '"next":"'
N=$(jget next)
req GET "/v1/audit?action=task.&limit=2&after=$N" "$TV"
expect 200 "the audit's next page" '"seq":'
req GET /v1/audit/verify "$TV"
expect 200 "GET /v1/audit/verify" '"ok":true'
req GET /v1/audit/verify "$TCEO"
expect 403 "an agent cannot read the audit"

# ---- bad input ----
body_refusals POST /v1/tasks "$TA"
req POST /v1/tasks "$TA" '{"title": 5}'
expect 422 "a wrong type: 422 naming it" '"field":"title"'
req POST /v1/tasks "$TA" '{"body": "no title"}'
expect 422 "a missing field: 422 naming it" '"code":"missing_field"'
req POST /v1/tasks "$TA" '{"title": "x", "priority": 9}'
expect 422 "an out-of-range value: 422 naming it" '"field":"priority"'
req POST /v1/tasks "$TA" '{"title": "x", "title": "y"}'
expect 400 "a duplicate key: 400"
req POST /v1/tasks "$TA" "@$T/big" -H "Transfer-Encoding: chunked"
expect 413 "a chunked body over 1 MiB: 413"
req GET /v1/nowhere "$TA"
expect 404 "an unknown path: 404" '"code":"not_found"'
req GET /v1/tasks/abc "$TA"
expect 404 "a task id that is not a number: 404"
req GET /v1/tasks/ "$TA"
expect 404 "a trailing slash: 404"
req DELETE /v1/company "$TA"
expect 405 "a wrong method: 405" '"code":"method_not_allowed"'
grep -qi "^Allow: GET" <<<"$HEAD" && ok "405 says what is allowed" || not_ok "405 Allow" "$HEAD"
req PUT /v1/tasks "$TA"
expect 405 "a method the API does not use: 405"
req GET /healthz "" "" -H "Content-Length: abc"
[ "$CODE" -lt 500 ] && ok "a nonsense Content-Length is not a 5xx" || not_ok "nonsense CL" "$CODE"

# ---- the OpenAPI document: every path it lists is served ----
req GET /v1/openapi.json ""
expect 200 "GET /v1/openapi.json" '"openapi":"3.1.0"'
python3 -c 'import json,sys
d = json.load(sys.stdin)
for p, item in d["paths"].items():
    for m, op in item.items():
        print(m.upper(), p.replace("{id}", "1").replace("{handle}", "ceo"), "open" if op.get("security") == [] else "auth")' \
    <<<"$BODY" >"$T/routes"
[ "$(wc -l <"$T/routes")" -ge 20 ] && ok "the document lists the routes" || not_ok "document routes" "$(cat "$T/routes")"
bad=
while read -r m p kind; do
    req "$m" "$p" ""
    if [ "$kind" = auth ] && [ "$CODE" != 401 ]; then bad="$bad $m $p:$CODE"; fi
    if [ "$kind" = open ] && [ "$CODE" != 200 ]; then bad="$bad $m $p:$CODE"; fi
done <"$T/routes"
[ -z "$bad" ] && ok "every documented route is served (401 without a token, 200 if open)" \
    || not_ok "documented routes served" "$bad"

# ---- runs and their steps (read-only) ----
# Two runs of A's cto as the runtime writes them (agents are paused here).
RUNS=$(python3 - "$FIRMA_DB" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
cid, aid = c.execute("SELECT a.company_id, a.id FROM agents a JOIN companies c ON c.id=a.company_id "
                     "WHERE c.name='solo-startup' AND a.handle='cto'").fetchone()
now = int(time.time() * 1e6)
ids = []
for status in ("done", "waiting"):
    cur = c.execute("INSERT INTO runs(company_id, agent_id, status, reason, started_at) VALUES (?, ?, ?, 'x', ?)",
                    (cid, aid, status, now))
    ids.append(cur.lastrowid)
c.execute("INSERT INTO steps(run_id, seq, kind, status, request, prompt_bytes, tokens_in, tokens_out, usd_micro, started_at) "
          "VALUES (?, 1, 'model', 'finished', '{\"text\":\"hi\"}', 2048, 500, 20, 130, ?)", (ids[1], now))
c.execute("INSERT INTO steps(run_id, seq, kind, status, tool, request, response, usd_micro, started_at) "
          "VALUES (?, 2, 'tool', 'finished', 'exec', '{\"command\":\"make test\"}', ?, 0, ?)",
          (ids[1], "é" * 5000, now))
c.commit()
print(ids[0], ids[1])
PY
)
read -r RUN1 RUN2 <<<"$RUNS"
req GET /v1/agents/cto/runs "$TA"
expect 200 "GET /v1/agents/{handle}/runs" "\"id\":$RUN2"
[ "$(jget runs.0.id)" = "$RUN2" ] && [ "$(jget runs.0.steps)" = 2 ] && [ "$(jget runs.0.tool_calls)" = 1 ] \
    && [ "$(jget runs.0.usd_micro)" = 130 ] && [ "$(jget runs.0.prompt_bytes)" = 2048 ] \
    && ok "runs: newest first, with their steps' totals" || not_ok "runs totals" "$BODY"
req GET "/v1/agents/cto/runs?limit=1" "$TV"
[ "$CODE" = 200 ] && [ "$(jget next)" = "$RUN2" ] && ok "runs page (a viewer may read them)" \
    || not_ok "runs page" "$CODE $BODY"
req GET "/v1/agents/cto/runs?limit=1&before=$RUN2" "$TV"
[ "$(jget runs.0.id)" = "$RUN1" ] && [ -z "$(jget next)" ] && ok "runs: the next page, and the last" \
    || not_ok "runs next page" "$BODY"
req GET "/v1/agents/cto/runs?limit=0" "$TA"
expect 422 "runs: a bad limit is 422" '"field":"limit"'
req GET /v1/agents/nobody/runs "$TA"
expect 404 "runs of an unknown agent: 404"
req GET /v1/runs/$RUN2/steps "$TA"
expect 200 "GET /v1/runs/{id}/steps" '"tool":"exec"'
[ "$(jget steps.0.prompt_bytes)" = 2048 ] && [ "$(jget steps.1.request)" = '{"command":"make test"}' ] \
    && [ "$(jget run.agent)" = cto ] && ok "steps: prompt size, tool call, the run's agent" \
    || not_ok "steps fields" "$BODY"
cut=$(jget steps.1.response)
[ "$(jget steps.1.response_bytes)" = 10000 ] && [ "$(printf %s "$cut" | wc -c)" -le 4096 ] \
    && [ "$(printf %s "$cut" | wc -c)" -ge 4000 ] && printf %s "$cut" | iconv -f UTF-8 -t UTF-8 >/dev/null \
    && ok "a long result is cut on a UTF-8 boundary, its length given" || not_ok "cut" "$(jget steps.1.response_bytes)"
req GET /v1/runs/$RUN2/steps "$TB"
expect 404 "company B cannot read company A's run"
req GET /v1/agents/cto/runs "$TB"
[ "$CODE" = 200 ] && [ "$(jget runs)" = "[]" ] && ok "company B's cto has none of A's runs" \
    || not_ok "B's runs" "$BODY"
req GET /v1/runs/$RUN2/steps "$TCEO"
expect 403 "an agent's token cannot read runs"
req GET /v1/runs/abc/steps "$TA"
expect 404 "a run id that is not a number: 404"
req GET /v1/runs/999999/steps "$TA"
expect 404 "an unknown run: 404"

# ---- revoking a token ends it at once ----
VID=$("$FIRMA" "${A[@]}" token list --json | python3 -c 'import json,sys
print([t["id"] for t in json.load(sys.stdin) if t["member"] == "vic"][0])')
run "${A[@]}" token revoke "$VID"
expect_rc 0 "firma token revoke"
req GET /v1/company "$TV"
expect 401 "a revoked token: 401" "revoked"

# ---- an agent's token ends with the agent ----
req GET /v1/agents/marketing "$TMKT"
expect 200 "an agent's token works while it is employed"
run "${A[@]}" fire marketing
expect_rc 0 "fire the agent"
req GET /v1/agents/marketing "$TMKT"
expect 401 "a fired agent's token: 401" "fired"

# ---- clean shutdown ----
kill -TERM $SERVE
for _ in $(seq 100); do kill -0 $SERVE 2>/dev/null || break; sleep 0.1; done
if kill -0 $SERVE 2>/dev/null; then not_ok "SIGTERM stops the server" "still running"; kill -9 $SERVE
else wait $SERVE; RC=$?; OUT=$(cat "$T/serve.err"); expect_rc 0 "SIGTERM stops the server cleanly"; fi

# ---- binding ----
run serve --until-idle
expect_no_out "API on" "without --listen there is no API"
run serve --listen 0.0.0.0:0 --until-idle
expect_rc 4 "a non-loopback --listen is refused"
expect_out "no TLS" "and says why"
run serve --listen 0.0.0.0:0 --allow-remote --until-idle
expect_rc 0 "--allow-remote permits it"
expect_out "API on http://0.0.0.0:" "and it listens there"
run serve --listen 127.0.0.1:99999 --until-idle
expect_rc 2 "a bad --listen is a usage error"

# ---- docs/api.md's example runs as written (on a free port, a fresh database) ----
mkdir -p "$T/doc/bin" && ln -s "$FIRMA" "$T/doc/bin/firma"
(cd "$T/doc" && FIRMA_DB=$T/doc/firma.db "$FIRMA" import "$FIRMA_SRC/examples/solo-startup" >/dev/null \
    && FIRMA_DB=$T/doc/firma.db "$FIRMA" pause --all >/dev/null)
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{ sed -n '/^## Example/,$p' "$FIRMA_SRC/docs/api.md" | sed -n 's/^    //p' | sed "s/8420/$FREE/g" \
    | sed 's/^\(firma serve .*\) &$/\1 2>serve.err \&\nuntil grep -q "API on" serve.err; do sleep 0.1; done/'
  echo 'kill %1; wait'; } >"$T/doc/example.sh"
OUT=$(cd "$T/doc" && PATH=$T/doc/bin:$PATH FIRMA_DB=$T/doc/firma.db timeout 60 bash -e example.sh 2>&1)
RC=$?
expect_rc 0 "docs/api.md's example runs"
[ "$(grep -o 'Ship the signup flow' <<<"$OUT" | wc -l)" -eq 2 ] && ok "and adds, then lists, the task" \
    || not_ok "docs/api.md's example adds and lists the task" "$OUT"
finish
