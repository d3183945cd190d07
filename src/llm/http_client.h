/*
 * A small asynchronous HTTP client for the model providers: libcurl's multi
 * interface driven by the runtime's libuv loop (uv_poll_t per socket, one
 * uv_timer_t for curl's timeouts). No threads; nothing blocks.
 *
 * Per client: a cap on requests in flight (the rest wait in a FIFO queue), a
 * per-attempt timeout, a cap on response bytes (FM_ETOOBIG), and retries
 * with exponential backoff and full jitter on 429, 5xx and network errors,
 * honouring Retry-After (seconds or an HTTP date) up to 120 s. A request
 * keeps its slot while it waits to retry: on a 429 that is what we want.
 *
 * The providers POST; http_fetch (src/tools/fetch.c) GETs through the same
 * driver, with a few per-request switches for URLs that come from a model:
 * a body cut at the cap instead of failing, any status as an answer, no
 * proxy from the environment. Redirects are never followed, and only http
 * and https are spoken.
 *
 * Plain-text http:// URLs are forced to HTTP/1.1: curl 7.88 (Debian 12)
 * mishandles connection reuse for h2c to local servers.
 *
 * Async contract (libuv's): if fm__http_post returns an error, `done` never
 * runs; otherwise it runs exactly once, on the loop thread, also when the
 * client is freed with the request in flight.
 */
#ifndef FIRMA_LLM_HTTP_CLIENT_H
#define FIRMA_LLM_HTTP_CLIENT_H

#include "firma/base.h"
#include "firma/errors.h"
#include "firma/llm.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* ---- server-sent events ---------------------------------------------- */

typedef struct fm_sse_event {
    const char *event; /* the "event:" field; "" when the stream named none */
    const char *data;  /* the "data:" lines joined by '\n'; NUL-terminated */
    size_t data_len;
} fm_sse_event;

/* Returns FM_OK to go on; anything else stops the stream with that status. */
typedef int (*fm_sse_fn)(void *ctx, const fm_sse_event *ev, fm_error *err);

/* An incremental parser for text/event-stream (the WHATWG format): feed it
 * bytes as they arrive, split anywhere; it calls `fn` once per event.
 * Lines end in LF, CRLF or CR; ':' lines are comments; "id" and "retry" are
 * ignored (we never reconnect mid-stream: a broken stream is retried whole). */
typedef struct fm_sse_parser {
    fm_buf line;
    fm_buf event;
    fm_buf data;
    bool have_data;
    bool after_cr;    /* the last byte was CR: a following LF is not a new line */
    size_t max_event; /* bytes per line and per event; more is FM_ETOOBIG */
    fm_sse_fn fn;
    void *ctx;
} fm_sse_parser;

void fm__sse_init(fm_sse_parser *p, size_t max_event, fm_sse_fn fn, void *ctx);
void fm__sse_release(fm_sse_parser *p);
/* Forgets any partial line or event (a new attempt starts from scratch). */
void fm__sse_reset(fm_sse_parser *p);
int fm__sse_feed(fm_sse_parser *p, const char *bytes, size_t len, fm_error *err);
/* End of stream: dispatches an event whose last line was complete but which
 * had no closing blank line (lenient: some servers omit it). */
int fm__sse_finish(fm_sse_parser *p, fm_error *err);

/* ---- requests ---------------------------------------------------------- */

/* What a streaming request does with a 2xx body. The callbacks run inside
 * curl's write callback: they must not call back into the client. */
typedef struct fm_sse_sink {
    /* One event. FM_EIO means "the server reported a transient failure in
     * the stream" and retries the attempt like a network error; any other
     * error ends the request with that status. */
    fm_sse_fn event;
    /* The stream ended cleanly. FM_EIO (e.g. the terminating event never
     * came: a truncated stream) retries; other errors end the request. */
    int (*end)(void *ctx, fm_error *err);
    /* A new attempt begins: forget what the last one delivered. */
    void (*reset)(void *ctx);
    void *ctx;
} fm_sse_sink;

typedef enum fm_http_method { FM_HTTP_POST, FM_HTTP_GET } fm_http_method;

/* The fields after `sse` are zero for the providers: a POST whose body
 * must fit the cap and whose status decides success and retries. */
typedef struct fm_http_request {
    const char *url;
    const char *const *headers; /* "Name: value" lines; copied. An "Accept:" line
                                   replaces the default (application/json, or
                                   text/event-stream with `sse`) */
    size_t n_headers;
    char *body;                 /* consumed: the client frees it; NULL for a GET */
    size_t body_len;
    const fm_sse_sink *sse;     /* NULL: buffer the whole body; copied */
    fm_http_method method;      /* POST sends `body`; GET sends no body */
    bool cut_at_cap;            /* a body past the client's cap is cut there (res->cut,
                                   the transfer stops) instead of FM_ETOOBIG; not with sse */
    bool any_status;            /* every complete response is FM_OK, whatever its status:
                                   the caller reads res->status; no retry on a status */
    bool direct;                /* ignore the proxy environment variables (http_proxy,
                                   https_proxy, all_proxy): connect to the URL's host */
} fm_http_request;

typedef struct fm_http_result {
    int status;   /* HTTP status of the last attempt; 0 if none arrived */
    int attempts; /* 1 + retries */
    fm_buf body;  /* the last attempt's body; empty for a 2xx stream */
    bool cut;     /* the body reached the cap and the rest was not read (cut_at_cap) */
    const char *content_type; /* the response's Content-Type, or NULL */
    const char *location;     /* a 3xx's Location made absolute against the URL, or NULL */
} fm_http_result;

/* rc is FM_OK for a 2xx. FM_EIO with a non-2xx status is a final HTTP
 * error (the body holds the server's words); FM_EIO otherwise (status 0, or
 * a 2xx whose body broke off) is a network error, timeout, cut stream or
 * cancellation, and `err` says which. With any_status, rc is FM_OK for any
 * complete response (a cut one included) and FM_EIO always means the
 * network, the clock or a cancellation, whatever res->status says. FM_ETOOBIG when the response outgrew
 * the cap; otherwise an SSE callback's status. `res` is never NULL and is
 * the callee's during the call only, its strings included. */
typedef void (*fm_http_done)(void *ctx, int rc, fm_http_result *res, const fm_error *err);

typedef struct fm_http_client fm_http_client;

/* Copies what it keeps of `cfg` (zero fields take the defaults documented in
 * llm.h). `name` ("openai") prefixes the messages. */
int fm__http_client_new(uv_loop_t *loop, const fm_provider_config *cfg, const char *name,
                        fm_http_client **out, fm_error *err);
/* Queues req->method to req->url. On error nothing was queued, and
 * req->body was freed: FM_EINVAL for a URL that is not http(s), a GET with a
 * body, or cut_at_cap with sse. */
int fm__http_send(fm_http_client *c, const fm_http_request *req, fm_http_done done,
                  void *ctx, fm_error *err);
/* fm__http_send of a POST, whatever req->method says. */
int fm__http_post(fm_http_client *c, const fm_http_request *req, fm_http_done done,
                  void *ctx, fm_error *err);
/* Cancels every request (each `done` runs now with FM_EIO "canceled") and
 * releases the client; its uv handles finish closing on later loop turns,
 * so run the loop until it is empty before uv_loop_close. Safe to call from
 * inside a `done`. NULL is a no-op. */
void fm__http_client_free(fm_http_client *c);

/* The delay before retry number `retry` (1-based) given the server's
 * Retry-After in ms (-1 when absent), for the tests: full jitter in
 * [0, min(max, base * 2^(retry-1))], or Retry-After capped at 120 s. */
long fm__http_backoff_ms(fm_http_client *c, int retry, long retry_after_ms);
/* A Retry-After value (delay-seconds or an HTTP date) in ms from `now_s`
 * (seconds since the epoch), capped at 120 s; -1 when unreadable. */
long fm__http_retry_after_ms(const char *value, int64_t now_s);

#endif
