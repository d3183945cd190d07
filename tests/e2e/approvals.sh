# The approvals surface of the CLI: listing, approving and denying, through
# the real firma binary. Approvals themselves come from runs (the runtime);
# here we check what a person at the terminal sees when there are none, and
# that bad command lines and unknown approvals give the documented exit codes.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db

run import "$FIRMA_SRC/examples/solo-startup"
expect_rc 0 "import the example company"

run approvals
expect_rc 0 "approvals lists"
expect_out "no pending approvals" "and says there are none"
run approvals --all
expect_rc 0 "approvals --all lists decided ones too"
expect_out "no approvals" "and says there are none"
run --json approvals
expect_rc 0 "approvals --json"
expect_out "[]" "gives an empty array"

run approve 99
expect_rc 3 "approving an unknown approval is not found"
expect_out "no approval #99 in this company" "and names it"
run --as ana approve 99 --why "fine"
expect_rc 3 "also as a member"
run deny 1
expect_rc 2 "a denial without --why is a usage error"
expect_out "--why" "that names the option"
run approve
expect_rc 2 "approve needs an id"
run approve abc
expect_rc 2 "an id must be a number"
expect_out "'abc' is not an approval number" "saying so"
run approvals extra
expect_rc 2 "approvals takes no arguments"

# A held call, written straight into the database as the runtime would (it
# has no CLI of its own): @cto's exec, routed to @ceo.
if command -v sqlite3 >/dev/null; then
    now=$(($(date +%s) * 1000000))
    sqlite3 "$FIRMA_DB" "INSERT INTO approvals(company_id, agent_id, kind, tool, args, reason,
        approver, status, created_at) SELECT company_id, id, 'tool', 'exec',
        '{\"command\":\"make deploy\"}', 'exec is risky at autonomy 1', 'agent:ceo',
        'pending', $now FROM agents WHERE handle='cto';
        INSERT INTO approvals(company_id, agent_id, kind, tool, args, reason, approver, status,
        created_at) SELECT company_id, id, 'tool', 'exec', '{}', 'risky', 'agent:ceo',
        'pending', $now FROM agents WHERE handle='cto';"
    run approvals
    expect_rc 0 "a pending approval is listed"
    expect_out '#1    @cto' "with its id and agent"
    expect_out 'make deploy' "its arguments"
    expect_out 'approver: agent:ceo' "and who must decide"
    run --as @marketing approve 1
    expect_rc 4 "an agent off the route may not decide"
    expect_out "agent:marketing may not decide approval #1" "and is told who may"
    run --as @ceo approve 1 --why "go ahead"
    expect_rc 0 "the approver approves"
    expect_out "approval #1 approved" "and is told so"
    run --as ana approve 1
    expect_rc 4 "deciding twice is a conflict"
    expect_out "already approved by agent:ceo" "naming who decided"
    run deny 2 --why "not this week"
    expect_rc 0 "the local operator may deny"
    run approvals
    expect_out "no pending approvals" "nothing is left pending"
    run --json approvals --all
    expect_out '"status": "denied"' "--all shows decided ones"
    expect_out '"why": "not this week"' "with the reason"
    wakes=$(sqlite3 "$FIRMA_DB" "SELECT count(*) FROM wakes WHERE kind='approval'")
    if [ "$wakes" = 2 ]; then ok "each decision woke the requester"; else
        not_ok "each decision woke the requester" "wakes: $wakes"; fi
    run audit verify
    expect_rc 0 "the audit chain holds after decisions"
else
    not_ok "the sqlite3 shell is installed (scripts/deps.sh test): no held call to decide"
fi

run approvals --help
expect_rc 0 "approvals --help"
expect_out "usage: firma approvals [--all] [--json]" "shows the usage"
expect_out "owner or admin member" "and who may decide"
run deny --help
expect_rc 0 "deny --help"
expect_out "usage: firma deny ID --why TEXT" "shows the usage"
run --help
expect_out "approvals" "the command list has approvals"

finish
