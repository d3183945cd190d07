/*
 * firma bench store: figures for the store, printed, never asserted.
 *
 *   agents hired per second   each hire is one transaction with its org-chart
 *                             checks and audit event, as `firma hire` does it
 *   bytes on disk per agent   database file growth / agents (after a WAL checkpoint)
 *   tasks added per second    and bytes per task, likewise
 *   org chart render time     text rendering of the whole chart, best of 3
 *
 * firma bench runtime and firma bench timers: see their usage below.
 *
 * Runs in a fresh temporary database, removed afterwards.
 */
#include "cli/bench.h"
#include "cli/cli.h"
#include "firma/runtime.h"

#include <sqlite3.h>

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t fm__bench_disk_bytes(const char *db)
{
    struct stat st;
    int64_t n = stat(db, &st) == 0 ? (int64_t)st.st_size : 0;
    char *wal = fm_xasprintf("%s-wal", db);
    if (stat(wal, &st) == 0)
        n += (int64_t)st.st_size;
    free(wal);
    return n;
}

int fm__bench_scratch_make(fm_cli *c, fm_bench_scratch *s)
{
    const char *tmp = getenv("TMPDIR");
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s/firma-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir)) {
        s->dir[0] = '\0';
        return fm_error_set(&c->err, FM_EIO, "cannot make a temporary directory under %s",
                            tmp && *tmp ? tmp : "/tmp");
    }
    s->db = fm_xasprintf("%s/bench.db", s->dir);
    s->scenario = fm_xasprintf("%s/scenario.yaml", s->dir);
    s->workspaces = fm_xasprintf("%s/ws", s->dir);
    c->db_path = s->db;
    return FM_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    return remove(path) == 0 ? 0 : -1;
}

void fm__bench_scratch_remove(fm_cli *c, fm_bench_scratch *s)
{
    fm_store_close(c->store);
    c->store = NULL;
    c->db_path = NULL;
    if (s->dir[0] && nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "firma bench: could not remove %s\n", s->dir);
    free(s->db);
    free(s->scenario);
    free(s->workspaces);
    memset(s, 0, sizeof *s);
}

/* Closing the store checkpoints the WAL into the main file. */
int fm__bench_reopen(fm_cli *c)
{
    fm_store_close(c->store);
    c->store = NULL;
    return cli_open(c);
}

int fm__bench_company(fm_cli *c)
{
    fm_company_spec spec;
    memset(&spec, 0, sizeof spec);
    fm_company_init(&spec.company);
    spec.company.name = fm_xstrdup("bench");
    spec.company.budget.usd_micro = 1000000000;
    spec.members = fm_xcalloc(1, sizeof *spec.members);
    spec.n_members = 1;
    spec.members[0].handle = fm_xstrdup("owner");
    spec.members[0].role = FM_ROLE_OWNER;
    fm_id id;
    int rc = fm_company_import(c->store, "bench", &spec, NULL, &id, &c->err);
    if (rc == FM_OK)
        rc = c->store->ops->company_get(c->store, id, &c->company, &c->err);
    fm_spec_release(&spec);
    return rc;
}

/* Hires agents a1..aN in a tree where agent i reports to agent i/fanout
 * (agent 1 to the owner), so the chart is as deep as a real company's. */
static int hire_many(fm_cli *c, int n, int fanout, double *per_sec)
{
    uint64_t t0 = fm_mono_ns();
    int rc = FM_OK;
    for (int i = 1; rc == FM_OK && i <= n; i++) {
        fm_agent a;
        memset(&a, 0, sizeof a);
        a.company_id = c->company.id;
        a.handle = fm_xasprintf("a%d", i);
        a.title = fm_xasprintf("Agent %d", i);
        a.model = fm_xstrdup("sim");
        a.autonomy = 1;
        a.budget.usd_micro = 1000000;
        char mgr[32];
        snprintf(mgr, sizeof mgr, i == 1 ? "owner" : "a%d", i / fanout ? i / fanout : 1);
        rc = fm_agent_hire(c->store, "bench", &a, mgr, &c->err);
        fm_agent_release(&a);
    }
    *per_sec = n / ((double)(fm_mono_ns() - t0) / 1e9);
    return rc;
}

static int add_tasks(fm_cli *c, int n, double *per_sec)
{
    uint64_t t0 = fm_mono_ns();
    int rc = FM_OK;
    for (int i = 1; rc == FM_OK && i <= n; i++) {
        fm_task t;
        memset(&t, 0, sizeof t);
        t.company_id = c->company.id;
        t.title = fm_xasprintf("Write the weekly report, part %d", i);
        t.body = fm_xstrdup("Collect the numbers from last week and summarise them for the "
                            "owner in five bullet points.");
        t.priority = 2;
        t.assignee = 1 + i % 10;
        rc = fm_task_add(c->store, "bench", &t, &c->err);
        fm_task_release(&t);
    }
    *per_sec = n / ((double)(fm_mono_ns() - t0) / 1e9);
    return rc;
}

static int bench_store(fm_cli *c, int agents, int tasks)
{
    fm_bench_scratch sc;
    double hire_rate = 0, task_rate = 0;
    int64_t s0 = 0, s1 = 0, s2 = 0;
    int rc = fm__bench_scratch_make(c, &sc);
    const char *db = sc.db;
    if (rc == FM_OK)
        rc = cli_open(c);
    if (rc == FM_OK)
        rc = fm__bench_company(c);
    if (rc == FM_OK && (rc = fm__bench_reopen(c)) == FM_OK) {
        s0 = fm__bench_disk_bytes(db);
        rc = hire_many(c, agents, 10, &hire_rate);
    }
    if (rc == FM_OK && (rc = fm__bench_reopen(c)) == FM_OK) {
        s1 = fm__bench_disk_bytes(db);
        rc = add_tasks(c, tasks, &task_rate);
    }
    if (rc == FM_OK && (rc = fm__bench_reopen(c)) == FM_OK)
        s2 = fm__bench_disk_bytes(db);
    double best = 1e99;
    size_t bytes = 0;
    for (int round = 0; rc == FM_OK && round < 3; round++) {
        fm_buf out = FM_BUF_INIT;
        uint64_t t0 = fm_mono_ns();
        rc = fm__org_render(c, &out, false);
        double ms = (double)(fm_mono_ns() - t0) / 1e6;
        best = ms < best ? ms : best;
        bytes = out.len;
        fm_buf_release(&out);
    }
    if (rc == FM_OK) {
        printf("firma bench store (SQLite, WAL, synchronous=NORMAL; one transaction per change "
               "with its audit event)\n");
        printf("  agents hired:        %d at %.0f agents/s\n", agents, hire_rate);
        printf("  bytes on disk/agent: %.0f (incl. its audit event)\n",
               (double)(s1 - s0) / agents);
        printf("  tasks added:         %d at %.0f tasks/s (%.1f us each)\n", tasks, task_rate,
               1e6 / task_rate);
        printf("  bytes on disk/task:  %.0f (incl. its audit event)\n", (double)(s2 - s1) / tasks);
        printf("  org chart render:    %d agents in %.1f ms (best of 3, %zu bytes of text)\n",
               agents, best, bytes);
    }
    fm__bench_scratch_remove(c, &sc);
    return rc;
}

/* ---- runtime ------------------------------------------------------------------- */

int64_t fm__bench_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void runtime_idle(fm_runtime *rt, void *arg)
{
    fm_runtime_stop(rt);
    *(bool *)arg = true;
}

int fm__bench_scenario(const char *path, int64_t agents)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return FM_EIO;
    fprintf(f, "agents:\n");
    for (int64_t i = 1; i <= agents; i++)
        fprintf(f, "  a%lld:\n    - on: task\n      turns:\n"
                   "        - call: [{note: {key: k, text: working}}]\n"
                   "        - call: [{complete_task: {result: done}}]\n"
                   "        - say: Done.\n", (long long)i);
    return fclose(f) == 0 ? FM_OK : FM_EIO;
}

/* Gives every agent a budget and the note/complete grants the scenario uses. */
static int equip(fm_cli *c, int agents)
{
    int rc = FM_OK;
    for (int i = 1; rc == FM_OK && i <= agents; i++) {
        fm_agent a;
        char h[32];
        snprintf(h, sizeof h, "a%d", i);
        if ((rc = cli_agent(c, h, &a)) != FM_OK)
            break;
        a.budget.usd_micro = 1000000000;
        for (size_t g = 0; g < a.n_grants; g++)
            fm_grant_release(&a.grants[g]);
        free(a.grants);
        a.grants = fm_xcalloc(2, sizeof *a.grants);
        a.n_grants = 2;
        a.grants[0] = (fm_grant){.tool = fm_xstrdup("note"), .ceiling = FM_CEIL_ALLOW};
        a.grants[1] = (fm_grant){.tool = fm_xstrdup("complete_task"), .ceiling = FM_CEIL_ALLOW};
        rc = fm_agent_update(c->store, "bench", &a, NULL, &c->err);
        fm_agent_release(&a);
    }
    return rc;
}

int fm__bench_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int fm__bench_sql_values(fm_cli *c, const char *sql, int64_t arg, int64_t **out, size_t *n_out)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int64_t *v = NULL;
    size_t n = 0, cap = 0;
    int s = sqlite3_open_v2(c->db_path, &db, SQLITE_OPEN_READONLY, NULL);
    if (s == SQLITE_OK && (s = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(st) > 0)
            sqlite3_bind_int64(st, 1, arg);
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == cap)
                v = fm_xreallocarray(v, cap = cap ? cap * 2 : 256, sizeof *v);
            v[n++] = sqlite3_column_int64(st, 0);
        }
    }
    int rc = s == SQLITE_DONE ? FM_OK
                              : fm_error_set(&c->err, FM_ESTORE, "reading the figures: %s",
                                             db ? sqlite3_errmsg(db) : sqlite3_errstr(s));
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (n)
        qsort(v, n, sizeof *v, fm__bench_cmp_i64);
    *out = v;
    *n_out = n;
    return rc;
}

double fm__bench_quantile(const int64_t *v, size_t n, double p)
{
    return n ? (double)v[(size_t)(p * (double)(n - 1))] : 0;
}

static int bench_runtime(fm_cli *c, int agents, int tasks, int idle_agents)
{
    fm_bench_scratch sc;
    double rate;
    int rc = fm__bench_scratch_make(c, &sc);
    const char *scen = sc.scenario, *ws = sc.workspaces;
    if (rc == FM_OK)
        rc = cli_open(c);
    if (rc == FM_OK)
        rc = fm__bench_company(c);
    if (rc == FM_OK)
        rc = hire_many(c, agents + idle_agents, 10, &rate);
    if (rc == FM_OK)
        rc = equip(c, agents);
    if (rc == FM_OK)
        rc = fm__bench_scenario(scen, agents);
    for (int i = 0; rc == FM_OK && i < tasks; i++) {
        fm_task t = {.company_id = c->company.id, .title = fm_xasprintf("job %d", i),
                     .assignee = 1 + i % agents, .priority = 2};
        rc = fm_task_add(c->store, "bench", &t, &c->err);
        fm_task_release(&t);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    fm_runtime *rt = NULL;
    fm_runtime_config cfg = {.workspaces = ws, .scenario = scen, .until_idle = true,
                             .poll_ms = 5, .max_runs = 64};
    int64_t rss0 = fm__bench_rss_kib();
    bool idle = false;
    uint64_t t0 = fm_mono_ns();
    if (rc == FM_OK)
        rc = fm_runtime_new(&loop, c->store, &cfg, &rt, &c->err);
    if (rc == FM_OK && (rc = fm_runtime_start(rt, runtime_idle, &idle, &c->err)) == FM_OK)
        while (!idle && uv_run(&loop, UV_RUN_ONCE))
            ;
    double secs = (double)(fm_mono_ns() - t0) / 1e9;
    int64_t rss1 = fm__bench_rss_kib();
    fm_runtime_stats st = rt ? *fm_runtime_stats_get(rt) : (fm_runtime_stats){0};
    if (rt)
        fm_runtime_free(rt);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    double p50 = 0, p99 = 0;
    static const char lat[] =
        "SELECT (SELECT min(started_at) FROM steps s WHERE s.run_id=r.id AND s.kind='model') - "
        "(SELECT min(created_at) FROM wakes w WHERE w.run_id=r.id) FROM runs r";
    static const char step_us[] = "SELECT ended_at - started_at FROM steps WHERE kind='model'";
    double m50 = 0;
    int64_t *v = NULL;
    size_t n = 0;
    if (rc == FM_OK && (rc = fm__bench_sql_values(c, lat, 0, &v, &n)) == FM_OK) {
        p50 = fm__bench_quantile(v, n, 0.5);
        p99 = fm__bench_quantile(v, n, 0.99);
    }
    free(v);
    if (rc == FM_OK && (rc = fm__bench_sql_values(c, step_us, 0, &v, &n)) == FM_OK)
        m50 = fm__bench_quantile(v, n, 0.5);
    free(v);
    if (rc == FM_OK) {
        int64_t steps = st.model_calls + st.tool_calls;
        printf("firma bench runtime (sim model, SQLite; every step written before the next)\n");
        printf("  work:               %d tasks for %d busy agents (+%d idle agents registered)\n",
               tasks, agents, idle_agents);
        printf("  runs:               %lld done, %lld failed\n", (long long)st.runs_done,
               (long long)st.runs_failed);
        printf("  steps:              %lld (%lld model calls, %lld tool calls) in %.2f s\n",
               (long long)steps, (long long)st.model_calls, (long long)st.tool_calls, secs);
        printf("  steps per second:   %.0f\n", steps / secs);
        printf("  per step:           %.1f us of firma overhead (sim answers instantly)\n",
               secs * 1e6 / (double)(steps ? steps : 1));
        printf("  wake -> model call, loaded: p50 %.2f ms, p99 %.2f ms (all tasks exist at the "
               "start: mostly queueing behind %d concurrent runs)\n",
               p50 / 1000, p99 / 1000, cfg.max_runs);
        printf("  model call (sim):   p50 %.0f us, store writes included\n", m50);
        printf("  memory:             RSS %lld KiB before, %lld KiB after the runtime ran "
               "(idle agents live in the store, not in memory)\n",
               (long long)rss0, (long long)rss1);
        rc = fm__bench_unloaded(c, &cfg, agents);
    }
    fm__bench_scratch_remove(c, &sc);
    return rc;
}

/* ---- timers ---------------------------------------------------------------------- */

#define SEC 1000000LL

/* Registers `n` agents with an hourly heartbeat, straight into the store in
 * batches (hiring them one by one is measured by `bench store`): the first
 * `due` have a timer due just before `now`, the rest one in the next hour. */
static int timer_agents(fm_cli *c, int n, int due, int64_t now)
{
    fm_member owner;
    int rc = c->store->ops->member_find(c->store, c->company.id, "owner", &owner, &c->err);
    if (rc != FM_OK)
        return rc;
    for (int i = 0; rc == FM_OK && i < n; i++) {
        if (i % 10000 == 0 && (rc = c->store->ops->begin(c->store, &c->err)) != FM_OK)
            break;
        /* The store sets next_timer_at to created_at + heartbeat. */
        int64_t next = i < due ? now - 1 - i : now + 60 * SEC + (int64_t)i * (3000 * SEC / n);
        fm_agent ag = {.company_id = c->company.id, .handle = fm_xasprintf("t%d", i),
                       .title = fm_xstrdup("Watcher"), .manager_member = owner.id,
                       .model = fm_xstrdup("sim"), .autonomy = 1, .status = FM_AGENT_ACTIVE,
                       .schedule = {.heartbeat_s = 3600}, .created_at = next - 3600 * SEC};
        rc = c->store->ops->agent_insert(c->store, &ag, &c->err);
        fm_agent_release(&ag);
        if (rc != FM_OK || i % 10000 == 9999 || i == n - 1)
            rc = fm_store_end(c->store, rc, &c->err);
    }
    fm_member_release(&owner);
    return rc;
}

/* What finding due timers would cost without the index: a scan of every
 * agent row, through a second connection. */
static double scan_ms(const char *db_path, int64_t now)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    double best = 1e99;
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM agents NOT INDEXED WHERE next_timer_at<=?1",
                           -1, &st, NULL) == SQLITE_OK) {
        for (int round = 0; round < 3; round++) {
            uint64_t t0 = fm_mono_ns();
            sqlite3_bind_int64(st, 1, now);
            while (sqlite3_step(st) == SQLITE_ROW)
                ;
            sqlite3_reset(st);
            double ms = (double)(fm_mono_ns() - t0) / 1e6;
            best = ms < best ? ms : best;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return best < 1e99 ? best : 0;
}

static int bench_timers(fm_cli *c, int agents, int due)
{
    fm_bench_scratch sc;
    int64_t now = fm_now_us(), next = 0;
    size_t fired = 0, woke = 0;
    double next_us = 0, idle_us = 0, fire_ms = 0;
    const int rounds = 1000;
    int rc = fm__bench_scratch_make(c, &sc);
    if (rc == FM_OK)
        rc = cli_open(c);
    if (rc == FM_OK)
        rc = fm__bench_company(c);
    if (rc == FM_OK)
        rc = timer_agents(c, agents, due, now);
    uint64_t t0 = fm_mono_ns();
    for (int i = 0; rc == FM_OK && i < rounds; i++)
        rc = c->store->ops->timer_next(c->store, &next, &c->err);
    next_us = (double)(fm_mono_ns() - t0) / 1e3 / rounds;
    /* A tick when nothing is due: before the first due timer. */
    t0 = fm_mono_ns();
    for (int i = 0; rc == FM_OK && i < rounds; i++)
        rc = fm_timers_fire(c->store, now - due - 1, 0, &fired, &woke, &c->err);
    idle_us = (double)(fm_mono_ns() - t0) / 1e3 / rounds;
    if (rc == FM_OK && fired)
        rc = fm_error_set(&c->err, FM_ESTORE, "bench: %zu timers fired before any was due", fired);
    t0 = fm_mono_ns();
    if (rc == FM_OK)
        rc = fm_timers_fire(c->store, now, 0, &fired, &woke, &c->err);
    fire_ms = (double)(fm_mono_ns() - t0) / 1e6;
    if (rc == FM_OK) {
        printf("firma bench timers (SQLite; %d agents with a heartbeat, %d of them due)\n",
               agents, due);
        printf("  earliest timer (timer_next):   %.1f us (an index seek)\n", next_us);
        printf("  tick with nothing due:         %.1f us (finds nothing; takes no write lock)\n",
               idle_us);
        printf("  fire the due timers:           %zu in %.1f ms, %.1f us each (%zu wakes "
               "written, next times set, one transaction)\n",
               fired, fire_ms, fire_ms * 1000 / (double)(fired ? fired : 1), woke);
        printf("  for comparison, a scan of all agents for due timers: %.1f ms\n",
               scan_ms(sc.db, now));
    }
    fm__bench_scratch_remove(c, &sc);
    return rc;
}

static int bench_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos == 1 && strcmp(a->pos[0], "timers") == 0) {
        int64_t agents = 100000, due = 1000;
        const char *v;
        if ((v = cli_opt(a, "agents")) &&
            (fm_parse_i64(v, &agents) != FM_OK || agents < 1 || agents > 10000000))
            return cli_usage_error("bench", "--agents %s: want a number from 1 to 10000000", v);
        if ((v = cli_opt(a, "due")) && (fm_parse_i64(v, &due) != FM_OK || due < 0 ||
                                         due > agents))
            return cli_usage_error("bench", "--due %s: want a number from 0 to --agents", v);
        int rc = bench_timers(c, (int)agents, (int)due);
        return rc == FM_OK ? 0 : cli_fail(c, rc);
    }
    if (a->n_pos == 1 && strcmp(a->pos[0], "runtime") == 0) {
        int64_t agents = 50, tasks = 2000, idle = 0;
        const char *v;
        if ((v = cli_opt(a, "agents")) && (fm_parse_i64(v, &agents) != FM_OK || agents < 1))
            return cli_usage_error("bench", "--agents %s: want a number >= 1", v);
        if ((v = cli_opt(a, "tasks")) && (fm_parse_i64(v, &tasks) != FM_OK || tasks < 1))
            return cli_usage_error("bench", "--tasks %s: want a number >= 1", v);
        if ((v = cli_opt(a, "idle")) && (fm_parse_i64(v, &idle) != FM_OK || idle < 0))
            return cli_usage_error("bench", "--idle %s: want a number >= 0", v);
        int rc = bench_runtime(c, (int)agents, (int)tasks, (int)idle);
        return rc == FM_OK ? 0 : cli_fail(c, rc);
    }
    if (a->n_pos == 1 && strcmp(a->pos[0], "idle") == 0)
        return fm__bench_idle_cmd(c, a);
    if (a->n_pos == 1 && strcmp(a->pos[0], "inflight") == 0)
        return fm__bench_inflight_cmd(c, a);
    if (a->n_pos == 1 && strcmp(a->pos[0], "process") == 0)
        return fm__bench_process_cmd(c, a);
    if (a->n_pos != 1 || strcmp(a->pos[0], "store") != 0)
        return cli_usage_error("bench", "want: bench store [--agents N] [--tasks N] | "
                                        "bench runtime [--agents N] [--tasks N] [--idle N] | "
                                        "bench timers [--agents N] [--due N] | "
                                        "bench idle [--agents N] [--busy N] [--tasks N] | "
                                        "bench inflight [--requests N] [--hold-ms MS] | "
                                        "bench process [--agents P] [--tasks N]");
    int64_t agents = 100000, tasks = 20000;
    const char *v;
    if ((v = cli_opt(a, "agents")) && (fm_parse_i64(v, &agents) != FM_OK || agents < 10))
        return cli_usage_error("bench", "--agents %s: want a number >= 10", v);
    if ((v = cli_opt(a, "tasks")) && (fm_parse_i64(v, &tasks) != FM_OK || tasks < 1))
        return cli_usage_error("bench", "--tasks %s: want a number >= 1", v);
    int rc = bench_store(c, (int)agents, (int)tasks);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

const cli_command cmd_bench = {
    .name = "bench",
    .summary = "print performance figures",
    .usage = "usage: firma bench store [--agents N] [--tasks N]\n"
             "       firma bench runtime [--agents N] [--tasks N] [--idle N]\n"
             "       firma bench timers [--agents N] [--due N]\n"
             "       firma bench idle [--agents N] [--busy N] [--tasks N]\n"
             "       firma bench inflight [--requests N] [--hold-ms MS]\n"
             "       firma bench process [--agents P] [--tasks N]\n\n"
             "timers: N agents with a heartbeat, M of them due (default 100,000 and 1,000):\n"
             "prints the cost of finding the earliest timer, of a tick with nothing due, of\n"
             "firing the due ones into wakes, and of a scan of all agents for comparison.\n\n"
             "runtime: agents work through tasks with the instant sim model; prints steps\n"
             "per second, firma's overhead per step, wake-to-model-call latency p50/p99\n"
             "loaded (all tasks at once) and unloaded (tasks arriving one at a time), and\n"
             "memory with N idle agents registered (default 50 agents, 2,000 tasks).\n\n"
             "idle: hires N idle agents in bulk (default 100,000; 1,000,000 took 15-25 s on\n"
             "2 cores), then a few busy agents work; prints the hire rate, bytes on disk per\n"
             "agent, the scheduler's ready-agents query time and the runtime's memory per\n"
             "idle agent.\n\n"
             "inflight: N runs (default 2,000) each make one model call to a local server\n"
             "that holds every request until all N have arrived; prints the calls held in\n"
             "flight, firma's memory per call in flight and the time for all N to finish.\n\n"
             "Measures, in a temporary database: agents hired per second, bytes on disk\n"
             "per agent and per task, tasks added per second, and the time to render the\n"
             "org chart of N agents (default 100,000 agents, 20,000 tasks).\n",
    .options = "agents=,tasks=,idle=,due=,busy=,requests=,hold-ms=",
    .run = bench_run,
};
