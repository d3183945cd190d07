# firma serve against a real wire format: an agent on an OpenAI-compatible
# model, served by tests/llm_server.py on 127.0.0.1, which checks every request
# field by field (a violation gets a 400 and would fail the run). The same
# company that plays with sim runs here unchanged but for the agent's model.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db
"$FIRMA" import "$FIRMA_SRC/examples/solo-startup" >/dev/null
coproc SRV { python3 "$FIRMA_SRC/tests/llm_server.py" --log "$T/llm.log" --key sk-test-firma 2>&1; }
read -r -t 20 port <&"${SRV[0]}"
[ -n "${port:-}" ] && ok "the test model server is up on 127.0.0.1:$port" \
    || { not_ok "the test model server starts"; finish; }
"$FIRMA" agent set cto --model local:text >/dev/null
"$FIRMA" task add "Ship Slack alerts" --to cto >/dev/null
OUT=$(FIRMA_MODEL_URL=http://127.0.0.1:$port/v1 OPENAI_API_KEY=sk-test-firma \
      "$FIRMA" serve --until-idle 2>&1); RC=$?
expect_rc 0 "serve runs the agent against the server"
expect_out "runs: 1 started, 1 done" "the run ends its turn"
check "the server saw one request" test "$(wc -l <"$T/llm.log")" -eq 1
req=$(head -1 "$T/llm.log")
expect_in "$req" '"violation": null' "the request breaks no rule of the format"
expect_in "$req" '"key_ok": true' "the API key was sent as a bearer token"
expect_in "$req" '"model": "text"' "the model name goes without its prefix"
expect_in "$req" '"role": "system", "content": "You work at a company run with firma' \
    "the system prompt comes first"
expect_in "$req" '"name": "write_file"' "the CTO's granted tools are offered"
expect_not_in "$req" '"name": "delegate"' "a tool the CTO lacks is not offered"
grep -qa 'sk-test-firma' "$FIRMA_DB"* && not_ok "the key is not stored" || ok "the key is not stored"
run budget
expect_out "@cto              \$0 of" "a free local model costs nothing"
run audit verify
expect_rc 0 "the audit chain is intact"

# The per-provider cap on model calls in flight: four agents with work at
# once against a slow model, at most two calls at a time.
for h in ceo cto marketing support; do
    "$FIRMA" agent set $h --model 'local:slow#cap' >/dev/null
    "$FIRMA" task add "Weekly report from $h" --to $h >/dev/null
done
OUT=$(FIRMA_MODEL_URL=http://127.0.0.1:$port/v1 OPENAI_API_KEY=sk-test-firma \
      "$FIRMA" serve --until-idle --max-calls 2 --metrics-file "$T/metrics.prom" 2>&1); RC=$?
expect_rc 0 "serve with --max-calls 2 runs the four agents"
expect_out "runs: 4 started, 4 done" "all four runs end their turn"
peak=$(grep '"model": "slow#cap"' "$T/llm.log" | python3 -c '
import json, sys
print(max(json.loads(l)["in_flight"] for l in sys.stdin))')
check "the server never had more than two calls in flight (saw $peak)" test "$peak" -eq 2
expect_out "model calls in flight at most: 2; waited for a provider slot: 2" \
    "two calls waited for a slot"
# The same seen in the metrics, labelled with the provider (docs/metrics.md).
S=$(python3 "$FIRMA_SRC/tests/prom_check.py" "$T/metrics.prom" 2>&1)
for want in 'firma_model_calls_queued_total{provider="openai"} 2' \
            'firma_model_calls_total{outcome="ok",provider="openai"} 4' \
            'firma_model_call_duration_seconds_count{provider="openai"} 4' \
            'firma_model_call_duration_seconds_bucket{le="+Inf",provider="openai"} 4'; do
    grep -qxF "$want" <<<"$S" && ok "metrics: $want" || not_ok "metrics: $want" "$S"
done
run serve --max-calls 0
expect_rc 6 "--max-calls 0 is refused as a bad value"
expect_out "--max-calls 0: want a whole number from 1 to 100000" "and says what it wants"
finish
