/*
 * The OpenAI-compatible Chat Completions provider: POST
 * {base_url}/chat/completions with "Authorization: Bearer KEY". The same
 * wire format serves OpenAI, vLLM, llama.cpp's server, Ollama and
 * OpenRouter; docs/providers.md has the mapping table.
 *
 * A call is built into one JSON body, handed to the HTTP client, and the
 * answer mapped back. Streamed answers ("data: {chunk}" ... "data: [DONE]")
 * accumulate into an ocall and come out in exactly the shape a whole body
 * gives, so callers cannot tell the two apart. Tool-call arguments are kept
 * verbatim (after checking they are a JSON object): the model's own text.
 */
#include "llm/json_util.h"

#include "firma/base.h"

#include <stdlib.h>
#include <string.h>

#define PROV "openai"

typedef struct openai {
    fm_provider base;
    fm_llm_endpoint ep; /* {base_url}/chat/completions */
} openai;

/* One streamed tool call, assembled from deltas that share its index. */
typedef struct stream_call {
    fm_buf id, name, args;
} stream_call;

typedef struct ocall {
    openai *o;
    fm_llm_done done;
    void *ctx;
    bool stream;
    /* stream accumulators, reset at each attempt */
    fm_buf text;
    stream_call *calls;
    size_t n_calls;
    char *finish;
    fm_usage usage;
    bool got_done;
} ocall;

/* ---- request ----------------------------------------------------------- */

static int add_tool_calls(json_t *m, const fm_chat_msg *msg, size_t i, fm_error *err)
{
    json_t *arr = json_array();
    json_object_set_new(m, "tool_calls", arr);
    for (size_t j = 0; j < msg->n_calls; j++) {
        const fm_tool_call *c = &msg->calls[j];
        if (!c->id || !c->name)
            return fm_error_set(err, FM_EINVAL, PROV ": msgs[%zu].calls[%zu] lacks an id or name",
                                i, j);
        json_t *fn = json_object();
        json_object_set_new(fn, "name", fm__json_text(c->name));
        json_object_set_new(fn, "arguments", fm__json_text(c->args_json ? c->args_json : "{}"));
        json_t *call = json_object();
        json_object_set_new(call, "id", fm__json_text(c->id));
        json_object_set_new(call, "type", json_string("function"));
        json_object_set_new(call, "function", fn);
        json_array_append_new(arr, call);
    }
    return FM_OK;
}

static int add_message(json_t *msgs, const fm_chat_msg *msg, size_t i, fm_error *err)
{
    json_t *m = json_object();
    json_array_append_new(msgs, m);
    switch (msg->role) {
    case FM_MSG_USER:
        json_object_set_new(m, "role", json_string("user"));
        json_object_set_new(m, "content", fm__json_text(msg->text));
        return FM_OK;
    case FM_MSG_ASSISTANT:
        json_object_set_new(m, "role", json_string("assistant"));
        /* null is only allowed when tool calls carry the turn */
        json_object_set_new(m, "content", msg->text || !msg->n_calls ? fm__json_text(msg->text)
                                                                     : json_null());
        return msg->n_calls ? add_tool_calls(m, msg, i, err) : FM_OK;
    case FM_MSG_TOOL:
        if (!msg->tool_call_id)
            return fm_error_set(err, FM_EINVAL, PROV ": msgs[%zu] is a tool result without "
                                "tool_call_id", i);
        json_object_set_new(m, "role", json_string("tool"));
        json_object_set_new(m, "tool_call_id", fm__json_text(msg->tool_call_id));
        json_object_set_new(m, "content", fm__json_text(msg->text));
        return FM_OK;
    }
    return fm_error_set(err, FM_EINVAL, PROV ": msgs[%zu] has an unknown role", i);
}

static int add_tools(json_t *root, const fm_llm_request *req, fm_error *err)
{
    if (req->n_tools == 0)
        return FM_OK;
    json_t *arr = json_array();
    json_object_set_new(root, "tools", arr);
    for (size_t i = 0; i < req->n_tools; i++) {
        const fm_tool_def *t = &req->tools[i];
        json_t *schema = fm__json_object_text(t->schema_json ? t->schema_json
                                                             : "{\"type\":\"object\"}");
        if (!t->name || !schema) {
            json_decref(schema);
            return fm_error_set(err, FM_EINVAL, PROV ": tools[%zu] ('%s') needs a name and an "
                                "object schema_json", i, t->name ? t->name : "?");
        }
        json_t *fn = json_object();
        json_object_set_new(fn, "name", fm__json_text(t->name));
        if (t->description)
            json_object_set_new(fn, "description", fm__json_text(t->description));
        json_object_set_new(fn, "parameters", schema);
        json_t *tool = json_object();
        json_object_set_new(tool, "type", json_string("function"));
        json_object_set_new(tool, "function", fn);
        json_array_append_new(arr, tool);
    }
    return FM_OK;
}

/* The body, or an error naming the part of the request at fault. */
static int build_body(const fm_llm_request *req, char **out, fm_error *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "model", fm__json_text(req->model));
    json_t *msgs = json_array();
    json_object_set_new(root, "messages", msgs);
    if (req->system) {
        json_t *sys = json_object();
        json_object_set_new(sys, "role", json_string("system"));
        json_object_set_new(sys, "content", fm__json_text(req->system));
        json_array_append_new(msgs, sys);
    }
    int rc = FM_OK;
    for (size_t i = 0; i < req->n_msgs && rc == FM_OK; i++)
        rc = add_message(msgs, &req->msgs[i], i, err);
    if (rc == FM_OK)
        rc = add_tools(root, req, err);
    if (rc == FM_OK) {
        /* "max_tokens", not "max_completion_tokens": vLLM, llama.cpp and
         * Ollama know only the former, and OpenAI still accepts it. */
        json_object_set_new(root, "max_tokens", json_integer(req->max_tokens));
        if (req->stream) {
            json_object_set_new(root, "stream", json_true());
            json_object_set_new(root, "stream_options", json_pack("{s:b}", "include_usage", 1));
        }
        *out = fm__json_compact(root);
    }
    json_decref(root);
    return rc;
}

/* ---- response ---------------------------------------------------------- */

static fm_stop map_finish(const char *f)
{
    if (!f)
        return FM_STOP_OTHER;
    if (strcmp(f, "stop") == 0)
        return FM_STOP_END;
    if (strcmp(f, "tool_calls") == 0 || strcmp(f, "function_call") == 0)
        return FM_STOP_TOOL_USE;
    if (strcmp(f, "length") == 0)
        return FM_STOP_MAX_TOKENS;
    return FM_STOP_OTHER;
}

static void parse_usage(const json_t *u, fm_usage *out)
{
    if (!json_is_object(u))
        return;
    out->input = fm__json_count(u, "prompt_tokens");
    out->output = fm__json_count(u, "completion_tokens");
    out->cached = fm__json_count(json_object_get(u, "prompt_tokens_details"), "cached_tokens");
}

/* Checks one call and appends it; `where` names it in errors. Empty
 * arguments (some servers, for a tool without parameters) mean "{}". */
static int take_call(fm_llm_response *r, const char *where, size_t i, const char *id,
                     const char *name, const char *args, fm_error *err)
{
    if (!id || !*id)
        return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].id is missing", where, i);
    if (!name || !*name)
        return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].function.name is missing", where, i);
    if (!args)
        return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].function.arguments is missing",
                            where, i);
    if (*args) {
        json_t *v = fm__json_object_text(args);
        if (!v)
            return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].function.arguments is not a "
                                "JSON object", where, i);
        json_decref(v);
    }
    fm__calls_push(r, fm_xstrdup(id), fm_xstrdup(name), fm_xstrdup(*args ? args : "{}"));
    return FM_OK;
}

static int parse_tool_calls(const json_t *tcs, fm_llm_response *r, fm_error *err)
{
    static const char where[] = "choices[0].message.tool_calls";
    if (!tcs || json_is_null(tcs))
        return FM_OK;
    if (!json_is_array(tcs))
        return fm_error_set(err, FM_EPARSE, PROV ": %s is not an array", where);
    if (json_array_size(tcs) > FM_LLM_MAX_CALLS)
        return fm_error_set(err, FM_ETOOBIG, PROV ": more than %d tool calls", FM_LLM_MAX_CALLS);
    for (size_t i = 0; i < json_array_size(tcs); i++) {
        const json_t *tc = json_array_get(tcs, i);
        const json_t *fn = json_object_get(tc, "function");
        int rc = take_call(r, where, i, fm__json_str(tc, "id"), fm__json_str(fn, "name"),
                           fm__json_str(fn, "arguments"), err);
        if (rc != FM_OK)
            return rc;
    }
    return FM_OK;
}

static int parse_root(const json_t *root, fm_llm_response *r, fm_error *err)
{
    const json_t *choices = json_object_get(root, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0)
        return fm_error_set(err, FM_EPARSE, PROV ": the response has no choices[0]");
    const json_t *choice = json_array_get(choices, 0);
    const json_t *msg = json_object_get(choice, "message");
    if (!json_is_object(msg))
        return fm_error_set(err, FM_EPARSE, PROV ": choices[0].message is missing");
    const json_t *content = json_object_get(msg, "content");
    if (json_is_string(content) && json_string_length(content) > 0)
        r->text = fm_xstrndup(json_string_value(content), json_string_length(content));
    else if (content && !json_is_string(content) && !json_is_null(content))
        return fm_error_set(err, FM_EPARSE, PROV ": choices[0].message.content is not a string");
    int rc = parse_tool_calls(json_object_get(msg, "tool_calls"), r, err);
    if (rc != FM_OK)
        return rc;
    if (!r->text && r->n_calls == 0 && !content)
        return fm_error_set(err, FM_EPARSE, PROV ": choices[0].message has neither content "
                            "nor tool_calls");
    r->stop = map_finish(fm__json_str(choice, "finish_reason"));
    parse_usage(json_object_get(root, "usage"), &r->usage);
    return FM_OK;
}

static int parse_body(const fm_http_result *res, fm_llm_response *r, fm_error *err)
{
    json_t *root;
    int rc = fm__json_parse(PROV, "response body", res->body.ptr, res->body.len, &root, err);
    if (rc != FM_OK)
        return rc;
    rc = parse_root(root, r, err);
    json_decref(root);
    return rc;
}

/* ---- streaming --------------------------------------------------------- */

static void stream_reset(void *ctx)
{
    ocall *k = ctx;
    fm_buf_release(&k->text);
    for (size_t i = 0; i < k->n_calls; i++) {
        fm_buf_release(&k->calls[i].id);
        fm_buf_release(&k->calls[i].name);
        fm_buf_release(&k->calls[i].args);
    }
    free(k->calls);
    k->calls = NULL;
    k->n_calls = 0;
    free(k->finish);
    k->finish = NULL;
    memset(&k->usage, 0, sizeof k->usage);
    k->got_done = false;
}

/* Deltas for one call share an index; the id and name come first, then
 * argument fragments to concatenate. */
static int apply_tool_delta(ocall *k, const json_t *d, fm_error *err)
{
    const json_t *ix = json_object_get(d, "index");
    if (!json_is_integer(ix) || json_integer_value(ix) < 0)
        return fm_error_set(err, FM_EPARSE, PROV ": stream chunk: tool_calls[].index is missing");
    if (json_integer_value(ix) >= FM_LLM_MAX_CALLS)
        return fm_error_set(err, FM_ETOOBIG, PROV ": more than %d tool calls", FM_LLM_MAX_CALLS);
    size_t i = (size_t)json_integer_value(ix);
    if (i >= k->n_calls) {
        k->calls = fm_xreallocarray(k->calls, i + 1, sizeof *k->calls);
        memset(k->calls + k->n_calls, 0, (i + 1 - k->n_calls) * sizeof *k->calls);
        k->n_calls = i + 1;
    }
    stream_call *sc = &k->calls[i];
    const json_t *fn = json_object_get(d, "function");
    const char *id = fm__json_str(d, "id"), *name = fm__json_str(fn, "name");
    if (id && sc->id.len == 0)
        fm_buf_adds(&sc->id, id);
    if (name && sc->name.len == 0)
        fm_buf_adds(&sc->name, name);
    const json_t *args = json_object_get(fn, "arguments");
    if (json_is_string(args))
        fm_buf_add(&sc->args, json_string_value(args), json_string_length(args));
    return FM_OK;
}

static int apply_chunk(ocall *k, const json_t *chunk, fm_error *err)
{
    if (!json_is_object(chunk))
        return fm_error_set(err, FM_EPARSE, PROV ": a stream chunk is not a JSON object");
    const json_t *e = json_object_get(chunk, "error");
    if (e && !json_is_null(e)) {
        const char *m = fm__json_str(e, "message");
        return fm_error_set(err, FM_EIO, PROV ": the server reported an error mid-stream: %.300s",
                            m ? m : "(no message)");
    }
    parse_usage(json_object_get(chunk, "usage"), &k->usage);
    const json_t *choices = json_object_get(chunk, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0)
        return FM_OK; /* the usage-only chunk that include_usage adds */
    const json_t *choice = json_array_get(choices, 0);
    const json_t *delta = json_object_get(choice, "delta");
    const json_t *content = json_object_get(delta, "content");
    if (json_is_string(content))
        fm_buf_add(&k->text, json_string_value(content), json_string_length(content));
    const json_t *tcs = json_object_get(delta, "tool_calls");
    for (size_t i = 0; json_is_array(tcs) && i < json_array_size(tcs); i++) {
        int rc = apply_tool_delta(k, json_array_get(tcs, i), err);
        if (rc != FM_OK)
            return rc;
    }
    const char *fr = fm__json_str(choice, "finish_reason");
    if (fr) {
        free(k->finish);
        k->finish = fm_xstrdup(fr);
    }
    return FM_OK;
}

static int stream_event(void *ctx, const fm_sse_event *ev, fm_error *err)
{
    ocall *k = ctx;
    if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) {
        k->got_done = true;
        return FM_OK;
    }
    json_t *chunk;
    int rc = fm__json_parse(PROV, "stream chunk", ev->data, ev->data_len, &chunk, err);
    if (rc != FM_OK)
        return rc;
    rc = apply_chunk(k, chunk, err);
    json_decref(chunk);
    return rc;
}

/* Without [DONE] the stream was cut (and the usage chunk may be lost):
 * FM_EIO has the client retry it. */
static int stream_end(void *ctx, fm_error *err)
{
    ocall *k = ctx;
    if (k->got_done)
        return FM_OK;
    return fm_error_set(err, FM_EIO, PROV ": the stream from %s ended before [DONE]", k->o->ep.url);
}

static int stream_result(ocall *k, fm_llm_response *r, fm_error *err)
{
    if (k->text.len)
        r->text = fm_xstrndup(k->text.ptr, k->text.len);
    for (size_t i = 0; i < k->n_calls; i++) {
        stream_call *sc = &k->calls[i];
        int rc = take_call(r, "streamed tool_calls", i, sc->id.ptr, sc->name.ptr,
                           sc->args.len ? sc->args.ptr : "", err);
        if (rc != FM_OK)
            return rc;
    }
    r->stop = map_finish(k->finish);
    r->usage = k->usage;
    return FM_OK;
}

/* ---- the provider ------------------------------------------------------ */

static void call_free(ocall *k)
{
    stream_reset(k);
    free(k);
}

static void on_http_done(void *ctx, int rc, fm_http_result *res, const fm_error *err)
{
    ocall *k = ctx;
    fm_llm_response r;
    memset(&r, 0, sizeof r);
    fm_error e;
    fm_error_clear(&e);
    if (rc == FM_OK)
        rc = k->stream ? stream_result(k, &r, &e) : parse_body(res, &r, &e);
    else
        rc = fm__llm_fail(PROV, k->o->ep.url, k->o->ep.key, rc, res, err, &e);
    if (rc == FM_OK) {
        r.http_status = res->status;
        r.attempts = res->attempts;
        fm__llm_deliver(k->done, k->ctx, &r);
    } else {
        fm_llm_response_release(&r);
        k->done(k->ctx, rc, NULL, &e);
    }
    call_free(k); /* `done` may have freed the provider: k->o is off limits */
}

static int openai_call(fm_provider *p, const fm_llm_request *req, fm_llm_done done, void *ctx,
                       fm_error *err)
{
    openai *o = (openai *)p;
    int rc = fm__llm_check_request(PROV, req, err);
    char *body = NULL;
    if (rc == FM_OK)
        rc = build_body(req, &body, err);
    if (rc != FM_OK)
        return rc;
    ocall *k = fm_xcalloc(1, sizeof *k);
    k->o = o;
    k->done = done;
    k->ctx = ctx;
    k->stream = req->stream;
    fm_sse_sink sink = {stream_event, stream_end, stream_reset, k};
    const char *headers[2] = {"Content-Type: application/json", o->ep.auth};
    fm_http_request hr = {.url = o->ep.url, .headers = headers, .n_headers = o->ep.auth ? 2 : 1,
                          .body = body, .body_len = strlen(body),
                          .sse = req->stream ? &sink : NULL};
    rc = fm__http_post(o->ep.http, &hr, on_http_done, k, err);
    if (rc != FM_OK)
        call_free(k);
    return rc;
}

static void openai_free(fm_provider *p)
{
    openai *o = (openai *)p;
    if (o && fm__llm_endpoint_release(&o->ep))
        free(o);
}

static const fm_provider_ops openai_ops = {
    .name = PROV,
    .call = openai_call,
    .free = openai_free,
};

int fm_openai_new(uv_loop_t *loop, const fm_provider_config *cfg, fm_provider **out,
                  fm_error *err)
{
    *out = NULL;
    openai *o = fm_xcalloc(1, sizeof *o);
    o->base.ops = &openai_ops;
    int rc = fm__llm_endpoint_init(loop, cfg, PROV, "/chat/completions", "Authorization: Bearer %s", &o->ep, err);
    if (rc != FM_OK) {
        free(o);
        return rc;
    }
    *out = &o->base;
    return FM_OK;
}
