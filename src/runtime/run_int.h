/* Internals shared by the runtime's files: the run record in memory and the
 * scheduler's hooks. */
#ifndef FIRMA_RUN_INT_H
#define FIRMA_RUN_INT_H

#include "firma/governance.h"
#include "firma/metrics.h"
#include "firma/runtime.h"
#include "firma/tools.h"

#define RUN_BUCKETS 1024

/* How a tool call went: done; held for approval (it has not run: its step
 * stays started until the decision); done, but the run waits for an answer
 * (ask_manager, request_approval); or running on the loop. */
typedef enum { CALL_DONE, CALL_HELD, CALL_WAITS, CALL_ASYNC } call_outcome;

typedef struct run {
    fm_runtime *rt;
    fm_id id, company, agent;
    fm_agent agent_rec;
    fm_company company_rec;
    fm_context ctx;
    fm_chat_msg *msgs;      /* the conversation, rebuilt from steps on resume */
    size_t n_msgs, cap_msgs;
    int seq;                /* the last step's number */
    int model_calls;
    bool in_call;           /* a model call is in flight */
    fm_id resume_held;      /* resuming found a call held for approval: wait */
    bool resume_tainted;    /* the interrupted run's context held outside content */
    fm_reservation res;
    fm_price price;
    fm_provider *provider;
    char *model_name;       /* the provider's name for the model (no prefix) */
    char workspace[1024];
    size_t last_prompt_bytes;
    /* The calls of the model turn being run: r->msgs[turn], from call_i. */
    size_t turn, call_i;
    fm_id call_held;        /* an earlier call of this turn waits for this approval */
    /* A tool running on the loop (exec, http_fetch) and its step. */
    fm_tool_job *job;
    fm_step job_step;
    bool job_settles;       /* the job is an approved held call being settled */
    char *job_tool;         /* its tool's name, when settling (the step's own is freed) */
    /* Approved or denied held calls to settle before the run goes on, then
     * what to do next (start or resume). */
    fm_id *settle;
    size_t n_settle, settle_i;
    void (*after_settle)(struct run *r);
    int64_t started_us, call_started_us;
    struct run *next, **prevp;
    struct run *bnext;      /* the runtime's runs by agent (one bucket's chain) */
    /* A process agent's program while it runs (process.c). */
    struct fm_child *child;
    void *proc;
    struct run *gate_next;  /* waiting for a model-call slot of its provider */
    bool gated;             /* holds one of those slots */
} run;

/* A provider's cap on model calls in flight: runs beyond it wait in FIFO
 * order for a slot. */
typedef struct call_gate {
    int in_flight;
    run *head, *tail;
} call_gate;

/* The runtime's metrics (runtime_metrics.c): the registry, its families,
 * and the series of fixed label sets, found once. */
typedef struct rt_metrics {
    fm_metrics *reg;
    fm_series *runs_started, *runs_resumed, *budget_refused, *timer_wakes, *orphans_settled;
    fm_series *runs_finished[4]; /* done, waiting, failed, stopped */
    fm_series *steps[FM_STEP_KIND_N];         /* by fm_step_kind */
    fm_metric *model_calls, *model_seconds, *tokens, *spend, *calls_queued, *tool_calls;
    fm_series *runs_in_flight, *wakes_pending, *approvals_pending;
    fm_metric *calls_in_flight;
} rt_metrics;

struct fm_runtime {
    uv_loop_t *loop;
    fm_store *store;
    fm_runtime_config cfg;  /* cfg.workspaces is `workspaces` */
    char *workspaces;       /* the workspaces folder, absolute */
    uv_timer_t poll;
    fm_provider *sim, *openai, *anthropic;
    call_gate gates[3];     /* sim, openai, anthropic */
    uv_timer_t gate_timer;  /* admits waiting runs on the next loop turn */
    run *runs;              /* in flight */
    run *by_agent[RUN_BUCKETS]; /* the same runs, hashed by agent id */
    size_t n_runs;
    bool stopping, started;
    void (*idle)(fm_runtime *rt, void *arg);
    void *idle_arg;
    fm_runtime_stats stats;
    rt_metrics metrics;
};

/* fm_context_build from the agent and company the run has read already
 * (the run's own taint is the caller's to add). */
int fm__context_build(fm_store *s, const fm_agent *a, const fm_company *c, fm_id run,
                      fm_context *out, fm_error *err);

void fm__run_start(fm_runtime *rt, fm_id company, fm_id agent);
/* Ends a run: DONE, WAITING (for an approval) or FAILED for good — its wakes
 * are consumed and, when FAILED, its task is blocked with the reason. */
void fm__run_end(run *r, fm_run_status status, const char *reason);
/* Stops a run that could not go on for now (shutdown, pause, budget): its
 * wakes are given back, to be handled by a later run. */
void fm__run_stop(run *r, const char *reason);
/* Cancels the tool running on the loop for the run, if any: its callback
 * runs now and, as the runtime is stopping, stops the run. */
void fm__run_cancel_job(run *r);
/* Resumes a run a crash left "running", from its last written step. */
void fm__run_resume(fm_runtime *rt, const fm_run *rec);
void fm__runtime_attach(fm_runtime *rt, run *r);
void fm__runtime_detach(fm_runtime *rt, run *r);
/* The provider for an agent's model ("sim", "openai:NAME", "anthropic:NAME",
 * "local:NAME" through the OpenAI-compatible client); *name gets the model's
 * name as the provider knows it (heap). */
int fm__runtime_provider(fm_runtime *rt, const char *model, fm_provider **out, char **name,
                         fm_error *err);
/* Takes a model-call slot of the run's provider (true), or queues the run to
 * be called again with next_call when one frees (false). */
bool fm__runtime_gate_enter(fm_runtime *rt, run *r);
/* Gives the run's slot back (no-op if it holds none). */
void fm__runtime_gate_leave(fm_runtime *rt, run *r);
/* The next model call of a run (run.c), for the gate. */
void fm__run_next_call(run *r);
/* For process.c: a step written / finished; one call checked and run as a
 * model's would be (granted, schema, policy; held or run; *approval set
 * for CALL_HELD and CALL_WAITS); a started step marked of unknown outcome. */
int fm__step_write(run *r, fm_step *st);
void fm__step_finish(run *r, fm_step *st, const char *response);
call_outcome fm__run_call(run *r, const fm_tool_call *c, fm_step *st, char **text,
                          bool *is_error, fm_id *approval);
void fm__mark_unknown(run *r, fm_step *st);
/* A tool call's step: written started (request: id, name, args), then
 * finished with `text`, or, when the call was held for approval
 * (CALL_HELD), left started with `text` as the held call. */
void fm__step_start_call(run *r, const fm_tool_call *c, fm_step *st);
void fm__step_settle_call(run *r, fm_step *st, call_outcome out, const char *text);

/* Process agents (process.c): run the program for a started run; resume one
 * from its steps; kill the program at shutdown (the run stops when it has
 * exited); or, when the runtime is freed first, let the program's end find
 * no run. */
void fm__process_start(run *r);
void fm__process_resume(run *r, fm_step *v, size_t n);
void fm__process_kill(run *r);
void fm__process_orphan(run *r);

/* Metrics (runtime_metrics.c), counted next to the stats: a run ended
 * (`stopped`: its wakes were given back); a step written; a model call ended
 * (outcome "ok", "error" or "canceled"; usage NULL when unanswered); a run
 * queued for a provider slot; a tool call decided ("allowed", "denied",
 * "held", "invalid"). */
void fm__metrics_init(rt_metrics *m);
void fm__metrics_release(rt_metrics *m);
void fm__metrics_run_end(fm_runtime *rt, fm_run_status status, bool stopped);
void fm__metrics_step(fm_runtime *rt, fm_step_kind kind);
void fm__metrics_model_call(run *r, const char *outcome, const fm_usage *u, int64_t usd);
void fm__metrics_queued(run *r);
void fm__metrics_tool_call(fm_runtime *rt, const char *tool, const char *decision);

/* At the budget cap: pause the agent and ask its manager for more. */
void fm__runtime_budget_stop(fm_runtime *rt, run *r, const char *why);

#endif
