# kill -9 at random moments: an import is all or nothing, a stream of changes
# loses none that were reported and half-does none, and the audit chain stays
# intact. Bounded: 6 kills of an import, 6 of a change stream.
. "$(dirname "$0")/lib.sh"

# A company big enough that importing it takes a while: 1,500 agents.
mkdir -p big/agents
printf 'name: big\nmembers:\n  - handle: owner\n    role: owner\n' >big/company.yaml
printf -- '---\ntitle: Boss\nmanager: owner\n---\nLead.\n' >big/agents/a0.md
for i in $(seq 1 1499); do
    printf -- '---\ntitle: Worker %d\nmanager: a%d\nbudget: {usd: 1}\n---\nWork.\n' \
        "$i" $(((i - 1) / 10)) >"big/agents/a$i.md"
done

# Time one whole import, then kill others at fractions of that time, so the
# kills land in parsing, in the transaction and after the commit whatever the
# binary's speed (the ASan build is ~8x slower than the release one).
t0=$(date +%s%N)
"$FIRMA" --db "$T/full.db" import big >/dev/null
full_ms=$((($(date +%s%N) - t0) / 1000000))
outcomes=
for pct in 20 50 70 85 95 150; do
    db=$T/imp$pct.db
    "$FIRMA" --db "$db" import big >/dev/null 2>&1 &
    pid=$!
    ms=$((full_ms * pct / 100))
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    agents=$("$FIRMA" --db "$db" --json agent list 2>/dev/null | grep -c '"handle"')
    outcomes="$outcomes $agents"
    if [ "$agents" -eq 0 ] || [ "$agents" -eq 1500 ]; then
        ok "import killed at ${pct}% of its time left all or nothing ($agents agents)"
    else
        not_ok "import killed at ${pct}% left all or nothing" "$agents agents"
    fi
done
echo "# import took ${full_ms} ms; agents after each kill:$outcomes"

export FIRMA_DB=$T/stream.db
"$FIRMA" import "$FIRMA_SRC/examples/solo-startup" >/dev/null
reported=0
for round in 1 2 3 4 5 6; do
    # Its own process group, so one kill reaches the loop and the firma in flight.
    setsid bash -c 'for i in $(seq 1 200); do
        "$FIRMA" task add "r$0 t$i" --to cto >/dev/null 2>&1 && echo done
    done' "$round" >"progress$round" &
    pid=$!
    sleep "0.$((RANDOM % 50 + 10))"
    kill -9 -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    reported=$((reported + $(grep -c done "progress$round")))
done
run --json task list
have=$(grep -c '"title"' <<<"$OUT")
[ "$have" -ge "$reported" ] && [ "$have" -le $((reported + 6)) ] \
    && ok "every reported task exists ($reported reported, $have stored; a killed one may land)" \
    || not_ok "every reported task exists" "$reported reported, $have stored"
run log --action task.add --limit 0
events=$(grep -c "task.add" <<<"$OUT")
[ "$events" -eq "$have" ] && ok "each stored task has exactly one audit event" \
    || not_ok "each stored task has exactly one audit event" "$events events, $have tasks"
run audit verify
expect_rc 0 "the audit chain is intact after $((6 + 6)) kills"
finish
