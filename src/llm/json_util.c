/*
 * Helpers the wire-format providers share: parsing with positioned errors,
 * UTF-8-safe JSON strings, the tool-call list, and error messages built
 * from an HTTP failure (with the API key kept out of them).
 */
#include "llm/json_util.h"

#include "firma/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DETAIL_MAX 300

int fm__json_parse(const char *prov, const char *what, const char *text, size_t len,
                   json_t **out, fm_error *err)
{
    json_error_t je;
    *out = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &je);
    if (*out)
        return FM_OK;
    return fm_error_set(err, FM_EPARSE, "%s: malformed %s at byte %d: %s", prov, what,
                        je.position, je.text);
}

json_t *fm__json_object_text(const char *text)
{
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

char *fm__json_compact(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        /* Only allocation fails here; treat it like fm_xmalloc does. */
        fputs("firma: out of memory encoding JSON\n", stderr);
        abort();
    }
    return s;
}

json_t *fm__json_text(const char *s)
{
    if (!s)
        return json_string("");
    json_t *v = json_string(s);
    if (v)
        return v;
    fm_buf b = FM_BUF_INIT;
    fm_buf_add_utf8(&b, s, strlen(s));
    v = json_stringn(b.ptr ? b.ptr : "", b.len);
    fm_buf_release(&b);
    return v;
}

const char *fm__json_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t fm__json_count(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    return (int64_t)json_integer_value(v);
}

void fm__calls_push(fm_llm_response *r, char *id, char *name, char *args_json)
{
    r->calls = fm_xreallocarray(r->calls, r->n_calls + 1, sizeof *r->calls);
    r->calls[r->n_calls++] = (fm_tool_call){id, name, args_json};
}

/* The server's own words: error.message (OpenAI, Anthropic), or a string
 * "error" (Ollama, llama.cpp), or "message"; else the raw body. */
static void error_detail(const fm_buf *body, char *out, size_t cap)
{
    json_t *root = body->len ? json_loadb(body->ptr, body->len, 0, NULL) : NULL;
    json_t *e = json_object_get(root, "error");
    const char *text = fm__json_str(e, "message");
    if (!text)
        text = json_is_string(e) ? json_string_value(e) : fm__json_str(root, "message");
    if (!text)
        text = body->len ? body->ptr : "(empty body)";
    size_t n = strlen(text);
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--; /* never cut a UTF-8 sequence in two */
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)text[i] < 0x20 ? ' ' : text[i];
    out[n] = '\0';
    json_decref(root);
}

/* Replaces each occurrence of `secret` in `msg` by "[redacted]". */
static void redact(char *msg, size_t cap, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0;
    if (slen < 4 || !strstr(msg, secret))
        return;
    fm_buf b = FM_BUF_INIT;
    const char *p = msg, *hit;
    while ((hit = strstr(p, secret))) {
        fm_buf_add(&b, p, (size_t)(hit - p));
        fm_buf_adds(&b, "[redacted]");
        p = hit + slen;
    }
    fm_buf_adds(&b, p);
    snprintf(msg, cap, "%s", b.ptr);
    fm_buf_release(&b);
}

int fm__llm_fail(const char *prov, const char *url, const char *secret, int rc,
                 const fm_http_result *res, const fm_error *cause, fm_error *err)
{
    fm_error e;
    if (rc == FM_EIO && res->status != 0 && (res->status < 200 || res->status > 299)) {
        char detail[DETAIL_MAX + 1];
        error_detail(&res->body, detail, sizeof detail);
        int code = res->status == 401 || res->status == 403 ? FM_EPERM : FM_EIO;
        fm_error_set(&e, code, "%s: HTTP %d from %s: %s", prov, res->status, url, detail);
        if (res->attempts > 1) {
            size_t len = strnlen(e.msg, sizeof e.msg);
            snprintf(e.msg + len, sizeof e.msg - len, " (%d attempts)", res->attempts);
        }
    } else {
        fm_error_set(&e, rc, "%s", cause && cause->msg[0] ? cause->msg : fm_strerror(rc));
    }
    redact(e.msg, sizeof e.msg, secret);
    if (err)
        *err = e;
    return e.code;
}

int fm__llm_check_request(const char *prov, const fm_llm_request *req, fm_error *err)
{
    if (!req->model || !req->model[0])
        return fm_error_set(err, FM_EINVAL, "%s: the request names no model", prov);
    if (req->max_tokens <= 0)
        return fm_error_set(err, FM_EINVAL, "%s: max_tokens must be positive (got %d)", prov,
                            req->max_tokens);
    if ((req->n_msgs && !req->msgs) || (req->n_tools && !req->tools))
        return fm_error_set(err, FM_EINVAL, "%s: a count without its array", prov);
    return FM_OK;
}

char *fm__llm_join_url(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return fm_xasprintf("%.*s%s", (int)n, base, path);
}

static bool key_ok(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

int fm__llm_endpoint_init(uv_loop_t *loop, const fm_provider_config *cfg, const char *prov,
                          const char *path, const char *auth_fmt, fm_llm_endpoint *ep,
                          fm_error *err)
{
    memset(ep, 0, sizeof *ep);
    if (!cfg || !cfg->base_url || !cfg->base_url[0])
        return fm_error_set(err, FM_EINVAL, "%s: base_url is required", prov);
    if (cfg->api_key && !key_ok(cfg->api_key))
        return fm_error_set(err, FM_EINVAL, "%s: the API key contains control characters", prov);
    int rc = fm__http_client_new(loop, cfg, prov, &ep->http, err);
    if (rc != FM_OK)
        return rc;
    ep->url = fm__llm_join_url(cfg->base_url, path);
    /* Local servers (llama.cpp, Ollama, vLLM) often run without a key. */
    if (cfg->api_key && cfg->api_key[0]) {
        ep->auth = fm_xasprintf(auth_fmt, cfg->api_key);
        ep->key = fm_xstrdup(cfg->api_key);
    }
    return FM_OK;
}

bool fm__llm_endpoint_release(fm_llm_endpoint *ep)
{
    if (ep->freeing)
        return false;
    ep->freeing = true;
    fm__http_client_free(ep->http);
    free(ep->url);
    free(ep->auth);
    free(ep->key);
    return true;
}

void fm__llm_deliver(fm_llm_done done, void *ctx, fm_llm_response *r)
{
    done(ctx, FM_OK, r, NULL);
    fm_llm_response_release(r);
}
