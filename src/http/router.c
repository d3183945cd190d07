/*
 * The router: one table of routes per resource (api_*.c), listed in
 * fm__api_resources, and what every request goes through before a handler
 * sees it:
 *
 *   path matches no route            -> 404 not_found
 *   path matches, method does not    -> 405 method_not_allowed (with Allow)
 *   route is open (/healthz ...)     -> handler
 *   no token, or not a valid one     -> 401 unauthorized
 *   agent token, route not for them  -> 403 forbidden
 *   member role below route.least    -> 403 forbidden
 *                                       (an `own` route: any member; its handler
 *                                       asks for an admin for another's things)
 *   else                             -> handler (which narrows agents to their own
 *                                       agent and every id to the token's company)
 *
 * Every error has one shape: {"error": {"code", "message", "field"}}. A bad
 * request is always a 4xx naming what is wrong; a 500 means a bug or a
 * database failure, never bad input. Tokens are never logged or echoed.
 *
 * Server-Sent Events (/v1/events) and /metrics are resources of their
 * own here (api_events.c, api_metrics.c): their handlers check the caller
 * and the cursor, and say what to stream or send; server.c streams.
 */
#include "http/api.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const fm_api_resource *const fm__api_resources[] = {
    &fm__api_meta, &fm__api_company, &fm__api_agents, &fm__api_tasks, &fm__api_approvals,
    &fm__api_audit, &fm__api_runs, &fm__api_events, &fm__api_metrics, &fm__api_spend,
    &fm__api_goals, &fm__api_threads, &fm__api_companies, &fm__api_members, &fm__api_tokens,
    &fm__api_secrets,
};
const size_t fm__api_n_resources = sizeof fm__api_resources / sizeof fm__api_resources[0];

static const char *const method_names[] = {"GET", "POST", "PATCH", "DELETE", "PUT"};

const char *fm__http_method_name(fm_http_method m)
{
    return m < FM_HTTP_METHOD_N ? method_names[m] : "?";
}

void fm__api_error(fm_api_res *rs, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages echo paths and values from the request, which need not be
     * UTF-8 (or may be cut mid-character); JSON strings must be. */
    json_t *probe = json_string(msg);
    if (!probe)
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    json_decref(probe);
    json_decref(rs->body);
    rs->status = status;
    rs->body = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code, "message", msg, "field",
                         field);
}

void fm__api_ok(fm_api_res *rs, int status, json_t *body)
{
    json_decref(rs->body);
    rs->body = NULL;
    /* json_pack gives NULL for text that is not UTF-8 (written by some
     * other way than the API, which checks it). Say so, not 200 and nothing. */
    if (!body) {
        fm__api_error(rs, 500, "internal", NULL, "the answer could not be encoded as JSON");
        return;
    }
    rs->status = status;
    rs->body = body;
}

void fm__api_fail(fm_api_res *rs, const fm_error *err)
{
    static const struct { int fm, status; const char *code; } map[] = {
        {FM_EINVAL, 422, "invalid"},         {FM_ENOTFOUND, 404, "not_found"},
        {FM_EEXIST, 409, "exists"},          {FM_ECONFLICT, 409, "conflict"},
        {FM_ETRANSITION, 409, "illegal_transition"}, {FM_EORG, 409, "org_rule"},
        {FM_EPERM, 403, "forbidden"},        {FM_ETOOBIG, 413, "too_big"},
        {FM_EBUSY, 503, "busy"},             {FM_EBUDGET, 409, "over_budget"},
        {FM_EPARSE, 400, "malformed"},
    };
    const char *msg = err->msg[0] ? err->msg : fm_strerror(err->code);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].fm == err->code) {
            fm__api_error(rs, map[i].status, map[i].code, NULL, "%s", msg);
            return;
        }
    fm__api_error(rs, 500, "internal", NULL, "%s", msg);
}

bool fm__api_query_int(const fm_api_req *rq, fm_api_res *rs, const char *key, int64_t lo,
                       int64_t hi, int64_t dflt, int64_t *out)
{
    const char *v = fm__api_query(rq, key);
    *out = dflt;
    if (!v)
        return true;
    if (fm_parse_i64(v, out) != FM_OK || *out < lo || *out > hi) {
        fm__api_error(rs, 422, "invalid", key, "%s: want a whole number from %lld to %lld", key,
                      (long long)lo, (long long)hi);
        return false;
    }
    return true;
}

static const char *type_name(fm_api_type t)
{
    static const char *const names[] = {"a string", "an integer", "true or false",
                                        "a string or null", "an array", "an object"};
    return names[t];
}

static bool type_ok(fm_api_type t, const json_t *v)
{
    switch (t) {
    case FM_API_STRING: return json_is_string(v);
    case FM_API_INT: return json_is_integer(v);
    case FM_API_BOOL: return json_is_boolean(v);
    case FM_API_STRING_OR_NULL: return json_is_string(v) || json_is_null(v);
    case FM_API_ARRAY: return json_is_array(v);
    case FM_API_OBJECT: return json_is_object(v);
    }
    return false;
}

static json_t *body(const fm_api_req *rq, fm_api_res *rs, const fm_api_field *fields,
                    bool quote)
{
    json_error_t je;
    json_t *j = rq->body_len ? json_loadb(rq->body, rq->body_len,
                                          JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je)
                             : json_object();
    if (!j) {
        fm__api_error(rs, 400, "malformed", NULL, "malformed JSON at line %d, column %d%s%s",
                      je.line, je.column, quote ? ": " : "", quote ? je.text : "");
        sodium_memzero(je.text, sizeof je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        fm__api_error(rs, 422, "invalid", NULL, "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        const fm_api_field *f = fields;
        while (f && f->name && strcmp(f->name, key) != 0)
            f++;
        if (!f || !f->name) {
            fm__api_error(rs, 422, "unknown_field", key, "unknown field '%s'", key);
            json_decref(j);
            return NULL;
        }
        if (!type_ok(f->type, v)) {
            fm__api_error(rs, 422, "wrong_type", key, "%s: want %s", key, type_name(f->type));
            json_decref(j);
            return NULL;
        }
    }
    for (const fm_api_field *f = fields; f && f->name; f++)
        if (f->required && !json_object_get(j, f->name)) {
            fm__api_error(rs, 422, "missing_field", f->name, "%s is required", f->name);
            json_decref(j);
            return NULL;
        }
    return j;
}

json_t *fm__api_body(const fm_api_req *rq, fm_api_res *rs, const fm_api_field *fields)
{
    return body(rq, rs, fields, true);
}

json_t *fm__api_body_secret(const fm_api_req *rq, fm_api_res *rs, const fm_api_field *fields)
{
    return body(rq, rs, fields, false);
}

bool fm__api_text(fm_api_res *rs, const json_t *body, const char *key, size_t min, size_t max)
{
    json_t *v = json_object_get(body, key);
    size_t n = json_string_length(v);
    if (!json_is_string(v) || (n >= min && n <= max))
        return true;
    if (min)
        fm__api_error(rs, 422, "invalid", key, "%s: want %zu to %zu bytes", key, min, max);
    else
        fm__api_error(rs, 422, "invalid", key, "%s: at most %zu bytes", key, max);
    return false;
}

bool fm__api_id(fm_api_res *rs, const char *text, const char *what, fm_id *out)
{
    int64_t v;
    if (fm_parse_i64(text, &v) != FM_OK || v < 1) {
        fm__api_error(rs, 404, "not_found", NULL, "no %s '%s'", what, text);
        return false;
    }
    *out = v;
    return true;
}

bool fm__api_agent(fm_api_req *rq, fm_api_res *rs, const char *handle, fm_agent *out)
{
    fm_error err = {0};
    int rc = rq->store->ops->agent_find(rq->store, rq->who.company_id, handle, out, &err);
    if (rc == FM_ENOTFOUND) {
        fm__api_error(rs, 404, "not_found", NULL, "no agent '%s' in this company", handle);
        return false;
    }
    if (rc != FM_OK) {
        fm__api_fail(rs, &err);
        return false;
    }
    return true;
}

bool fm__api_task(fm_api_req *rq, fm_api_res *rs, const char *id, fm_task *out)
{
    fm_id n;
    fm_error err = {0};
    if (!fm__api_id(rs, id, "task", &n))
        return false;
    int rc = rq->store->ops->task_get(rq->store, n, out, &err);
    if (rc == FM_OK && (out->company_id != rq->who.company_id ||
                        (fm__api_is_agent(rq) && out->assignee != rq->who.agent_id))) {
        fm_task_release(out);
        rc = FM_ENOTFOUND;
    }
    if (rc == FM_ENOTFOUND)
        fm__api_error(rs, 404, "not_found", NULL, "no task %lld in this company", (long long)n);
    else if (rc != FM_OK)
        fm__api_fail(rs, &err);
    return rc == FM_OK;
}

const char *fm__api_name(fm_api_req *rq, fm_id id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < rq->n_names; i++)
        if (rq->names[i].id == id)
            return rq->names[i].handle;
    fm_agent a;
    fm_error err = {0};
    char *h = NULL;
    if (rq->store->ops->agent_get(rq->store, id, &a, &err) == FM_OK) {
        if (a.company_id == rq->who.company_id)
            h = fm_xstrdup(a.handle);
        fm_agent_release(&a);
    }
    rq->names = fm_xreallocarray(rq->names, rq->n_names + 1, sizeof *rq->names);
    rq->names[rq->n_names++] = (struct fm_api_name){id, h ? h : fm_xstrdup("?")};
    return rq->names[rq->n_names - 1].handle;
}

const char *fm__api_handle(const fm_agent *v, size_t n, fm_id id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return v[i].handle;
    return "?";
}

/* Whether `path` fits `pattern`, copying the {x} segments into params. */
static bool match(const char *pattern, const char *path, fm_api_req *rq)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++, s++;
        size_t pl = strcspn(p, "/"), sl = strcspn(s, "/");
        if (*p == '{') {
            if (sl == 0 || sl >= FM_API_PARAM_MAX || np == FM_API_MAX_PARAMS)
                return false;
            memcpy(rq->params[np], s, sl);
            rq->params[np++][sl] = 0;
        } else if (pl != sl || memcmp(p, s, pl) != 0) {
            return false;
        }
        p += pl, s += sl;
    }
    return !*p && !*s;
}

/* Who the bearer token says is calling: false with a 401 set if no one. */
static bool authenticate(fm_store *s, fm_api_req *rq, const char *bearer, fm_api_res *rs)
{
    static const char scheme[] = "Bearer ";
    if (!bearer || strncasecmp(bearer, scheme, sizeof scheme - 1) != 0) {
        fm__api_error(rs, 401, "unauthorized", NULL,
                      "send a token: Authorization: Bearer fma_... (firma token create)");
        return false;
    }
    fm_error err = {0};
    fm_token t;
    int rc = fm_token_check(s, bearer + sizeof scheme - 1, &t, &err);
    if (rc != FM_OK) {
        if (rc == FM_EPERM)
            fm__api_error(rs, 401, "unauthorized", NULL, "%s", err.msg);
        else
            fm__api_fail(rs, &err);
        return false;
    }
    fm_api_caller *w = &rq->who;
    w->company_id = t.company_id;
    w->kind = t.kind;
    if (t.kind == FM_TOKEN_AGENT) {
        fm_agent a;
        if (s->ops->agent_get(s, t.agent_id, &a, &err) != FM_OK) {
            fm__api_error(rs, 401, "unauthorized", NULL, "the token's agent is gone");
            return false;
        }
        if (a.company_id != t.company_id || a.status == FM_AGENT_FIRED) {
            fm_agent_release(&a);
            fm__api_error(rs, 401, "unauthorized", NULL, "the token's agent was fired");
            return false;
        }
        w->agent_id = a.id;
        w->run_id = t.run_id;
        w->role = FM_ROLE_VIEWER;
        snprintf(w->actor, sizeof w->actor, "agent:%s", a.handle);
        fm_agent_release(&a);
        return true;
    }
    fm_member m;
    if (s->ops->member_get(s, t.member_id, &m, &err) != FM_OK || m.company_id != t.company_id) {
        fm__api_error(rs, 401, "unauthorized", NULL, "the token's member is gone");
        return false;
    }
    w->member_id = m.id;
    w->role = fm_token_role(m.role, &t);
    snprintf(w->actor, sizeof w->actor, "member:%s", m.handle);
    fm_member_release(&m);
    return true;
}

static bool allowed(const fm_api_route *r, fm_api_req *rq, fm_api_res *rs)
{
    if (r->agents_only && rq->who.kind != FM_TOKEN_AGENT) {
        fm__api_error(rs, 403, "forbidden", NULL, "%s %s acts for an agent's run: only an "
                      "agent's token can call it", fm__http_method_name(r->method), r->pattern);
        return false;
    }
    if (rq->who.kind == FM_TOKEN_AGENT) {
        if (r->agents)
            return true;
        fm__api_error(rs, 403, "forbidden", NULL, "an agent's token cannot %s %s",
                      fm__http_method_name(r->method), r->pattern);
        return false;
    }
    if (rq->who.role <= r->least)
        return true;
    fm__api_error(rs, 403, "forbidden", NULL, "%s %s needs the %s role or higher; this token "
                  "acts as %s", fm__http_method_name(r->method), r->pattern,
                  fm_role_name(r->least), fm_role_name(rq->who.role));
    return false;
}

void fm__api_etag(const json_t *shown, char out[48])
{
    char *text = json_dumps(shown, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char h[16];
    char hex[33];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, strlen(text), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, 48, "\"%s\"", hex);
    free(text);
}

bool fm__api_if_match(const fm_api_req *rq, fm_api_res *rs, const char *now, const char *what)
{
    const char *p = fm__api_header(rq, "If-Match");
    if (!p)
        return true;
    size_t n_now = strlen(now);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        if (*p == '"') { /* a quoted tag runs to its closing quote */
            end = strchr(p + 1, '"');
            end = end ? end + 1 : p + strlen(p);
        } else {
            while (*end && *end != ',')
                end++;
        }
        size_t len = (size_t)(end - p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if ((len == 1 && *p == '*') || (len == n_now && memcmp(p, now, len) == 0))
            return true;
        p = end;
    }
    fm__api_error(rs, 412, "precondition_failed", NULL,
                  "%s changed since you read it (ETag %s, If-Match %s): read it again", what, now,
                  fm__api_header(rq, "If-Match"));
    return false;
}

bool fm__api_allow(const char *path, char *allow, size_t size)
{
    fm_api_req scratch = {.path = path};
    bool known = false, get = false;
    allow[0] = 0;
    for (size_t i = 0; i < fm__api_n_resources; i++) {
        const fm_api_resource *res = fm__api_resources[i];
        for (size_t k = 0; k < res->n_routes; k++) {
            const fm_api_route *r = &res->routes[k];
            if (!match(r->pattern, path, &scratch))
                continue;
            size_t l = strlen(allow);
            snprintf(allow + l, size - l, "%s%s", known ? ", " : "",
                     fm__http_method_name(r->method));
            known = true;
            get = get || r->method == FM_HTTP_GET;
        }
    }
    if (known) {
        size_t l = strlen(allow);
        snprintf(allow + l, size - l, "%s, OPTIONS", get ? ", HEAD" : "");
    }
    return known;
}

void fm__api_dispatch(fm_store *s, fm_api_req *rq, const char *bearer, fm_api_res *rs)
{
    const fm_api_route *found = NULL;
    for (size_t i = 0; i < fm__api_n_resources && !found; i++) {
        const fm_api_resource *res = fm__api_resources[i];
        for (size_t k = 0; k < res->n_routes && !found; k++)
            if (res->routes[k].method == rq->method && match(res->routes[k].pattern, rq->path, rq))
                found = &res->routes[k];
    }
    if (!found) {
        if (fm__api_allow(rq->path, rs->allow, sizeof rs->allow))
            fm__api_error(rs, 405, "method_not_allowed", NULL, "%s takes %s", rq->path, rs->allow);
        else
            fm__api_error(rs, 404, "not_found", NULL, "no such path: %s", rq->path);
        return;
    }
    rs->route = found->pattern;
    if (!found->open && (!authenticate(s, rq, bearer, rs) || !allowed(found, rq, rs)))
        return;
    found->handler(rq, rs);
    if (!rs->status)
        fm__api_error(rs, 500, "internal", NULL, "the handler gave no answer");
    for (size_t i = 0; i < rq->n_names; i++)
        free(rq->names[i].handle);
    free(rq->names);
    rq->names = NULL;
    rq->n_names = 0;
}
