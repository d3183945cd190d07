# The dashboard in headless Chromium against the real binary on 127.0.0.1
# (docs/dashboard.md): the example company plays its scenario until the
# CTO's test run and marketing's over-budget model call wait for approval;
# then the browser logs in as a viewer (who can change nothing) and as the
# owner, reads the org chart, sees a task added over the API arrive through
# the event stream, denies marketing's call, approves the CTO's and sees the
# task move to done, reads spend per day, rides out a server restart (this
# script restarts it when the browser test asks, in $T/restart-please), and
# checks the phone-sized layout. Screenshots go to tests/artifacts/.
# Needs Debian's chromium and Node.js (scripts/deps.sh test); runs `npm ci`
# in tests/browser when its node_modules is missing.
. "$(dirname "$0")/lib.sh"
. "$FIRMA_SRC/tests/e2e/lib_api.sh"
export FIRMA_DB=$T/firma.db
EX=$FIRMA_SRC/examples/solo-startup
ART=$FIRMA_SRC/tests/artifacts
BROWSER_DIR=$FIRMA_SRC/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null; then
    not_ok "chromium and node are installed" "run scripts/deps.sh test"; finish
fi
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
    if (cd "$BROWSER_DIR" && timeout 120 npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1
    then ok "npm ci in tests/browser"
    else not_ok "npm ci in tests/browser" "$(tail -20 "$T/npm.log")"; finish; fi
fi

# The story up to the approvals (as scripts/run-example.sh plays it).
run import "$EX"
expect_rc 0 "import the example company"
"$FIRMA" --as ana task add "Reach 100 paying customers this quarter" --to ceo --priority 0 \
    --goal 1 --body "Plan it, split it across the team, and report weekly." >/dev/null
"$FIRMA" agent set marketing --budget 0.01 >/dev/null
run serve --scenario "$EX/scenario.yaml" --workspaces "$T/ws" --until-idle
expect_rc 0 "the scenario runs until the agents wait"
run --json approvals
expect_out 'make test' "the CTO's test run waits for approval"
expect_out '"agent": "marketing"' "marketing's over-budget call waits for approval"
TOKEN=$(tok token create ana --name browser)
VIEWER=$(tok token create ana --name wallboard --role viewer)

# The server, on a free port of 127.0.0.1, with the runtime going on.
SERVE_ARGS=(--scenario "$EX/scenario.yaml" --workspaces "$T/ws")
api_start "${SERVE_ARGS[@]}"
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null; rm -rf "$T"' EXIT
if [ -n "$HP" ]; then ok "serve --listen says where it listens"; else
    not_ok "serve --listen says where it listens" "$(cat "$T/serve.err")"; finish; fi

# The files need no token and carry the CSP; a token is still needed for data.
req GET / ""
expect 200 "GET / is the dashboard" /ui/app.js
case "$(header Content-Security-Policy)" in
"default-src 'self'"*) ok "GET / has a Content-Security-Policy of 'self'" ;;
*) not_ok "GET / has a Content-Security-Policy of 'self'" "$HEAD" ;;
esac
req GET /ui/app.js ""
expect 200 "GET /ui/app.js needs no token"
# --path-as-is: curl would otherwise tidy the ".." away before sending.
req GET /ui/../firma.db "" "" --path-as-is
expect 404 "a path outside the embedded files is 404"
req GET /ui/%2e%2e/firma.db "" "" --path-as-is
expect 404 "an encoded one too"
req GET /v1/org ""
expect 401 "the API still needs a token"
req GET /v1/company "$VIEWER"
expect 200 "GET /v1/company with a viewer token"
[ "$(jget role)" = viewer ] && ok "it gives the token's role" || not_ok "the viewer's role" "$BODY"

# Restarts the server on the same port when the browser test asks (the
# page's event stream must resume), adding a task while it is down: the
# answer is "ok" or what went wrong.
restart() {
    local why=ok
    kill "$SERVE"
    wait "$SERVE" || why="the server stopped with exit $?: $(tail -5 "$T/serve.err")"
    "$FIRMA" --as ana task add "$(cat "$T/restart-please")" >/dev/null || why="firma task add failed"
    local was=$HP
    api_start "${SERVE_ARGS[@]}" --listen "${was#http://}" # the last --listen wins
    [ "$HP" = "$was" ] || why="the server did not start again on ${was#http://}: $(tail -5 "$T/serve.err")"
    echo "$why" >"$T/restarted.tmp"
    mv "$T/restarted.tmp" "$T/restarted"
}

mkdir -p "$ART"
FIRMA_URL=$HP FIRMA_TOKEN=$TOKEN VIEWER_TOKEN=$VIEWER CONTROL_DIR=$T ARTIFACTS=$ART \
    CHROMIUM=$CHROMIUM TAP_START=$n \
    timeout 90 node "$BROWSER_DIR/dashboard.test.js" >"$T/node.out" 2>"$T/node.err" &
NODE=$!
while kill -0 "$NODE" 2>/dev/null; do
    if [ -f "$T/restart-please" ] && [ ! -f "$T/restarted" ]; then restart; fi
    sleep 0.1
done
wait "$NODE"
rc=$?
cat "$T/node.out"
nodes_ok=$(grep -c '^ok ' "$T/node.out")
nodes_bad=$(grep -c '^not ok ' "$T/node.out")
n=$((n + nodes_ok + nodes_bad))
nfail=$((nfail + nodes_bad))
if [ "$rc" -ne 0 ] && [ "$nodes_bad" -eq 0 ]; then
    not_ok "the browser test ended cleanly" "exit $rc: $(tail -20 "$T/node.err")"
fi

kill $SERVE
wait $SERVE
RC=$?
[ "$RC" -eq 0 ] && ok "the server stops on SIGTERM" || not_ok "server stop" "exit $RC: $(tail -5 "$T/serve.err")"
trap 'rm -rf "$T"' EXIT
finish
