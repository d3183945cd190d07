# The corpus of broken company folders through the real CLI: `firma import`
# refuses each with exit 6 (3 for a missing company.yaml), prints the exact
# message tests/data/broken/EXPECTED gives, and leaves the database empty.
. "$(dirname "$0")/lib.sh"
corpus=$FIRMA_SRC/tests/data/broken
export FIRMA_DB=$T/firma.db
while IFS=$'\t' read -r name code msg; do
    case "$name" in ''|'#'*) continue ;; esac
    dir=$corpus/$name
    msg=${msg//<DIR>/$dir}
    run import "$dir"
    want=6
    [ "$code" = ENOTFOUND ] && want=3
    [ "$code" = EIO ] && want=1
    if [ "$RC" -eq "$want" ] && [ "$OUT" = "firma: $msg" ]; then
        ok "broken/$name: exit $want, '$msg'"
    else
        not_ok "broken/$name" "exit $RC (wanted $want); got '$OUT'; wanted 'firma: $msg'"
    fi
done <"$corpus/EXPECTED"
run company
if [ -z "$OUT" ]; then ok "no broken folder left anything in the database"
else not_ok "no broken folder left anything in the database" "$OUT"; fi
finish
