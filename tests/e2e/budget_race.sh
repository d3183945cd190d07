# A budget race through the real binary: 30 agents wake at once against a
# slow model (tests/llm_server.py), all their calls in flight together, and a
# company budget that covers only a few worst cases. Reservations are taken
# before each call, so the ledger never goes over the cap — not at the end,
# and not at any point in between — and the agents that did not fit are
# paused with a budget approval for their manager.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
cp -r "$FIRMA_SRC/examples/solo-startup" "$T/co"
sed -i 's/^budget: {usd: 300, period: month}/budget: {usd: 5, period: month}/' "$T/co/company.yaml"
grep -q "usd: 5," "$T/co/company.yaml" && ok "a company with a \$5 budget" || not_ok "edit the budget"
run import "$T/co"
expect_rc 0 "import it"
coproc SRV { python3 "$FIRMA_SRC/tests/llm_server.py" --log "$T/llm.log" --key sk-race 2>&1; }
read -r -t 20 port <&"${SRV[0]}"
[ -n "${port:-}" ] && ok "the test model server is up" || { not_ok "the model server starts"; finish; }
# $100 / $400 per million tokens: each call's worst case (prompt + 2048
# output tokens) is about a dollar, its real cost (a few tokens) far less.
echo '{"openai:slowok*": {"input": 100, "output": 400}}' >"$T/prices.json"
for i in $(seq 30); do
    "$FIRMA" hire "w$i" --title "Worker $i" --manager ceo --model 'openai:slowok#race' \
        --budget 10 --autonomy 1 >/dev/null || not_ok "hire w$i"
    "$FIRMA" task add "Job $i" --to "w$i" >/dev/null
done
OUT=$(FIRMA_MODEL_URL=http://127.0.0.1:$port/v1 OPENAI_API_KEY=sk-race \
      "$FIRMA" serve --until-idle --max-calls 64 --prices "$T/prices.json" 2>&1); RC=$?
expect_rc 0 "serve runs the 30 agents at once"
q() { sqlite3 "$FIRMA_DB" "$1"; }
refused=$(grep -o "budget refusals: [0-9]*" <<<"$OUT" | grep -o "[0-9]*$")
called=$(grep -c '"model": "slowok#race"' "$T/llm.log")
check "some calls went out ($called)" test "$called" -ge 2
check "and the rest were refused for budget ($refused)" test "${refused:-0}" -ge 10
check "no call went out without its reservation (calls + refusals = 30)" \
    test $((called + refused)) -eq 30
cap=5000000
worst=$(q "SELECT max(s) FROM (SELECT sum(usd_micro) OVER (ORDER BY id) AS s FROM ledger)")
check "the ledger never stood over the \$5 cap, reservations included (peak $worst)" \
    test "$worst" -le $cap
spent=$(q "SELECT sum(usd_micro) FROM ledger")
check "and ends under it ($spent micro-dollars)" test "$spent" -le $cap
check "every reservation was settled" \
    test "$(q "SELECT count(*) FROM ledger WHERE kind='reserve'")" -eq "$(q "SELECT count(*) FROM ledger WHERE kind='release'")"
check "the refused agents are paused" \
    test "$(q "SELECT count(*) FROM agents WHERE handle LIKE 'w%' AND status='paused'")" -eq "$refused"
check "each with a budget approval for its manager" \
    test "$(q "SELECT count(*) FROM approvals WHERE tool='budget' AND approver='agent:ceo'")" -eq "$refused"
check "the refusals are audited" \
    test "$(q "SELECT count(*) FROM audit_events WHERE action='budget.refused'")" -eq "$refused"
run --json budget
team=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print([a.get("team_spent_usd_micro") for a in d["agents"] if a["agent"]=="ceo"][0], d["spent_usd_micro"], sum(a["spent_usd_micro"] for a in d["agents"]), "team_spent_usd_micro" in [a for a in d["agents"] if a["agent"]=="w1"][0])' <<<"$OUT")
read -r ceo_team company_spent agents_sum w1_team <<<"$team"
check "firma budget: the CEO's team spent what the company spent ($ceo_team)" \
    test "$ceo_team" -eq "$company_spent"
check "which is the sum of its agents' spend" test "$agents_sum" -eq "$company_spent"
check "an agent with no reports has no team line" test "$w1_team" = False
run budget
expect_out "team \$" "the text view shows the team's spend"
run audit verify
expect_rc 0 "the audit chain is intact"
finish
