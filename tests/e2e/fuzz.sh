# A short, bounded fuzzing run of every libFuzzer target (built by `make test`
# with clang), seeded with the example company and the broken corpus, so a
# crash, leak, hang (over 10 s on one input) or undefined behaviour in the
# parsers fails the suite. `make fuzz` runs them for longer.
. "$(dirname "$0")/lib.sh"
bins=$(ls "$FIRMA_SRC"/build/fuzz/fuzz_* 2>/dev/null)
[ -n "$bins" ] || { not_ok "fuzz targets are built (make fuzzers)"; finish; }
mkdir seeds
i=0
for f in "$FIRMA_SRC"/examples/solo-startup/company.yaml "$FIRMA_SRC"/tests/data/broken/*/company.yaml; do
    i=$((i + 1)); { printf '\001'; cat "$f"; } >"seeds/c$i"
done
for f in "$FIRMA_SRC"/examples/solo-startup/agents/*.md "$FIRMA_SRC"/tests/data/broken/*/agents/*.md; do
    [ -f "$f" ] || continue
    i=$((i + 1)); { printf '\000'; cat "$f"; } >"seeds/a$i"
done
# Requests for fuzz_api: a method byte, a path, a newline, a body. The byte
# mod 5 is the method (GET POST PATCH DELETE PUT), its bits from the third
# on mod 3 the token (owner, agent, none): \001 POST as the owner, \006 POST
# as the agent, \016 PUT as the owner.
printf '\001/v1/tasks\n{"title":"x","assignee":"ceo","priority":1}' >seeds/r1
printf '\002/v1/tasks/1\n{"status":"doing","assignee":null}' >seeds/r2
printf '\006/v1/tasks/1/checkout\n{"lease_s":60}' >seeds/r3
printf '\001/v1/agents/ceo/pause\n{"team":true}' >seeds/r4
printf '\001/v1/approvals/1/deny\n{"why":"no"}' >seeds/r5
printf '\001/v1/agents\n{"handle":"w","title":"W","manager":"ceo","grants":[{"tool":"exec","ceiling":"ask","on":["make *"]}],"cron":"0 9 * * 1"}' >seeds/r6
printf '\002/v1/agents/ceo\n{"title":"Chief","budget_usd_micro":5,"grants":[]}' >seeds/r7
printf '\001/v1/goals\n{"title":"g","parent":1,"owner":"ceo"}' >seeds/r8
printf '\001/v1/tasks/1/comments\n{"text":"hi"}' >seeds/r9
printf '\000/v1/spend/daily?days=7&agent=ceo\n' >seeds/r10
printf '\000/v1/audit?order=newest&before=9&limit=2\n' >seeds/r11
printf '\016/v1/secrets/API_KEY\n{"value":"x"}' >seeds/r12
printf '\001/v1/members\n{"handle":"pat","role":"operator","channels":{"telegram":"1"}}' >seeds/r13
printf '\001/v1/tokens\n{"member":"ana","name":"ci","role":"viewer"}' >seeds/r14
printf '\003/v1/tokens/1\n' >seeds/r15
for b in $bins; do
    name=$(basename "$b")
    mkdir -p "corpus-$name"
    if "$b" -runs=30000 -max_total_time=30 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$T/$name-" "corpus-$name" seeds >"$name.log" 2>&1; then
        ok "$name: 30,000 runs (or 30 s) without a crash, leak or hang"
    else
        not_ok "$name found a problem" "$(grep -E 'ERROR|SUMMARY|Test unit written' "$name.log" | head -5)"
        cp "$T/$name-"* "$FIRMA_SRC/tests/artifacts/" 2>/dev/null
    fi
done
finish
