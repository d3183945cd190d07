# The HTTP API's people and settings routes through real HTTP on 127.0.0.1,
# against the real binary: companies and the export, members, tokens and
# secrets (docs/api.md, "People and settings"). For each route the effect is
# checked outside the API (the command line, the database, the audit rows,
# a secret decrypted with libsodium), and so are the denials (viewer,
# operator, a capped token, an agent's token, another company) and bad
# input. A secret's value must appear in no answer, log or audit row.
. "$(dirname "$0")/lib.sh"
. "$FIRMA_SRC/tests/e2e/lib_api.sh"
export FIRMA_DB=$T/firma.db
run import "$FIRMA_SRC/examples/solo-startup"
expect_rc 0 "import company A"
run import "$FIRMA_SRC/examples/solo-startup" --name other
expect_rc 0 "import company B into the same database"
A=(--company solo-startup)
"$FIRMA" "${A[@]}" pause --all >/dev/null && "$FIRMA" --company other pause --all >/dev/null
"$FIRMA" "${A[@]}" member add vic --role viewer >/dev/null
"$FIRMA" "${A[@]}" member add olga --role operator >/dev/null
"$FIRMA" "${A[@]}" member add adam --role admin >/dev/null
"$FIRMA" --company other member add bonly --role viewer >/dev/null
TA=$(tok "${A[@]}" token create ana --name laptop)    # owner
TAD=$(tok "${A[@]}" token create adam)                # admin
TO=$(tok "${A[@]}" token create olga)                 # operator
TV=$(tok "${A[@]}" token create vic)                  # viewer
TCAP=$(tok "${A[@]}" token create ana --role viewer)  # the owner, capped at viewer
TB=$(tok --company other token create ana)            # company B's owner
[ -n "$TA" ] && [ -n "$TAD" ] && [ -n "$TB" ] && ok "tokens for each role" || not_ok "tokens" "$TA $TAD"

# An agent's token as the runtime gives one to a process agent.
TAGENT=$(agent_token ceo 77)

api_start
SERVE_PIDS=("$SERVE")
if [ -n "$HP" ]; then ok "the server listens"; else not_ok "the server listens" "$(cat "$T/serve.err")"; finish; fi

# Every answer is also kept in $T/bodies, to look for a secret's value at the end.
REQ_LOG=$T/bodies
# audit_count ACTOR ACTION OBJECT [COMPANY]: how many audit rows match.
audit_count() {
    python3 - "$FIRMA_DB" "$1" "$2" "$3" "${4:-solo-startup}" <<'PY'
import sqlite3, sys
db, actor, action, obj, co = sys.argv[1:]
c = sqlite3.connect(db)
print(c.execute("SELECT count(*) FROM audit_events e JOIN companies c ON c.id=e.company_id "
                "WHERE c.name=? AND e.actor=? AND e.action=? AND e.object=?", (co, actor, action, obj)).fetchone()[0])
PY
}
expect_audit() { # ACTOR ACTION OBJECT DESC
    local n; n=$(audit_count "$1" "$2" "$3")
    if [ "$n" -ge 1 ]; then ok "$4"; else not_ok "$4" "no audit row $1 $2 $3"; fi
}
members() { "$FIRMA" "$@" member list --json; }
has_member() { # COMPANY-ARGS... HANDLE ROLE: the CLI lists HANDLE with ROLE
    local role=${*: -1} h=${*: -2:1}
    members "${@:1:$#-2}" | python3 -c 'import json,sys
h, r = sys.argv[1], sys.argv[2]
sys.exit(0 if any(m["handle"] == h and m["role"] == r for m in json.load(sys.stdin)) else 1)' "$h" "$role"
}

# ---- every new route: no agent tokens, no token at all ----
ROUTES=("GET /v1/companies" "GET /v1/company/export" "GET /v1/members" "POST /v1/members"
        "DELETE /v1/members/vic" "GET /v1/tokens" "POST /v1/tokens" "DELETE /v1/tokens/1"
        "GET /v1/secrets" "PUT /v1/secrets/X" "DELETE /v1/secrets/X")
bad=
for r in "${ROUTES[@]}"; do
    req ${r% *} "${r#* }" "$TAGENT" '{}'
    [ "$CODE" = 403 ] && grep -qF "an agent's token cannot" <<<"$BODY" || bad="$bad [$r: $CODE]"
done
[ -z "$bad" ] && ok "an agent's token gets 403 on every people and settings route" \
    || not_ok "agent tokens refused" "$bad"
bad=
for r in "${ROUTES[@]}"; do
    req ${r% *} "${r#* }" "" '{}'
    [ "$CODE" = 401 ] || bad="$bad [$r: $CODE]"
done
[ -z "$bad" ] && ok "and no token is 401 on each" || not_ok "no token 401" "$bad"
req GET /v1/agents/ceo "$TAGENT"
expect 200 "(the agent's token is a working one)" '"handle":"ceo"'

# ---- companies ----
req GET /v1/companies "$TV"
expect 200 "GET /v1/companies (viewer)" '"name":"solo-startup"'
[ "$(jget companies | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
    && ok "a token reaches one company" || not_ok "one company" "$BODY"
req GET /v1/companies "$TB"
expect 200 "company B's token reaches company B" '"name":"other"'
grep -qF solo-startup <<<"$BODY" && not_ok "and not A" "$BODY" || ok "and not A"

req GET /v1/company/export "$TAD"
expect 200 "GET /v1/company/export (admin)" '"company":"solo-startup"'
EXPORT=$BODY
printf %s "$EXPORT" >"$T/export.json"
run "${A[@]}" export "$T/cli-export"
expect_rc 0 "firma export, to compare"
python3 - "$T/export.json" "$T/cli-export" "$T/api-export" >"$T/cmp" 2>&1 <<'PY'
import json, os, sys
files = json.load(open(sys.argv[1]))["files"]
cli, out = sys.argv[2], sys.argv[3]
on_disk = sorted(os.path.relpath(os.path.join(d, f), cli) for d, _, fs in os.walk(cli) for f in fs)
assert sorted(files) == on_disk, (sorted(files), on_disk)
for p, text in files.items():
    assert open(os.path.join(cli, p), encoding="utf-8").read() == text, p
    os.makedirs(os.path.dirname(os.path.join(out, p)), exist_ok=True)
    open(os.path.join(out, p), "w", encoding="utf-8").write(text)
print(len(files), "files")
PY
if grep -q "^[0-9]* files" "$T/cmp"; then ok "the export is firma export's files, byte for byte ($(cat "$T/cmp"))"
else not_ok "export matches firma export" "$(cat "$T/cmp")"; fi
grep -qF "agents/ceo.md" <<<"$EXPORT" && grep -qF "handle: vic" <<<"$EXPORT" \
    && ok "it holds the agents and the members added since" || not_ok "export content" "$EXPORT"
run import "$T/api-export" --name roundtrip
expect_rc 0 "the exported files import as a company"
has_member --company roundtrip olga operator && ok "and the import has the members" \
    || not_ok "round trip members" "$(members --company roundtrip)"
req GET /v1/company/export "$TB"
expect 200 "company B exports company B" '"company":"other"'
grep -qF "handle: vic" <<<"$BODY" && not_ok "and none of A's people" "$BODY" || ok "and none of A's people"
for t in "$TO:operator" "$TV:viewer" "$TCAP:capped owner"; do
    req GET /v1/company/export "${t%%:*}"
    expect 403 "export: 403 for the ${t#*:}" "needs the admin role"
done

# ---- members ----
req GET /v1/members "$TV"
expect 200 "GET /v1/members (viewer)" '"handle":"olga"'
grep -qF '"telegram":"123456789"' <<<"$BODY" && ok "members carry their channels" || not_ok "channels" "$BODY"
req GET /v1/members "$TB"
if grep -qF '"bonly"' <<<"$BODY" && ! grep -qF '"vic"' <<<"$BODY"; then
    ok "company B lists only its members"; else not_ok "company B lists only its members" "$BODY"; fi

req POST /v1/members "$TAD" '{"handle": "pat", "name": "Pat Lee", "role": "operator", "channels": {"telegram": "4242", "email": "pat@example.com"}}'
expect 201 "POST /v1/members (admin)" '"role":"operator"'
has_member "${A[@]}" pat operator && ok "the member is there (firma member list)" \
    || not_ok "member added" "$(members "${A[@]}")"
members "${A[@]}" | grep -qF '"telegram": "4242"' && ok "with the channels" || not_ok "member channels" "$(members "${A[@]}")"
expect_audit member:adam member.add member:pat "member.add is audited with the API's actor"
req POST /v1/members "$TAD" '{"handle": "quinn"}'
expect 201 "the role defaults to viewer" '"role":"viewer"'
req POST /v1/members "$TAD" '{"handle": "ada", "role": "admin"}'
expect 201 "an admin may add an admin"
req POST /v1/members "$TAD" '{"handle": "boss", "role": "owner"}'
expect 403 "an admin cannot add an owner" '"field":"role"'
req POST /v1/members "$TA" '{"handle": "boss", "role": "owner"}'
expect 409 "the owner cannot add a second owner" '"code":"org_rule"'
has_member "${A[@]}" boss owner && not_ok "no owner was added" || ok "no owner was added"
req POST /v1/members "$TCAP" '{"handle": "capped"}'
expect 403 "an owner's token capped at viewer cannot add members"
req POST /v1/members "$TO" '{"handle": "opwants"}'
expect 403 "operator cannot add members" "needs the admin role"
req POST /v1/members "$TV" '{"handle": "vwants"}'
expect 403 "viewer cannot add members"
has_member "${A[@]}" opwants viewer && not_ok "the refused adds changed nothing" || ok "the refused adds changed nothing"
req POST /v1/members "$TAD" '{"handle": "pat"}'
expect 409 "a taken handle: 409" '"code":"exists"'
req POST /v1/members "$TAD" '{"handle": "ceo"}'
expect 409 "an agent's handle: 409" "already taken by agent"
req POST /v1/members "$TAD" '{"handle": "dup", "channels": {"telegram": "4242"}}'
expect 409 "another member's channel id: 409" '"code":"exists"'
req POST /v1/members "$TAD" '{"handle": "Bad Handle"}'
expect 422 "an invalid handle: 422" "not a valid handle"
req POST /v1/members "$TAD" '{"handle": "kim", "role": "king"}'
expect 422 "an unknown role: 422 naming it" '"field":"role"'
req POST /v1/members "$TAD" '{"handle": "kim", "role": 1}'
expect 422 "a role that is not a string: 422" '"code":"wrong_type"'
req POST /v1/members "$TAD" '{"handle": "kim", "channels": "telegram:1"}'
expect 422 "channels not an object: 422" '"field":"channels"'
req POST /v1/members "$TAD" '{"handle": "kim", "channels": {"telegram": 5}}'
expect 422 "a channel id not a string: 422" '"field":"channels"'
req POST /v1/members "$TAD" '{"handle": "kim", "channels": {"telegram": ""}}'
expect 422 "an empty channel id: 422" '"field":"channels"'
req POST /v1/members "$TAD" "{\"handle\": \"kim\", \"name\": \"$(head -c 300 /dev/zero | tr '\0' n)\"}"
expect 422 "a name over 200 bytes: 422" '"field":"name"'
req POST /v1/members "$TAD" '{"name": "no handle"}'
expect 422 "a missing handle: 422" '"code":"missing_field"'
body_refusals POST /v1/members "$TAD"
has_member "${A[@]}" kim viewer && not_ok "no bad add changed anything" || ok "no bad add changed anything"

"$FIRMA" "${A[@]}" member add mgr --role operator >/dev/null
"$FIRMA" "${A[@]}" agent set support --manager mgr >/dev/null
req DELETE /v1/members/mgr "$TAD"
expect 409 "a member agents report to cannot be removed" '"code":"org_rule"'
req DELETE /v1/members/ana "$TA"
expect 409 "the owner cannot be removed" "owner and cannot be removed"
req DELETE /v1/members/ana "$TAD"
expect 403 "an admin cannot remove the owner (above them)" "cannot remove a member who is owner"
req DELETE /v1/members/pat "$TO"
expect 403 "operator cannot remove members"
req DELETE /v1/members/pat "$TV"
expect 403 "viewer cannot remove members"
req DELETE /v1/members/pat "$TCAP"
expect 403 "a capped owner token cannot remove members"
req DELETE /v1/members/bonly "$TA"
expect 404 "another company's member: 404"
has_member --company other bonly viewer && ok "and B's member is still there" || not_ok "B's member" "$(members --company other)"
req DELETE /v1/members/nobody "$TAD"
expect 404 "an unknown member: 404"
req DELETE /v1/members/ "$TAD"
expect 404 "no handle: 404"
req DELETE /v1/members/pat/x "$TAD"
expect 404 "a path past the handle: 404"
req PUT /v1/members "$TAD" '{}'
expect 405 "a wrong method on /v1/members: 405"
grep -qi "^Allow: GET, POST" <<<"$HEAD" && ok "405 says GET, POST" || not_ok "Allow" "$HEAD"
req DELETE /v1/members/pat "$TAD"
expect 200 "DELETE /v1/members/{handle} (admin)" '"removed":true'
has_member "${A[@]}" pat operator && not_ok "the member is gone" "$(members "${A[@]}")" || ok "the member is gone"
expect_audit member:adam member.rm member:pat "member.rm is audited"
req DELETE /v1/members/ada "$TAD"
expect 200 "an admin may remove an admin"

# A removed member's tokens die with them, even when the next member gets their id.
req POST /v1/members "$TAD" '{"handle": "temp", "role": "operator"}'
req POST /v1/tokens "$TAD" '{"member": "temp", "name": "temp-ci"}'
expect 201 "a token for a new member" '"member":"temp"'
TTEMP=$(jget token)
TTEMP_ID=$(jget id)
req GET /v1/members "$TTEMP"
expect 200 "it works"
req DELETE /v1/members/temp "$TAD"
expect 200 "the member is removed"
req POST /v1/members "$TAD" '{"handle": "temp2", "role": "admin"}'
expect 201 "another member is added"
req GET /v1/company "$TTEMP"
expect 401 "the removed member's token no longer works" "revoked"
"$FIRMA" "${A[@]}" token list --json | python3 -c 'import json,sys
t = [t for t in json.load(sys.stdin) if t["id"] == int(sys.argv[1])][0]
sys.exit(0 if t["revoked"] else 1)' "$TTEMP_ID" && ok "firma token list shows it revoked" \
    || not_ok "revoked in token list" "$("$FIRMA" "${A[@]}" token list)"

# ---- tokens ----
req GET /v1/tokens "$TAD"
expect 200 "GET /v1/tokens (admin)" '"name":"laptop"'
python3 -c 'import json,sys
ms = {t["member"] for t in json.load(sys.stdin)["tokens"]}
sys.exit(0 if {"ana", "adam", "olga", "vic"} <= ms else 1)' <<<"$BODY" \
    && ok "an admin sees every member's tokens" || not_ok "admin sees all" "$BODY"
grep -qiE 'hash|fma_' <<<"$BODY" && not_ok "no token text or hash in the list" "$BODY" \
    || ok "no token text or hash in the list"
req GET /v1/tokens "$TV"
expect 200 "GET /v1/tokens (viewer)" '"member":"vic"'
python3 -c 'import json,sys
ms = {t["member"] for t in json.load(sys.stdin)["tokens"]}
sys.exit(0 if ms == {"vic"} else 1)' <<<"$BODY" && ok "a viewer sees only their own tokens" \
    || not_ok "viewer sees own" "$BODY"
req GET /v1/tokens "$TB"
grep -qF '"laptop"' <<<"$BODY" && not_ok "company B sees none of A's tokens" "$BODY" \
    || ok "company B sees none of A's tokens"

req POST /v1/tokens "$TV" '{"name": "vic-script"}'
expect 201 "a viewer makes a token for themselves" '"member":"vic"'
TV2=$(jget token)
TV2_ID=$(jget id)
[[ $TV2 == fma_* ]] && [ "$(jget role)" = viewer ] && ok "the answer holds the token, once, acting as viewer" \
    || not_ok "token answer" "$BODY"
req GET /v1/company "$TV2"
expect 200 "the new token works" '"you":"member:vic"'
expect_audit member:vic token.create member:vic "token.create is audited"
python3 - "$FIRMA_DB" "$TV2" <<'PY' && ok "no audit row holds the token's text" || not_ok "token text in audit"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
sys.exit(1 if any(sys.argv[2] in " ".join(map(str, r)) for r in c.execute("SELECT actor, action, object, details FROM audit_events")) else 0)
PY
req POST /v1/tokens "$TV" '{"role": "operator"}'
expect 403 "a viewer cannot make a token above viewer" '"field":"role"'
req POST /v1/tokens "$TV" '{"member": "olga"}'
expect 403 "a viewer cannot make a token for another member" '"field":"member"'
req POST /v1/tokens "$TO" '{"name": "ci", "role": "viewer"}'
expect 201 "an operator makes themselves a viewer token" '"role":"viewer"'
TOV=$(jget token)
req POST /v1/tasks "$TOV" '{"title": "capped wants"}'
expect 403 "that token acts as viewer"
req POST /v1/tokens "$TCAP" '{}'
expect 201 "the owner's viewer-capped token makes a token" '"role":"viewer"'
TCAP2=$(jget token)
req POST /v1/tasks "$TCAP2" '{"title": "capped wants"}'
expect 403 "which is capped at viewer too (never above its maker)"
req POST /v1/tokens "$TAD" '{"member": "olga", "name": "for-olga"}'
expect 201 "an admin makes a token for another member" '"member":"olga"'
TOLGA=$(jget token)
TOLGA_ID=$(jget id)
req GET /v1/company "$TOLGA"
expect 200 "it acts as that member" '"you":"member:olga"'
expect_audit member:adam token.create member:olga "audited with the admin as actor"
req GET /v1/tokens "$TAD"
python3 -c 'import json,sys
t = [t for t in json.load(sys.stdin)["tokens"] if t["id"] == int(sys.argv[1])][0]
sys.exit(0 if t["role_cap"] == "admin" and t["name"] == "for-olga" else 1)' "$TOLGA_ID" <<<"$BODY" \
    && ok "an admin's token for another is capped at admin" || not_ok "cap admin" "$BODY"
req POST /v1/tokens "$TAD" '{"member": "ana"}'
expect 403 "an admin cannot make a token for the owner (it would act as them)" '"field":"member"'
req POST /v1/tokens "$TAD" '{"member": "vic", "role": "owner"}'
expect 403 "nor one that acts above admin" '"field":"role"'
req POST /v1/tokens "$TA" '{"member": "nobody"}'
expect 404 "a token for an unknown member: 404" '"field":"member"'
req POST /v1/tokens "$TB" '{"member": "vic"}'
expect 404 "company B cannot make a token for A's member"
req POST /v1/tokens "$TA" '{"role": "king"}'
expect 422 "an unknown role: 422" '"field":"role"'
req POST /v1/tokens "$TA" "{\"name\": \"$(head -c 65 /dev/zero | tr '\0' n)\"}"
expect 422 "a name over 64 bytes: 422" "at most 64 bytes"
req POST /v1/tokens "$TA" '{"name": 5}'
expect 422 "a name that is not a string: 422" '"code":"wrong_type"'
body_refusals POST /v1/tokens "$TA"

req DELETE "/v1/tokens/$TOLGA_ID" "$TV"
expect 403 "a viewer cannot revoke another member's token"
req GET /v1/company "$TOLGA"
expect 200 "(and it still works)"
req DELETE "/v1/tokens/$TOLGA_ID" "$TB"
expect 404 "company B cannot revoke A's token"
req DELETE "/v1/tokens/$TV2_ID" "$TV"
expect 200 "a viewer revokes their own token" '"revoked":true'
req GET /v1/company "$TV2"
expect 401 "it stops working at once" "revoked"
expect_audit member:vic token.revoke "token:$TV2_ID" "token.revoke is audited"
req DELETE "/v1/tokens/$TOLGA_ID" "$TAD"
expect 200 "an admin revokes another member's token"
req GET /v1/company "$TOLGA"
expect 401 "that one stops too"
req DELETE "/v1/tokens/$TOLGA_ID" "$TAD"
expect 409 "revoking twice: 409" "already revoked"
req DELETE /v1/tokens/abc "$TAD"
expect 404 "a token id that is not a number: 404"
req DELETE /v1/tokens/0 "$TAD"
expect 404 "token 0: 404"
req DELETE /v1/tokens/999999 "$TAD"
expect 404 "an unknown token: 404"
AGENT_TOKEN_ID=$(python3 -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT max(id) FROM tokens WHERE kind=?", ("agent",)).fetchone()[0])' "$FIRMA_DB")
req DELETE "/v1/tokens/$AGENT_TOKEN_ID" "$TA"
expect 404 "an agent's token is not a member token to revoke: 404"
req PATCH /v1/tokens/1 "$TA" '{}'
expect 405 "a wrong method on a token: 405"

# ---- secrets ----
VALUE='sk_live_Zq8WpL3mN0vX7r-fm'
req PUT /v1/secrets/STRIPE_KEY "$TAD" "{\"value\": \"$VALUE\"}"
expect 201 "PUT /v1/secrets/{name} (admin): 201 for a new one" '"replaced":false'
run "${A[@]}" secret list
expect_out STRIPE_KEY "firma secret list shows it"
# The sealed value, opened with libsodium as governance/secrets.c seals it:
# the key derived from the master key file, the name and company bound in.
open_secret() { # NAME [COMPANY] -> prints the value
    python3 - "$FIRMA_DB" "$FIRMA_KEY_FILE" "$1" "${2:-solo-startup}" <<'PY'
import ctypes, ctypes.util, sqlite3, sys
db, keyfile, name, co = sys.argv[1:]
so = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert so.sodium_init() >= 0
so.crypto_kdf_derive_from_key.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64,
                                          ctypes.c_char_p, ctypes.c_char_p]
u64 = ctypes.c_ulonglong
so.crypto_aead_xchacha20poly1305_ietf_decrypt.argtypes = [
    ctypes.c_char_p, ctypes.POINTER(u64), ctypes.c_void_p, ctypes.c_char_p, u64,
    ctypes.c_char_p, u64, ctypes.c_char_p, ctypes.c_char_p]
master = bytes.fromhex(open(keyfile).read().strip())
seal = ctypes.create_string_buffer(32)
so.crypto_kdf_derive_from_key(seal, 32, 1, b"firmakey", master)
cid, blob = sqlite3.connect(db).execute(
    "SELECT s.company_id, s.blob FROM secrets s JOIN companies c ON c.id=s.company_id "
    "WHERE c.name=? AND s.name=?", (co, name)).fetchone()
ad = f"{cid}/{name}".encode()
out = ctypes.create_string_buffer(len(blob))
n = u64()
rc = so.crypto_aead_xchacha20poly1305_ietf_decrypt(out, ctypes.byref(n), None, blob[24:],
                                                   len(blob) - 24, ad, len(ad), blob[:24], seal.raw)
sys.exit(1) if rc != 0 else sys.stdout.write(out.raw[:n.value].decode())
PY
}
[ "$(open_secret STRIPE_KEY)" = "$VALUE" ] && ok "the stored secret decrypts to the value sent" \
    || not_ok "secret decrypts" "$(open_secret STRIPE_KEY 2>&1)"
grep -qF "$VALUE" "$FIRMA_DB" "$FIRMA_DB-wal" 2>/dev/null && not_ok "the database holds no plain value" \
    || ok "the database holds no plain value"
expect_audit member:adam secret.set secret:STRIPE_KEY "secret.set is audited"
NEW='sk_live_SECOND-value_9'
req PUT /v1/secrets/STRIPE_KEY "$TA" "{\"value\": \"$NEW\"}"
expect 200 "setting it again: 200, replaced" '"replaced":true'
[ "$(open_secret STRIPE_KEY)" = "$NEW" ] && ok "and it decrypts to the new value" || not_ok "new value" ""
# A value as JSON escapes it: quotes, a backslash, a newline and non-ASCII.
req PUT /v1/secrets/PEM "$TAD" '{"value": "line1\nq\"b\\s é"}'
expect 201 "a value with escapes"
[ "$(open_secret PEM)" = "$(printf 'line1\nq"b\\s é')" ] && ok "is stored unescaped, exactly" \
    || not_ok "escaped value" "$(open_secret PEM | od -c | head)"
python3 -c 'import json; print(json.dumps({"value": "x" * 65536}))' >"$T/max"
req PUT /v1/secrets/BIG "$TAD" "@$T/max"
expect 201 "a 64 KiB value is taken"
[ "$(open_secret BIG | wc -c)" = 65536 ] && ok "and kept whole" || not_ok "64 KiB value" ""
python3 -c 'import json; print(json.dumps({"value": "x" * 65537}))' >"$T/over"
req PUT /v1/secrets/BIG "$TAD" "@$T/over"
expect 413 "a value over 64 KiB: 413" '"code":"too_big"'
[ "$(open_secret BIG | wc -c)" = 65536 ] && ok "and the old value stays" || not_ok "over-cap kept old" ""
body_refusals PUT /v1/secrets/BIG "$TAD"
req PUT /v1/secrets/EMPTY "$TAD" '{"value": ""}'
expect 422 "an empty value: 422" '"field":"value"'
req PUT /v1/secrets/lower_case "$TAD" '{"value": "x"}'
expect 422 "an invalid name: 422" "not valid"
req PUT /v1/secrets/NUM "$TAD" '{"value": 12345}'
expect 422 "a value that is not a string: 422" '"code":"wrong_type"'
req PUT /v1/secrets/NUM "$TAD" '{}'
expect 422 "no value: 422" '"code":"missing_field"'
# A malformed body that holds a value: the error must not quote it, though
# the ordinary parser's message would (which shows this check can fail).
LEAK='LEAKCHECK_7f3aQ'
req POST /v1/tasks "$TA" $'{"title": "'"$LEAK"$'\x01"}'
expect 400 "(the ordinary body parser quotes what it stopped at)" "$LEAK"
sed -i "/$LEAK/d" "$T/bodies"
req PUT /v1/secrets/LEAKY "$TAD" $'{"value": "'"$LEAK"$'\x01"}'
expect 400 "a malformed secret body: 400 with line and column" "line 1, column"
grep -qF "$LEAK" <<<"$BODY" && not_ok "and not the value" "$BODY" || ok "and not the value"
req PUT /v1/secrets/LEAKY "$TAD" "{\"value\": \"$LEAK\", \"value\": \"$LEAK\"}"
expect 400 "a repeated key: 400, the value unquoted"
grep -qF "$LEAK" <<<"$BODY" && not_ok "no value in the duplicate-key error" "$BODY" \
    || ok "no value in the duplicate-key error"
req PUT /v1/secrets/STRIPE_KEY "$TO" '{"value": "operator-wants"}'
expect 403 "operator cannot set secrets" "needs the admin role"
req PUT /v1/secrets/STRIPE_KEY "$TV" '{"value": "viewer-wants"}'
expect 403 "viewer cannot set secrets"
req PUT /v1/secrets/STRIPE_KEY "$TCAP" '{"value": "capped-wants"}'
expect 403 "a capped owner token cannot set secrets"
[ "$(open_secret STRIPE_KEY)" = "$NEW" ] && ok "the refused sets changed nothing" || not_ok "refused set" ""
req PUT /v1/secrets/STRIPE_KEY "$TB" '{"value": "company-b-value"}'
expect 201 "company B sets its own secret of the same name"
[ "$(open_secret STRIPE_KEY)" = "$NEW" ] && [ "$(open_secret STRIPE_KEY other)" = company-b-value ] \
    && ok "each company keeps its own" || not_ok "per-company secrets" ""

req GET /v1/secrets "$TAD"
expect 200 "GET /v1/secrets (admin)" '"name":"STRIPE_KEY"'
grep -qF '"updated_us"' <<<"$BODY" && ok "names and times" || not_ok "updated_us" "$BODY"
req GET /v1/secrets "$TO"
expect 403 "operator cannot list secrets"
req GET /v1/secrets "$TV"
expect 403 "viewer cannot list secrets"
req GET /v1/secrets "$TB"
grep -qF '"PEM"' <<<"$BODY" && not_ok "company B lists only its own secrets" "$BODY" \
    || ok "company B lists only its own secrets"

req DELETE /v1/secrets/PEM "$TO"
expect 403 "operator cannot remove secrets"
req DELETE /v1/secrets/PEM "$TB"
expect 404 "company B cannot remove A's secret"
run "${A[@]}" secret list
expect_out PEM "(it is still there)"
req DELETE /v1/secrets/PEM "$TAD"
expect 200 "DELETE /v1/secrets/{name} (admin)" '"removed":true'
run "${A[@]}" secret list
expect_no_out PEM "the secret is gone (firma secret list)"
expect_audit member:adam secret.rm secret:PEM "secret.rm is audited"
req DELETE /v1/secrets/PEM "$TAD"
expect 404 "removing it again: 404"
req DELETE /v1/secrets/ "$TAD"
expect 404 "no name: 404"
req POST /v1/secrets/X "$TAD" '{}'
expect 405 "a wrong method: 405"
grep -qi "^Allow: PUT, DELETE" <<<"$HEAD" && ok "405 says PUT, DELETE" || not_ok "Allow" "$HEAD"

# A server without the master key cannot seal: 503, saying so.
HP_KEY=$HP
API_LOG=$T/nokey FIRMA_KEY_FILE=$T/no-such.key api_start # HP is this one's until put back
SERVE_PIDS+=("$SERVE")
grep -qF "will not set secrets" "$T/nokey.err" && ok "a server without the key says so" \
    || not_ok "no-key note" "$(cat "$T/nokey.err")"
req PUT /v1/secrets/NOKEY "$TAD" '{"value": "nope"}'
expect 503 "setting a secret without a master key: 503" '"code":"no_master_key"'
req GET /v1/secrets "$TAD"
expect 200 "listing needs no key"
HP=$HP_KEY
run "${A[@]}" secret list
expect_no_out NOKEY "nothing was stored"

# ---- no value anywhere ----
python3 - "$FIRMA_DB" "$VALUE" "$NEW" "$LEAK" company-b-value <<'PY' \
    && ok "no audit row holds a secret's value" || not_ok "value in audit" "see the db"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = [" ".join(map(str, r)) for r in c.execute("SELECT actor, action, object, details FROM audit_events")]
sys.exit(1 if any(v in r for v in sys.argv[2:] for r in rows) else 0)
PY
bad=
for v in "$VALUE" "$NEW" "$LEAK" company-b-value line1; do
    grep -qF -- "$v" "$T/bodies" && bad="$bad answers:$v"
    grep -qF -- "$v" "$T/serve.err" "$T/serve.out" "$T/nokey.err" "$T/nokey.out" && bad="$bad log:$v"
done
[ -z "$bad" ] && ok "no answer or log line holds a secret's value" || not_ok "value leaked" "$bad"
[ "$(grep -c . "$T/bodies")" -gt 100 ] && ok "(the answers were kept to look through)" \
    || not_ok "answers kept" "$(wc -l <"$T/bodies")"

# ---- the OpenAPI document lists the new routes ----
req GET /v1/openapi.json ""
python3 -c 'import json,sys
p = json.load(sys.stdin)["paths"]
want = {("/v1/companies", "get"), ("/v1/company/export", "get"), ("/v1/members", "get"),
        ("/v1/members", "post"), ("/v1/members/{handle}", "delete"), ("/v1/tokens", "get"),
        ("/v1/tokens", "post"), ("/v1/tokens/{id}", "delete"), ("/v1/secrets", "get"),
        ("/v1/secrets/{name}", "put"), ("/v1/secrets/{name}", "delete")}
missing = [w for w in want if w[1] not in p.get(w[0], {})]
own = p["/v1/tokens"]["post"]["x-firma-least-role"]
sys.exit(1 if missing or "own" not in own or p["/v1/secrets"]["get"]["x-firma-least-role"] != "admin" else 0)' \
    <<<"$BODY" && ok "the OpenAPI document lists every new route and its least role" \
    || not_ok "openapi" "$BODY"

# ---- the servers stop cleanly (ASan reports leaks at exit) ----
for pid in "${SERVE_PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${SERVE_PIDS[@]}"; do
    wait "$pid"; RC=$?
    OUT=$(cat "$T/serve.err" "$T/nokey.err")
    expect_rc 0 "server $pid stops cleanly"
done
finish
