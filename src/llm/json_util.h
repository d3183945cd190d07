/*
 * Shared by the wire-format providers (openai.c, anthropic.c): jansson
 * helpers, the tool-call list, and turning the HTTP client's outcome into
 * the provider's error message.
 */
#ifndef FIRMA_LLM_JSON_UTIL_H
#define FIRMA_LLM_JSON_UTIL_H

#include "firma/errors.h"
#include "firma/llm.h"
#include "llm/http_client.h"

#include <jansson.h>
#include <stdint.h>

/* Most tool calls and content blocks one response may carry; more is
 * FM_ETOOBIG (an index from the wire sizes an array). */
#define FM_LLM_MAX_CALLS 128

/* Parses `len` bytes as JSON. On failure: FM_EPARSE "<prov>: malformed
 * <what> at byte N: <jansson's text>". The caller owns *out. */
int fm__json_parse(const char *prov, const char *what, const char *text, size_t len,
                   json_t **out, fm_error *err);
/* Parses `text` and insists on an object; NULL when it is not one. */
json_t *fm__json_object_text(const char *text);
/* Compact text of `v` (keys in insertion order); the caller frees it. */
char *fm__json_compact(const json_t *v);
/* A JSON string for `s`; invalid UTF-8 (tool output can be anything) is
 * replaced by U+FFFD rather than dropped. NULL gives "". New reference. */
json_t *fm__json_text(const char *s);
/* obj[key] if it is a string, else NULL. */
const char *fm__json_str(const json_t *obj, const char *key);
/* obj[key] if it is a non-negative integer, else 0. */
int64_t fm__json_count(const json_t *obj, const char *key);

/* Appends a tool call; the strings are consumed. */
void fm__calls_push(fm_llm_response *r, char *id, char *name, char *args_json);

/* The provider's failure from the client's outcome: a final HTTP status
 * becomes "<prov>: HTTP 401 from <url>: <the body's error.message, at most
 * 300 bytes>" (FM_EPERM for 401/403, else FM_EIO); other failures keep
 * the client's message. `secret` (the API key) is cut out of the text
 * should a server echo it. Returns the status. */
int fm__llm_fail(const char *prov, const char *url, const char *secret, int rc,
                 const fm_http_result *res, const fm_error *cause, fm_error *err);

/* The checks every provider makes before building a body: a model, a
 * positive max_tokens, arrays present when counted. FM_EINVAL. */
int fm__llm_check_request(const char *prov, const fm_llm_request *req, fm_error *err);
/* "<base without trailing slashes><path>"; the caller frees it. */
char *fm__llm_join_url(const char *base, const char *path);
/* What every HTTP provider holds: its client, the endpoint's URL, the
 * header that carries the key (NULL without a key) and the key itself
 * (kept only to scrub it from error text). */
typedef struct fm_llm_endpoint {
    fm_http_client *http;
    char *url;
    char *auth;
    char *key;
    bool freeing;
} fm_llm_endpoint;
/* Checks cfg (a base URL; a key without control characters, as it goes into
 * a header line) and sets up `ep` for base_url + `path`, with the auth
 * header `auth_fmt` ("Authorization: Bearer %s") filled with the key. */
int fm__llm_endpoint_init(uv_loop_t *loop, const fm_provider_config *cfg, const char *prov,
                          const char *path, const char *auth_fmt, fm_llm_endpoint *ep,
                          fm_error *err);
/* Cancels its requests (each `done` runs) and frees it; false if it was
 * already being freed (a `done` run by the cancellation freeing again). */
bool fm__llm_endpoint_release(fm_llm_endpoint *ep);

/* Runs `done` with a finished response, then releases what it left. */
void fm__llm_deliver(fm_llm_done done, void *ctx, fm_llm_response *r);

#endif
