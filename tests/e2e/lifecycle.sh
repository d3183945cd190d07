# A whole company's life through the real firma binary: init, import, hire,
# delegate, legal and illegal moves, pause/resume, fire, export, re-import, verify.
. "$(dirname "$0")/lib.sh"
export FIRMA_DB=$T/firma.db

run init co --template solo-startup
expect_rc 0 "init writes a starter company"
check "init wrote company.yaml and agents" test -f co/company.yaml -a -f co/agents/ceo.md
run init co
expect_rc 4 "init refuses a folder that already holds a company"

run import co
expect_rc 0 "import the starter company"
expect_out "4 agent(s)" "import reports what it created"
run import co
expect_rc 4 "importing the same company twice is refused"
expect_out "already exists" "and says why"

run org
expect_rc 0 "org renders"
expect_out "└── @ceo  Chief Executive Officer" "the CEO sits under the owner"
expect_out "    ├── @cto" "the CTO reports to the CEO"
expect_out "ana (owner)" "the owner is the root"

run hire dev --title "Backend Developer" --manager cto --budget 12.5 --autonomy 1 \
    --grant read_file:allow:src/** --grant exec:ask:make\ test
expect_rc 0 "hire a developer under the CTO"
run --json agent show dev
expect_out '"manager": "@cto"' "the developer reports to the CTO"
expect_out '"budget_usd_micro": 12500000' "its budget is exact"
expect_out '"tool": "exec"' "its grants were kept"
run hire dev --title X --manager cto
expect_rc 4 "a taken handle is refused"
run hire ghost --title X --manager nobody
expect_rc 4 "an unknown manager is refused"
expect_out "manager 'nobody' is neither an agent nor a member" "naming the manager"
run agent set ceo --manager dev
expect_rc 4 "a reporting cycle is refused"
expect_out "reporting cycle: ceo -> dev -> cto -> ceo" "showing the loop"
run hire bad --title X --manager ceo --grant launch_missiles
expect_rc 6 "a grant for an unknown tool is refused"

run --as ana task add "Grow to 100 customers" --to ceo --priority 0
expect_rc 0 "the owner gives the CEO a task"
run --as @ceo task add "Build the signup flow" --to cto --parent 1
expect_rc 0 "the CEO delegates to the CTO"
run --as @cto task add "Write the signup API" --to dev --parent 2
expect_rc 0 "the CTO delegates to the developer"
run --as @dev task move 3 doing
expect_rc 0 "todo -> doing"
run --as @dev task move 3 review --result "PR #12"
expect_rc 0 "doing -> review"
run --as @cto task move 3 done
expect_rc 0 "review -> done"
run task move 3 doing
expect_rc 4 "done is final"
expect_out "cannot move from done to doing" "the refusal names both statuses"
run task move 2 review
expect_rc 4 "todo -> review is illegal"
run task move 2 sideways
expect_rc 6 "an unknown status is invalid input"
run task move 99 doing
expect_rc 3 "an unknown task is not found"
run --json task show 3
expect_out '"status": "done"' "task 3 is done"
expect_out '"result": "PR #12"' "with its result"
run task list --to cto
expect_out "Build the signup flow" "the CTO's task list has its task"
expect_no_out "Write the signup API" "and not the developer's"

run task checkout 2 --run 7
expect_rc 0 "a run checks out a task"
run task checkout 2 --run 8
expect_rc 4 "a second run cannot check it out"
expect_out "checked out by run 7" "and is told who holds it"
run task checkin 2 --run 7
expect_rc 0 "the holder gives it back"

run pause cto --team
expect_rc 0 "pause the CTO's team"
expect_out "paused 2 agent(s)" "the CTO and the developer"
run --json agent show dev
expect_out '"status": "paused"' "the developer is paused"
run --json agent show marketing
expect_out '"status": "active"' "marketing is not"
run resume --all
expect_out "resumed 2 agent(s)" "resume everyone"

run goal add "Launch in Spain" --owner marketing --parent 1
expect_rc 0 "add a sub-goal"
run member add bob --name "Bob Ops" --role operator --channel telegram:777
expect_rc 0 "add a member"
run member add bob2 --role owner
expect_rc 4 "a second owner is refused"

run fire cto
expect_rc 0 "fire the CTO"
run --json agent show dev
expect_out '"manager": "@ceo"' "its report moves up to the CEO"
run hire cto --title "CTO again" --manager ceo
expect_rc 4 "a fired agent's handle stays taken (its history keeps it)"

run export out1
expect_rc 0 "export"
run export out2
diff -r out1 out2 >/dev/null && ok "export then export gives identical files" \
    || not_ok "export then export gives identical files" "$(diff -r out1 out2 | head -20)"
check "a fired agent is not exported" test ! -e out1/agents/cto.md
check "the new developer is exported" grep -q "Backend Developer" out1/agents/dev.md
run --db other.db import out1
expect_rc 0 "import the export into another database"
run --db other.db export out3
diff -r out1 out3 >/dev/null && ok "export, import, export gives the same files" \
    || not_ok "export, import, export gives the same files" "$(diff -r out1 out3 | head -20)"

run log --action task. --limit 0
expect_out "task.move" "the log filters by action"
expect_no_out "agent.hire" "and only that action"
run log --actor agent:ceo
expect_out "task.add" "the CEO's delegation is attributed to it"
run --json log --limit 3
expect_out '"action"' "the log speaks JSON"
run audit verify
expect_rc 0 "the audit chain verifies"
expect_out "intact" "and says so"
finish
