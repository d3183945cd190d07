/*
 * firma bench idle, firma bench inflight, and the unloaded half of firma
 * bench runtime's latency figure: the runtime's figures issue 3 asks for
 * beyond steps per second. They print what they measured; nothing asserts a
 * time.
 *
 *   idle       N idle agents registered (10^6 in under two minutes): hire
 *              rate, bytes on disk per agent, the scheduler's ready-agents
 *              query, and the process's memory while a few busy agents
 *              work, i.e. what an idle agent costs the runtime (nothing: it
 *              lives in the store)
 *   inflight   N runs, each one model call to a local server that holds
 *              every request open until all N have arrived: the calls one
 *              process holds in flight, its memory per call, the time for
 *              all N to complete
 *   unloaded   tasks arriving one at a time, far below capacity: wake to
 *              model call p50/p99 without queueing behind other runs
 *
 * Each bench works in a fresh temporary directory (under $TMPDIR, else
 * /tmp) and removes it, and stops the server process it started, on success
 * and on failure alike.
 */
#include "cli/bench.h"

#include "firma/audit.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define FANOUT 10      /* agent i reports to agent i/FANOUT: a chart as deep as a real one */
#define BATCH 10000    /* hires per transaction on the bulk path */

/* ---- measuring ------------------------------------------------------------------ */

static double mib(int64_t kib)
{
    return (double)kib / 1024.0;
}

static int sql_int(fm_cli *c, const char *sql, int64_t arg, int64_t *out)
{
    int64_t *v;
    size_t n;
    int rc = fm__bench_sql_values(c, sql, arg, &v, &n);
    *out = n ? v[0] : 0;
    free(v);
    return rc;
}

/* ---- hiring in bulk --------------------------------------------------------------- */

typedef struct bulk {
    int64_t n;          /* agents a1..aN */
    int64_t busy;       /* a1..aBUSY get a large budget and the scenario's grants */
    const char *model;
    fm_id owner;        /* the owner member's id */
    fm_id *ids;         /* ids[i] is agent ai's id (heap, n + 1) */
} bulk;

/* One hire, writing exactly the rows fm_agent_hire writes: the agent and its
 * agent.hire audit event with the same details. The op's checks hold by
 * construction and are skipped: handles a1..aN are fresh, the fields valid,
 * and agent i reports to agent i/FANOUT, hired before it (a1 to the owner),
 * so the chart is a tree with the owner at its root. bulk_check verifies it
 * afterwards. */
static int hire_one(fm_cli *c, bulk *b, int64_t i)
{
    static const fm_grant busy_grants[] = {{.tool = (char *)"note", .ceiling = FM_CEIL_ALLOW},
                                           {.tool = (char *)"complete_task",
                                            .ceiling = FM_CEIL_ALLOW}};
    char handle[32], title[48], mgr[32], obj[48];
    int64_t m = i / FANOUT ? i / FANOUT : 1;
    snprintf(handle, sizeof handle, "a%lld", (long long)i);
    snprintf(title, sizeof title, "Agent %lld", (long long)i);
    snprintf(mgr, sizeof mgr, i == 1 ? "owner" : "a%lld", (long long)m);
    snprintf(obj, sizeof obj, "agent:%s", handle);
    bool busy = i <= b->busy;
    fm_agent a = {.company_id = c->company.id, .handle = handle, .title = title,
                  .model = (char *)b->model, .autonomy = 1,
                  .budget.usd_micro = busy ? 1000000000 : 1000000,
                  .grants = busy ? (fm_grant *)busy_grants : NULL, .n_grants = busy ? 2 : 0};
    if (i == 1)
        a.manager_member = b->owner;
    else
        a.manager_agent = b->ids[m];
    int rc = c->store->ops->agent_insert(c->store, &a, &c->err);
    if (rc != FM_OK)
        return rc;
    b->ids[i] = a.id;
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i}", "title", title, "manager", mgr,
                          "kind", fm_agent_kind_name(a.kind), "model", a.model,
                          "budget_usd_micro", (json_int_t)a.budget.usd_micro, "autonomy",
                          a.autonomy);
    char *details = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    rc = fm_audit_append(c->store, c->company.id, "bench", "agent.hire", obj, details, &c->err);
    free(details);
    return rc;
}

/* Hires b->n agents, BATCH per transaction (`firma hire` commits each one on
 * its own; the rows are the same). */
static int bulk_hire(fm_cli *c, bulk *b, double *secs)
{
    fm_member owner;
    int rc = c->store->ops->member_find(c->store, c->company.id, "owner", &owner, &c->err);
    if (rc != FM_OK)
        return rc;
    b->owner = owner.id;
    fm_member_release(&owner);
    b->ids = fm_xcalloc((size_t)b->n + 1, sizeof *b->ids);
    uint64_t t0 = fm_mono_ns();
    for (int64_t i = 1; rc == FM_OK && i <= b->n; i += BATCH) {
        rc = c->store->ops->begin(c->store, &c->err);
        for (int64_t j = i; rc == FM_OK && j < i + BATCH && j <= b->n; j++)
            rc = hire_one(c, b, j);
        rc = fm_store_end(c->store, rc, &c->err);
    }
    *secs = (double)(fm_mono_ns() - t0) / 1e9;
    return rc;
}

/* The org-chart invariants the op would have checked, over the whole table:
 * every agent reports to exactly one manager of its company, an agent hired
 * before it (so no cycles) or a member. *bad counts the agents that do not. */
static int bulk_check(fm_cli *c, int64_t *bad, int64_t *events)
{
    static const char orphans[] =
        "SELECT count(*) FROM agents a WHERE NOT ("
        " (a.manager_member IS NULL AND EXISTS (SELECT 1 FROM agents m WHERE"
        "   m.id = a.manager_agent AND m.id < a.id AND m.company_id = a.company_id"
        "   AND m.status = 'active'))"
        " OR (a.manager_agent IS NULL AND EXISTS (SELECT 1 FROM members m WHERE"
        "   m.id = a.manager_member AND m.company_id = a.company_id)))";
    static const char hires[] =
        "SELECT count(*) FROM audit_events WHERE company_id = ?1 AND action = 'agent.hire'";
    int rc = sql_int(c, orphans, 0, bad);
    return rc == FM_OK ? sql_int(c, hires, c->company.id, events) : rc;
}

/* Each of a1..aN works a task with two tool calls and three model calls. */
static int add_task(fm_cli *c, fm_id assignee, int64_t i)
{
    fm_task t = {.company_id = c->company.id, .title = fm_xasprintf("job %lld", (long long)i),
                 .assignee = assignee, .priority = 2};
    int rc = fm_task_add(c->store, "bench", &t, &c->err);
    fm_task_release(&t);
    return rc;
}

/* ---- running the runtime under watch ------------------------------------------------ */

typedef struct watch watch;
struct watch {
    /* in */
    fm_runtime_config cfg;            /* until_idle is forced on */
    void (*on_start)(watch *w);       /* optional: starts handles of one's own on w->loop */
    bool (*finished)(watch *w);       /* optional: at idle, stop only once this says so
                                       * (and has closed those handles) */
    void *arg;
    int calls_target;                 /* note when calls in flight first reach this */
    /* out */
    uv_loop_t loop;
    fm_runtime *rt;
    uv_timer_t sampler;               /* every 10 ms: RSS, calls in flight */
    uint64_t t0;
    int64_t t0_us;                    /* the start on the wall clock, as the store's stamps */
    fm_runtime_stats stats;
    double secs;                      /* start to idle */
    double target_secs;               /* < 0: not seen */
    int64_t rss_before, rss_peak, rss_at_target, rss_after;
    bool idle;
};

static void watch_idle(fm_runtime *rt, void *arg)
{
    watch *w = arg;
    if (w->finished && !w->finished(w))
        return;
    fm_runtime_stop(rt);
    w->idle = true;
}

static void sample(uv_timer_t *t)
{
    watch *w = t->data;
    int64_t rss = fm__bench_rss_kib();
    double now = (double)(fm_mono_ns() - w->t0) / 1e9;
    const fm_runtime_stats *st = fm_runtime_stats_get(w->rt);
    if (rss > w->rss_peak)
        w->rss_peak = rss;
    if (w->calls_target && w->target_secs < 0 && st->calls_in_flight_peak >= w->calls_target) {
        w->target_secs = now;
        w->rss_at_target = rss;
    }
}

static int run_watched(fm_cli *c, watch *w)
{
    w->cfg.until_idle = true;
    w->target_secs = -1;
    uv_loop_init(&w->loop);
    uv_timer_init(&w->loop, &w->sampler);
    w->sampler.data = w;
    w->rss_before = w->rss_peak = fm__bench_rss_kib();
    w->t0 = fm_mono_ns();
    w->t0_us = fm_now_us();
    int rc = fm_runtime_new(&w->loop, c->store, &w->cfg, &w->rt, &c->err);
    if (rc == FM_OK && (rc = fm_runtime_start(w->rt, watch_idle, w, &c->err)) == FM_OK) {
        if (w->on_start)
            w->on_start(w);
        uv_timer_start(&w->sampler, sample, 10, 10);
        while (!w->idle && uv_run(&w->loop, UV_RUN_ONCE))
            ;
    }
    w->secs = (double)(fm_mono_ns() - w->t0) / 1e9;
    w->rss_after = fm__bench_rss_kib();
    if (w->rt) {
        w->stats = *fm_runtime_stats_get(w->rt);
        fm_runtime_free(w->rt);
        w->rt = NULL;
    }
    uv_close((uv_handle_t *)&w->sampler, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    return rc;
}

/* ---- bench idle ------------------------------------------------------------------- */

/* The scheduler's one query per tick (wake_ready, as the tick calls it),
 * median of 21, in microseconds. */
static double ready_query_us(fm_cli *c, size_t *rows)
{
    double t[21];
    for (size_t k = 0; k < 21; k++) {
        fm_wake *v = NULL;
        size_t n = 0;
        fm_error err;
        uint64_t t0 = fm_mono_ns();
        c->store->ops->wake_ready(c->store, fm_now_us(), 4096, &v, &n, &err);
        t[k] = (double)(fm_mono_ns() - t0) / 1e3;
        fm_wake_list_free(v, n);
        *rows = n;
    }
    for (size_t i = 1; i < 21; i++) /* insertion sort: 21 values */
        for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[10];
}

typedef struct idle_figures {
    double hire_secs;
    int64_t bad, events, bytes;
    double q_busy_us, q_idle_us;
    size_t q_busy_rows, q_idle_rows;
    int64_t rss_start, rss_hired;
    watch w;
} idle_figures;

static void print_idle(int64_t idle, int64_t busy, int64_t tasks, const idle_figures *f)
{
    int64_t n = idle + busy;
    const watch *w = &f->w;
    int64_t steps = w->stats.model_calls + w->stats.tool_calls;
    printf("firma bench idle (SQLite, WAL; %lld idle agents registered, %lld busy agents "
           "working %lld tasks with the instant sim model)\n",
           (long long)idle, (long long)busy, (long long)tasks);
    printf("  hired:              %lld agents in %.1f s, %.0f agents/s (%d per transaction: "
           "the rows firma hire writes, agent and audit event)\n",
           (long long)n, f->hire_secs, (double)n / f->hire_secs, BATCH);
    printf("  org chart checked:  %lld agents outside a tree rooted at the owner; %lld "
           "agent.hire audit events\n", (long long)f->bad, (long long)f->events);
    printf("  bytes on disk/agent: %.0f (incl. its audit event; %.0f MiB in all)\n",
           (double)f->bytes / (double)n, (double)f->bytes / 1048576.0);
    printf("  ready-agents query: %.0f us with %lld wakes pending (%zu agents ready), %.0f us "
           "with none (the store work of one scheduler tick; median of 21)\n",
           f->q_busy_us, (long long)tasks, f->q_busy_rows, f->q_idle_us);
    printf("  busy work:          %lld runs done, %lld failed; %lld steps in %.2f s, %.0f "
           "steps/s\n", (long long)w->stats.runs_done, (long long)w->stats.runs_failed,
           (long long)steps, w->secs, (double)steps / w->secs);
    printf("  RSS:                %.1f MiB at start, %.1f MiB after hiring; runtime: %.1f MiB "
           "before, %.1f MiB peak, %.1f MiB after\n",
           mib(f->rss_start), mib(f->rss_hired), mib(w->rss_before), mib(w->rss_peak),
           mib(w->rss_after));
    printf("  runtime memory per idle agent: %.3f bytes (the runtime's whole RSS growth / idle "
           "agents, an upper bound: idle agents live in the store, not in memory)\n",
           idle ? (double)(w->rss_peak - w->rss_before) * 1024.0 / (double)idle : 0.0);
}

static int bench_idle(fm_cli *c, int64_t idle, int64_t busy, int64_t tasks)
{
    fm_bench_scratch s;
    idle_figures f;
    memset(&f, 0, sizeof f);
    f.rss_start = fm__bench_rss_kib();
    bulk b = {.n = busy + idle, .busy = busy, .model = "sim"};
    int64_t s0 = 0;
    int rc = fm__bench_scratch_make(c, &s);
    if (rc == FM_OK && (rc = cli_open(c)) == FM_OK && (rc = fm__bench_company(c)) == FM_OK &&
        (rc = fm__bench_reopen(c)) == FM_OK) {
        s0 = fm__bench_disk_bytes(s.db);
        rc = bulk_hire(c, &b, &f.hire_secs);
    }
    if (rc == FM_OK)
        rc = bulk_check(c, &f.bad, &f.events);
    if (rc == FM_OK && (rc = fm__bench_reopen(c)) == FM_OK) {
        f.bytes = fm__bench_disk_bytes(s.db) - s0;
        rc = fm__bench_scenario(s.scenario, busy);
    }
    for (int64_t i = 0; rc == FM_OK && i < tasks; i++)
        rc = add_task(c, b.ids[1 + i % busy], i);
    free(b.ids);
    f.rss_hired = fm__bench_rss_kib();
    if (rc == FM_OK) {
        f.q_busy_us = ready_query_us(c, &f.q_busy_rows);
        f.w.cfg = (fm_runtime_config){.workspaces = s.workspaces, .scenario = s.scenario,
                                      .poll_ms = 5, .max_runs = 64};
        rc = run_watched(c, &f.w);
    }
    if (rc == FM_OK) {
        f.q_idle_us = ready_query_us(c, &f.q_idle_rows);
        print_idle(idle, busy, tasks, &f);
    }
    fm__bench_scratch_remove(c, &s);
    return rc;
}

int fm__bench_idle_cmd(fm_cli *c, cli_args *a)
{
    int64_t agents = 100000, busy = 10, tasks = 200;
    const char *v;
    if ((v = cli_opt(a, "agents")) && (fm_parse_i64(v, &agents) != FM_OK || agents < 0 ||
                                       agents > 10000000))
        return cli_usage_error("bench", "--agents %s: want a number of idle agents, 0 to 10^7", v);
    if ((v = cli_opt(a, "busy")) && (fm_parse_i64(v, &busy) != FM_OK || busy < 1 || busy > 1000))
        return cli_usage_error("bench", "--busy %s: want a number from 1 to 1000", v);
    if ((v = cli_opt(a, "tasks")) && (fm_parse_i64(v, &tasks) != FM_OK || tasks < 1))
        return cli_usage_error("bench", "--tasks %s: want a number >= 1", v);
    int rc = bench_idle(c, agents, busy, tasks);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

/* ---- bench inflight ------------------------------------------------------------- */

/* Runs hold a socket each: lift the soft limit on open files to the hard one
 * (this process only; the server child inherits it). */
static int64_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = old;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1048576 : (int64_t)rl.rlim_cur;
}

/* When the calls were made and the runs ended, from the store's stamps: a
 * held call's model step is written when it is answered, with started_at
 * the instant the provider was called. */
typedef struct inflight_times {
    int64_t first_call_us, last_call_us, last_end_us;
} inflight_times;

static int inflight_times_get(fm_cli *c, inflight_times *t)
{
    int rc = sql_int(c, "SELECT min(started_at) FROM steps WHERE kind='model'", 0,
                     &t->first_call_us);
    if (rc == FM_OK)
        rc = sql_int(c, "SELECT max(started_at) FROM steps WHERE kind='model'", 0,
                     &t->last_call_us);
    if (rc == FM_OK)
        rc = sql_int(c, "SELECT max(ended_at) FROM runs", 0, &t->last_end_us);
    return rc;
}

static void print_inflight(int n, int64_t linger_ms, double setup_secs, const watch *w,
                           const inflight_times *t, const fm_hold_report *hr, bool have_report,
                           int64_t nofile)
{
    double t0 = (double)w->t0_us;
    printf("firma bench inflight (%d runs, each one model call to local:hold, an "
           "OpenAI-compatible server in a child process that holds every request until all "
           "%d have arrived, then %lld ms more; max_runs = max_calls = %d)\n",
           n, n, (long long)linger_ms, n);
    printf("  setup:              %d agents and %d tasks in %.1f s; open files allowed: %lld\n",
           n, n, setup_secs, (long long)nofile);
    printf("  in flight:          peak %d model calls (firma's count, "
           "stats.calls_in_flight_peak)\n", w->stats.calls_in_flight_peak);
    if (have_report && hr->arrived >= n)
        printf("  the server saw:     %d requests held open at once over %d connections "
               "(the first to the last arrived over %.2f s)\n",
               hr->held_peak, hr->conns_peak, hr->spread_ms / 1000.0);
    else if (have_report)
        printf("  the server saw:     %d requests held open at once over %d connections, "
               "then stopped waiting with %d of %d arrived (firma was still starting runs; "
               "it answered the rest at once)\n",
               hr->held_peak, hr->conns_peak, hr->arrived, n);
    else
        printf("  the server saw:     (no report: it never answered)\n");
    printf("  ramp:               the first model call %.2f s, the last %.2f s after the "
           "runtime started\n", ((double)t->first_call_us - t0) / 1e6,
           ((double)t->last_call_us - t0) / 1e6);
    printf("  completed:          %lld runs done, %lld failed; all %.2f s after the runtime "
           "started", (long long)w->stats.runs_done, (long long)w->stats.runs_failed,
           ((double)t->last_end_us - t0) / 1e6);
    if (have_report)
        printf(", %.2f s after the server answered",
               ((double)t->last_end_us - (double)hr->answered_us) / 1e6);
    printf("\n");
    int64_t at = w->target_secs >= 0 ? w->rss_at_target : w->rss_peak;
    printf("  firma's RSS:        %.1f MiB before the runtime, %.1f MiB when all calls were "
           "in flight, %.1f MiB peak: %.1f KiB per call in flight\n",
           mib(w->rss_before), mib(at), mib(w->rss_peak),
           (double)(w->rss_peak - w->rss_before) / (double)n);
}

static int bench_inflight(fm_cli *c, int n, int64_t linger_ms)
{
    int64_t nofile = raise_nofile();
    if (n + 256 > nofile)
        return fm_error_set(&c->err, FM_EINVAL, "--requests %d needs about %d open files; this "
                            "process may open %lld (ulimit -Hn)", n, n + 256, (long long)nofile);
    /* The server forks before the store, a loop or curl exist in this
     * process. It answers at the latest 110 s after its start: before the
     * OpenAI client's 120 s timeout on a request, all of which start later. */
    fm_hold_server hs;
    int rc = fm__hold_start(n, linger_ms, 110000, &hs, &c->err);
    if (rc != FM_OK)
        return rc;
    fm_bench_scratch s;
    watch w = {.calls_target = n};
    bulk b = {.n = n, .model = "local:hold"};
    inflight_times times = {0};
    double hire_secs = 0;
    uint64_t t0 = fm_mono_ns();
    rc = fm__bench_scratch_make(c, &s);
    if (rc == FM_OK && (rc = cli_open(c)) == FM_OK && (rc = fm__bench_company(c)) == FM_OK)
        rc = bulk_hire(c, &b, &hire_secs);
    for (int64_t i = 1; rc == FM_OK && i <= n; i++)
        rc = add_task(c, b.ids[i], i);
    free(b.ids);
    double setup = (double)(fm_mono_ns() - t0) / 1e9;
    /* The runtime makes its OpenAI-compatible client from the environment
     * (docs/providers.md); this process ends with the bench. No key goes to
     * the local server. */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", hs.port);
    setenv("FIRMA_MODEL_URL", url, 1);
    unsetenv("OPENAI_API_KEY");
    if (rc == FM_OK) {
        w.cfg = (fm_runtime_config){.workspaces = s.workspaces, .poll_ms = 5, .max_runs = n,
                                    .max_calls = n, .max_tokens = 64};
        rc = run_watched(c, &w);
    }
    fm_hold_report hr;
    bool have = fm__hold_report(&hs, &hr);
    fm__hold_stop(&hs);
    if (rc == FM_OK)
        rc = inflight_times_get(c, &times);
    if (rc == FM_OK)
        print_inflight(n, linger_ms, setup, &w, &times, &hr, have, nofile);
    fm__bench_scratch_remove(c, &s);
    return rc;
}

int fm__bench_inflight_cmd(fm_cli *c, cli_args *a)
{
    int64_t n = 2000, linger = 1000;
    const char *v;
    if ((v = cli_opt(a, "requests")) && (fm_parse_i64(v, &n) != FM_OK || n < 1 || n > 100000))
        return cli_usage_error("bench", "--requests %s: want a number from 1 to 100000", v);
    if ((v = cli_opt(a, "hold-ms")) && (fm_parse_i64(v, &linger) != FM_OK || linger < 0 ||
                                        linger > 60000))
        return cli_usage_error("bench", "--hold-ms %s: want 0 to 60000", v);
    int rc = bench_inflight(c, (int)n, linger);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

/* ---- wake-to-model-call latency, unloaded ----------------------------------------------- */

#define SPREAD_WAKES 200
#define SPREAD_GAP_MS 20 /* mean; each gap is uniform in 0..2x */

typedef struct spread {
    fm_cli *c;
    uv_timer_t arrive;
    int agents, added;
    uint64_t rng;
    bool closed;
    int rc;
} spread;

static uint64_t next_gap_ms(spread *sp)
{
    sp->rng ^= sp->rng << 13; /* xorshift64: a fixed seed, the same arrivals every time */
    sp->rng ^= sp->rng >> 7;
    sp->rng ^= sp->rng << 17;
    return sp->rng % (2 * SPREAD_GAP_MS + 1);
}

static void arrive(uv_timer_t *t)
{
    spread *sp = t->data;
    /* Agents a1..aN have ids 1..N in the loaded run's fresh database. */
    sp->rc = add_task(sp->c, 1 + sp->added % sp->agents, sp->added);
    if (sp->rc == FM_OK && ++sp->added < SPREAD_WAKES)
        uv_timer_start(t, arrive, next_gap_ms(sp), 0);
}

static void spread_start(watch *w)
{
    spread *sp = w->arg;
    uv_timer_init(&w->loop, &sp->arrive);
    sp->arrive.data = sp;
    uv_timer_start(&sp->arrive, arrive, next_gap_ms(sp), 0);
}

static bool spread_finished(watch *w)
{
    spread *sp = w->arg;
    if (sp->rc == FM_OK && sp->added < SPREAD_WAKES)
        return false;
    if (!sp->closed)
        uv_close((uv_handle_t *)&sp->arrive, NULL);
    sp->closed = true;
    return true;
}

typedef struct latency {
    double total[2], pickup[2], start[2]; /* p50, p99 in microseconds */
    size_t n;
} latency;

/* Per run of this phase (id > ?1): its wake's creation to the start of its
 * first model call (the model step's started_at is taken just before the
 * provider is called), split at the run's start (the scheduler's pickup). */
static int latency_of(fm_cli *c, int64_t after_run, latency *out)
{
    static const char total[] =
        "SELECT (SELECT min(started_at) FROM steps s WHERE s.run_id=r.id AND s.kind='model') - "
        "(SELECT min(created_at) FROM wakes w WHERE w.run_id=r.id) FROM runs r WHERE r.id > ?1";
    static const char pickup[] =
        "SELECT r.started_at - (SELECT min(created_at) FROM wakes w WHERE w.run_id=r.id) "
        "FROM runs r WHERE r.id > ?1";
    static const char start[] =
        "SELECT (SELECT min(started_at) FROM steps s WHERE s.run_id=r.id AND s.kind='model') - "
        "r.started_at FROM runs r WHERE r.id > ?1";
    const char *sql[3] = {total, pickup, start};
    double *dst[3] = {out->total, out->pickup, out->start};
    int rc = FM_OK;
    for (int k = 0; rc == FM_OK && k < 3; k++) {
        int64_t *v;
        size_t n;
        rc = fm__bench_sql_values(c, sql[k], after_run, &v, &n);
        dst[k][0] = fm__bench_quantile(v, n, 0.5);
        dst[k][1] = fm__bench_quantile(v, n, 0.99);
        out->n = n;
        free(v);
    }
    return rc;
}

static int spread_phase(fm_cli *c, const fm_runtime_config *cfg, int agents, int64_t poll_ms,
                        latency *out)
{
    int64_t last_run = 0;
    int rc = sql_int(c, "SELECT coalesce(max(id), 0) FROM runs", 0, &last_run);
    spread sp = {.c = c, .agents = agents, .rng = 0x9e3779b97f4a7c15ULL};
    watch w = {.cfg = *cfg, .on_start = spread_start, .finished = spread_finished, .arg = &sp};
    w.cfg.poll_ms = poll_ms;
    if (rc == FM_OK)
        rc = run_watched(c, &w);
    if (rc == FM_OK)
        rc = sp.rc;
    if (rc == FM_OK)
        rc = latency_of(c, last_run, out);
    return rc;
}

int fm__bench_unloaded(fm_cli *c, const fm_runtime_config *cfg, int agents)
{
    latency fast, serve;
    int rc = spread_phase(c, cfg, agents, cfg->poll_ms, &fast);
    if (rc == FM_OK)
        rc = spread_phase(c, cfg, agents, 50, &serve);
    if (rc != FM_OK)
        return rc;
    printf("  wake -> model call, unloaded: %d tasks arriving one at a time, %d ms apart on "
           "average, as the only work:\n", SPREAD_WAKES, SPREAD_GAP_MS);
    const latency *l[2] = {&fast, &serve};
    int64_t polls[2] = {cfg->poll_ms, 50};
    for (int k = 0; k < 2; k++)
        printf("    poll every %3lld ms: p50 %.2f ms, p99 %.2f ms (pickup by the scheduler "
               "p50 %.2f / p99 %.2f ms; run start to model call p50 %.2f / p99 %.2f ms)\n",
               (long long)polls[k], l[k]->total[0] / 1000, l[k]->total[1] / 1000,
               l[k]->pickup[0] / 1000, l[k]->pickup[1] / 1000, l[k]->start[0] / 1000,
               l[k]->start[1] / 1000);
    return FM_OK;
}
