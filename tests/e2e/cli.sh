# The command line's contract: help everywhere, exit codes, --json, several
# companies in one database, bad input of every kind, and secrets that never
# come back out.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db

run --help
expect_rc 0 "firma --help"
expect_out "exit codes" "the help documents exit codes"
for cmd in init import export org hire fire pause resume agent task goal member budget log audit \
           secret company serve message approvals approve deny bench; do
    run "$cmd" --help
    if [ "$RC" -eq 0 ] && grep -q "usage: firma" <<<"$OUT"; then ok "firma $cmd --help"
    else not_ok "firma $cmd --help" "$OUT"; fi
done
run
expect_rc 2 "no command is a usage error"
run frobnicate
expect_rc 2 "an unknown command is a usage error"
run org --bogus
expect_rc 2 "an unknown option is a usage error"
expect_out "unknown option '--bogus'" "naming the option"
run --db
expect_rc 2 "a global option without its value"

run org
expect_rc 3 "an empty database has no company"
expect_out "has no company yet" "and says how to make one"
run --db /nonexistent/dir/x.db org
expect_rc 1 "an unopenable database fails"
expect_out "/nonexistent/dir/x.db" "naming the path"

run import "$FIRMA_SRC/examples/solo-startup"
expect_rc 0 "import the example"
run import "$FIRMA_SRC/examples/solo-startup" --name second
expect_rc 0 "import it again under another name"
run org
expect_rc 2 "two companies need --company"
expect_out "(second, solo-startup)" "and the message lists them"
run --company second org
expect_rc 0 "--company picks one"
run --company nope org
expect_rc 3 "an unknown company is not found"
run --json company
expect_out '"name": "second"' "company --json lists both"
export FIRMA_DB=$T/one.db
run import "$FIRMA_SRC/examples/solo-startup"

run --as nobody task add "x"
expect_rc 3 "--as an unknown member"
run --as @ghost task add "x"
expect_rc 3 "--as an unknown agent"
run task add "x" --priority 9
expect_rc 6 "a bad priority is invalid input"
run task add "x" --due tomorrow
expect_rc 6 "a bad date is invalid input"
expect_out "--due tomorrow" "naming the option"
run hire x --title X --manager ceo --budget -5
expect_rc 6 "a negative budget is invalid"
run hire x --title X --manager ceo --budget 1.2345678
expect_rc 6 "a budget finer than a micro-dollar is invalid"
run hire x --title X --manager ceo --autonomy 3
expect_rc 6 "autonomy above 2 is invalid"
run hire x --title X --manager ceo --kind process
expect_rc 6 "a process agent needs a command"
run hire "Bad Handle" --title X --manager ceo
expect_rc 6 "a bad handle is invalid"
run hire helper --title "Helper" --manager ceo --kind process --command "./helper.sh"
expect_rc 0 "a process agent with a command is hired"

# Broken company files: the CLI says file, line and what.
mkdir -p broken/agents
printf 'name: broken\nmembers:\n  - handle: ana\n    role: owner\n' >broken/company.yaml
printf -- '---\ntitle: CTO\nmanager: ceo2\n---\nHi\n' >broken/agents/cto.md
run import broken
expect_rc 6 "a broken company folder is refused"
expect_out "agents/cto.md:3:" "naming the file and line"
expect_out "ceo2" "and the bad manager"
printf 'name: broken\n  bad: [indent\n' >broken/company.yaml
run import broken
expect_rc 6 "malformed YAML is refused"
expect_out "company.yaml:" "naming the file"
run import /nonexistent-folder
expect_rc 3 "a missing folder is not found"

# Secrets: in through stdin, never out.
secret='sk-test-5f1c2e9a8b7d'
OUT=$(printf %s "$secret" | "$FIRMA" secret set STRIPE_KEY 2>&1); RC=$?
expect_rc 0 "store a secret from stdin"
run secret list
expect_out "STRIPE_KEY" "secret list shows the name"
expect_no_out "$secret" "but not the value"
run log --limit 0
expect_out "secret.set" "setting a secret is audited"
expect_no_out "$secret" "without its value"
if grep -qa "$secret" firma.db one.db one.db-wal one.db.audit-head 2>/dev/null; then
    not_ok "the value is not stored in clear" ; else ok "the value is not stored in clear"; fi
OUT=$(printf '' | "$FIRMA" secret set EMPTY 2>&1); RC=$?
expect_rc 6 "an empty secret is refused"
OUT=$(printf x | "$FIRMA" secret set lower_case 2>&1); RC=$?
expect_rc 6 "a bad secret name is refused"
run secret rm STRIPE_KEY
expect_rc 0 "remove a secret"
run secret rm STRIPE_KEY
expect_rc 3 "removing it twice: not found"
chmod 644 "$FIRMA_KEY_FILE"
OUT=$(printf x | "$FIRMA" secret set OTHER 2>&1); RC=$?
expect_rc 4 "a key file others can read is refused"
expect_out "chmod 600" "with the fix"
chmod 600 "$FIRMA_KEY_FILE"

run --json task add "json task" --to cto
expect_out '"id":' "task add --json gives the id"
run --json task list
expect_out '"title": "json task"' "task list --json"
run --json org
expect_out '"handle": "ceo"' "org --json nests the chart"
run --json budget
expect_out '"budget_usd_micro": 300000000' "budget --json has the company cap"
run --json task move 1 done
expect_rc 4 "a refused move in --json mode"
expect_out '"code":"ETRANSITION"' "gives a JSON error"
finish
