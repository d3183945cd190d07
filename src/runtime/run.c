/*
 * A run: one agent handling the wakes it took, as a state machine whose
 * every step is written to the store before the next begins.
 *
 *   start_run ──> next_call ──(reserve budget)──> provider.call
 *                    ^                                  │
 *                    │                           on_model_done
 *                    │                       (settle, write the model step)
 *                    │                                  │
 *                    └───── tool calls allowed ◄── run_calls ──► held for approval
 *                                                        │          (WAITING)
 *                                     no calls: DONE ◄───┘
 *
 * Each tool call is checked in order: a tool the agent was given, arguments
 * that fit its schema (fm_schema_check), then the policy (fm_policy_decide).
 * Denials and bad arguments go back to the model as errors it can read.
 * Caps — model calls per run, repeated identical calls, wall time — end the
 * run with a reason a person can read, as do a pause (the kill switch) and a
 * budget refusal. A run that cannot finish gives its wakes back, so none is
 * lost.
 */
#include "runtime/run_int.h"

#include "firma/base.h"
#include "firma/governance.h"
#include "firma/ops.h"
#include "firma/policy.h"
#include "firma/tools.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- the conversation --------------------------------------------------------- */

static fm_chat_msg *convo_push(run *r, fm_msg_role role)
{
    if (r->n_msgs == r->cap_msgs) {
        r->cap_msgs = r->cap_msgs ? r->cap_msgs * 2 : 8;
        r->msgs = fm_xreallocarray(r->msgs, r->cap_msgs, sizeof *r->msgs);
    }
    fm_chat_msg *m = &r->msgs[r->n_msgs++];
    memset(m, 0, sizeof *m);
    m->role = role;
    return m;
}

static void convo_free(run *r)
{
    for (size_t i = 0; i < r->n_msgs; i++) {
        fm_chat_msg *m = &r->msgs[i];
        free(m->text);
        free(m->tool_call_id);
        for (size_t k = 0; k < m->n_calls; k++)
            fm_tool_call_release(&m->calls[k]);
        free(m->calls);
    }
    free(r->msgs);
    r->msgs = NULL;
    r->n_msgs = r->cap_msgs = 0;
}

static size_t convo_bytes(const run *r)
{
    size_t n = r->ctx.system ? strlen(r->ctx.system) : 0;
    for (size_t i = 0; i < r->n_msgs; i++) {
        n += r->msgs[i].text ? strlen(r->msgs[i].text) : 0;
        for (size_t k = 0; k < r->msgs[i].n_calls; k++)
            n += strlen(r->msgs[i].calls[k].args_json) + strlen(r->msgs[i].calls[k].name);
    }
    for (size_t i = 0; i < r->ctx.n_tools; i++)
        n += strlen(r->ctx.tools[i]->schema_json) + strlen(r->ctx.tools[i]->description);
    return n;
}

/* ---- ending ------------------------------------------------------------------------ */

/* A run that failed for good (a cap, a model that keeps failing, a
 * misconfiguration) consumed its wakes; the task it was on is blocked with
 * the reason, so a person sees it rather than a retry loop hiding it. */
static void block_task_of(run *r, const char *reason)
{
    fm_task t;
    fm_error err;
    if (!r->ctx.task_id || r->rt->store->ops->task_get(r->rt->store, r->ctx.task_id, &t, &err))
        return;
    if ((t.status == FM_TASK_DOING || t.status == FM_TASK_TODO) && t.assignee == r->agent) {
        char *actor = fm_xasprintf("agent:%s", r->agent_rec.handle ? r->agent_rec.handle : "?");
        fm_task_move(r->rt->store, actor, r->company, t.id, FM_TASK_BLOCKED, reason, &err);
        free(actor);
    }
    fm_task_release(&t);
}

static void finish(run *r, fm_run_status status, const char *reason, bool give_back)
{
    fm_runtime *rt = r->rt;
    fm_store *s = rt->store;
    fm_error err;
    fm_run rec = {.id = r->id, .company_id = r->company, .agent_id = r->agent, .status = status,
                  .reason = (char *)reason, .tainted = r->ctx.tainted,
                  .started_at = r->started_us, .ended_at = fm_now_us()};
    if (status == FM_RUN_FAILED && !give_back)
        block_task_of(r, reason);
    if (s->ops->begin(s, &err) == FM_OK) {
        int rc = s->ops->run_update(s, &rec, &err);
        if (rc == FM_OK)
            rc = give_back ? s->ops->wake_release(s, r->id, &err)
                           : s->ops->wake_done(s, r->id, fm_now_us(), &err);
        fm_store_end(s, rc, &err);
    }
    rt->stats.runs_done += status == FM_RUN_DONE;
    rt->stats.runs_failed += status == FM_RUN_FAILED;
    rt->stats.runs_waiting += status == FM_RUN_WAITING;
    fm__metrics_run_end(rt, status, give_back);
    fm__runtime_gate_leave(rt, r);
    fm__runtime_detach(rt, r);
    convo_free(r);
    fm_context_release(&r->ctx);
    fm_agent_release(&r->agent_rec);
    fm_company_release(&r->company_rec);
    free(r->model_name);
    free(r->settle);
    free(r->job_tool);
    free(r);
}

void fm__run_end(run *r, fm_run_status status, const char *reason)
{
    finish(r, status, reason, false);
}

void fm__run_stop(run *r, const char *reason)
{
    finish(r, FM_RUN_FAILED, reason, true);
}

/* ---- steps ------------------------------------------------------------------------- */

int fm__step_write(run *r, fm_step *st)
{
    fm_error err;
    st->run_id = r->id;
    st->seq = ++r->seq;
    int rc = r->rt->store->ops->step_insert(r->rt->store, st, &err);
    if (rc == FM_OK)
        fm__metrics_step(r->rt, st->kind);
    return rc;
}

void fm__step_finish(run *r, fm_step *st, const char *response)
{
    fm_error err;
    st->status = FM_STEP_FINISHED;
    st->response = (char *)response;
    st->ended_at = fm_now_us();
    r->rt->store->ops->step_update(r->rt->store, st, &err);
    st->response = NULL;
}

static char *assistant_json(const fm_llm_response *resp)
{
    json_t *calls = json_array();
    for (size_t i = 0; i < resp->n_calls; i++)
        json_array_append_new(calls, json_pack("{s:s, s:s, s:s}", "id", resp->calls[i].id, "name",
                                               resp->calls[i].name, "args",
                                               resp->calls[i].args_json));
    json_t *o = json_pack("{s:s?, s:o}", "text", resp->text, "calls", calls);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    char *r = fm_xstrdup(s ? s : "{}");
    free(s);
    return r;
}

/* ---- one tool call ---------------------------------------------------------------- */

/* The definition of tool `name` if the agent was given it, else NULL. */
static const fm_tool_def *granted(const run *r, const char *name)
{
    for (size_t i = 0; i < r->ctx.n_tools; i++)
        if (strcmp(r->ctx.tools[i]->name, name) == 0)
            return r->ctx.tools[i];
    return NULL;
}

static void audit_denied(run *r, const char *tool, const char *resource, const char *why)
{
    fm_store *s = r->rt->store;
    fm_error err;
    if (s->ops->begin(s, &err) != FM_OK)
        return;
    char *actor = fm_xasprintf("agent:%s", r->agent_rec.handle);
    json_t *d = json_pack("{s:s, s:s?, s:s, s:I}", "tool", tool, "resource", resource, "why", why,
                          "run", (json_int_t)r->id);
    char *details = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = fm_audit_append(s, r->company, actor, "tool.denied", actor, details, &err);
    fm_store_end(s, rc, &err);
    free(details);
    json_decref(d);
    free(actor);
}

static void on_call_job(void *arg, fm_tool_result *res);

/* Decides and runs one call. The result text goes into *text (heap); returns
 * CALL_HELD or CALL_WAITS when the run must wait for approval #*approval,
 * CALL_ASYNC when the tool now runs on the loop (on_call_job takes over). */
static call_outcome decide_and_run(run *r, const fm_tool_call *c, fm_step *st, char **text,
                                   bool *is_error, fm_id *approval)
{
    fm_error err;
    fm_error_clear(&err);
    const fm_tool_def *def = granted(r, c->name);
    if (!def) {
        /* Worth recording: a model reaching for a tool it lacks is what a
         * prompt injection looks like from here. */
        audit_denied(r, c->name, NULL, "the agent has no grant for this tool");
        *text = fm_xasprintf("You have no tool named '%s'. Use only the tools you were given.",
                             c->name);
        *is_error = true;
        r->rt->stats.tool_denied++;
        fm__metrics_tool_call(r->rt, c->name, "denied");
        return CALL_DONE;
    }
    if (fm_schema_check(def->schema_json, c->args_json, &err) != FM_OK) {
        *text = fm_xasprintf("Bad arguments for %s: %s", c->name, err.msg);
        *is_error = true;
        fm__metrics_tool_call(r->rt, c->name, "invalid");
        return CALL_DONE;
    }
    char *resource = fm_tool_resource(c->name, c->args_json);
    fm_policy_query q = {.agent = &r->agent_rec, .company = &r->company_rec.policies,
                         .tool = c->name, .resource = resource, .tainted = r->ctx.tainted};
    fm_policy_result pol;
    fm_policy_decide(&q, &pol);
    fm_tool_ctx tc = {.store = r->rt->store, .company = r->company, .agent = r->agent,
                      .run = r->id, .step = st->id, .task = r->ctx.task_id,
                      .handle = r->agent_rec.handle, .workspace = r->workspace,
                      .tainted = r->ctx.tainted};
    call_outcome out = CALL_DONE;
    if (pol.decision == FM_CEIL_DENY) {
        audit_denied(r, c->name, resource, pol.why);
        *text = fm_xasprintf("Refused by policy: %s.", pol.why);
        *is_error = true;
        r->rt->stats.tool_denied++;
        fm__metrics_tool_call(r->rt, c->name, "denied");
    } else if (pol.decision == FM_CEIL_ASK) {
        if (fm_approval_hold(r->rt->store, &tc, c->name, c->args_json, pol.why, approval, &err) ==
            FM_OK) {
            *text = fm_xasprintf("Held for approval #%lld: %s. You will be woken with the "
                                 "decision.", (long long)*approval, pol.why);
            r->rt->stats.tool_held++;
            fm__metrics_tool_call(r->rt, c->name, "held");
            out = CALL_HELD;
        } else {
            *text = fm_xasprintf("Could not ask for approval: %s", err.msg);
            *is_error = true;
        }
    } else if (def->flags & FM_TOOL_ASYNC) {
        fm__metrics_tool_call(r->rt, c->name, "allowed");
        r->job_step = *st;
        r->job_step.request = NULL;
        r->job_settles = false;
        if (fm_tool_start(r->rt->loop, &tc, &r->rt->cfg.tools, c->name, c->args_json, on_call_job,
                          r, &r->job, &err) == FM_OK) {
            out = CALL_ASYNC;
        } else {
            *text = fm_xasprintf("The tool failed: %s", err.msg);
            *is_error = true;
        }
    } else {
        fm__metrics_tool_call(r->rt, c->name, "allowed");
        fm_tool_result res = {0};
        if (fm_tool_run(&tc, c->name, c->args_json, &res, &err) == FM_OK) {
            *text = res.text ? res.text : fm_xstrdup("Done.");
            res.text = NULL;
            *is_error = res.is_error;
            r->ctx.tainted |= res.tainted;
            if (res.approval) { /* it asked: the run waits for the answer */
                *approval = res.approval;
                out = CALL_WAITS;
            }
        } else {
            *text = fm_xasprintf("The tool failed: %s", err.msg);
            *is_error = true;
        }
        fm_tool_result_release(&res);
        r->rt->stats.tool_calls++;
    }
    free(resource);
    return out;
}

static bool repeated(run *r, const fm_tool_call *c)
{
    int same = 0;
    for (size_t i = 0; i < r->n_msgs; i++)
        for (size_t k = 0; k < r->msgs[i].n_calls; k++)
            same += strcmp(r->msgs[i].calls[k].name, c->name) == 0 &&
                    strcmp(r->msgs[i].calls[k].args_json, c->args_json) == 0;
    return same > r->rt->cfg.max_repeats;
}

static void next_call(run *r);

void fm__step_start_call(run *r, const fm_tool_call *c, fm_step *st)
{
    *st = (fm_step){.kind = FM_STEP_TOOL, .status = FM_STEP_STARTED, .tool = c->name,
                    .started_at = fm_now_us()};
    json_t *req = json_pack("{s:s, s:s, s:s}", "id", c->id, "name", c->name, "args",
                            c->args_json);
    st->request = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    fm__step_write(r, st);
    free(st->request);
    st->request = NULL;
}

void fm__step_settle_call(run *r, fm_step *st, call_outcome out, const char *text)
{
    /* A call held for approval keeps its step "started" until the decision:
     * running it then first marks it finished, so it runs at most once. */
    if (out == CALL_HELD) {
        st->response = (char *)text;
        r->rt->store->ops->step_update(r->rt->store, st, NULL);
        st->response = NULL;
    } else {
        fm__step_finish(r, st, text);
    }
}

/* The answer to call number r->call_i of the turn joins the conversation. */
static void answer_call(run *r, char *text, bool is_error)
{
    const char *id = r->msgs[r->turn].calls[r->call_i].id;
    fm_chat_msg *m = convo_push(r, FM_MSG_TOOL);
    m->text = text;
    m->tool_call_id = fm_xstrdup(id);
    m->is_error = is_error;
    r->call_i++;
}

/* Runs the calls of the model turn r->msgs[r->turn] in order, from
 * r->call_i. A tool that runs on the loop returns here from on_call_job.
 * Then the run waits for an approval, or calls the model again. */
static void run_calls(run *r)
{
    while (r->call_i < r->msgs[r->turn].n_calls) {
        const fm_tool_call *c = &r->msgs[r->turn].calls[r->call_i];
        if (repeated(r, c)) {
            char *why = fm_xasprintf("stopped: the same %s call was repeated more than %d times",
                                     c->name, r->rt->cfg.max_repeats);
            fm__run_end(r, FM_RUN_FAILED, why);
            free(why);
            return;
        }
        /* A call that finishes at once commits with its step, started and
         * finished in one transaction: a crash leaves neither, and the
         * resumed run reports it as not run. A call that runs on the loop
         * has its step written first. */
        fm_store *s = r->rt->store;
        fm_error terr;
        bool atomic = (r->call_held || !fm_tool_is_async(c->name)) &&
                      s->ops->begin(s, &terr) == FM_OK;
        fm_step st;
        fm__step_start_call(r, c, &st);
        char *text = NULL;
        bool is_error = false;
        fm_id approval = 0;
        call_outcome out = CALL_DONE;
        if (r->call_held)
            text = fm_xasprintf("Not run: an earlier call in this turn is waiting for approval "
                                "#%lld.", (long long)r->call_held);
        else
            out = decide_and_run(r, c, &st, &text, &is_error, &approval);
        if (out == CALL_ASYNC) {
            if (atomic) /* not expected: async tools are not atomic */
                fm_store_end(s, FM_OK, &terr);
            return;
        }
        if (out == CALL_HELD || out == CALL_WAITS)
            r->call_held = approval;
        fm__step_settle_call(r, &st, out, text);
        if (atomic)
            fm_store_end(s, FM_OK, &terr);
        answer_call(r, text, is_error);
    }
    if (r->call_held) {
        char *why = fm_xasprintf("waiting for approval #%lld", (long long)r->call_held);
        fm__run_end(r, FM_RUN_WAITING, why);
        free(why);
        return;
    }
    next_call(r);
}

static void settle_next(run *r);

/* A tool that ran on the loop finished (or was canceled at shutdown). */
static void on_call_job(void *arg, fm_tool_result *res)
{
    run *r = arg;
    r->job = NULL;
    r->rt->stats.tool_calls++;
    r->ctx.tainted |= res->tainted;
    char *text = res->text ? res->text : fm_xstrdup("Done.");
    res->text = NULL;
    fm_step *st = &r->job_step;
    if (r->job_settles) {
        char *ran = fm_xasprintf("It ran: %s", text);
        fm__step_finish(r, st, ran);
        free(ran);
        free(text);
        free(r->job_tool);
        r->job_tool = st->tool = NULL;
        if (r->rt->stopping)
            fm__run_stop(r, "stopped: firma is shutting down (its wakes are kept)");
        else
            settle_next(r);
        return;
    }
    fm__step_finish(r, st, text);
    answer_call(r, text, res->is_error);
    if (r->rt->stopping)
        fm__run_stop(r, "stopped: firma is shutting down (its wakes are kept)");
    else
        run_calls(r);
}

call_outcome fm__run_call(run *r, const fm_tool_call *c, fm_step *st, char **text,
                          bool *is_error, fm_id *approval)
{
    return decide_and_run(r, c, st, text, is_error, approval);
}

void fm__run_cancel_job(run *r)
{
    fm_tool_job_cancel(r->job);
}

/* ---- the model call ------------------------------------------------------------------ */

static void keep_response(run *r, fm_llm_response *resp)
{
    fm_chat_msg *m = convo_push(r, FM_MSG_ASSISTANT);
    m->text = resp->text;
    m->calls = resp->calls;
    m->n_calls = resp->n_calls;
    resp->text = NULL;
    resp->calls = NULL;
    resp->n_calls = 0;
}

static void on_model_done(void *arg, int status, fm_llm_response *resp, const fm_error *perr)
{
    run *r = arg;
    fm_error err;
    int64_t usd = resp ? fm_price_cost(&r->price, resp->usage.input, resp->usage.cached,
                                       resp->usage.output)
                       : 0;
    /* A failed call is settled at zero: providers do not bill failed
     * requests. A good one's settle and model step commit together (the
     * step is written below, inside this transaction). */
    fm_store *s = r->rt->store;
    bool tx = status == FM_OK && resp && s->ops->begin(s, &err) == FM_OK;
    fm_budget_settle(s, &r->res, r->agent_rec.model, usd, resp ? resp->usage.input : 0,
                     resp ? resp->usage.cached : 0, resp ? resp->usage.output : 0, &err);
    r->in_call = false;
    fm__runtime_gate_leave(r->rt, r);
    bool ok = status == FM_OK && resp;
    fm__metrics_model_call(r, ok ? "ok" : status == FM_ECANCELED ? "canceled" : "error",
                           ok ? &resp->usage : NULL, usd);
    if (!ok) {
        char *why = fm_xasprintf("the model call failed: %s", perr ? fm_error_text(perr) : "?");
        if (status == FM_ECANCELED || r->rt->stopping)
            fm__run_stop(r, "stopped: firma is shutting down (its wakes are kept)");
        else
            fm__run_end(r, FM_RUN_FAILED, why);
        free(why);
        return;
    }
    fm_step st = {.kind = FM_STEP_MODEL, .status = FM_STEP_FINISHED,
                  .request = assistant_json(resp), .prompt_bytes = (int64_t)r->last_prompt_bytes,
                  .tokens_in = resp->usage.input, .tokens_cached = resp->usage.cached,
                  .tokens_out = resp->usage.output, .usd_micro = usd,
                  .started_at = r->call_started_us, .ended_at = fm_now_us()};
    fm__step_write(r, &st);
    if (tx)
        fm_store_end(s, FM_OK, &err);
    free(st.request);
    keep_response(r, resp);
    if (r->msgs[r->n_msgs - 1].n_calls == 0) {
        fm__run_end(r, FM_RUN_DONE, "ended its turn");
        return;
    }
    r->turn = r->n_msgs - 1;
    r->call_i = 0;
    r->call_held = 0;
    run_calls(r);
}

/* The reasons to stop before calling the model again; *transient says the
 * run's wakes should wait for a later run (shutdown, pause). */
static const char *must_stop(run *r, char *buf, size_t len, bool *transient)
{
    fm_agent now;
    fm_error err;
    *transient = true;
    if (r->rt->stopping)
        return "stopped: firma is shutting down (its wakes are kept for the next start)";
    *transient = false;
    if (r->model_calls >= r->rt->cfg.max_model_calls) {
        snprintf(buf, len, "stopped: reached the cap of %d model calls in one run",
                 r->rt->cfg.max_model_calls);
        return buf;
    }
    if (fm_now_us() - r->started_us > r->rt->cfg.max_wall_us) {
        snprintf(buf, len, "stopped: ran longer than %lld s",
                 (long long)(r->rt->cfg.max_wall_us / 1000000));
        return buf;
    }
    if (r->rt->store->ops->agent_get(r->rt->store, r->agent, &now, &err) == FM_OK) {
        bool paused = now.status != FM_AGENT_ACTIVE;
        fm_agent_release(&now);
        *transient = paused;
        if (paused)
            return "stopped: the agent was paused (its wakes wait for it)";
    }
    return NULL;
}

static void next_call(run *r)
{
    char buf[160];
    bool transient;
    const char *stop = must_stop(r, buf, sizeof buf, &transient);
    if (stop) {
        if (transient)
            fm__run_stop(r, stop);
        else
            fm__run_end(r, FM_RUN_FAILED, stop);
        return;
    }
    if (!fm__runtime_gate_enter(r->rt, r))
        return; /* queued: the gate calls fm__run_next_call when a slot frees */
    fm_error err;
    fm_error_clear(&err);
    r->last_prompt_bytes = convo_bytes(r);
    int64_t in = (int64_t)(r->last_prompt_bytes / 4 + 16);
    int64_t worst = fm_price_cost(&r->price, in, 0, r->rt->cfg.max_tokens);
    if (fm_budget_reserve(r->rt->store, r->company, r->agent, r->id, worst,
                          in + r->rt->cfg.max_tokens, &r->res, &err) != FM_OK) {
        r->rt->stats.budget_refused++;
        fm_series_inc(r->rt->metrics.budget_refused);
        fm__runtime_gate_leave(r->rt, r);
        fm__runtime_budget_stop(r->rt, r, err.msg);
        char *why = fm_xasprintf("stopped: %s", err.msg);
        fm__run_stop(r, why); /* the agent is paused; its work waits for more budget */
        free(why);
        return;
    }
    fm_tool_def *defs = fm_xcalloc(r->ctx.n_tools + 1, sizeof *defs);
    for (size_t i = 0; i < r->ctx.n_tools; i++)
        defs[i] = *r->ctx.tools[i];
    fm_llm_request req = {.model = r->model_name, .system = r->ctx.system, .msgs = r->msgs,
                          .n_msgs = r->n_msgs, .tools = defs, .n_tools = r->ctx.n_tools,
                          .max_tokens = r->rt->cfg.max_tokens, .agent = r->agent_rec.handle,
                          .wake_kind = r->ctx.wake_kind};
    r->model_calls++;
    r->in_call = true;
    r->call_started_us = fm_now_us();
    r->rt->stats.model_calls++;
    int rc = r->provider->ops->call(r->provider, &req, on_model_done, r, &err);
    free(defs);
    if (rc != FM_OK) {
        r->in_call = false;
        fm__runtime_gate_leave(r->rt, r);
        fm__metrics_model_call(r, "error", NULL, 0);
        fm_budget_settle(r->rt->store, &r->res, r->agent_rec.model, 0, 0, 0, 0, NULL);
        char *why = fm_xasprintf("the model call could not start: %s", err.msg);
        fm__run_end(r, FM_RUN_FAILED, why);
        free(why);
    }
}

void fm__run_next_call(run *r)
{
    next_call(r);
}

/* ---- starting ------------------------------------------------------------------------- */

/* The task and taint of run `id` (the run that asked for an approval). */
static void asker_of(fm_store *s, fm_id id, fm_id *task, bool *tainted)
{
    fm_run rec;
    fm_wake *w = NULL;
    size_t n = 0;
    *task = 0;
    *tainted = false;
    if (s->ops->run_get(s, id, &rec, NULL) == FM_OK) {
        *tainted = rec.tainted;
        fm_run_release(&rec);
    }
    if (s->ops->wake_of_run(s, id, &w, &n, NULL) == FM_OK)
        for (size_t i = 0; i < n && !*task; i++)
            if (w[i].kind == FM_WAKE_TASK)
                *task = w[i].ref;
    fm_wake_list_free(w, n);
}

/* The held call behind a decided approval: finish its step first (the claim
 * that makes it run at most once), then run it if approved. The result is
 * kept on the step, where the context shows it to the agent. Returns true
 * when the call now runs on the loop (on_call_job goes on with settle_next). */
static bool settle_held_call(run *r, const fm_approval *a)
{
    fm_store *s = r->rt->store;
    fm_step *v = NULL;
    size_t n = 0;
    fm_error err;
    bool async = false;
    if (s->ops->step_list(s, a->run_id, &v, &n, &err) != FM_OK)
        return false;
    for (size_t i = 0; i < n && !async; i++) {
        fm_step *st = &v[i];
        if (st->id != a->step_id || st->status != FM_STEP_STARTED || !st->tool)
            continue;
        st->status = FM_STEP_FINISHED;
        st->ended_at = fm_now_us();
        free(st->response);
        st->response = fm_xstrdup("running after approval");
        if (s->ops->step_update(s, st, &err) != FM_OK)
            break;
        fm_tool_result res = {0};
        /* It runs as it would have in the run that asked: that run's task,
         * and its taint (what the call writes is marked as it would have
         * been). */
        fm_tool_ctx tc = {.store = s, .company = r->company, .agent = r->agent, .run = r->id,
                          .step = st->id, .handle = r->agent_rec.handle,
                          .workspace = r->workspace};
        asker_of(s, a->run_id, &tc.task, &tc.tainted);
        r->ctx.tainted |= tc.tainted;
        free(st->response);
        st->response = NULL;
        if (a->status != FM_APPROVAL_APPROVED) {
            st->response = fm_xasprintf("Not run: denied by %s%s%s", a->decided_by,
                                        a->why ? ": " : ".", a->why ? a->why : "");
        } else if (fm_tool_is_async(st->tool)) {
            r->job_step = *st;
            r->job_step.request = r->job_step.response = NULL;
            r->job_step.tool = r->job_tool = fm_xstrdup(st->tool); /* v is freed below */
            r->job_settles = true;
            if (fm_tool_start(r->rt->loop, &tc, &r->rt->cfg.tools, st->tool, a->args,
                              on_call_job, r, &r->job, &err) == FM_OK)
                async = true;
            else
                st->response = fm_xasprintf("It failed: %s", err.msg);
        } else if (fm_tool_run(&tc, st->tool, a->args, &res, &err) == FM_OK) {
            st->response = fm_xasprintf("It ran: %s", res.text ? res.text : "done");
        } else {
            st->response = fm_xasprintf("It failed: %s", err.msg);
        }
        r->ctx.tainted |= res.tainted;
        fm_tool_result_release(&res);
        if (!async)
            s->ops->step_update(s, st, &err);
    }
    fm_step_list_free(v, n);
    return async;
}

/* Settles the decided approvals among the run's wakes one by one (a call
 * that runs on the loop comes back here), then goes on with after_settle. */
static void settle_next(run *r)
{
    fm_store *s = r->rt->store;
    fm_error err;
    while (r->settle_i < r->n_settle) {
        fm_approval a;
        if (s->ops->approval_get(s, r->settle[r->settle_i++], &a, &err) != FM_OK)
            continue;
        bool async = false;
        if (a.step_id && a.status != FM_APPROVAL_PENDING && a.agent_id == r->agent)
            async = settle_held_call(r, &a);
        fm_approval_release(&a);
        if (async)
            return;
    }
    free(r->settle);
    r->settle = NULL;
    r->n_settle = r->settle_i = 0;
    r->after_settle(r);
}

static void settle_approvals(run *r, void (*then)(run *r))
{
    fm_store *s = r->rt->store;
    fm_wake *w = NULL;
    size_t n = 0;
    fm_error err;
    r->after_settle = then;
    if (s->ops->wake_of_run(s, r->id, &w, &n, &err) == FM_OK) {
        r->settle = fm_xcalloc(n + 1, sizeof *r->settle);
        for (size_t i = 0; i < n; i++)
            if (w[i].kind == FM_WAKE_APPROVAL)
                r->settle[r->n_settle++] = w[i].ref;
    }
    fm_wake_list_free(w, n);
    settle_next(r);
}

/* The task the run is about moves from todo to doing: the agent has it now. */
static void take_task(run *r)
{
    fm_task t;
    fm_error err;
    if (!r->ctx.task_id || r->rt->store->ops->task_get(r->rt->store, r->ctx.task_id, &t, &err))
        return;
    if (t.status == FM_TASK_TODO && t.assignee == r->agent) {
        char *actor = fm_xasprintf("agent:%s", r->agent_rec.handle);
        fm_task_move(r->rt->store, actor, r->company, t.id, FM_TASK_DOING, NULL, &err);
        free(actor);
    }
    fm_task_release(&t);
}

/* The agent, its workspace and its decided held calls; then the rest. */
static void load(run *r, void (*then)(run *r))
{
    fm_error err;
    fm_store *s = r->rt->store;
    if (s->ops->agent_get(s, r->agent, &r->agent_rec, &err) != FM_OK) {
        char *why = fm_xasprintf("could not start: %s", err.msg);
        fm__run_end(r, FM_RUN_FAILED, why);
        free(why);
        return;
    }
    snprintf(r->workspace, sizeof r->workspace, "%s/%lld/%s", r->rt->cfg.workspaces,
             (long long)r->company, r->agent_rec.handle);
    settle_approvals(r, then);
}

/* After the held calls: the company, the context, the price and provider. */
static int load_rest(run *r, fm_error *err)
{
    fm_store *s = r->rt->store;
    int rc = s->ops->company_get(s, r->company, &r->company_rec, err);
    bool held_taint = r->ctx.tainted; /* a held call that ran may have read outside content */
    if (rc == FM_OK)
        rc = fm__context_build(s, &r->agent_rec, &r->company_rec, r->id, &r->ctx, err);
    r->ctx.tainted |= held_taint;
    bool llm = r->agent_rec.kind == FM_AGENT_LLM;
    if (rc == FM_OK && r->agent_rec.kind == FM_AGENT_HTTP)
        rc = fm_error_set(err, FM_EINVAL, "http agents are not supported yet");
    if (rc == FM_OK && llm)
        rc = fm_price_lookup(r->agent_rec.model, &r->price, err);
    if (rc == FM_OK && llm)
        rc = fm__runtime_provider(r->rt, r->agent_rec.model, &r->provider, &r->model_name, err);
    if (rc == FM_OK)
        take_task(r);
    return rc;
}

static void start_loaded(run *r)
{
    fm_error err;
    fm_error_clear(&err);
    if (load_rest(r, &err) != FM_OK) {
        char *why = fm_xasprintf("could not start: %s", err.msg);
        fm__run_end(r, FM_RUN_FAILED, why);
        free(why);
        return;
    }
    if (r->agent_rec.kind == FM_AGENT_PROCESS) {
        fm__process_start(r);
        return;
    }
    fm_chat_msg *m = convo_push(r, FM_MSG_USER);
    m->text = fm_xstrdup(r->ctx.wake_text);
    next_call(r);
}

void fm__run_start(fm_runtime *rt, fm_id company, fm_id agent)
{
    fm_store *s = rt->store;
    fm_error err;
    fm_error_clear(&err);
    run *r = fm_xcalloc(1, sizeof *r);
    r->rt = rt;
    r->company = company;
    r->agent = agent;
    r->started_us = fm_now_us();
    fm_run rec = {.company_id = company, .agent_id = agent, .status = FM_RUN_RUNNING,
                  .started_at = r->started_us};
    size_t taken = 0;
    int rc = s->ops->begin(s, &err);
    if (rc == FM_OK)
        rc = s->ops->run_insert(s, &rec, &err);
    if (rc == FM_OK)
        rc = s->ops->wake_take(s, agent, rec.id, fm_now_us(), &taken, &err);
    rc = fm_store_end(s, rc, &err);
    if (rc != FM_OK) {
        free(r);
        return; /* the wakes are still pending: the next poll tries again */
    }
    r->id = rec.id;
    fm__runtime_attach(rt, r);
    rt->stats.runs_started++;
    fm_series_inc(rt->metrics.runs_started);
    load(r, start_loaded);
}

/* ---- resuming after a crash ------------------------------------------------------------ */

/* A tool step that was started but never finished: its outcome is unknown.
 * It is not run again (it may have had effects); the model is told, so it can
 * check before repeating it. */
void fm__mark_unknown(run *r, fm_step *st)
{
    fm_error err;
    st->status = FM_STEP_UNKNOWN;
    st->ended_at = fm_now_us();
    free(st->response);
    st->response = fm_xstrdup("The outcome of this call is unknown: firma stopped while it "
                              "ran. Check whether it took effect before calling it again.");
    r->rt->store->ops->step_update(r->rt->store, st, &err);
}

static void replay_model_step(run *r, const fm_step *st)
{
    json_t *o = json_loads(st->request ? st->request : "{}", 0, NULL);
    fm_chat_msg *m = convo_push(r, FM_MSG_ASSISTANT);
    m->text = fm_xstrdup(json_string_value(json_object_get(o, "text")));
    json_t *calls = json_object_get(o, "calls");
    m->calls = fm_xcalloc(json_array_size(calls) + 1, sizeof *m->calls);
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        fm_tool_call *tc = &m->calls[m->n_calls++];
        tc->id = fm_xstrdup(json_string_value(json_object_get(c, "id")));
        tc->name = fm_xstrdup(json_string_value(json_object_get(c, "name")));
        tc->args_json = fm_xstrdup(json_string_value(json_object_get(c, "args")));
        if (!tc->id || !tc->name || !tc->args_json) {
            fm_tool_call_release(tc);
            m->n_calls--;
        }
    }
    json_decref(o);
    r->model_calls++;
}

static bool idempotent(const char *tool)
{
    const fm_tool_def *d = fm_builtin_tool(tool);
    return d && (d->flags & FM_TOOL_IDEMPOTENT);
}

/* An idempotent call interrupted by a crash is checked and run again, from
 * the top: the step was written before its checks. */
static void rerun(run *r, fm_step *st, json_t *req)
{
    fm_tool_call c = {.id = (char *)json_string_value(json_object_get(req, "id")),
                      .name = (char *)json_string_value(json_object_get(req, "name")),
                      .args_json = (char *)json_string_value(json_object_get(req, "args"))};
    char *text = NULL;
    bool is_error = false;
    fm_id approval = 0;
    if (!c.name || !c.args_json) {
        fm__mark_unknown(r, st);
        return;
    }
    call_outcome out = decide_and_run(r, &c, st, &text, &is_error, &approval);
    free(st->response);
    st->response = text;
    /* Held again (policy says ask): the step stays started, as a held one. */
    bool held = out == CALL_HELD;
    st->status = held ? FM_STEP_STARTED : FM_STEP_FINISHED;
    st->ended_at = held ? 0 : fm_now_us();
    if (held || out == CALL_WAITS)
        r->resume_held = approval;
    fm_error err;
    r->rt->store->ops->step_update(r->rt->store, st, &err);
}

static void replay_tool_step(run *r, fm_step *st)
{
    json_t *o = json_loads(st->request ? st->request : "{}", 0, NULL);
    /* A started step with a response is a held call (run_calls writes one
     * only then): the crash came after it was held, before the run was
     * marked waiting. It stays held; its approval will run it. */
    if (st->status == FM_STEP_STARTED && st->response)
        r->resume_held = -1;
    else if (st->status == FM_STEP_STARTED && idempotent(st->tool))
        rerun(r, st, o);
    else if (st->status == FM_STEP_STARTED)
        fm__mark_unknown(r, st);
    fm_chat_msg *m = convo_push(r, FM_MSG_TOOL);
    m->tool_call_id = fm_xstrdup(json_string_value(json_object_get(o, "id")));
    m->text = fm_xstrdup(st->response ? st->response : "");
    m->is_error = st->status == FM_STEP_UNKNOWN;
    json_decref(o);
}

/* The last model turn, if the conversation ends in it or its answers:
 * *turn is its index and *answered how many of its calls have a step. */
static bool last_turn(const run *r, size_t *turn, size_t *answered)
{
    size_t a = r->n_msgs;
    while (a > 0 && r->msgs[a - 1].role != FM_MSG_ASSISTANT)
        a--;
    if (a == 0)
        return false;
    *turn = a - 1;
    *answered = r->n_msgs - a;
    return true;
}

static void resume_loaded(run *r)
{
    fm_runtime *rt = r->rt;
    fm_error err;
    fm_error_clear(&err);
    fm_step *v = NULL;
    size_t n = 0;
    int rc = load_rest(r, &err);
    if (rc == FM_OK)
        rc = rt->store->ops->step_list(rt->store, r->id, &v, &n, &err);
    if (rc != FM_OK) {
        char *why = fm_xasprintf("could not resume: %s", err.msg);
        fm__run_end(r, FM_RUN_FAILED, why);
        free(why);
        fm_step_list_free(v, n);
        return;
    }
    r->ctx.tainted |= r->resume_tainted;
    if (r->agent_rec.kind == FM_AGENT_PROCESS) {
        rt->stats.runs_resumed++;
        fm_series_inc(rt->metrics.runs_resumed);
        fm__process_resume(r, v, n);
        fm_step_list_free(v, n);
        return;
    }
    fm_chat_msg *m = convo_push(r, FM_MSG_USER);
    m->text = fm_xstrdup(r->ctx.wake_text);
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == FM_STEP_MODEL)
            replay_model_step(r, &v[i]);
        else
            replay_tool_step(r, &v[i]);
        r->seq = v[i].seq;
    }
    fm_step_list_free(v, n);
    rt->stats.runs_resumed++;
    fm_series_inc(rt->metrics.runs_resumed);
    size_t turn, answered;
    const fm_chat_msg *last = &r->msgs[r->n_msgs - 1];
    if (r->resume_held) {
        fm__run_end(r, FM_RUN_WAITING, "waiting for approval (resumed after a stop)");
    } else if (last->role == FM_MSG_ASSISTANT && last->n_calls == 0) {
        fm__run_end(r, FM_RUN_DONE, "ended its turn");
    } else if (last_turn(r, &turn, &answered) && answered < r->msgs[turn].n_calls) {
        /* Calls of the last turn that have no step never took effect (a
         * call's step commits with it, or is written before it starts), so
         * they run now, once, in order. */
        r->turn = turn;
        r->call_i = answered;
        r->call_held = 0;
        run_calls(r);
    } else {
        next_call(r);
    }
}

void fm__run_resume(fm_runtime *rt, const fm_run *rec)
{
    run *r = fm_xcalloc(1, sizeof *r);
    r->rt = rt;
    r->id = rec->id;
    r->company = rec->company_id;
    r->agent = rec->agent_id;
    r->resume_tainted = rec->tainted;
    r->started_us = fm_now_us(); /* the wall-time cap counts from the resumption */
    fm__runtime_attach(rt, r);
    load(r, resume_loaded);
}
