/*
 * The runtime's metrics: the families it registers (docs/metrics.md lists
 * them), the hooks run.c and runtime.c call next to their fm_runtime_stats
 * increments, and the gauges read when the metrics are rendered.
 *
 * Labels come only from bounded sets: run outcomes, step kinds, provider
 * names (sim, openai, anthropic), built-in tool names (a name the model made
 * up is "unknown") and tool-call decisions. Series of fixed label sets are
 * looked up once, here, so the hot path only adds.
 */
#include "runtime/run_int.h"

#include "firma/base.h"

#include <assert.h>
#include <stdlib.h>

/* Model-call latency in seconds: 1 ms (a local sim) to 120 s (a long
 * completion from a slow provider, retries included). */
static const double call_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                     0.5,   1,      2.5,   5,    10,    20,   30,   60, 120};

static const char *const run_outcomes[] = {"done", "waiting", "failed", "stopped"};

/* Registration cannot fail: the names are constants and each is new. */
static fm_metric *counter(fm_metrics *g, const char *name, const char *help,
                          const char *const *labels, size_t n)
{
    fm_metric *f = NULL;
    int rc = fm_metrics_counter(g, name, help, labels, n, &f, NULL);
    assert(rc == FM_OK && f);
    (void)rc;
    return f;
}

static fm_series *counter1(fm_metrics *g, const char *name, const char *help)
{
    return fm_metric_series(counter(g, name, help, NULL, 0), NULL, 0);
}

static fm_metric *gauge(fm_metrics *g, const char *name, const char *help,
                        const char *const *labels, size_t n)
{
    fm_metric *f = NULL;
    int rc = fm_metrics_gauge(g, name, help, labels, n, &f, NULL);
    assert(rc == FM_OK && f);
    (void)rc;
    return f;
}

static fm_series *gauge1(fm_metrics *g, const char *name, const char *help)
{
    return fm_metric_series(gauge(g, name, help, NULL, 0), NULL, 0);
}

static const char *const outcome_l[] = {"outcome"}, *const kind_l[] = {"kind"},
                         *const provider_l[] = {"provider"},
                         *const provider_outcome_l[] = {"provider", "outcome"},
                         *const provider_kind_l[] = {"provider", "kind"},
                         *const tool_decision_l[] = {"tool", "decision"};

static void register_counters(rt_metrics *m)
{
    fm_metrics *g = m->reg;
    m->runs_started = counter1(g, "firma_runs_started_total",
                               "Runs started for agents with wakes.");
    m->runs_resumed = counter1(g, "firma_runs_resumed_total",
                               "Runs a stop or crash left running, resumed from their last step.");
    fm_metric *f = counter(g, "firma_runs_finished_total", "Runs ended, by outcome: done, "
                           "waiting (for an approval), failed, stopped (wakes given back).",
                           outcome_l, 1);
    for (size_t i = 0; i < 4; i++)
        m->runs_finished[i] = fm_metric_series(f, &run_outcomes[i], 1);
    f = counter(g, "firma_steps_total", "Steps written, by kind: model, tool, process.", kind_l,
                1);
    for (size_t i = 0; i < FM_STEP_KIND_N; i++)
        m->steps[i] = fm_metric_series(f, &fm_step_kind_names[i], 1);
    m->model_calls = counter(g, "firma_model_calls_total", "Model calls ended, by provider and "
                             "outcome: ok, error, canceled.", provider_outcome_l, 2);
    int rc = fm_metrics_histogram(g, "firma_model_call_duration_seconds", "Model call latency "
                                  "in seconds, from request to answer or error.", provider_l, 1,
                                  call_bounds, sizeof call_bounds / sizeof call_bounds[0],
                                  &m->model_seconds, NULL);
    assert(rc == FM_OK);
    (void)rc;
    m->tokens = counter(g, "firma_model_tokens_total", "Tokens of answered model calls, by "
                        "provider and kind: input (cached included), cached, output.",
                        provider_kind_l, 2);
    m->spend = counter(g, "firma_model_spend_usd_micro_total", "Spend on answered model calls "
                       "in micro-dollars, by provider.", provider_l, 1);
    m->calls_queued = counter(g, "firma_model_calls_queued_total", "Model calls that waited "
                              "for a provider slot.", provider_l, 1);
    m->tool_calls = counter(g, "firma_tool_calls_total", "Tool calls, by tool and decision: "
                            "allowed, denied, held (for approval), invalid (bad arguments).",
                            tool_decision_l, 2);
    m->budget_refused = counter1(g, "firma_budget_refusals_total", "Model calls refused because "
                                 "the agent's or the company's budget was spent.");
    m->timer_wakes = counter1(g, "firma_timer_wakes_total",
                              "Wakes written by agents' timers (heartbeat, cron).");
    m->orphans_settled = counter1(g, "firma_orphan_reservations_settled_total",
                                  "Budget reservations a stop left open, settled at start.");
}

static void register_gauges(rt_metrics *m)
{
    fm_metrics *g = m->reg;
    m->runs_in_flight = gauge1(g, "firma_runs_in_flight", "Runs in flight in this process.");
    m->calls_in_flight = gauge(g, "firma_model_calls_in_flight",
                               "Model calls in flight, by provider.", provider_l, 1);
    m->wakes_pending = gauge1(g, "firma_wakes_pending",
                              "Wakes no run has taken yet, due or not (all companies).");
    m->approvals_pending = gauge1(g, "firma_approvals_pending",
                                  "Approvals waiting for a decision (all companies).");
}

void fm__metrics_init(rt_metrics *m)
{
    m->reg = fm_metrics_new();
    register_counters(m);
    register_gauges(m);
}

void fm__metrics_release(rt_metrics *m)
{
    fm_metrics_free(m->reg);
    m->reg = NULL;
}

void fm__metrics_run_end(fm_runtime *rt, fm_run_status status, bool stopped)
{
    size_t i = stopped ? 3 : status == FM_RUN_DONE ? 0 : status == FM_RUN_WAITING ? 1 : 2;
    fm_series_inc(rt->metrics.runs_finished[i]);
}

void fm__metrics_step(fm_runtime *rt, fm_step_kind kind)
{
    if ((size_t)kind < FM_STEP_KIND_N)
        fm_series_inc(rt->metrics.steps[kind]);
}

static const char *provider_of(const run *r)
{
    return r->provider ? r->provider->ops->name : "none";
}

void fm__metrics_model_call(run *r, const char *outcome, const fm_usage *u, int64_t usd)
{
    rt_metrics *m = &r->rt->metrics;
    const char *p = provider_of(r);
    fm_series_inc(fm_metric_with(m->model_calls, p, outcome, NULL));
    fm_series_observe(fm_metric_with(m->model_seconds, p, NULL),
                      (double)(fm_now_us() - r->call_started_us) / 1e6);
    if (!u)
        return;
    fm_series_add(fm_metric_with(m->tokens, p, "input", NULL), (double)u->input);
    fm_series_add(fm_metric_with(m->tokens, p, "cached", NULL), (double)u->cached);
    fm_series_add(fm_metric_with(m->tokens, p, "output", NULL), (double)u->output);
    fm_series_add(fm_metric_with(m->spend, p, NULL), (double)usd);
}

void fm__metrics_queued(run *r)
{
    fm_series_inc(fm_metric_with(r->rt->metrics.calls_queued, provider_of(r), NULL));
}

void fm__metrics_tool_call(fm_runtime *rt, const char *tool, const char *decision)
{
    /* The name comes from the model: only a built-in's name is a label. */
    const char *name = tool && fm_builtin_tool(tool) ? tool : "unknown";
    fm_series_inc(fm_metric_with(rt->metrics.tool_calls, name, decision, NULL));
}

/* ---- the API ---------------------------------------------------------------------- */

fm_metrics *fm_runtime_metrics(fm_runtime *rt)
{
    return rt->metrics.reg;
}

/* The gauges: from memory, and two index counts from the store (a busy
 * database leaves them at their last value). */
static void read_gauges(fm_runtime *rt)
{
    rt_metrics *m = &rt->metrics;
    fm_series_set(m->runs_in_flight, (double)rt->n_runs);
    fm_provider *ps[] = {rt->sim, rt->openai, rt->anthropic};
    for (size_t i = 0; i < 3; i++)
        if (ps[i])
            fm_series_set(fm_metric_with(m->calls_in_flight, ps[i]->ops->name, NULL),
                          rt->gates[i].in_flight);
    int64_t n;
    fm_error err;
    if (rt->store->ops->wake_count_pending(rt->store, &n, &err) == FM_OK)
        fm_series_set(m->wakes_pending, (double)n);
    if (rt->store->ops->approval_count_pending(rt->store, &n, &err) == FM_OK)
        fm_series_set(m->approvals_pending, (double)n);
}

void fm_runtime_metrics_render(fm_runtime *rt, fm_buf *out)
{
    read_gauges(rt);
    fm_metrics_render(rt->metrics.reg, out);
}
