#!/usr/bin/env bash
# `make run`: the example company on SQLite, with no account or key.
# Creates run/firma.db afresh from examples/solo-startup, has the owner hand the
# CEO a goal, the CEO split it into tasks for its reports, moves work along,
# and shows the org chart, the task board, budgets and the verified audit log.
# (The agent runtime, which makes agents do this themselves, comes next.)
# Usage: scripts/run-example.sh [FIRMA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
firma=${1:-build/release/firma}
dir=${FIRMA_RUN_DIR:-run}
rm -rf "$dir"
mkdir -p "$dir"
export FIRMA_DB=$dir/firma.db FIRMA_KEY_FILE=$dir/master.key
f() { "$firma" "$@"; }
say() { printf '\n== %s\n' "$*"; }

say "import examples/solo-startup"
f import examples/solo-startup

say "the owner gives the CEO a goal"
f --as ana task add "Reach 100 paying customers this quarter" --to ceo --priority 0 --goal 1 \
    --body "Plan it, split it across the team, and report weekly."
f --as ana task move 1 doing

say "the CEO splits it and delegates"
f --as @ceo task add "Ship Slack alerts (v1.2)" --to cto --parent 1 --goal 7 --priority 1
f --as @ceo task add "Write the annual-plan launch post" --to marketing --parent 1 --goal 4
f --as @ceo task add "Draft help-centre article for Slack alerts" --to support --parent 1 --goal 11
f --as @cto task move 2 doing
f --as @marketing task move 3 doing
f --as @marketing task move 3 review --result "Draft in drafts/annual-plan.md"
f --as @support task move 4 blocked --result "Waiting for the Slack alerts UI to settle"

say "an illegal move is refused"
f task move 4 done || echo "(refused, exit $?)"

say "org chart"
f org
say "task board"
f task list
say "budgets"
f budget
say "audit log (newest 12)"
f log --limit 12
say "audit verify"
f audit verify
printf '\nDatabase: %s  (try: %s --db %s org)\n' "$FIRMA_DB" "$firma" "$FIRMA_DB"
