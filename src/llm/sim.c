/*
 * The scripted provider (see sim.h). Answers are delivered from a zero-delay
 * uv timer, never from inside call(), to keep the async contract every
 * provider shares: the callback runs once, later, on the loop.
 *
 * Usage is estimated at four bytes a token, so that budgets, reservations
 * and the ledger behave in a dry run as they would with a real model.
 */
#include "core/files/internal.h"
#include "firma/base.h"
#include "firma/sim.h"

#include <jansson.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

typedef struct sim_call sim_call;

typedef struct sim {
    fm_provider base;
    uv_loop_t *loop;
    json_t *agents;      /* the scenario's "agents" object */
    sim_call *pending;   /* calls whose answer has not been delivered */
} sim;

struct sim_call {
    uv_timer_t timer;
    sim *owner;
    fm_llm_done done;
    void *ctx;
    fm_llm_response *resp;
    fm_error err;
    int status;
    sim_call *next, **prevp;
};

/* ---- loading ---------------------------------------------------------------- */

static int load_json(const char *path, json_t **out, fm_error *err)
{
    fm_buf text = FM_BUF_INIT;
    int rc = fm_buf_read_file(&text, path, 4 << 20);
    if (rc != FM_OK) {
        fm_buf_release(&text);
        return fm_error_set(err, rc, "%s: cannot read the scenario: %s", path, fm_strerror(rc));
    }
    fm__yaml y;
    rc = fm__yaml_load(&y, path, 0, text.ptr, text.len, err);
    if (rc != FM_OK) {
        fm_buf_release(&text);
        return rc;
    }
    /* The document points into `text` (libfyaml parses in place): keep it
     * until the JSON is out. */
    char *js = y.root ? fy_emit_node_to_string(y.root, FYECF_MODE_JSON | FYECF_WIDTH_INF) : NULL;
    fm__yaml_release(&y);
    fm_buf_release(&text);
    json_error_t je;
    *out = js ? json_loads(js, 0, &je) : NULL;
    free(js);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return fm_error_set(err, FM_EPARSE, "%s: a scenario is a mapping with an 'agents' key",
                            path);
    }
    return FM_OK;
}

static int check_turn(const char *path, const char *agent, size_t i, size_t k, json_t *turn,
                      fm_error *err)
{
    json_t *call = json_object_get(turn, "call");
    if (!json_is_object(turn) || (call && !json_is_array(call)))
        return fm_error_set(err, FM_EPARSE, "%s: agents.%s[%zu].turns[%zu] must be a mapping "
                                            "with 'say' and/or a 'call' list", path, agent, i, k);
    size_t c;
    json_t *entry;
    json_array_foreach(call, c, entry) {
        void *it = json_object_iter(entry);
        if (!json_is_object(entry) || json_object_size(entry) != 1 ||
            !json_is_object(json_object_iter_value(it)))
            return fm_error_set(err, FM_EPARSE,
                                "%s: agents.%s[%zu].turns[%zu].call[%zu] must be one "
                                "'tool: {arguments}' mapping", path, agent, i, k, c);
    }
    return FM_OK;
}

/* Checks the shape once, so a bad scenario fails at start, not mid-run. */
static int check_scripts(const char *path, const char *agent, json_t *scripts, fm_error *err)
{
    if (!json_is_array(scripts))
        return fm_error_set(err, FM_EPARSE, "%s: agents.%s must be a list of scripts", path,
                            agent);
    size_t i;
    json_t *sc;
    json_array_foreach(scripts, i, sc) {
        int kind;
        json_t *on = json_object_get(sc, "on"), *turns = json_object_get(sc, "turns");
        if (fm_wake_kind_parse(json_string_value(on), &kind) != FM_OK)
            return fm_error_set(err, FM_EPARSE, "%s: agents.%s[%zu].on must be one of %s", path,
                                agent, i, fm_wake_kind_words());
        if (!json_is_array(turns))
            return fm_error_set(err, FM_EPARSE, "%s: agents.%s[%zu].turns must be a list", path,
                                agent, i);
        size_t k;
        json_t *turn;
        json_array_foreach(turns, k, turn) {
            int rc = check_turn(path, agent, i, k, turn, err);
            if (rc != FM_OK)
                return rc;
        }
    }
    return FM_OK;
}

/* ---- answering ------------------------------------------------------------------ */

static const char *first_user_text(const fm_llm_request *req)
{
    for (size_t i = 0; i < req->n_msgs; i++)
        if (req->msgs[i].role == FM_MSG_USER && req->msgs[i].text)
            return req->msgs[i].text;
    return "";
}

static json_t *pick_script(sim *s, const fm_llm_request *req)
{
    json_t *scripts = json_object_get(s->agents, req->agent ? req->agent : "");
    const char *text = first_user_text(req);
    size_t i;
    json_t *sc;
    json_array_foreach(scripts, i, sc) {
        const char *on = json_string_value(json_object_get(sc, "on"));
        const char *m = json_string_value(json_object_get(sc, "match"));
        if (on && req->wake_kind && strcmp(on, req->wake_kind) == 0 && (!m || strstr(text, m)))
            return sc;
    }
    return NULL;
}

static int64_t tokens_of(size_t bytes)
{
    return (int64_t)((bytes + 3) / 4);
}

static int64_t prompt_tokens(const fm_llm_request *req)
{
    size_t bytes = req->system ? strlen(req->system) : 0;
    for (size_t i = 0; i < req->n_msgs; i++) {
        const fm_chat_msg *m = &req->msgs[i];
        bytes += m->text ? strlen(m->text) : 0;
        for (size_t k = 0; k < m->n_calls; k++)
            bytes += strlen(m->calls[k].name) + strlen(m->calls[k].args_json);
    }
    for (size_t i = 0; i < req->n_tools; i++)
        bytes += strlen(req->tools[i].name) + strlen(req->tools[i].schema_json);
    return tokens_of(bytes);
}

/* One entry of a turn's call list: a mapping of one tool name to its args
 * (check_scripts made sure of the shape). */
static void add_call(fm_llm_response *r, json_t *entry, size_t turn)
{
    const char *name = NULL;
    json_t *args = NULL;
    if (json_is_object(entry) && json_object_size(entry) == 1) {
        void *it = json_object_iter(entry);
        name = json_object_iter_key(it);
        args = json_object_iter_value(it);
    }
    char *text = json_dumps(args, JSON_COMPACT);
    fm_tool_call *c = &r->calls[r->n_calls];
    c->id = fm_xasprintf("sim_%zu_%zu", turn, r->n_calls);
    c->name = fm_xstrdup(name ? name : "(malformed sim call)");
    c->args_json = fm_xstrdup(text ? text : "{}");
    r->n_calls++;
    free(text);
}

static fm_llm_response *answer(sim *s, const fm_llm_request *req)
{
    fm_llm_response *r = fm_xcalloc(1, sizeof *r);
    size_t turn = 0;
    for (size_t i = 0; i < req->n_msgs; i++)
        turn += req->msgs[i].role == FM_MSG_ASSISTANT;
    json_t *t = json_array_get(json_object_get(pick_script(s, req), "turns"), turn);
    if (!t) {
        r->text = fm_xasprintf("(sim: nothing more is scripted for @%s on a %s wake)",
                               req->agent ? req->agent : "?", req->wake_kind ? req->wake_kind : "?");
    } else {
        r->text = fm_xstrdup(json_string_value(json_object_get(t, "say")));
        json_t *calls = json_object_get(t, "call");
        r->calls = fm_xcalloc(json_array_size(calls) + 1, sizeof *r->calls);
        size_t i;
        json_t *entry;
        json_array_foreach(calls, i, entry)
            add_call(r, entry, turn);
    }
    size_t out_bytes = r->text ? strlen(r->text) : 0;
    for (size_t i = 0; i < r->n_calls; i++)
        out_bytes += strlen(r->calls[i].name) + strlen(r->calls[i].args_json);
    r->usage.input = prompt_tokens(req);
    r->usage.output = tokens_of(out_bytes);
    if (r->usage.output > req->max_tokens && req->max_tokens > 0)
        r->usage.output = req->max_tokens;
    r->stop = r->n_calls ? FM_STOP_TOOL_USE : FM_STOP_END;
    r->attempts = 1;
    return r;
}

/* ---- the provider ----------------------------------------------------------------- */

static void unlink_call(sim_call *c)
{
    *c->prevp = c->next;
    if (c->next)
        c->next->prevp = c->prevp;
}

static void call_closed(uv_handle_t *h)
{
    sim_call *c = h->data;
    fm_llm_response_release(c->resp);
    free(c->resp);
    free(c);
}

static void deliver(uv_timer_t *t)
{
    sim_call *c = t->data;
    unlink_call(c);
    c->done(c->ctx, c->status, c->status == FM_OK ? c->resp : NULL, &c->err);
    uv_close((uv_handle_t *)&c->timer, call_closed);
}

static int sim_call_fn(fm_provider *p, const fm_llm_request *req, fm_llm_done done, void *ctx,
                       fm_error *err)
{
    sim *s = (sim *)p;
    if (!done)
        return fm_error_set(err, FM_EINVAL, "sim: no callback");
    sim_call *c = fm_xcalloc(1, sizeof *c);
    c->owner = s;
    c->done = done;
    c->ctx = ctx;
    c->resp = answer(s, req);
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->next = s->pending;
    if (c->next)
        c->next->prevp = &c->next;
    c->prevp = &s->pending;
    s->pending = c;
    uv_timer_start(&c->timer, deliver, 0, 0);
    return FM_OK;
}

static void sim_free(fm_provider *p)
{
    sim *s = (sim *)p;
    if (!s)
        return;
    /* Calls not yet delivered end with an error, each exactly once. */
    while (s->pending) {
        sim_call *c = s->pending;
        unlink_call(c);
        uv_timer_stop(&c->timer);
        fm_error_set(&c->err, FM_ECANCELED, "sim: provider shut down");
        c->done(c->ctx, FM_ECANCELED, NULL, &c->err);
        uv_close((uv_handle_t *)&c->timer, call_closed);
    }
    json_decref(s->agents);
    free(s);
}

static const fm_provider_ops sim_ops = {
    .name = "sim",
    .call = sim_call_fn,
    .free = sim_free,
};

int fm_sim_new(uv_loop_t *loop, const char *path, fm_provider **out, fm_error *err)
{
    json_t *root;
    int rc = load_json(path, &root, err);
    if (rc != FM_OK)
        return rc;
    json_t *agents = json_object_get(root, "agents");
    if (!json_is_object(agents))
        rc = fm_error_set(err, FM_EPARSE, "%s: a scenario needs an 'agents' mapping", path);
    const char *name;
    json_t *scripts;
    json_object_foreach(agents, name, scripts) {
        if (rc == FM_OK)
            rc = check_scripts(path, name, scripts, err);
    }
    if (rc != FM_OK) {
        json_decref(root);
        return rc;
    }
    sim *s = fm_xcalloc(1, sizeof *s);
    s->base.ops = &sim_ops;
    s->loop = loop;
    s->agents = json_incref(agents);
    json_decref(root);
    *out = &s->base;
    return FM_OK;
}
