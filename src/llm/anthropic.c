/*
 * The Anthropic Messages provider: POST {base_url}/v1/messages with
 * "x-api-key", "anthropic-version: 2023-06-01". docs/providers.md has the
 * mapping table.
 *
 * The Messages API wants user and assistant turns to alternate, and tool
 * results travel as tool_result blocks inside a user turn. So a run of
 * non-assistant messages (tool results, then perhaps user text) becomes one
 * user message whose blocks keep their order.
 *
 * Responses are content blocks: text blocks are concatenated into
 * response.text, tool_use blocks become calls whose `input` object is
 * re-serialised compactly as args_json. A stream (message_start,
 * content_block_start/delta/stop, message_delta, message_stop) fills the
 * same blocks by index, so both paths give the same response.
 */
#include "llm/json_util.h"

#include "firma/base.h"

#include <stdlib.h>
#include <string.h>

#define PROV "anthropic"

typedef struct anthropic {
    fm_provider base;
    fm_llm_endpoint ep; /* {base_url}/v1/messages */
} anthropic;

typedef enum { BLOCK_NONE, BLOCK_TEXT, BLOCK_TOOL, BLOCK_OTHER } block_kind;

/* One content block: text, or a tool_use whose input arrives as JSON
 * fragments (`json`) and is checked and re-serialised (`args`) at its stop. */
typedef struct block {
    block_kind kind;
    fm_buf text;
    char *id, *name;
    fm_buf json;
    char *args;
    bool stopped;
} block;

typedef struct acall {
    anthropic *a;
    fm_llm_done done;
    void *ctx;
    bool stream;
    /* stream accumulators, reset at each attempt */
    block *blocks;
    size_t n_blocks;
    char *stop_reason;
    fm_usage usage;
    int64_t uncached; /* input_tokens: neither read from nor written to the cache */
    int64_t created;  /* cache_creation_input_tokens */
    bool got_stop;
} acall;

/* ---- request ----------------------------------------------------------- */

static json_t *text_block(const char *text)
{
    json_t *b = json_object();
    json_object_set_new(b, "type", json_string("text"));
    json_object_set_new(b, "text", fm__json_text(text));
    return b;
}

static int assistant_blocks(json_t *content, const fm_chat_msg *m, size_t i, fm_error *err)
{
    if (m->text && m->text[0])
        json_array_append_new(content, text_block(m->text));
    for (size_t j = 0; j < m->n_calls; j++) {
        const fm_tool_call *c = &m->calls[j];
        json_t *input = fm__json_object_text(c->args_json ? c->args_json : "{}");
        if (!c->id || !c->name || !input) {
            json_decref(input);
            return fm_error_set(err, FM_EINVAL, PROV ": msgs[%zu].calls[%zu] needs an id, a name "
                                "and args_json that is a JSON object", i, j);
        }
        json_t *b = json_object();
        json_object_set_new(b, "type", json_string("tool_use"));
        json_object_set_new(b, "id", fm__json_text(c->id));
        json_object_set_new(b, "name", fm__json_text(c->name));
        json_object_set_new(b, "input", input);
        json_array_append_new(content, b);
    }
    /* The API refuses an empty turn; an assistant that said nothing at all
     * still has to take its turn for the alternation to hold. */
    if (json_array_size(content) == 0)
        json_array_append_new(content, text_block("(no reply)"));
    return FM_OK;
}

static json_t *tool_result_block(const fm_chat_msg *m)
{
    json_t *b = json_object();
    json_object_set_new(b, "type", json_string("tool_result"));
    json_object_set_new(b, "tool_use_id", fm__json_text(m->tool_call_id));
    json_object_set_new(b, "content", fm__json_text(m->text));
    if (m->is_error)
        json_object_set_new(b, "is_error", json_true());
    return b;
}

static json_t *new_turn(json_t *msgs, const char *role)
{
    json_t *m = json_object();
    json_t *content = json_array();
    json_object_set_new(m, "role", json_string(role));
    json_object_set_new(m, "content", content);
    json_array_append_new(msgs, m);
    return content;
}

static int add_messages(json_t *msgs, const fm_llm_request *req, fm_error *err)
{
    json_t *user = NULL; /* the open user turn that merges tool results and text */
    for (size_t i = 0; i < req->n_msgs; i++) {
        const fm_chat_msg *m = &req->msgs[i];
        if (m->role == FM_MSG_ASSISTANT) {
            user = NULL;
            int rc = assistant_blocks(new_turn(msgs, "assistant"), m, i, err);
            if (rc != FM_OK)
                return rc;
            continue;
        }
        if (m->role != FM_MSG_USER && m->role != FM_MSG_TOOL)
            return fm_error_set(err, FM_EINVAL, PROV ": msgs[%zu] has an unknown role", i);
        if (m->role == FM_MSG_TOOL && !m->tool_call_id)
            return fm_error_set(err, FM_EINVAL, PROV ": msgs[%zu] is a tool result without "
                                "tool_call_id", i);
        if (!user)
            user = new_turn(msgs, "user");
        json_array_append_new(user, m->role == FM_MSG_TOOL ? tool_result_block(m)
                                                           : text_block(m->text));
    }
    return FM_OK;
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
        json_t *tool = json_object();
        json_object_set_new(tool, "name", fm__json_text(t->name));
        if (t->description)
            json_object_set_new(tool, "description", fm__json_text(t->description));
        json_object_set_new(tool, "input_schema", schema);
        json_array_append_new(arr, tool);
    }
    return FM_OK;
}

static int build_body(const fm_llm_request *req, char **out, fm_error *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "model", fm__json_text(req->model));
    json_object_set_new(root, "max_tokens", json_integer(req->max_tokens));
    if (req->system)
        json_object_set_new(root, "system", fm__json_text(req->system));
    json_t *msgs = json_array();
    json_object_set_new(root, "messages", msgs);
    int rc = add_messages(msgs, req, err);
    if (rc == FM_OK)
        rc = add_tools(root, req, err);
    if (rc == FM_OK) {
        if (req->stream)
            json_object_set_new(root, "stream", json_true());
        *out = fm__json_compact(root);
    }
    json_decref(root);
    return rc;
}

/* ---- response blocks (shared by whole bodies and streams) -------------- */

static void blocks_reset(acall *k)
{
    for (size_t i = 0; i < k->n_blocks; i++) {
        block *b = &k->blocks[i];
        fm_buf_release(&b->text);
        fm_buf_release(&b->json);
        free(b->id);
        free(b->name);
        free(b->args);
    }
    free(k->blocks);
    k->blocks = NULL;
    k->n_blocks = 0;
    free(k->stop_reason);
    k->stop_reason = NULL;
    memset(&k->usage, 0, sizeof k->usage);
    k->uncached = k->created = 0;
    k->got_stop = false;
}

/* The block an event's "index" names (grown into being), and its index. */
static int block_at(acall *k, const json_t *index, block **out, size_t *i_out, fm_error *err)
{
    if (!json_is_integer(index) || json_integer_value(index) < 0)
        return fm_error_set(err, FM_EPARSE, PROV ": a stream event has no content block index");
    if (json_integer_value(index) >= FM_LLM_MAX_CALLS)
        return fm_error_set(err, FM_ETOOBIG, PROV ": more than %d content blocks",
                            FM_LLM_MAX_CALLS);
    size_t i = (size_t)json_integer_value(index);
    if (i >= k->n_blocks) {
        k->blocks = fm_xreallocarray(k->blocks, i + 1, sizeof *k->blocks);
        memset(k->blocks + k->n_blocks, 0, (i + 1 - k->n_blocks) * sizeof *k->blocks);
        k->n_blocks = i + 1;
    }
    *i_out = i;
    *out = &k->blocks[i];
    return FM_OK;
}

/* Starts block `b` from its JSON (a whole block, or content_block_start's). */
static int block_start(block *b, const json_t *cb, const char *where, size_t i, fm_error *err)
{
    const char *type = fm__json_str(cb, "type");
    if (!type)
        return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].type is missing", where, i);
    if (strcmp(type, "text") == 0) {
        b->kind = BLOCK_TEXT;
        const json_t *t = json_object_get(cb, "text");
        if (json_is_string(t))
            fm_buf_add(&b->text, json_string_value(t), json_string_length(t));
        return FM_OK;
    }
    if (strcmp(type, "tool_use") != 0) {
        b->kind = BLOCK_OTHER; /* thinking and future kinds: not ours to read */
        return FM_OK;
    }
    b->kind = BLOCK_TOOL;
    const char *id = fm__json_str(cb, "id"), *name = fm__json_str(cb, "name");
    if (!id || !*id)
        return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].id is missing", where, i);
    if (!name || !*name)
        return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].name is missing", where, i);
    b->id = fm_xstrdup(id);
    b->name = fm_xstrdup(name);
    const json_t *input = json_object_get(cb, "input");
    if (input && !json_is_object(input))
        return fm_error_set(err, FM_EPARSE, PROV ": %s[%zu].input is not a JSON object", where, i);
    b->args = input ? fm__json_compact(input) : NULL;
    return FM_OK;
}

/* A streamed tool_use is complete: its fragments must form an object. */
static int block_stop(block *b, size_t i, fm_error *err)
{
    b->stopped = true;
    if (b->kind != BLOCK_TOOL || b->json.len == 0)
        return FM_OK; /* no fragments: the start's input stands */
    json_t *v = fm__json_object_text(b->json.ptr);
    if (!v)
        return fm_error_set(err, FM_EPARSE, PROV ": the streamed input of content[%zu] ('%s') "
                            "is not a JSON object", i, b->name);
    free(b->args);
    b->args = fm__json_compact(v);
    json_decref(v);
    return FM_OK;
}

static fm_stop map_stop(const char *s)
{
    if (!s)
        return FM_STOP_OTHER;
    if (strcmp(s, "end_turn") == 0 || strcmp(s, "stop_sequence") == 0)
        return FM_STOP_END;
    if (strcmp(s, "tool_use") == 0)
        return FM_STOP_TOOL_USE;
    if (strcmp(s, "max_tokens") == 0)
        return FM_STOP_MAX_TOKENS;
    return FM_STOP_OTHER;
}

/* Usage fields present in `u` override what we had: message_start brings
 * the input side, message_delta the (cumulative) output. */
static void apply_usage(acall *k, const json_t *u)
{
    if (!json_is_object(u))
        return;
    if (json_object_get(u, "input_tokens"))
        k->uncached = fm__json_count(u, "input_tokens");
    if (json_object_get(u, "cache_read_input_tokens"))
        k->usage.cached = fm__json_count(u, "cache_read_input_tokens");
    if (json_object_get(u, "cache_creation_input_tokens"))
        k->created = fm__json_count(u, "cache_creation_input_tokens");
    if (json_object_get(u, "output_tokens"))
        k->usage.output = fm__json_count(u, "output_tokens");
    k->usage.input = k->uncached + k->usage.cached + k->created;
}

static int blocks_result(acall *k, fm_llm_response *r, fm_error *err)
{
    fm_buf text = FM_BUF_INIT;
    for (size_t i = 0; i < k->n_blocks; i++) {
        block *b = &k->blocks[i];
        int rc = b->stopped ? FM_OK : block_stop(b, i, err); /* a stop that never came */
        if (rc != FM_OK) {
            fm_buf_release(&text);
            return rc;
        }
        if (b->kind == BLOCK_TEXT)
            fm_buf_add(&text, b->text.ptr, b->text.len);
        if (b->kind != BLOCK_TOOL)
            continue;
        fm__calls_push(r, b->id, b->name, b->args ? b->args : fm_xstrdup("{}"));
        b->id = b->name = b->args = NULL;
    }
    r->text = text.len ? fm_buf_detach(&text) : NULL;
    fm_buf_release(&text);
    r->stop = map_stop(k->stop_reason);
    r->usage = k->usage;
    return FM_OK;
}

static int parse_root(acall *k, const json_t *root, fm_llm_response *r, fm_error *err)
{
    const json_t *content = json_object_get(root, "content");
    if (!json_is_array(content))
        return fm_error_set(err, FM_EPARSE, PROV ": the response has no content array");
    if (json_array_size(content) > FM_LLM_MAX_CALLS)
        return fm_error_set(err, FM_ETOOBIG, PROV ": more than %d content blocks",
                            FM_LLM_MAX_CALLS);
    k->blocks = fm_xcalloc(json_array_size(content) + 1, sizeof *k->blocks);
    k->n_blocks = json_array_size(content);
    for (size_t i = 0; i < k->n_blocks; i++) {
        int rc = block_start(&k->blocks[i], json_array_get(content, i), "content", i, err);
        if (rc != FM_OK)
            return rc;
        k->blocks[i].stopped = true;
    }
    const char *stop = fm__json_str(root, "stop_reason");
    k->stop_reason = stop ? fm_xstrdup(stop) : NULL;
    apply_usage(k, json_object_get(root, "usage"));
    return blocks_result(k, r, err);
}

static int parse_body(acall *k, const fm_http_result *res, fm_llm_response *r, fm_error *err)
{
    json_t *root;
    int rc = fm__json_parse(PROV, "response body", res->body.ptr, res->body.len, &root, err);
    if (rc != FM_OK)
        return rc;
    rc = parse_root(k, root, r, err);
    json_decref(root);
    return rc;
}

/* ---- streaming --------------------------------------------------------- */

static void stream_reset(void *ctx)
{
    blocks_reset(ctx);
}

static int on_delta(acall *k, const json_t *ev, fm_error *err)
{
    size_t i;
    block *b;
    int rc = block_at(k, json_object_get(ev, "index"), &b, &i, err);
    if (rc != FM_OK)
        return rc;
    const json_t *d = json_object_get(ev, "delta");
    const char *type = fm__json_str(d, "type");
    const json_t *piece = NULL;
    fm_buf *into = NULL;
    if (type && strcmp(type, "text_delta") == 0) {
        piece = json_object_get(d, "text");
        into = &b->text;
    } else if (type && strcmp(type, "input_json_delta") == 0) {
        piece = json_object_get(d, "partial_json");
        into = &b->json;
    }
    if (into && json_is_string(piece))
        fm_buf_add(into, json_string_value(piece), json_string_length(piece));
    return FM_OK;
}

static int on_error_event(const json_t *ev, fm_error *err)
{
    const json_t *e = json_object_get(ev, "error");
    const char *type = fm__json_str(e, "type"), *msg = fm__json_str(e, "message");
    /* overloaded_error and api_error mid-stream are transient: FM_EIO retries. */
    return fm_error_set(err, FM_EIO, PROV ": error event in the stream: %s: %.300s",
                        type ? type : "error", msg ? msg : "(no message)");
}

/* One event, by the "type" inside its data (the SSE event name repeats
 * it). Unknown types are skipped: the API may add new ones. */
static int apply_event(acall *k, const json_t *ev, fm_error *err)
{
    const char *type = fm__json_str(ev, "type");
    if (!type)
        return fm_error_set(err, FM_EPARSE, PROV ": a stream event has no type");
    if (strcmp(type, "message_start") == 0) {
        apply_usage(k, json_object_get(json_object_get(ev, "message"), "usage"));
    } else if (strcmp(type, "content_block_start") == 0) {
        size_t i;
        block *b;
        int rc = block_at(k, json_object_get(ev, "index"), &b, &i, err);
        return rc != FM_OK ? rc
                           : block_start(b, json_object_get(ev, "content_block"), "content", i, err);
    } else if (strcmp(type, "content_block_delta") == 0) {
        return on_delta(k, ev, err);
    } else if (strcmp(type, "content_block_stop") == 0) {
        size_t i;
        block *b;
        int rc = block_at(k, json_object_get(ev, "index"), &b, &i, err);
        return rc != FM_OK ? rc : block_stop(b, i, err);
    } else if (strcmp(type, "message_delta") == 0) {
        const char *stop = fm__json_str(json_object_get(ev, "delta"), "stop_reason");
        if (stop) {
            free(k->stop_reason);
            k->stop_reason = fm_xstrdup(stop);
        }
        apply_usage(k, json_object_get(ev, "usage"));
    } else if (strcmp(type, "message_stop") == 0) {
        k->got_stop = true;
    } else if (strcmp(type, "error") == 0) {
        return on_error_event(ev, err);
    }
    return FM_OK;
}

static int stream_event(void *ctx, const fm_sse_event *ev, fm_error *err)
{
    json_t *root;
    int rc = fm__json_parse(PROV, "stream event", ev->data, ev->data_len, &root, err);
    if (rc != FM_OK)
        return rc;
    rc = json_is_object(root) ? apply_event(ctx, root, err)
                              : fm_error_set(err, FM_EPARSE, PROV ": a stream event is not an "
                                             "object");
    json_decref(root);
    return rc;
}

static int stream_end(void *ctx, fm_error *err)
{
    acall *k = ctx;
    if (k->got_stop)
        return FM_OK;
    return fm_error_set(err, FM_EIO, PROV ": the stream from %s ended before message_stop",
                        k->a->ep.url);
}

/* ---- the provider ------------------------------------------------------ */

static void call_free(acall *k)
{
    blocks_reset(k);
    free(k);
}

static void on_http_done(void *ctx, int rc, fm_http_result *res, const fm_error *err)
{
    acall *k = ctx;
    fm_llm_response r;
    memset(&r, 0, sizeof r);
    fm_error e;
    fm_error_clear(&e);
    if (rc == FM_OK)
        rc = k->stream ? blocks_result(k, &r, &e) : parse_body(k, res, &r, &e);
    else
        rc = fm__llm_fail(PROV, k->a->ep.url, k->a->ep.key, rc, res, err, &e);
    if (rc == FM_OK) {
        r.http_status = res->status;
        r.attempts = res->attempts;
        fm__llm_deliver(k->done, k->ctx, &r);
    } else {
        fm_llm_response_release(&r);
        k->done(k->ctx, rc, NULL, &e);
    }
    call_free(k); /* `done` may have freed the provider: k->a is off limits */
}

static int anthropic_call(fm_provider *p, const fm_llm_request *req, fm_llm_done done,
                          void *ctx, fm_error *err)
{
    anthropic *a = (anthropic *)p;
    int rc = fm__llm_check_request(PROV, req, err);
    char *body = NULL;
    if (rc == FM_OK)
        rc = build_body(req, &body, err);
    if (rc != FM_OK)
        return rc;
    acall *k = fm_xcalloc(1, sizeof *k);
    k->a = a;
    k->done = done;
    k->ctx = ctx;
    k->stream = req->stream;
    fm_sse_sink sink = {stream_event, stream_end, stream_reset, k};
    const char *headers[3] = {"content-type: application/json", "anthropic-version: 2023-06-01",
                              a->ep.auth};
    fm_http_request hr = {.url = a->ep.url, .headers = headers, .n_headers = a->ep.auth ? 3 : 2,
                          .body = body, .body_len = strlen(body),
                          .sse = req->stream ? &sink : NULL};
    rc = fm__http_post(a->ep.http, &hr, on_http_done, k, err);
    if (rc != FM_OK)
        call_free(k);
    return rc;
}

static void anthropic_free(fm_provider *p)
{
    anthropic *a = (anthropic *)p;
    if (a && fm__llm_endpoint_release(&a->ep))
        free(a);
}

static const fm_provider_ops anthropic_ops = {
    .name = PROV,
    .call = anthropic_call,
    .free = anthropic_free,
};

int fm_anthropic_new(uv_loop_t *loop, const fm_provider_config *cfg, fm_provider **out,
                  fm_error *err)
{
    *out = NULL;
    anthropic *a = fm_xcalloc(1, sizeof *a);
    a->base.ops = &anthropic_ops;
    int rc = fm__llm_endpoint_init(loop, cfg, PROV, "/v1/messages", "x-api-key: %s", &a->ep, err);
    if (rc != FM_OK) {
        free(a);
        return rc;
    }
    *out = &a->base;
    return FM_OK;
}
