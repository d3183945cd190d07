/*
 * The runtime: scheduler, runs and the context an agent sees. This header
 * grows with issue 3 (docs/runtime.md has the plan); so far it holds the
 * context builder.
 *
 * The context is laid out for provider prefix caches: the system prompt holds
 * only what changes rarely — firma's rules, the company, the role's
 * instructions, and last the agent's own place in the org chart — so it is
 * byte-identical across an agent's wakes, and up to the identity block across
 * agents of one role. What changes per wake (notes, what woke it) goes in the
 * first user message.
 */
#ifndef FIRMA_RUNTIME_H
#define FIRMA_RUNTIME_H

#include "firma/base.h"
#include "firma/llm.h"
#include "firma/store.h"
#include "firma/tools.h"

typedef struct fm_context {
    char *system;           /* the stable prefix */
    const fm_tool_def **tools; /* the built-ins the agent is granted, in fixed order */
    size_t n_tools;
    char *wake_text;        /* the first user message: notes, then what woke the agent */
    const char *wake_kind;  /* the first wake's kind ("task", "message" ...) */
    fm_id task_id;          /* the task the run is about (first task wake), or 0 */
    bool tainted;           /* a wake carries content from outside the company */
} fm_context;

/* Builds the context of run `run` from the store: the agent, its company and
 * place in the org chart, its notes and the wakes the run took. */
int fm_context_build(fm_store *s, fm_id run, fm_context *out, fm_error *err);
void fm_context_release(fm_context *c);

/* ---- the runtime ---------------------------------------------------------------- */

typedef struct fm_runtime fm_runtime;

typedef struct fm_runtime_config {
    const char *workspaces;  /* folder holding each agent's workspace (company/agent) */
    const char *scenario;    /* sim's scenario file; NULL: agents on "sim" cannot run */
    int max_model_calls;     /* per run; default 16 */
    int max_repeats;         /* identical tool calls per run; default 3 */
    int64_t max_wall_us;     /* per run; default 10 minutes */
    int max_tokens;          /* output tokens per model call; default 2048 */
    int max_runs;            /* runs in flight at once; default 64 */
    int max_calls;           /* model calls in flight per provider; default 32 */
    int64_t poll_ms;         /* how often to look for wakes written by others; default 50 */
    bool until_idle;         /* stop once nothing is pending or running; timers do not
                              * fire in this mode (a schedule never runs out) */
    fm_tool_limits tools;    /* exec and http_fetch (tools.h); zeros take the defaults */
} fm_runtime_config;

typedef struct fm_runtime_stats {
    int64_t runs_started, runs_done, runs_failed, runs_waiting, runs_resumed;
    int64_t model_calls, tool_calls, tool_denied, tool_held, budget_refused;
    int64_t calls_queued;     /* model calls that waited for a provider slot */
    int64_t orphans_settled;  /* reservations a stop left open, charged at start */
    int calls_in_flight_peak; /* the most model calls in flight at once, all providers */
    int64_t timer_wakes;     /* wakes written by agents' timers (heartbeat, cron) */
} fm_runtime_stats;

/* Creates a runtime on `loop` over `store` (both stay the caller's). */
int fm_runtime_new(uv_loop_t *loop, fm_store *store, const fm_runtime_config *cfg,
                   fm_runtime **out, fm_error *err);
/* Resumes the runs a crash left running (each from its last written step),
 * then starts polling for wakes. With until_idle, `idle` runs once when
 * nothing is left to do (the caller then stops the loop or frees the runtime). */
int fm_runtime_start(fm_runtime *rt, void (*idle)(fm_runtime *rt, void *arg), void *arg,
                     fm_error *err);
/* Stops taking new work; runs in flight end at their next step. */
void fm_runtime_stop(fm_runtime *rt);
/* Frees a stopped runtime once its runs have ended (runs the loop's close
 * callbacks: call uv_run afterwards until it returns). */
void fm_runtime_free(fm_runtime *rt);
const fm_runtime_stats *fm_runtime_stats_get(const fm_runtime *rt);

/* The runtime's metrics registry (docs/metrics.md), owned by the runtime and
 * freed with it. Other parts of the process on the same loop may register
 * their own families in it (the HTTP server counts requests by route and
 * code) and update them; see firma/metrics.h for the rules on labels. */
struct fm_metrics *fm_runtime_metrics(fm_runtime *rt);
/* Appends every metric in the Prometheus text format 0.0.4, after reading the
 * gauges (runs and model calls in flight; wakes and approvals pending, two
 * index counts from the store). For GET /metrics and serve --metrics-file. */
void fm_runtime_metrics_render(fm_runtime *rt, fm_buf *out);

#endif
