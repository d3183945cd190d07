/*
 * Language-model providers: one neutral request/response shape, and a table
 * of functions per wire format (OpenAI-compatible Chat Completions, Anthropic
 * Messages, and `sim`, the scripted provider). The runtime builds requests,
 * the providers speak HTTP on the runtime's libuv loop.
 *
 * Async contract (libuv's): if call() returns an error, `done` never runs;
 * otherwise `done` runs exactly once, on the loop thread, also on
 * cancellation (status FM_ECANCELED-like: FM_EIO with a message) and on
 * provider shutdown.
 */
#ifndef FIRMA_LLM_H
#define FIRMA_LLM_H

#include "firma/errors.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef enum { FM_MSG_USER, FM_MSG_ASSISTANT, FM_MSG_TOOL } fm_msg_role;

typedef struct fm_tool_call {
    char *id;        /* the provider's call id ("call_abc", "toolu_01...") */
    char *name;
    char *args_json; /* the arguments as a JSON object text, exactly as received */
} fm_tool_call;

typedef struct fm_chat_msg {
    fm_msg_role role;
    char *text;             /* user text, assistant text (may be NULL), or tool result */
    fm_tool_call *calls;    /* assistant: the tool calls it made */
    size_t n_calls;
    char *tool_call_id;     /* tool: which call this answers */
    bool is_error;          /* tool: the result is an error the model should read */
} fm_chat_msg;

typedef struct fm_tool_def {
    const char *name;
    const char *description;
    const char *schema_json; /* JSON Schema of the arguments (an object schema) */
    unsigned flags;          /* what the runtime must know of it: FM_TOOL_* (tools.h);
                              * providers ignore it */
} fm_tool_def;

typedef struct fm_llm_request {
    const char *model;       /* the provider's model name ("gpt-4o-mini"), no prefix */
    const char *system;      /* the system prompt: stable prefix first */
    const fm_chat_msg *msgs;
    size_t n_msgs;
    const fm_tool_def *tools;
    size_t n_tools;
    int max_tokens;          /* output cap; > 0 */
    bool stream;             /* use SSE streaming (the result is the same) */
    const char *agent;       /* the agent's handle: sim picks its script by it; logs */
    const char *wake_kind;   /* "task", "message", ... : sim picks its script by it */
} fm_llm_request;

typedef struct fm_usage {
    int64_t input;   /* prompt tokens, cached included */
    int64_t cached;  /* of which served from the provider's prompt cache */
    int64_t output;
} fm_usage;

typedef enum {
    FM_STOP_END,        /* the model ended its turn */
    FM_STOP_TOOL_USE,   /* it wants tool results */
    FM_STOP_MAX_TOKENS, /* cut off at max_tokens */
    FM_STOP_OTHER
} fm_stop;

typedef struct fm_llm_response {
    char *text;             /* NULL when the model said nothing */
    fm_tool_call *calls;
    size_t n_calls;
    fm_usage usage;
    fm_stop stop;
    int http_status;        /* of the final attempt (0 for sim) */
    int attempts;           /* 1 + retries */
} fm_llm_response;
void fm_llm_response_release(fm_llm_response *r);
void fm_tool_call_release(fm_tool_call *c);

/* `resp` is owned by the callee during the call only: move what you keep.
 * On failure `resp` is NULL and `err` says what went wrong (status 401 with
 * the provider's message, a timeout, malformed JSON at which byte ...). */
typedef void (*fm_llm_done)(void *ctx, int status, fm_llm_response *resp, const fm_error *err);

typedef struct fm_provider fm_provider;

typedef struct fm_provider_ops {
    const char *name; /* "openai", "anthropic", "sim" */
    int (*call)(fm_provider *p, const fm_llm_request *req, fm_llm_done done, void *ctx,
                fm_error *err);
    /* Cancels in-flight calls (each `done` runs with an error) and frees. */
    void (*free)(fm_provider *p);
} fm_provider_ops;

struct fm_provider {
    const fm_provider_ops *ops;
};

typedef struct fm_provider_config {
    const char *base_url;     /* e.g. "https://api.openai.com/v1", "https://api.anthropic.com" */
    const char *api_key;      /* sent as a header; never logged */
    long timeout_ms;          /* per attempt; default 120000 */
    long connect_timeout_ms;  /* default 10000 */
    int max_retries;          /* on 429, 5xx, network errors; 0: default 4; < 0: none */
    long backoff_base_ms;     /* first retry delay before jitter; default 500 */
    long backoff_max_ms;      /* cap; default 30000 (Retry-After is honoured up to 120 s) */
    int max_concurrency;      /* requests in flight; the rest queue; default 64 */
    size_t max_response_bytes;/* default 8 MiB; more is FM_ETOOBIG */
} fm_provider_config;

int fm_openai_new(uv_loop_t *loop, const fm_provider_config *cfg, fm_provider **out,
                  fm_error *err);
int fm_anthropic_new(uv_loop_t *loop, const fm_provider_config *cfg, fm_provider **out,
                     fm_error *err);

#endif
