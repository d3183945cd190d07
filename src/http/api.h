/*
 * The API's insides, shared by the router and the resource files
 * (api_*.c). A resource file holds the handlers of one resource and its
 * routes table; router.c lists the tables (fm__api_resources) and does what
 * every route needs: matching, authentication, the role and company checks,
 * and errors in one shape. Handlers see no MHD type.
 *
 * A handler gets a request whose caller is already authenticated and
 * allowed by the route's role; it still narrows what an agent token sees
 * (only its own agent's things) and checks every id it is given against the
 * caller's company, answering 404 for another company's object so ids do
 * not leak across companies.
 */
#ifndef FIRMA_HTTP_API_H
#define FIRMA_HTTP_API_H

#include "firma/base.h"
#include "firma/governance.h"
#include "firma/ops.h"

#include <jansson.h>

typedef enum {
    FM_HTTP_GET, FM_HTTP_POST, FM_HTTP_PATCH, FM_HTTP_DELETE, FM_HTTP_PUT, FM_HTTP_METHOD_N
} fm_http_method;
const char *fm__http_method_name(fm_http_method m);

/* Who is calling, from their token. */
typedef struct fm_api_caller {
    fm_id company_id;
    fm_token_kind kind;
    fm_role role;             /* members: the effective role (fm_token_role) */
    fm_id member_id;
    fm_id agent_id, run_id;   /* agent tokens */
    char actor[96];           /* "member:ana" or "agent:ceo": the audit actor */
} fm_api_caller;

#define FM_API_MAX_PARAMS 2
#define FM_API_PARAM_MAX 128

typedef struct fm_api_req {
    fm_http_method method;
    const char *path;
    char params[FM_API_MAX_PARAMS][FM_API_PARAM_MAX]; /* the {x} segments, in order */
    const char *body;                                 /* NUL-terminated; may be empty */
    size_t body_len;
    fm_store *store;
    const fm_keys *keys;                              /* may be NULL: signatures unchecked */
    const char *witness_path;                         /* may be NULL */
    fm_api_caller who;
    void *conn;                                       /* the MHD connection (server.c) */
    struct fm_runtime *rt;                            /* for /metrics; may be NULL */
    /* The agents fm__api_name has named for this request (router.c frees
     * them when the handler is done). */
    struct fm_api_name { fm_id id; char *handle; } *names;
    size_t n_names;
} fm_api_req;

typedef struct fm_api_res {
    int status;
    json_t *body;             /* owned; sent as JSON */
    char *text;               /* owned; sent as is instead of body, as content_type */
    const char *content_type;
    char etag[48];            /* sent as ETag when set */
    char allow[96];           /* 405: the methods the path takes (Allow) */
    const char *route;        /* the matched route's pattern (for the request metrics) */
    /* An event stream (/v1/events): the server sends the company's events
     * from `cursor` on as Server-Sent Events, only those about `agent` when
     * it is set, until the client goes away. */
    struct {
        bool on;
        fm_id company;
        char cursor[48];
        char agent[48];
    } stream;
} fm_api_res;

typedef void (*fm_api_handler)(fm_api_req *rq, fm_api_res *rs);

typedef struct fm_api_route {
    fm_http_method method;
    const char *pattern;      /* "/v1/tasks/{id}": literal segments and {name} ones */
    fm_api_handler handler;
    fm_role least;            /* the least role a member token needs */
    bool agents;              /* agent tokens may call it (the handler narrows to its own) */
    bool agents_only;         /* only agent tokens (it acts for the token's run) */
    bool open;                /* no token needed */
    /* Any member may call it for their own things (their tokens): `least`
     * is viewer, and the handler asks for an admin for anyone else's. */
    bool own;
    const char *summary;      /* for the OpenAPI document */
} fm_api_route;

/* A resource's routes; router.c lists them all in fm__api_resources. */
typedef struct fm_api_resource {
    const char *name;
    const fm_api_route *routes;
    size_t n_routes;
} fm_api_resource;

extern const fm_api_resource fm__api_meta, fm__api_company, fm__api_agents, fm__api_tasks,
    fm__api_approvals, fm__api_audit, fm__api_runs, fm__api_events, fm__api_metrics,
    fm__api_spend, fm__api_goals, fm__api_threads, fm__api_companies, fm__api_members,
    fm__api_tokens, fm__api_secrets;
extern const fm_api_resource *const fm__api_resources[];
extern const size_t fm__api_n_resources;

/* Answers one request (router.c): finds the route, checks the token
 * (`bearer`: the Authorization header, may be NULL), runs the handler. The
 * answer is left in `rs` (the caller sends it and decrefs rs->body). */
void fm__api_dispatch(fm_store *s, fm_api_req *rq, const char *bearer, fm_api_res *rs);

/* The OpenAPI 3.1 document of the routes tables (openapi.c). */
json_t *fm__api_openapi(void);

/* ---- helpers for handlers (router.c) ---- */
/* Sets an error answer {"error": {"code", "message", "field"}}; `field`
 * may be NULL. */
void fm__api_error(fm_api_res *rs, int status, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Maps a failed operation's fm_error to its 4xx/5xx answer. */
void fm__api_fail(fm_api_res *rs, const fm_error *err);
/* Sets a 2xx answer; consumes `body`. */
void fm__api_ok(fm_api_res *rs, int status, json_t *body);
/* A query argument or header (server.c); NULL when absent. */
const char *fm__api_query(const fm_api_req *rq, const char *key);
const char *fm__api_header(const fm_api_req *rq, const char *key);
/* An integer query argument in [lo, hi], or `dflt` when absent; false (with
 * a 422 naming it set) when it is not one. */
bool fm__api_query_int(const fm_api_req *rq, fm_api_res *rs, const char *key, int64_t lo,
                       int64_t hi, int64_t dflt, int64_t *out);

/* The body's JSON object, checked against `fields` (NULL-name terminated):
 * 400 for malformed JSON (with line and column), 422 for a body that is not
 * an object, an unknown field, a missing required one or a wrong type. On
 * error NULL with rs set; else the caller decrefs the result. */
typedef enum {
    FM_API_STRING,
    FM_API_INT,
    FM_API_BOOL,
    FM_API_STRING_OR_NULL,
    FM_API_ARRAY,
    FM_API_OBJECT,
} fm_api_type;
typedef struct fm_api_field {
    const char *name;
    fm_api_type type;
    bool required;
} fm_api_field;
json_t *fm__api_body(const fm_api_req *rq, fm_api_res *rs, const fm_api_field *fields);
/* Whether the body's string `key`, if it has one, is from min to max bytes
 * long: false with a 422 naming it if not. */
bool fm__api_text(fm_api_res *rs, const json_t *body, const char *key, size_t min, size_t max);
/* fm__api_body for a body holding a secret: a malformed one is answered
 * with line and column only, never the parser's text (which quotes the
 * bytes it stopped at). */
json_t *fm__api_body_secret(const fm_api_req *rq, fm_api_res *rs, const fm_api_field *fields);

/* An entity tag for an object as the API shows it: "\"<32 hex digits>\"",
 * a hash of its JSON with the keys sorted, so any change to it changes the
 * tag. */
void fm__api_etag(const json_t *shown, char out[48]);
/* Whether the request's If-Match lets a change go ahead on an object whose
 * tag is `now`: no If-Match, "*", or a list (RFC 9110: tags separated by
 * commas) holding `now`. Weak tags (W/"...") never match. When it does not,
 * false with a 412 naming `what` set in rs. */
bool fm__api_if_match(const fm_api_req *rq, fm_api_res *rs, const char *now, const char *what);
/* The methods path takes, for Allow ("GET, PATCH"); false when no route has
 * that path. */
bool fm__api_allow(const char *path, char *allow, size_t size);

/* The caller's company's agent `handle` (404 if none): false with rs set. */
bool fm__api_agent(fm_api_req *rq, fm_api_res *rs, const char *handle, fm_agent *out);
/* A positive id from a path parameter (404 if it is not one). */
bool fm__api_id(fm_api_res *rs, const char *text, const char *what, fm_id *out);
/* Task `id` (a path parameter) if the caller may see it: 404, as if it were
 * not there, for a number that is no task of the caller's company or, for
 * an agent's token, another agent's task. False with rs set; else the
 * caller releases *out. */
bool fm__api_task(fm_api_req *rq, fm_api_res *rs, const char *id, fm_task *out);
/* The handle of agent `id` of the caller's company, for JSON answers: NULL
 * for 0, "?" for an agent that is not there or cannot be read. Each agent
 * is read once per request, when it is first named, so naming the agents
 * of one object or one page never reads the whole company. Valid until the
 * request ends. */
const char *fm__api_name(fm_api_req *rq, fm_id id);
/* The handle of agent `id` in a list the handler has anyway ("?" if it is
 * not there). */
const char *fm__api_handle(const fm_agent *v, size_t n, fm_id id);
/* Whether the caller is an agent token (so narrowed to its agent). */
static inline bool fm__api_is_agent(const fm_api_req *rq)
{
    return rq->who.kind == FM_TOKEN_AGENT;
}

#endif
