/*
 * Runs and their steps, read-only: what an agent did, step by step, with
 * each step's prompt size, tokens, cost and tool call. For people (member
 * tokens, viewer and up); an agent's own token does not reach them.
 *
 * A step's request (a model turn or a tool call, JSON) and response (a tool's
 * result) can be long, so each is cut to TEXT_CUT bytes on a UTF-8 boundary,
 * with its full length given beside it.
 */
#include "http/api.h"

#include <string.h>

#define PAGE_DEFAULT 20
#define PAGE_MAX 200
#define TEXT_CUT 4096


/* `text` cut to at most TEXT_CUT bytes without splitting a UTF-8 sequence;
 * NULL for NULL. */
static json_t *cut_text(const char *text)
{
    if (!text)
        return json_null();
    size_t len = strlen(text);
    if (len > TEXT_CUT) {
        len = TEXT_CUT;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    json_t *j = json_stringn(text, len);
    return j ? j : json_string("(not UTF-8)");
}

static json_t *run_json(const fm_run *r, const char *agent)
{
    return json_pack("{s:I, s:s, s:s, s:s?, s:b, s:I, s:I}", "id", (json_int_t)r->id, "agent",
                     agent, "status", fm_run_status_name(r->status), "reason", r->reason,
                     "tainted", r->tainted, "started_us", (json_int_t)r->started_at, "ended_us",
                     (json_int_t)r->ended_at);
}

/* Adds the run's totals over its steps: steps, tool calls, prompt bytes,
 * tokens and cost. */
static int add_totals(fm_store *s, json_t *j, fm_id run, fm_error *err)
{
    fm_step *v = NULL;
    size_t n = 0;
    int rc = s->ops->step_list(s, run, &v, &n, err);
    if (rc != FM_OK)
        return rc;
    int64_t tools = 0, prompt = 0, tin = 0, tout = 0, usd = 0;
    for (size_t i = 0; i < n; i++) {
        tools += v[i].kind == FM_STEP_TOOL;
        prompt += v[i].prompt_bytes;
        tin += v[i].tokens_in;
        tout += v[i].tokens_out;
        usd += v[i].usd_micro;
    }
    json_object_update_new(j, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "steps", (json_int_t)n,
                                        "tool_calls", (json_int_t)tools, "prompt_bytes",
                                        (json_int_t)prompt, "tokens_in", (json_int_t)tin,
                                        "tokens_out", (json_int_t)tout, "usd_micro",
                                        (json_int_t)usd));
    fm_step_list_free(v, n);
    return FM_OK;
}

static void list_runs(fm_api_req *rq, fm_api_res *rs)
{
    int64_t limit, before;
    fm_agent a;
    if (!fm__api_query_int(rq, rs, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
        !fm__api_query_int(rq, rs, "before", 0, INT64_MAX, 0, &before) ||
        !fm__api_agent(rq, rs, rq->params[0], &a))
        return;
    fm_store *s = rq->store;
    fm_error err = {0};
    fm_run *v = NULL;
    size_t n = 0;
    int rc = s->ops->run_list_agent(s, a.id, before, (size_t)limit + 1, &v, &n, &err);
    json_t *arr = json_array();
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    for (size_t i = 0; rc == FM_OK && i < shown; i++) {
        json_t *j = run_json(&v[i], a.handle);
        rc = j ? add_totals(s, j, v[i].id, &err) : FM_OK;
        json_array_append_new(arr, j ? j : json_null());
    }
    if (rc == FM_OK) {
        json_t *next = n > shown ? json_sprintf("%lld", (long long)v[shown - 1].id) : json_null();
        fm__api_ok(rs, 200, json_pack("{s:o, s:o}", "runs", arr, "next", next));
    } else {
        json_decref(arr);
        fm__api_fail(rs, &err);
    }
    fm_run_list_free(v, n);
    fm_agent_release(&a);
}

static json_t *step_json(const fm_step *st)
{
    return json_pack("{s:i, s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, "
                     "s:I}", "seq", st->seq, "kind", fm_step_kind_name(st->kind), "status",
                     fm_step_status_name(st->status), "tool", st->tool, "prompt_bytes",
                     (json_int_t)st->prompt_bytes, "tokens_in", (json_int_t)st->tokens_in,
                     "tokens_cached", (json_int_t)st->tokens_cached, "tokens_out",
                     (json_int_t)st->tokens_out, "usd_micro", (json_int_t)st->usd_micro,
                     "started_us", (json_int_t)st->started_at, "ended_us",
                     (json_int_t)st->ended_at, "request", cut_text(st->request),
                     "request_bytes", (json_int_t)(st->request ? strlen(st->request) : 0),
                     "response", cut_text(st->response), "response_bytes",
                     (json_int_t)(st->response ? strlen(st->response) : 0));
}

static void list_steps(fm_api_req *rq, fm_api_res *rs)
{
    fm_id id;
    if (!fm__api_id(rs, rq->params[0], "run", &id))
        return;
    fm_store *s = rq->store;
    fm_error err = {0};
    fm_run r;
    int rc = s->ops->run_get(s, id, &r, &err);
    if (rc == FM_ENOTFOUND || (rc == FM_OK && r.company_id != rq->who.company_id)) {
        if (rc == FM_OK)
            fm_run_release(&r);
        fm__api_error(rs, 404, "not_found", NULL, "no run %lld in this company", (long long)id);
        return;
    }
    if (rc != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    fm_agent a;
    const char *handle = "?";
    bool have_agent = s->ops->agent_get(s, r.agent_id, &a, &err) == FM_OK;
    if (have_agent)
        handle = a.handle;
    fm_step *v = NULL;
    size_t n = 0;
    rc = s->ops->step_list(s, id, &v, &n, &err);
    if (rc == FM_OK) {
        json_t *steps = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *j = step_json(&v[i]);
            json_array_append_new(steps, j ? j : json_null());
        }
        fm__api_ok(rs, 200, json_pack("{s:o, s:o}", "run", run_json(&r, handle), "steps", steps));
    } else {
        fm__api_fail(rs, &err);
    }
    fm_step_list_free(v, n);
    if (have_agent)
        fm_agent_release(&a);
    fm_run_release(&r);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/agents/{handle}/runs", .handler = list_runs,
     .least = FM_ROLE_VIEWER,
     .summary = "An agent's runs, newest first, with their steps' totals (?limit=, ?before=)"},
    {.method = FM_HTTP_GET, .pattern = "/v1/runs/{id}/steps", .handler = list_steps,
     .least = FM_ROLE_VIEWER,
     .summary = "A run and its steps: prompt size, tokens, cost, tool call and result"},
};

const fm_api_resource fm__api_runs = {"runs", routes, sizeof routes / sizeof routes[0]};
