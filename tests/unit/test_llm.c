/*
 * llm/: the OpenAI and Anthropic providers against tests/llm_server.py, a
 * local server that checks every request field by field against the
 * published wire format and answers per scenario (the model name, see the
 * script). Also the SSE parser and the retry policy on their own.
 *
 * Each test runs its own uv loop, frees its providers and runs the loop
 * until every handle has closed, so LeakSanitizer sees a clean exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "firma/base.h"
#include "pyserver.h"
#include "firma/llm.h"
#include "llm/http_client.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY "sk-test-KEY-123-secret"
#define SYSTEM "You are terse."
#define Q1 "What is the weather and time in Oslo?"
#define Q2 "And in Paris?"
#define R1 "{\"temp_c\":4}"
#define R2 "clock unavailable"
#define ARGS_A1 "{\"city\":\"Oslo\"}"
#define ARGS_A2 "{\"tz\":\"Europe/Oslo\"}"
#define SCHEMA1 "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}," \
                "\"days\":{\"type\":\"integer\"}},\"required\":[\"city\"]}"
#define SCHEMA2 "{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\"}}}"
#define DESC1 "The weather for a city."

typedef enum { OPENAI, ANTHROPIC } api;
static const char *const API_NAME[] = {"openai", "anthropic"};

typedef struct server {
    pyserver py;
    int seq; /* makes model names (and so the server's counters) unique */
} server;

/* ---- the server process ------------------------------------------------ */

static int group_setup(void **state)
{
    server *s = fm_xcalloc(1, sizeof *s);
    static const char *const extra[] = {"--key", KEY, NULL};
    pyserver_start(&s->py, "llm_server.py", extra);
    *state = s;
    return 0;
}

static int group_teardown(void **state)
{
    server *s = *state;
    pyserver_stop(&s->py);
    free(s);
    return 0;
}

/* The server's records for `model`, in arrival order. */
static json_t *requests_for(server *s, const char *model)
{
    return pyserver_records(&s->py, "model", model, NULL, NULL);
}

static size_t count_requests(server *s, const char *model)
{
    json_t *arr = requests_for(s, model);
    size_t n = json_array_size(arr);
    json_decref(arr);
    return n;
}

/* ---- providers and calls ----------------------------------------------- */

static fm_provider_config test_config(void)
{
    return (fm_provider_config){.timeout_ms = 5000, .connect_timeout_ms = 2000,
                                .max_retries = 2, .backoff_base_ms = 10, .backoff_max_ms = 40,
                                .max_concurrency = 4, .max_response_bytes = 1u << 20};
}

static fm_provider *make_provider(uv_loop_t *loop, server *s, api which, fm_provider_config cfg)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->py.port, which == OPENAI ? "/v1/" : "");
    cfg.base_url = url;
    cfg.api_key = KEY;
    fm_provider *p = NULL;
    fm_error err;
    int rc = which == OPENAI ? fm_openai_new(loop, &cfg, &p, &err)
                             : fm_anthropic_new(loop, &cfg, &p, &err);
    assert_int_equal(rc, FM_OK);
    assert_string_equal(p->ops->name, API_NAME[which]);
    return p;
}

typedef struct outcome {
    int calls;
    int status;
    fm_llm_response resp;
    fm_error err;
    fm_provider *free_me; /* freed from inside the callback */
} outcome;

static void on_done(void *ctx, int status, fm_llm_response *resp, const fm_error *err)
{
    outcome *o = ctx;
    o->calls++;
    o->status = status;
    if (resp) {
        o->resp = *resp; /* moved: the provider's release is then a no-op */
        memset(resp, 0, sizeof *resp);
    } else {
        assert_int_not_equal(status, FM_OK);
        assert_non_null(err);
    }
    if (err)
        o->err = *err;
    if (o->free_me) {
        fm_provider *p = o->free_me;
        o->free_me = NULL;
        p->ops->free(p);
    }
}

static void outcome_release(outcome *o)
{
    fm_llm_response_release(&o->resp);
}

static void finish_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* A conversation that uses every kind of message: the server checks it on
 * every request, whatever the scenario. */
typedef struct convo {
    fm_tool_call calls[2];
    fm_chat_msg msgs[5];
    fm_tool_def tools[2];
    fm_llm_request req;
    char model[64];
} convo;

static void convo_init(convo *c, server *s, const char *scenario, bool stream)
{
    memset(c, 0, sizeof *c);
    c->calls[0] = (fm_tool_call){"call_a1", "get_weather", ARGS_A1};
    c->calls[1] = (fm_tool_call){"call_a2", "get_time", ARGS_A2};
    c->msgs[0] = (fm_chat_msg){.role = FM_MSG_USER, .text = Q1};
    c->msgs[1] = (fm_chat_msg){.role = FM_MSG_ASSISTANT, .text = "Checking both.",
                               .calls = c->calls, .n_calls = 2};
    c->msgs[2] = (fm_chat_msg){.role = FM_MSG_TOOL, .text = R1, .tool_call_id = "call_a1"};
    c->msgs[3] = (fm_chat_msg){.role = FM_MSG_TOOL, .text = R2, .tool_call_id = "call_a2",
                               .is_error = true};
    c->msgs[4] = (fm_chat_msg){.role = FM_MSG_USER, .text = Q2};
    c->tools[0] = (fm_tool_def){.name = "get_weather", .description = DESC1,
                                .schema_json = SCHEMA1};
    c->tools[1] = (fm_tool_def){.name = "get_time", .schema_json = SCHEMA2};
    snprintf(c->model, sizeof c->model, "%s#%d", scenario, ++s->seq);
    c->req = (fm_llm_request){.model = c->model, .system = SYSTEM, .msgs = c->msgs, .n_msgs = 5,
                              .tools = c->tools, .n_tools = 2, .max_tokens = 256,
                              .stream = stream, .agent = "ceo", .wake_kind = "task"};
}

/* One call on a fresh loop and provider, run to the end. */
static void run_one(server *s, api which, fm_provider_config cfg, const fm_llm_request *req,
                    outcome *o)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    fm_provider *p = make_provider(&loop, s, which, cfg);
    memset(o, 0, sizeof *o);
    fm_error err;
    int rc = p->ops->call(p, req, on_done, o, &err);
    if (rc != FM_OK)
        fail_msg("call: %s", err.msg);
    while (o->calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    p->ops->free(p);
    finish_loop(&loop);
    assert_int_equal(o->calls, 1);
}

static void run_scenario(server *s, api which, const char *scenario, bool stream,
                         fm_provider_config cfg, outcome *o, char *model_out)
{
    convo c;
    convo_init(&c, s, scenario, stream);
    run_one(s, which, cfg, &c.req, o);
    if (model_out)
        memcpy(model_out, c.model, sizeof c.model);
}

static void expect_ok(const outcome *o)
{
    if (o->status != FM_OK)
        fail_msg("expected success, got %s: %s", fm_errname(o->status), o->err.msg);
}

static void expect_error(const outcome *o, int code, const char *needle)
{
    if (o->status != code || !strstr(o->err.msg, needle))
        fail_msg("expected %s with '%s', got %s: %s", fm_errname(code), needle,
                 fm_errname(o->status), o->err.msg);
    assert_null(o->resp.text);
    assert_int_equal(o->resp.n_calls, 0);
}

/* ---- what each scenario must give ------------------------------------- */

typedef struct expect {
    const char *scenario;
    const char *text;
    fm_stop stop;
    fm_usage usage;
    size_t n_calls;
    const char *names[2];
    const char *args[2][2]; /* [call][api]: OpenAI keeps arguments verbatim, Anthropic
                               serialises the input object compactly */
} expect;

static const expect EXPECTS[] = {
    {"text", "Hello from the test server.", FM_STOP_END, {12, 0, 7}, 0, {NULL}, {{NULL}}},
    {"cached", "Cached answer.", FM_STOP_END, {1000, 800, 5}, 0, {NULL}, {{NULL}}},
    {"tools1", "Let me check.", FM_STOP_TOOL_USE, {40, 0, 20}, 1, {"get_weather"},
     {{"{\"city\": \"Paris\", \"days\": 3}", "{\"city\":\"Paris\",\"days\":3}"}}},
    {"tools2", NULL, FM_STOP_TOOL_USE, {41, 0, 30}, 2, {"get_weather", "get_time"},
     {{"{\"city\": \"Paris\"}", "{\"city\":\"Paris\"}"},
      {"{\"tz\": \"Europe/Paris\", \"format\": \"24h\", \"extra\": [1, 2.5, null, true]}",
       "{\"tz\":\"Europe/Paris\",\"format\":\"24h\",\"extra\":[1,2.5,null,true]}"}}},
    {"maxtok", "This answer was cut", FM_STOP_MAX_TOKENS, {12, 0, 4}, 0, {NULL}, {{NULL}}},
    {"unicode", "Gr\xc3\xbc\xc3\x9f" "e \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xe2\x9c\x93 "
                "\xf0\x9f\x98\x80", FM_STOP_END, {3, 0, 9}, 0, {NULL}, {{NULL}}},
};

static void assert_str_or_null(const char *got, const char *want)
{
    if (want)
        assert_string_equal(got ? got : "(null)", want);
    else
        assert_null(got);
}

static void check_expect(const expect *e, api which, const fm_llm_response *r)
{
    assert_str_or_null(r->text, e->text);
    assert_int_equal(r->stop, e->stop);
    assert_int_equal(r->usage.input, e->usage.input);
    assert_int_equal(r->usage.cached, e->usage.cached);
    assert_int_equal(r->usage.output, e->usage.output);
    assert_int_equal(r->n_calls, e->n_calls);
    for (size_t i = 0; i < e->n_calls; i++) {
        char id[16];
        snprintf(id, sizeof id, which == OPENAI ? "call_%02zu" : "toolu_%02zu", i + 1);
        assert_string_equal(r->calls[i].id, id);
        assert_string_equal(r->calls[i].name, e->names[i]);
        assert_string_equal(r->calls[i].args_json, e->args[i][which]);
    }
    assert_int_equal(r->http_status, 200);
}

static void assert_same_response(const fm_llm_response *a, const fm_llm_response *b)
{
    assert_str_or_null(a->text, b->text);
    assert_int_equal(a->stop, b->stop);
    assert_memory_equal(&a->usage, &b->usage, sizeof a->usage);
    assert_int_equal(a->n_calls, b->n_calls);
    for (size_t i = 0; i < a->n_calls; i++) {
        assert_string_equal(a->calls[i].id, b->calls[i].id);
        assert_string_equal(a->calls[i].name, b->calls[i].name);
        assert_string_equal(a->calls[i].args_json, b->calls[i].args_json);
    }
    assert_int_equal(a->http_status, b->http_status);
    assert_int_equal(a->attempts, b->attempts);
}

/* Every scenario, whole and streamed: exactly the expected response, and
 * the stream gives the same as the whole body. */
static void answers(server *s, api which)
{
    for (size_t i = 0; i < sizeof EXPECTS / sizeof EXPECTS[0]; i++) {
        outcome whole, streamed;
        run_scenario(s, which, EXPECTS[i].scenario, false, test_config(), &whole, NULL);
        run_scenario(s, which, EXPECTS[i].scenario, true, test_config(), &streamed, NULL);
        expect_ok(&whole);
        expect_ok(&streamed);
        check_expect(&EXPECTS[i], which, &whole.resp);
        assert_int_equal(whole.resp.attempts, 1);
        assert_same_response(&whole.resp, &streamed.resp);
        outcome_release(&whole);
        outcome_release(&streamed);
    }
}

static void openai_answers(void **state)
{
    answers(*state, OPENAI);
}

static void anthropic_answers(void **state)
{
    answers(*state, ANTHROPIC);
}

/* ---- the request bodies the server saw --------------------------------- */

static json_t *logged_body(server *s, const char *model, size_t *violations)
{
    json_t *reqs = requests_for(s, model);
    assert_int_equal(json_array_size(reqs), 1);
    json_t *rec = json_array_get(reqs, 0);
    assert_true(json_is_true(json_object_get(rec, "key_ok")));
    *violations = json_is_null(json_object_get(rec, "violation")) ? 0 : 1;
    json_t *body = json_incref(json_object_get(rec, "body"));
    json_decref(reqs);
    return body;
}

static void assert_json_equal(json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        print_error("sent: %s\nwant: %s\n", g, w);
        free(g);
        free(w);
        fail();
    }
}

static json_t *openai_expected(const char *model, bool stream)
{
    json_t *calls = json_pack("[{s:s,s:s,s:{s:s,s:s}},{s:s,s:s,s:{s:s,s:s}}]", "id", "call_a1",
                              "type", "function", "function", "name", "get_weather", "arguments",
                              ARGS_A1, "id", "call_a2", "type", "function", "function", "name",
                              "get_time", "arguments", ARGS_A2);
    json_t *msgs = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s,s:o},{s:s,s:s,s:s},{s:s,s:s,s:s},"
                             "{s:s,s:s}]",
                             "role", "system", "content", SYSTEM, "role", "user", "content", Q1,
                             "role", "assistant", "content", "Checking both.", "tool_calls", calls,
                             "role", "tool", "tool_call_id", "call_a1", "content", R1,
                             "role", "tool", "tool_call_id", "call_a2", "content", R2,
                             "role", "user", "content", Q2);
    json_t *tools = json_pack("[{s:s,s:{s:s,s:s,s:o}},{s:s,s:{s:s,s:o}}]", "type", "function",
                              "function", "name", "get_weather", "description", DESC1,
                              "parameters", json_loads(SCHEMA1, 0, NULL), "type", "function",
                              "function", "name", "get_time", "parameters",
                              json_loads(SCHEMA2, 0, NULL));
    json_t *want = json_pack("{s:s,s:o,s:o,s:i}", "model", model, "messages", msgs, "tools",
                             tools, "max_tokens", 256);
    if (stream) {
        json_object_set_new(want, "stream", json_true());
        json_object_set_new(want, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    return want;
}

static json_t *anthropic_expected(const char *model, bool stream)
{
    json_t *assistant = json_pack("[{s:s,s:s},{s:s,s:s,s:s,s:o},{s:s,s:s,s:s,s:o}]",
                                  "type", "text", "text", "Checking both.",
                                  "type", "tool_use", "id", "call_a1", "name", "get_weather",
                                  "input", json_loads(ARGS_A1, 0, NULL),
                                  "type", "tool_use", "id", "call_a2", "name", "get_time",
                                  "input", json_loads(ARGS_A2, 0, NULL));
    /* Both tool results and the next user text: one user turn. is_error
     * only where set. */
    json_t *results = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s,s:b},{s:s,s:s}]",
                                "type", "tool_result", "tool_use_id", "call_a1", "content", R1,
                                "type", "tool_result", "tool_use_id", "call_a2", "content", R2,
                                "is_error", 1, "type", "text", "text", Q2);
    json_t *msgs = json_pack("[{s:s,s:[{s:s,s:s}]},{s:s,s:o},{s:s,s:o}]", "role", "user",
                             "content", "type", "text", "text", Q1, "role", "assistant",
                             "content", assistant, "role", "user", "content", results);
    json_t *tools = json_pack("[{s:s,s:s,s:o},{s:s,s:o}]", "name", "get_weather", "description",
                              DESC1, "input_schema", json_loads(SCHEMA1, 0, NULL), "name",
                              "get_time", "input_schema", json_loads(SCHEMA2, 0, NULL));
    json_t *want = json_pack("{s:s,s:i,s:s,s:o,s:o}", "model", model, "max_tokens", 256,
                             "system", SYSTEM, "messages", msgs, "tools", tools);
    if (stream)
        json_object_set_new(want, "stream", json_true());
    return want;
}

static void request_mapping(server *s, api which)
{
    for (int stream = 0; stream <= 1; stream++) {
        outcome o;
        char model[64];
        run_scenario(s, which, "text", stream, test_config(), &o, model);
        expect_ok(&o);
        outcome_release(&o);
        size_t violations;
        json_t *body = logged_body(s, model, &violations);
        assert_int_equal(violations, 0);
        json_t *want = which == OPENAI ? openai_expected(model, stream)
                                       : anthropic_expected(model, stream);
        assert_json_equal(body, want);
        json_decref(body);
        json_decref(want);
    }
}

static void openai_request_mapping(void **state)
{
    request_mapping(*state, OPENAI);
}

static void anthropic_request_mapping(void **state)
{
    request_mapping(*state, ANTHROPIC);
}

/* ---- retries and failures ---------------------------------------------- */

static void retry_after_is_honoured(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        uint64_t t0 = fm_mono_ns();
        run_scenario(s, which, "retry429", which == ANTHROPIC, test_config(), &o, NULL);
        uint64_t ms = (fm_mono_ns() - t0) / 1000000;
        expect_ok(&o);
        assert_int_equal(o.resp.attempts, 2);
        assert_true(ms >= 1000); /* Retry-After: 1; a lower bound only */
        assert_string_equal(o.resp.text, "Hello from the test server.");
        outcome_release(&o);
    }
}

static void server_errors_are_retried(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++)
        for (int stream = 0; stream <= 1; stream++) {
            outcome o;
            run_scenario(s, which, "retry500", stream, test_config(), &o, NULL);
            expect_ok(&o);
            assert_int_equal(o.resp.attempts, 3);
            assert_int_equal(o.resp.http_status, 200);
            outcome_release(&o);
        }
}

static void persistent_500_gives_up(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        char model[64];
        run_scenario(s, which, "fail500", false, test_config(), &o, model);
        expect_error(&o, FM_EIO, "HTTP 500 from http://127.0.0.1:");
        assert_non_null(strstr(o.err.msg, "Internal server error"));
        assert_non_null(strstr(o.err.msg, "(3 attempts)"));
        assert_int_equal(count_requests(s, model), 3); /* max_retries + 1 */
    }
}

static void unauthorized_is_eperm_without_the_key(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        char model[64];
        run_scenario(s, which, "auth401", false, test_config(), &o, model);
        expect_error(&o, FM_EPERM, "HTTP 401 from http://127.0.0.1:");
        assert_non_null(strstr(o.err.msg, API_NAME[which]));
        assert_non_null(strstr(o.err.msg, "Incorrect API key provided"));
        assert_null(strstr(o.err.msg, KEY)); /* the server echoed it whole */
        assert_null(strstr(o.err.msg, "KEY-123"));
        assert_int_equal(count_requests(s, model), 1); /* a 401 is not retried */
    }
}

static void malformed_json_is_eparse(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        run_scenario(s, which, "malformed", false, test_config(), &o, NULL);
        expect_error(&o, FM_EPARSE, "malformed response body at byte");
    }
}

static void wrong_shape_names_the_field(void **state)
{
    server *s = *state;
    outcome o;
    run_scenario(s, OPENAI, "noshape", false, test_config(), &o, NULL);
    expect_error(&o, FM_EPARSE, "openai: the response has no choices[0]");
    run_scenario(s, ANTHROPIC, "noshape", false, test_config(), &o, NULL);
    expect_error(&o, FM_EPARSE, "anthropic: the response has no content array");
}

static void truncated_body_is_retried_then_eio(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        char model[64];
        run_scenario(s, which, "truncated", false, test_config(), &o, model);
        expect_error(&o, FM_EIO, "(3 attempts)");
        assert_int_equal(count_requests(s, model), 3);
    }
}

static void cut_stream_is_retried_then_eio(void **state)
{
    server *s = *state;
    const char *why[] = {"ended before [DONE]", "ended before message_stop"};
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        char model[64];
        run_scenario(s, which, "streamcut", true, test_config(), &o, model);
        expect_error(&o, FM_EIO, why[which]);
        assert_int_equal(count_requests(s, model), 3);
    }
}

/* The first attempt streams half an answer and then an error: the retry
 * must start from nothing, or the text would come out doubled. */
static void stream_error_restarts_cleanly(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        run_scenario(s, which, "streamerr", true, test_config(), &o, NULL);
        expect_ok(&o);
        assert_int_equal(o.resp.attempts, 2);
        check_expect(&EXPECTS[2], which, &o.resp);
        outcome_release(&o);
    }
}

static void slow_server_times_out(void **state)
{
    server *s = *state;
    fm_provider_config cfg = test_config();
    cfg.timeout_ms = 300;
    cfg.max_retries = 1;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        char model[64];
        run_scenario(s, which, "slow", which == ANTHROPIC, cfg, &o, model);
        expect_error(&o, FM_EIO, "timed out");
        assert_int_equal(count_requests(s, model), 2);
    }
}

static void huge_response_is_etoobig(void **state)
{
    server *s = *state;
    fm_provider_config cfg = test_config();
    cfg.max_response_bytes = 64 * 1024;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        outcome o;
        char model[64];
        run_scenario(s, which, "huge", false, cfg, &o, model);
        expect_error(&o, FM_ETOOBIG, "exceeds 65536 bytes");
        assert_int_equal(count_requests(s, model), 1); /* not retried */
    }
}

/* ---- concurrency and shutdown ------------------------------------------ */

static void concurrency_cap_holds(void **state)
{
    server *s = *state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    fm_provider_config cfg = test_config();
    cfg.max_concurrency = 2;
    fm_provider *p = make_provider(&loop, s, OPENAI, cfg);
    convo c;
    convo_init(&c, s, "slowok", false);
    outcome o[10];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 10; i++) {
        c.req.stream = i % 2; /* the queue does not care */
        assert_int_equal(p->ops->call(p, &c.req, on_done, &o[i], NULL), FM_OK);
    }
    for (int i = 0; i < 10; i++)
        while (o[i].calls == 0)
            uv_run(&loop, UV_RUN_ONCE);
    p->ops->free(p);
    finish_loop(&loop);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(o[i].calls, 1);
        expect_ok(&o[i]);
        outcome_release(&o[i]);
    }
    json_t *reqs = requests_for(s, c.model);
    assert_int_equal(json_array_size(reqs), 10);
    for (size_t i = 0; i < json_array_size(reqs); i++)
        assert_true(json_integer_value(json_object_get(json_array_get(reqs, i), "in_flight")) <= 2);
    json_decref(reqs);
}

static void free_provider_cb(uv_timer_t *t)
{
    fm_provider *p = t->data;
    p->ops->free(p);
    uv_close((uv_handle_t *)t, NULL);
}

/* free() with requests running, waiting to retry and queued: each callback
 * runs once, with an error; then every handle closes. */
static void free_cancels_everything(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        uv_loop_t loop;
        assert_int_equal(uv_loop_init(&loop), 0);
        fm_provider_config cfg = test_config();
        cfg.max_concurrency = 3;
        fm_provider *p = make_provider(&loop, s, which, cfg);
        const char *scen[] = {"slow", "retry429", "slow", "text", "text"};
        convo c[5];
        outcome o[5];
        memset(o, 0, sizeof o);
        for (int i = 0; i < 5; i++) {
            convo_init(&c[i], s, scen[i], i == 2);
            assert_int_equal(p->ops->call(p, &c[i].req, on_done, &o[i], NULL), FM_OK);
        }
        uv_timer_t t;
        uv_timer_init(&loop, &t);
        t.data = p;
        uv_timer_start(&t, free_provider_cb, 300, 0);
        finish_loop(&loop);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(o[i].calls, 1);
            expect_error(&o[i], FM_EIO, "canceled");
        }
    }
}

static void free_inside_a_callback(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        uv_loop_t loop;
        assert_int_equal(uv_loop_init(&loop), 0);
        fm_provider *p = make_provider(&loop, s, which, test_config());
        const char *scen[] = {"slow", "text", "slow"};
        convo c[3];
        outcome o[3];
        memset(o, 0, sizeof o);
        o[1].free_me = p;
        for (int i = 0; i < 3; i++) {
            convo_init(&c[i], s, scen[i], i == 2);
            assert_int_equal(p->ops->call(p, &c[i].req, on_done, &o[i], NULL), FM_OK);
        }
        finish_loop(&loop);
        expect_ok(&o[1]);
        outcome_release(&o[1]);
        for (int i = 0; i < 3; i++)
            assert_int_equal(o[i].calls, 1);
        expect_error(&o[0], FM_EIO, "canceled");
        expect_error(&o[2], FM_EIO, "canceled");
    }
}

/* ---- requests refused before any I/O ----------------------------------- */

static void bad_requests_fail_synchronously(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        uv_loop_t loop;
        assert_int_equal(uv_loop_init(&loop), 0);
        fm_provider *p = make_provider(&loop, s, which, test_config());
        outcome o;
        memset(&o, 0, sizeof o);
        fm_error err;
        convo c;
        convo_init(&c, s, "text", false);
        c.tools[1].schema_json = "[1,2]";
        assert_int_equal(p->ops->call(p, &c.req, on_done, &o, &err), FM_EINVAL);
        assert_non_null(strstr(err.msg, "get_time"));
        convo_init(&c, s, "text", false);
        c.req.max_tokens = 0;
        assert_int_equal(p->ops->call(p, &c.req, on_done, &o, &err), FM_EINVAL);
        convo_init(&c, s, "text", false);
        c.msgs[2].tool_call_id = NULL;
        assert_int_equal(p->ops->call(p, &c.req, on_done, &o, &err), FM_EINVAL);
        if (which == ANTHROPIC) {
            convo_init(&c, s, "text", false);
            c.calls[0].args_json = "\"not an object\"";
            assert_int_equal(p->ops->call(p, &c.req, on_done, &o, &err), FM_EINVAL);
        }
        p->ops->free(p);
        finish_loop(&loop);
        assert_int_equal(o.calls, 0);
    }
    fm_provider *p;
    fm_provider_config cfg = test_config();
    cfg.base_url = "http://127.0.0.1:1";
    cfg.api_key = "sk-bad\r\nX-Injected: 1";
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(fm_openai_new(&loop, &cfg, &p, NULL), FM_EINVAL);
    assert_int_equal(fm_anthropic_new(&loop, &cfg, &p, NULL), FM_EINVAL);
    finish_loop(&loop);
}

/* Invalid UTF-8 in a tool result still makes a valid request body. */
static void invalid_utf8_is_replaced(void **state)
{
    server *s = *state;
    for (int which = OPENAI; which <= ANTHROPIC; which++) {
        convo c;
        convo_init(&c, s, "text", false);
        c.msgs[2].text = "bin\xff\xfe ok \xe2\x82";
        outcome o;
        run_one(s, which, test_config(), &c.req, &o);
        expect_ok(&o);
        outcome_release(&o);
        size_t violations;
        json_t *body = logged_body(s, c.model, &violations);
        assert_int_equal(violations, 0);
        char *text = json_dumps(body, 0);
        assert_non_null(strstr(text, "bin\xef\xbf\xbd\xef\xbf\xbd ok \xef\xbf\xbd\xef\xbf\xbd\""));
        free(text);
        json_decref(body);
    }
}

/* The server's format checks are live: an off-format body gets a 400
 * naming the field (the providers' tests would fail loudly on one). */
typedef struct raw_outcome {
    int calls, rc, status;
    char body[512];
} raw_outcome;

static void on_raw(void *ctx, int rc, fm_http_result *res, const fm_error *err)
{
    raw_outcome *o = ctx;
    o->calls++;
    o->rc = rc;
    o->status = res->status;
    snprintf(o->body, sizeof o->body, "%s", res->body.ptr ? res->body.ptr : "");
}

static void server_rejects_off_format_requests(void **state)
{
    server *s = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    fm_provider_config cfg = test_config();
    fm_http_client *c;
    assert_int_equal(fm__http_client_new(&loop, &cfg, "raw", &c, NULL), FM_OK);
    char *url = fm_xasprintf("http://127.0.0.1:%d/v1/chat/completions", s->py.port);
    const char *headers[] = {"Content-Type: application/json", "Authorization: Bearer " KEY};
    const char *bodies[] = {
        "{\"model\":\"text\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"max_tokens\":5,\"temperature\":1}",
        "{\"model\":\"text\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
        "{\"role\":\"system\",\"content\":\"late\"}],\"max_tokens\":5}",
        "{\"model\":\"text\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"max_tokens\":5,\"stream\":true}",
    };
    const char *field[] = {"unknown field 'temperature'", "system must come first",
                           "stream_options"};
    raw_outcome o[3];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 3; i++) {
        fm_http_request r = {.url = url, .headers = headers, .n_headers = 2,
                             .body = fm_xstrdup(bodies[i]), .body_len = strlen(bodies[i])};
        assert_int_equal(fm__http_post(c, &r, on_raw, &o[i], NULL), FM_OK);
    }
    while (o[0].calls + o[1].calls + o[2].calls < 3)
        uv_run(&loop, UV_RUN_ONCE);
    fm__http_client_free(c);
    finish_loop(&loop);
    free(url);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(o[i].calls, 1);
        assert_int_equal(o[i].rc, FM_EIO);
        assert_int_equal(o[i].status, 400);
        assert_non_null(strstr(o[i].body, field[i]));
    }
}

/* ---- the SSE parser and the retry policy alone ------------------------- */

typedef struct sse_log {
    fm_buf out;
} sse_log;

static int sse_collect(void *ctx, const fm_sse_event *ev, fm_error *err)
{
    sse_log *l = ctx;
    fm_buf_addf(&l->out, "[%s|%s]", ev->event, ev->data);
    return FM_OK;
}

static void sse_parser_splits_anywhere(void **state)
{
    static const char stream[] =
        ": comment\r\n"
        "event: one\r\ndata: a\r\ndata:b\r\n\r\n"
        "data: x\n\n"
        "id: 7\nretry: 10\ndata\n\n"
        "event: two\rdata: y z\r\r"
        "event: lonely\n\n"
        "data: tail";
    const char *want = "[one|a\nb][|x][|][two|y z][|tail]";
    for (size_t step = 1; step <= sizeof stream; step++) {
        sse_log l = {FM_BUF_INIT};
        fm_sse_parser p;
        fm__sse_init(&p, 1024, sse_collect, &l);
        for (size_t i = 0; i < sizeof stream - 1; i += step) {
            size_t n = sizeof stream - 1 - i < step ? sizeof stream - 1 - i : step;
            assert_int_equal(fm__sse_feed(&p, stream + i, n, NULL), FM_OK);
        }
        /* "data: tail" has no newline: an incomplete line is dropped... */
        assert_int_equal(fm__sse_finish(&p, NULL), FM_OK);
        assert_string_equal(l.out.ptr, "[one|a\nb][|x][|][two|y z]");
        /* ...but a complete one without the blank line is dispatched. */
        assert_int_equal(fm__sse_feed(&p, "\n", 1, NULL), FM_OK);
        assert_int_equal(fm__sse_finish(&p, NULL), FM_OK);
        assert_string_equal(l.out.ptr, want);
        fm__sse_release(&p);
        fm_buf_release(&l.out);
    }
    sse_log l = {FM_BUF_INIT};
    fm_sse_parser p;
    fm__sse_init(&p, 8, sse_collect, &l);
    fm_error err;
    assert_int_equal(fm__sse_feed(&p, "data: 0123456789\n", 17, &err), FM_ETOOBIG);
    fm__sse_release(&p);
    fm_buf_release(&l.out);
}

static void backoff_has_full_jitter_and_caps(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fm_provider_config cfg = {.backoff_base_ms = 100, .backoff_max_ms = 1000};
    fm_http_client *c;
    assert_int_equal(fm__http_client_new(&loop, &cfg, "t", &c, NULL), FM_OK);
    long ceiling[] = {100, 200, 400, 800, 1000, 1000};
    for (int retry = 1; retry <= 6; retry++) {
        long max = 0;
        for (int i = 0; i < 2000; i++) {
            long d = fm__http_backoff_ms(c, retry, -1);
            assert_true(d >= 0 && d <= ceiling[retry - 1]);
            max = d > max ? d : max;
        }
        assert_true(max > ceiling[retry - 1] / 2); /* it spreads, not a constant */
    }
    assert_int_equal(fm__http_backoff_ms(c, 1, 1000), 1000);
    assert_int_equal(fm__http_backoff_ms(c, 1, 500000), 120000);
    assert_int_equal(fm__http_retry_after_ms("7", 0), 7000);
    assert_int_equal(fm__http_retry_after_ms("9999", 0), 120000);
    assert_int_equal(fm__http_retry_after_ms("-3", 0), -1);
    assert_int_equal(fm__http_retry_after_ms("soon", 0), -1);
    /* Sun, 06 Nov 1994 08:49:37 GMT is 784111777 */
    assert_int_equal(fm__http_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), 7000);
    assert_int_equal(fm__http_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111800), 0);
    fm__http_client_free(c);
    finish_loop(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sse_parser_splits_anywhere),
        cmocka_unit_test(backoff_has_full_jitter_and_caps),
        cmocka_unit_test(openai_answers),
        cmocka_unit_test(anthropic_answers),
        cmocka_unit_test(openai_request_mapping),
        cmocka_unit_test(anthropic_request_mapping),
        cmocka_unit_test(invalid_utf8_is_replaced),
        cmocka_unit_test(server_rejects_off_format_requests),
        cmocka_unit_test(retry_after_is_honoured),
        cmocka_unit_test(server_errors_are_retried),
        cmocka_unit_test(persistent_500_gives_up),
        cmocka_unit_test(unauthorized_is_eperm_without_the_key),
        cmocka_unit_test(malformed_json_is_eparse),
        cmocka_unit_test(wrong_shape_names_the_field),
        cmocka_unit_test(truncated_body_is_retried_then_eio),
        cmocka_unit_test(cut_stream_is_retried_then_eio),
        cmocka_unit_test(stream_error_restarts_cleanly),
        cmocka_unit_test(slow_server_times_out),
        cmocka_unit_test(huge_response_is_etoobig),
        cmocka_unit_test(concurrency_cap_holds),
        cmocka_unit_test(free_cancels_everything),
        cmocka_unit_test(free_inside_a_callback),
        cmocka_unit_test(bad_requests_fail_synchronously),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
