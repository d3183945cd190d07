# The runtime benchmarks, small, so they cannot rot: each runs to its end,
# prints its figures, and leaves no temporary directory and no process
# behind. Figures are printed, never compared: this machine's speed is not a
# test result.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/tmp"
export TMPDIR=$T/tmp

run bench idle --agents 2000 --busy 3 --tasks 20
expect_rc 0 "firma bench idle runs"
expect_out "hired:              2003 agents" "it hires the idle and the busy agents"
expect_out "org chart checked:  0 agents outside a tree rooted at the owner; 2003 agent.hire" \
    "the bulk hires keep the org chart a tree and write their audit events"
expect_out "bytes on disk/agent" "it prints bytes per agent"
expect_out "ready-agents query:" "and the scheduler's query time"
expect_out "20 runs done, 0 failed" "the busy agents do their work"
expect_out "runtime memory per idle agent" "and the memory per idle agent"

run bench inflight --requests 40 --hold-ms 137
expect_rc 0 "firma bench inflight runs"
expect_out "peak 40 model calls" "firma holds all 40 calls in flight at once"
expect_out "the server saw:     40 requests held open at once" "and so does the server"
expect_out "40 runs done, 0 failed" "every run ends when the server answers"
expect_out "KiB per call in flight" "it prints memory per call"
# Its hold server is a forked child with the same command line, working in
# $T: one left behind here is this run's, not another suite's on the machine.
sleep 0.2
left=$(for p in $(pgrep -f -- "bench inflight --requests 40 --hold-ms 137"); do
    [ "$(readlink "/proc/$p/cwd")" = "$(pwd -P)" ] && echo "$p"; done)
check "no server process is left behind" test -z "$left"

run bench inflight --requests 1000000000
expect_rc 2 "too many requests is a usage error"

run bench runtime --agents 5 --tasks 40
expect_rc 0 "firma bench runtime runs"
expect_out "wake -> model call, loaded:" "it prints the loaded latency"
expect_out "poll every   5 ms: p50" "the unloaded latency with the bench's poll"
expect_out "poll every  50 ms: p50" "and with serve's default poll"

run bench process --agents 2 --tasks 10
expect_rc 0 "firma bench process runs"
expect_out "processes/s (posix_spawn" "it prints the raw spawn rate"
expect_out "; 0 failed)" "the sandboxed programs all ran"
expect_out "(10 done, 0 failed" "and the process agents did all ten tasks"
expect_out "firma / sandboxed:" "and firma's share"
run bench process --agents 0
expect_rc 2 "zero agents is a usage error"

check "no temporary directory is left behind" test -z "$(ls -A "$T/tmp")"
finish
