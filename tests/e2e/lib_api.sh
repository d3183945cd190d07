# Helpers for the API's end-to-end tests (source after lib.sh): tokens, the
# server on a free port of 127.0.0.1, and requests through curl.

# tok FIRMA-ARGS...: makes a member token with `firma ... token create` and
# prints it.
tok() { "$FIRMA" "$@" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }

# agent_token HANDLE RUN [COMPANY]: an agent token as the runtime gives them
# to process agents (one agent, one run), stored hashed with BLAKE2b-256 as
# fm_token_issue_agent does; prints it.
agent_token() {
    python3 - "$FIRMA_DB" "$1" "$2" "${3:-solo-startup}" <<'PY'
import hashlib, secrets, sqlite3, sys, time
db, handle, run, company = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
text = "fma_" + secrets.token_urlsafe(32)
c = sqlite3.connect(db)
cid, aid = c.execute("SELECT a.company_id, a.id FROM agents a JOIN companies c ON c.id=a.company_id "
                     "WHERE c.name=? AND a.handle=?", (company, handle)).fetchone()
now = int(time.time() * 1e6)
c.execute("INSERT INTO tokens(company_id, kind, agent_id, run_id, hash, created_at, expires_at) "
          "VALUES (?, 'agent', ?, ?, ?, ?, ?)",
          (cid, aid, run, hashlib.blake2b(text.encode(), digest_size=32).digest(), now, now + 600_000_000))
c.commit()
print(text)
PY
}

# api_start [SERVE-ARGS...]: `firma serve --listen 127.0.0.1:0` in the
# background; sets SERVE (its pid), HP (http://127.0.0.1:PORT) and PORT.
# HP is empty if it did not come up in 10 s. Its output goes to
# $API_LOG.out and $API_LOG.err (API_LOG defaults to $T/serve); variables
# for its environment go before the call: FIRMA_KEY_FILE=x api_start.
api_start() {
    local log=${API_LOG:-$T/serve}
    "$FIRMA" serve --listen 127.0.0.1:0 "$@" >"$log.out" 2>"$log.err" &
    SERVE=$!
    for _ in $(seq 100); do grep -q "API on" "$log.err" && break; sleep 0.1; done
    HP=$(grep -o 'http://127.0.0.1:[0-9]*' "$log.err" | head -1)
    PORT=${HP##*:}
}

# req METHOD PATH TOKEN [BODY [CURL ARGS...]]: $CODE, $BODY and $HEAD, from
# the server at $URL (default $HP). With REQ_LOG set, each answer's head and
# body are also appended to that file.
req() {
    local m=$1 p=$2 t=$3 b=${4-} auth=()
    shift $(($# < 4 ? $# : 4))
    [ -n "$t" ] && auth=(-H "Authorization: Bearer $t")
    if [ -n "$b" ]; then
        CODE=$(curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' -X "$m" "${auth[@]}" \
            -H 'Content-Type: application/json' --data-binary "$b" "$@" "${URL:-$HP}$p")
    else
        CODE=$(curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" \
            "${URL:-$HP}$p")
    fi
    BODY=$(cat "$T/body")
    HEAD=$(cat "$T/head")
    [ -z "${REQ_LOG-}" ] || { cat "$T/head" "$T/body"; echo; } >>"$REQ_LOG"
}
# expect CODE DESC [TEXT]: the last request got CODE (and TEXT in its body).
expect() {
    if [ "$CODE" = "$1" ] && { [ -z "${3-}" ] || grep -qF -- "$3" <<<"$BODY"; }; then ok "$2"
    else not_ok "$2" "HTTP $CODE, wanted $1${3+ with '$3'}: $BODY"; fi
}
# jget KEY.PATH: a value of the last answer (numbers index arrays; objects
# and arrays come out as JSON, null as nothing).
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d = d[int(k)] if k.isdigit() else d[k]
print(json.dumps(d) if isinstance(d, (dict, list)) else ("" if d is None else d))' "$1" <<<"$BODY"; }
# header NAME: the value of a header of the last answer.
header() { grep -i "^$1:" <<<"$HEAD" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# body_refusals METHOD PATH TOKEN: what every route that takes a body
# refuses, on that route: malformed JSON (400, saying where), a body that is
# not an object (422), a field the route does not take (422 naming it) and
# a body over 1 MiB (413, before it is read).
body_refusals() {
    local m=$1 p=$2 t=$3
    [ -f "$T/big" ] || head -c 1100000 /dev/zero | tr '\0' a >"$T/big"
    req "$m" "$p" "$t" '{"x": '
    expect 400 "$m $p: malformed JSON: 400 with line and column" "line 1, column"
    req "$m" "$p" "$t" '[1, 2]'
    expect 422 "$m $p: a body that is not an object: 422" "must be a JSON object"
    req "$m" "$p" "$t" '{"no_such_field": 1}'
    expect 422 "$m $p: an unknown field: 422 naming it" '"field":"no_such_field"'
    req "$m" "$p" "$t" "@$T/big"
    expect 413 "$m $p: a body over 1 MiB: 413" '"code":"too_big"'
}
