# bench/api_load.sh, run small: wrk against the API while agents work. It
# prints figures; this checks only that it ran and that every answer was a
# 2xx (nothing here asserts a time).
. "$(dirname "$0")/lib.sh"
OUT=$(FIRMA=$FIRMA "$FIRMA_SRC/bench/api_load.sh" 1 2>&1); RC=$?
expect_rc 0 "bench/api_load.sh runs"
expect_out "GET /v1/tasks?limit=500 (500 tasks a page):" "it loads the 500-task list"
expect_out "POST /v1/tasks (create, audited):" "and task creation"
n=$(grep -c "non-2xx: 0$" <<<"$OUT")
check "every answer under load was a 2xx" test "$n" -eq 2
runs=$(grep -o "runs done by the agents meanwhile: [0-9]*" <<<"$OUT" | grep -o "[0-9]*$")
check "agents were working meanwhile (${runs:-0} runs)" test "${runs:-0}" -ge 1
# This binary's servers only: other checkouts' tests may run theirs meanwhile.
check "no server is left behind" bash -c "! pgrep -f '$FIRMA [s]erve --listen 127.0.0.1:0 --scenario'"
finish
