/*
 * The runtime benchmarks `firma bench` dispatches to beyond `store` and
 * `runtime` (cmd_bench_runtime.c), and the model server that holds requests
 * open for `bench inflight` (bench_hold.c). They print figures; nothing here
 * asserts a time.
 */
#ifndef FIRMA_CLI_BENCH_H
#define FIRMA_CLI_BENCH_H

#include "cli/cli.h"
#include "firma/runtime.h"

#include <sys/types.h>

/* Shared by the benches (cmd_bench.c): RSS in KiB; closing and reopening the
 * store (which checkpoints the WAL); a company "bench" with an owner and a
 * $1,000 budget, made c->company; the sim scenario of agents a1..aN (a note,
 * then complete_task, then done); qsort's comparison of int64_t. */
int64_t fm__bench_rss_kib(void);
int fm__bench_reopen(fm_cli *c);
int fm__bench_company(fm_cli *c);
int fm__bench_scenario(const char *path, int64_t agents);
int fm__bench_cmp_i64(const void *a, const void *b);
/* The values of a one-column query, ?1 (if it has one) bound to `arg`,
 * sorted, into *out (the caller frees it). Figures are read back with SQL
 * through a second, read-only connection: the bench owns the file. */
int fm__bench_sql_values(fm_cli *c, const char *sql, int64_t arg, int64_t **out, size_t *n);
/* The p-th quantile of sorted values (nearest rank below); 0 for none. */
double fm__bench_quantile(const int64_t *v, size_t n, double p);
/* The database file and its WAL, in bytes. */
int64_t fm__bench_disk_bytes(const char *db);

/* Where a bench works: a fresh directory under $TMPDIR (else /tmp) and the
 * paths in it of the database (made c->db_path), the sim scenario and the
 * agents' workspaces (neither made). fm__bench_scratch_remove closes
 * c->store and removes the directory with all it holds; call it on success
 * and failure alike (after a failed make too). */
typedef struct fm_bench_scratch {
    char dir[4096];
    char *db, *scenario, *workspaces;
} fm_bench_scratch;
int fm__bench_scratch_make(fm_cli *c, fm_bench_scratch *s);
void fm__bench_scratch_remove(fm_cli *c, fm_bench_scratch *s);

/* `firma bench idle` and `firma bench inflight`: parse their options, run,
 * print; return the exit code. */
int fm__bench_idle_cmd(fm_cli *c, cli_args *a);
int fm__bench_inflight_cmd(fm_cli *c, cli_args *a);
/* `firma bench process`: process-agent wakes per second against the raw
 * and the sandboxed spawn rate (cmd_bench_process.c). */
int fm__bench_process_cmd(fm_cli *c, cli_args *a);

/* For `firma bench runtime`, after its loaded run: tasks arrive one at a
 * time at random intervals, far below capacity, into the company the loaded
 * run used (agents 1..agents hold the scenario of `cfg`); prints the
 * wake-to-model-call latency with the bench's poll interval and with serve's
 * default one. Uses and leaves open c->store. */
int fm__bench_unloaded(fm_cli *c, const fm_runtime_config *cfg, int agents);

/* ---- the hold server ------------------------------------------------------------- */

/* A child process serving OpenAI Chat Completions on 127.0.0.1:port. It holds
 * every request open until `want` have arrived, then `linger_ms` longer,
 * then answers them all (text, no tool calls) and any later one at once. If
 * fewer than `want` arrive within `max_wait_ms` of its start, it answers
 * those it holds anyway. */
typedef struct fm_hold_server {
    pid_t pid;      /* 0 once stopped */
    int port;
    int report_fd;  /* read end of the pipe the child reports on */
} fm_hold_server;

/* What the server saw, reported once, just before it answers. */
typedef struct fm_hold_report {
    int arrived;        /* requests received before it answered */
    int held_peak;      /* the most requests held open at once */
    int conns_peak;     /* the most connections open at once */
    double spread_ms;   /* from the first request's arrival to the last's */
    int64_t answered_us;/* when it answered them (fm_now_us, wall clock) */
} fm_hold_report;

/* Forks the server. Call it before the process opens anything it should not
 * share with a child (the store, a loop, curl). The child dies with its
 * parent (PR_SET_PDEATHSIG), so a crashed bench leaves no process behind. */
int fm__hold_start(int want, int64_t linger_ms, int64_t max_wait_ms, fm_hold_server *out,
                   fm_error *err);
/* The report, if the child has written it (does not block). */
bool fm__hold_report(fm_hold_server *h, fm_hold_report *out);
/* Kills and reaps the child; closes the pipe. Safe to call twice. */
void fm__hold_stop(fm_hold_server *h);

#endif
