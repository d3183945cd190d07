/*
 * firma bench store: figures for the store, printed, never asserted.
 *
 *   agents hired per second   each hire is one transaction with its org-chart
 *                             checks and audit event, as `firma hire` does it
 *   bytes on disk per agent   database file growth / agents (after a WAL checkpoint)
 *   tasks added per second    and bytes per task, likewise
 *   org chart render time     text rendering of the whole chart, best of 3
 *
 * Runs in a fresh temporary database, removed afterwards.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t file_size(const char *path)
{
    struct stat st;
    int64_t n = stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
    char *wal = fm_xasprintf("%s-wal", path);
    if (stat(wal, &st) == 0)
        n += (int64_t)st.st_size;
    free(wal);
    return n;
}

/* Closing the store checkpoints the WAL into the main file. */
static int reopen(fm_cli *c)
{
    fm_store_close(c->store);
    c->store = NULL;
    return cli_open(c);
}

static int make_company(fm_cli *c)
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
    char dir[] = "/tmp/firma-bench-XXXXXX";
    if (!mkdtemp(dir))
        return fm_error_set(&c->err, FM_EIO, "cannot make a temporary directory");
    char *db = fm_xasprintf("%s/bench.db", dir);
    c->db_path = db;
    double hire_rate = 0, task_rate = 0;
    int64_t s0 = 0, s1 = 0, s2 = 0;
    int rc = cli_open(c);
    if (rc == FM_OK)
        rc = make_company(c);
    if (rc == FM_OK && (rc = reopen(c)) == FM_OK) {
        s0 = file_size(db);
        rc = hire_many(c, agents, 10, &hire_rate);
    }
    if (rc == FM_OK && (rc = reopen(c)) == FM_OK) {
        s1 = file_size(db);
        rc = add_tasks(c, tasks, &task_rate);
    }
    if (rc == FM_OK && (rc = reopen(c)) == FM_OK)
        s2 = file_size(db);
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
    fm_store_close(c->store);
    c->store = NULL;
    char *cmd[] = {"-wal", "-shm", ""};
    for (size_t i = 0; i < 3; i++) {
        char *p = fm_xasprintf("%s%s", db, cmd[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
    free(db);
    return rc;
}

static int bench_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 1 || strcmp(a->pos[0], "store") != 0)
        return cli_usage_error("bench", "want: bench store [--agents N] [--tasks N]");
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
    .usage = "usage: firma bench store [--agents N] [--tasks N]\n\n"
             "Measures, in a temporary database: agents hired per second, bytes on disk\n"
             "per agent and per task, tasks added per second, and the time to render the\n"
             "org chart of N agents (default 100,000 agents, 20,000 tasks).\n",
    .options = "agents=,tasks=",
    .run = bench_run,
};
