/*
 * The runtime's scheduler: one libuv loop, a poll timer, the runs in flight.
 *
 * Wakes live in the store; memory holds only the runs in flight. Each tick
 * reads the pending wakes oldest first and starts a run for every agent that
 * has one, is active, and is not already running — one run per agent; wakes
 * that arrive during a run wait and are taken together by the agent's next
 * run (coalescing). Oldest-first across agents, and going back to the store
 * after every run, keeps one busy agent from starving the rest. A global cap
 * bounds the runs in flight.
 *
 * Timers (heartbeat, cron) live in the store too: each tick first fires the
 * due ones (an index seek; O(due), never a scan of the agents), which turns
 * them into timer wakes for the same scheduler, then arms the poll timer
 * early if the next one comes before the next poll.
 */
#include "runtime/run_int.h"

#include "firma/base.h"
#include "firma/ops.h"
#include "firma/sim.h"
#include "firma/tools.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void defaults(fm_runtime_config *c)
{
    fm_tool_limits_defaults(&c->tools);
    if (c->max_model_calls <= 0)
        c->max_model_calls = 16;
    if (c->max_repeats <= 0)
        c->max_repeats = 3;
    if (c->max_wall_us <= 0)
        c->max_wall_us = 10LL * 60 * 1000000;
    if (c->max_tokens <= 0)
        c->max_tokens = 2048;
    if (c->max_runs <= 0)
        c->max_runs = 64;
    if (c->poll_ms <= 0)
        c->poll_ms = 50;
    if (c->max_calls <= 0)
        c->max_calls = 32;
}

int fm_runtime_new(uv_loop_t *loop, fm_store *store, const fm_runtime_config *cfg,
                   fm_runtime **out, fm_error *err)
{
    fm_runtime *rt = fm_xcalloc(1, sizeof *rt);
    rt->loop = loop;
    rt->store = store;
    rt->cfg = *cfg;
    defaults(&rt->cfg);
    if (!rt->cfg.workspaces)
        rt->cfg.workspaces = "workspaces";
    /* Workspaces are mounted into sandboxes, which need an absolute path. */
    mkdir(rt->cfg.workspaces, 0700);
    rt->workspaces = realpath(rt->cfg.workspaces, NULL);
    if (!rt->workspaces) {
        int e = errno;
        free(rt);
        return fm_error_set(err, FM_EIO, "workspaces folder %s: %s", cfg->workspaces
                            ? cfg->workspaces : "workspaces", strerror(e));
    }
    rt->cfg.workspaces = rt->workspaces;
    if (rt->cfg.scenario) {
        int rc = fm_sim_new(loop, rt->cfg.scenario, &rt->sim, err);
        if (rc != FM_OK) {
            free(rt);
            return rc;
        }
    }
    fm__metrics_init(&rt->metrics);
    uv_timer_init(loop, &rt->poll);
    rt->poll.data = rt;
    uv_timer_init(loop, &rt->gate_timer);
    rt->gate_timer.data = rt;
    *out = rt;
    return FM_OK;
}

static run **bucket_of(fm_runtime *rt, fm_id agent)
{
    return &rt->by_agent[(uint64_t)agent % RUN_BUCKETS];
}

void fm__runtime_attach(fm_runtime *rt, run *r)
{
    r->next = rt->runs;
    if (r->next)
        r->next->prevp = &r->next;
    r->prevp = &rt->runs;
    rt->runs = r;
    rt->n_runs++;
    run **b = bucket_of(rt, r->agent);
    r->bnext = *b;
    *b = r;
}

/* A run ended: look for more work at once (its agent may have new wakes). */
void fm__runtime_detach(fm_runtime *rt, run *r)
{
    *r->prevp = r->next;
    if (r->next)
        r->next->prevp = r->prevp;
    rt->n_runs--;
    for (run **p = bucket_of(rt, r->agent); *p; p = &(*p)->bnext)
        if (*p == r) {
            *p = r->bnext;
            break;
        }
    if (!rt->stopping && rt->started)
        uv_timer_start(&rt->poll, rt->poll.timer_cb, 0, rt->cfg.poll_ms);
}

static bool running(fm_runtime *rt, fm_id agent)
{
    for (const run *r = *bucket_of(rt, agent); r; r = r->bnext)
        if (r->agent == agent)
            return true;
    return false;
}

/* ---- timers ------------------------------------------------------------------------ */

/* Timers due per tick: a full batch means more may be due, and the next
 * tick comes at once, so a backlog drains without holding the loop. */
#define TIMER_BATCH 512

/* Fires the agents' timers that are due: each becomes a timer wake in the
 * store, which this same tick's wake_ready then sees like any other wake.
 * Returns how long until the next tick should come for a timer (ms), or -1
 * when the poll interval will do. */
static int64_t fire_timers(fm_runtime *rt)
{
    size_t fired, woke;
    int64_t next = 0;
    fm_error err;
    if (fm_timers_fire(rt->store, fm_now_us(), TIMER_BATCH, &fired, &woke, &err) != FM_OK)
        return -1; /* a busy database: try again at the next poll */
    rt->stats.timer_wakes += (int64_t)woke;
    fm_series_add(rt->metrics.timer_wakes, (double)woke);
    if (fired == TIMER_BATCH)
        return 0;
    /* Timers are in the store, not in memory: ask for the earliest. Another
     * process may set an earlier one later; the poll interval bounds how
     * late that one can be seen. */
    if (rt->store->ops->timer_next(rt->store, &next, &err) != FM_OK || !next)
        return -1;
    int64_t ms = (next - fm_now_us() + 999) / 1000;
    return ms < 0 ? 0 : ms < rt->cfg.poll_ms ? ms : -1;
}

/* Runs started per tick at most, so a burst of work does not hold the loop
 * (and every request of the runs already started) for one long callback. */
#define TICK_STARTS 64

static void tick(uv_timer_t *t)
{
    fm_runtime *rt = t->data;
    if (rt->stopping)
        return;
    /* Not with until_idle: a schedule never runs out, and a run that drains
     * the queue must not depend on the minute it happens in. */
    int64_t timer_ms = rt->cfg.until_idle ? -1 : fire_timers(rt);
    fm_wake *v = NULL;
    size_t n = 0;
    fm_error err;
    bool startable = false;
    /* One row per ready agent, oldest wake first: the store does the
     * grouping, so a tick costs one query however many wakes wait. */
    size_t started = 0;
    if (rt->store->ops->wake_ready(rt->store, fm_now_us(), 4096, &v, &n, &err) == FM_OK) {
        for (size_t i = 0; i < n && !rt->stopping; i++) {
            if (running(rt, v[i].agent_id))
                continue;
            startable = true;
            if (rt->n_runs >= (size_t)rt->cfg.max_runs || started == TICK_STARTS)
                break;
            fm__run_start(rt, v[i].company_id, v[i].agent_id);
            started++;
        }
    }
    fm_wake_list_free(v, n);
    /* A full batch: tick again on the next loop turn, after the runs just
     * started have sent their requests. */
    if (started == TICK_STARTS && rt->n_runs < (size_t)rt->cfg.max_runs && !rt->stopping)
        timer_ms = 0;
    if (timer_ms >= 0 && !rt->stopping) /* the next tick comes early */
        uv_timer_start(&rt->poll, tick, (uint64_t)timer_ms, rt->cfg.poll_ms);
    if (rt->cfg.until_idle && !startable && rt->n_runs == 0 && rt->idle)
        rt->idle(rt, rt->idle_arg);
}

int fm_runtime_start(fm_runtime *rt, void (*idle)(fm_runtime *rt, void *arg), void *arg,
                     fm_error *err)
{
    rt->idle = idle;
    rt->idle_arg = arg;
    fm_run *open = NULL;
    size_t n = 0;
    int rc = rt->store->ops->run_list_open(rt->store, &open, &n, err);
    if (rc != FM_OK)
        return rc;
    /* One process per database for now (the PostgreSQL store will add
     * leases): every run left "running" was this database's and is resumed.
     * Waiting runs stay in the store until their approval wakes them. */
    for (size_t i = 0; i < n; i++) {
        if (open[i].status != FM_RUN_RUNNING && open[i].status != FM_RUN_QUEUED)
            continue;
        /* A model call the stop cut off left its reservation open. */
        int64_t usd;
        fm_error e;
        if (fm_budget_settle_orphan(rt->store, open[i].company_id, open[i].agent_id,
                                    open[i].id, &usd, &e) == FM_OK && usd) {
            rt->stats.orphans_settled++;
            fm_series_inc(rt->metrics.orphans_settled);
        }
        fm__run_resume(rt, &open[i]);
    }
    fm_run_list_free(open, n);
    rt->started = true;
    uv_timer_start(&rt->poll, tick, 0, rt->cfg.poll_ms);
    return FM_OK;
}

/* Kills the tools running on the loop: each one's run then stops, its wakes
 * kept. (Model calls in flight are left to finish: they end their runs at
 * the next step.) */
static void cancel_jobs(fm_runtime *rt)
{
    run *next;
    for (run *r = rt->runs; r; r = next) {
        next = r->next;
        if (r->job)
            fm__run_cancel_job(r);
        else if (r->child)
            fm__process_kill(r); /* the run stops once the program is gone */
    }
}

static run *gate_pop(call_gate *g);

/* Runs waiting for a model-call slot stop at once, their wakes kept. */
static void drain_gates(fm_runtime *rt)
{
    for (size_t i = 0; i < sizeof rt->gates / sizeof rt->gates[0]; i++)
        while (rt->gates[i].head)
            fm__run_stop(gate_pop(&rt->gates[i]),
                         "stopped: firma is shutting down (its wakes are kept)");
}

void fm_runtime_stop(fm_runtime *rt)
{
    rt->stopping = true;
    uv_timer_stop(&rt->poll);
    uv_timer_stop(&rt->gate_timer);
    cancel_jobs(rt);
    drain_gates(rt);
}

static void free_provider(fm_provider **p)
{
    if (*p)
        (*p)->ops->free(*p);
    *p = NULL;
}

static void runtime_closed(uv_handle_t *h)
{
    fm_runtime *rt = h->data;
    fm__metrics_release(&rt->metrics);
    free(rt->workspaces);
    free(rt);
}

static void gate_closed(uv_handle_t *h)
{
    fm_runtime *rt = h->data;
    uv_close((uv_handle_t *)&rt->poll, runtime_closed);
}

void fm_runtime_free(fm_runtime *rt)
{
    if (!rt)
        return;
    rt->stopping = true;
    cancel_jobs(rt);
    drain_gates(rt);
    /* Freeing the providers ends every call in flight, and so every run. */
    free_provider(&rt->sim);
    free_provider(&rt->openai);
    free_provider(&rt->anthropic);
    for (run *r = rt->runs; r; r = r->next)
        fm__process_orphan(r);
    while (rt->runs)
        fm__run_stop(rt->runs, "stopped: firma is shutting down (its wakes are kept)");
    uv_close((uv_handle_t *)&rt->gate_timer, gate_closed);
}

const fm_runtime_stats *fm_runtime_stats_get(const fm_runtime *rt)
{
    return &rt->stats;
}

/* ---- providers -------------------------------------------------------------------- */

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int fm__runtime_provider(fm_runtime *rt, const char *model, fm_provider **out, char **name,
                         fm_error *err)
{
    const char *colon = model ? strchr(model, ':') : NULL;
    if (model && strcmp(model, "sim") == 0) {
        if (!rt->sim)
            return fm_error_set(err, FM_EINVAL, "the agent's model is sim, but no scenario was "
                                                "given (firma serve --scenario FILE)");
        *out = rt->sim;
        *name = fm_xstrdup("sim");
        return FM_OK;
    }
    if (!colon)
        return fm_error_set(err, FM_EINVAL, "model '%s' names no provider: write openai:NAME, "
                                            "anthropic:NAME, local:NAME or sim", model ? model : "");
    /* The client's own cap on requests in flight matches the runtime's: the
     * gate (fm__runtime_gate_enter) is the one that queues. */
    fm_provider_config pc = {.max_concurrency = rt->cfg.max_calls};
    int rc = FM_OK;
    if (strncmp(model, "anthropic:", 10) == 0) {
        pc.base_url = env_or("FIRMA_ANTHROPIC_URL", "https://api.anthropic.com");
        pc.api_key = getenv("ANTHROPIC_API_KEY");
        if (!rt->anthropic)
            rc = fm_anthropic_new(rt->loop, &pc, &rt->anthropic, err);
        *out = rt->anthropic;
    } else if (strncmp(model, "openai:", 7) == 0 || strncmp(model, "local:", 6) == 0) {
        pc.base_url = env_or("FIRMA_MODEL_URL", "https://api.openai.com/v1");
        pc.api_key = getenv("OPENAI_API_KEY");
        if (!rt->openai)
            rc = fm_openai_new(rt->loop, &pc, &rt->openai, err);
        *out = rt->openai;
    } else {
        return fm_error_set(err, FM_EINVAL, "unknown provider in model '%s'", model);
    }
    if (rc == FM_OK)
        *name = fm_xstrdup(colon + 1);
    return rc;
}

/* ---- model-call slots ------------------------------------------------------------ */

static call_gate *gate_of(fm_runtime *rt, const run *r)
{
    if (r->provider == rt->openai)
        return &rt->gates[1];
    if (r->provider == rt->anthropic)
        return &rt->gates[2];
    return &rt->gates[0];
}

static int calls_in_flight(const fm_runtime *rt)
{
    int n = 0;
    for (size_t i = 0; i < sizeof rt->gates / sizeof rt->gates[0]; i++)
        n += rt->gates[i].in_flight;
    return n;
}

/* The oldest run waiting at g (there is one), off the queue. */
static run *gate_pop(call_gate *g)
{
    run *r = g->head;
    g->head = r->gate_next;
    if (!g->head)
        g->tail = NULL;
    return r;
}

static void take_slot(fm_runtime *rt, call_gate *g, run *r)
{
    g->in_flight++;
    r->gated = true;
    int n = calls_in_flight(rt);
    if (n > rt->stats.calls_in_flight_peak)
        rt->stats.calls_in_flight_peak = n;
}

bool fm__runtime_gate_enter(fm_runtime *rt, run *r)
{
    call_gate *g = gate_of(rt, r);
    if (r->gated)
        return true;
    if (g->in_flight >= rt->cfg.max_calls || g->head) {
        r->gate_next = NULL;
        if (g->tail)
            g->tail->gate_next = r;
        else
            g->head = r;
        g->tail = r;
        rt->stats.calls_queued++;
        fm__metrics_queued(r);
        return false;
    }
    take_slot(rt, g, r);
    return true;
}

/* Admits waiting runs while their provider has slots, oldest first. */
static void admit(uv_timer_t *t)
{
    fm_runtime *rt = t->data;
    for (size_t i = 0; i < sizeof rt->gates / sizeof rt->gates[0] && !rt->stopping; i++) {
        call_gate *g = &rt->gates[i];
        while (g->head && g->in_flight < rt->cfg.max_calls && !rt->stopping) {
            run *r = gate_pop(g);
            take_slot(rt, g, r);
            fm__run_next_call(r);
        }
    }
}

void fm__runtime_gate_leave(fm_runtime *rt, run *r)
{
    if (!r->gated)
        return;
    r->gated = false;
    call_gate *g = gate_of(rt, r);
    g->in_flight--;
    if (g->head && !rt->stopping)
        uv_timer_start(&rt->gate_timer, admit, 0, 0);
}

/* ---- budgets --------------------------------------------------------------------- */

void fm__runtime_budget_stop(fm_runtime *rt, run *r, const char *why)
{
    size_t n;
    fm_error err;
    fm_agent_set_status(rt->store, "system", r->company, r->agent_rec.handle, false,
                        FM_AGENT_PAUSED, &n, &err);
    fm_tool_ctx tc = {.store = rt->store, .company = r->company, .agent = r->agent, .run = r->id,
                      .handle = r->agent_rec.handle};
    fm_id id;
    fm_approval_hold(rt->store, &tc, "budget", "{}", why, &id, &err);
}
