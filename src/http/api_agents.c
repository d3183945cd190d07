/* Agents: list, read, pause and resume, and messages to them. An agent's
 * token reads only its own agent. It sends no messages here: an agent's
 * messages go through its grants and the policy (process agents' "message"
 * action), which a route open to its token would bypass. */
#include "firma/schedule.h"
#include "firma/tools.h"
#include "http/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *agent_json(const fm_agent *a, const char *manager)
{
    json_t *grants = json_array();
    for (size_t i = 0; i < a->n_grants; i++) {
        json_t *on = json_array();
        for (size_t k = 0; k < a->grants[i].n_on; k++)
            json_array_append_new(on, json_string(a->grants[i].on[k]));
        json_array_append_new(grants, json_pack("{s:s, s:s, s:o}", "tool", a->grants[i].tool,
                                                "ceiling", fm_ceiling_name(a->grants[i].ceiling),
                                                "on", on));
    }
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:i, s:s, s:{s:I, s:I, s:s}, "
                          "s:o}",
                          "id", (json_int_t)a->id, "handle", a->handle, "title", a->title,
                          "manager", manager, "kind", fm_agent_kind_name(a->kind), "model",
                          a->model, "command", a->command, "autonomy", a->autonomy, "status",
                          fm_agent_status_name(a->status), "budget", "usd_micro",
                          (json_int_t)a->budget.usd_micro, "tokens", (json_int_t)a->budget.tokens,
                          "period", fm_period_name(a->budget.period), "grants", grants);
    json_object_set_new(j, "instructions", a->instructions ? json_string(a->instructions)
                                                           : json_null());
    json_object_set_new(j, "heartbeat_s", json_integer(a->schedule.heartbeat_s));
    json_object_set_new(j, "cron", a->schedule.cron ? json_string(a->schedule.cron)
                                                    : json_null());
    return j;
}

/* The handle of `a`'s manager: an agent's, or "member:HANDLE". */
static char *manager_of(fm_api_req *rq, const fm_agent *a)
{
    if (a->manager_agent)
        return fm_xstrdup(fm__api_name(rq, a->manager_agent));
    fm_member m;
    fm_error err = {0};
    char *h = NULL;
    if (a->manager_member &&
        rq->store->ops->member_get(rq->store, a->manager_member, &m, &err) == FM_OK) {
        h = fm_xasprintf("member:%s", m.handle);
        fm_member_release(&m);
    }
    return h ? h : fm_xstrdup("?");
}

static void list_agents(fm_api_req *rq, fm_api_res *rs)
{
    fm_agent *a = NULL;
    size_t n = 0;
    fm_error err = {0};
    if (rq->store->ops->agent_list(rq->store, rq->who.company_id, false, &a, &n, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (a[i].status == FM_AGENT_FIRED)
            continue;
        char *mgr = manager_of(rq, &a[i]);
        json_array_append_new(arr, agent_json(&a[i], mgr));
        free(mgr);
    }
    fm__api_ok(rs, 200, json_pack("{s:o}", "agents", arr));
    fm_agent_list_free(a, n);
}

/* The agent the path names, if the caller may see it: an agent's token
 * sees only its own (another agent is 404, as if absent). */
static bool path_agent(fm_api_req *rq, fm_api_res *rs, fm_agent *out)
{
    if (!fm__api_agent(rq, rs, rq->params[0], out))
        return false;
    if (fm__api_is_agent(rq) && out->id != rq->who.agent_id) {
        fm_agent_release(out);
        fm__api_error(rs, 404, "not_found", NULL, "no agent '%s' in this company",
                      rq->params[0]);
        return false;
    }
    return true;
}

/* Agent `a` as shown, and its ETag in `etag`. */
static json_t *shown_agent(fm_api_req *rq, const fm_agent *a, char etag[48])
{
    char *mgr = manager_of(rq, a);
    json_t *j = agent_json(a, mgr);
    free(mgr);
    fm__api_etag(j, etag);
    return j;
}

/* Answers with agent `handle` as it is now, and its ETag. */
static void answer_agent(fm_api_req *rq, fm_api_res *rs, const char *handle, int status)
{
    fm_agent a;
    if (!fm__api_agent(rq, rs, handle, &a))
        return;
    fm__api_ok(rs, status, shown_agent(rq, &a, rs->etag));
    fm_agent_release(&a);
}

static void get_agent(fm_api_req *rq, fm_api_res *rs)
{
    fm_agent a;
    if (!path_agent(rq, rs, &a))
        return;
    fm__api_ok(rs, 200, shown_agent(rq, &a, rs->etag));
    fm_agent_release(&a);
}

/* ---- hiring and editing ---------------------------------------------------- */

#define TITLE_MAX 200
#define INSTRUCTIONS_MAX (256 * 1024)
#define GRANTS_MAX 64
#define PATTERNS_MAX 64

/* The fields hire and edit share; hire adds handle (and needs title and
 * manager). */
#define AGENT_FIELDS                                                                         \
    {"title", FM_API_STRING, false}, {"manager", FM_API_STRING, false},                    \
        {"kind", FM_API_STRING, false}, {"model", FM_API_STRING_OR_NULL, false},           \
        {"command", FM_API_STRING_OR_NULL, false},                                         \
        {"instructions", FM_API_STRING_OR_NULL, false}, {"autonomy", FM_API_INT, false},  \
        {"budget_usd_micro", FM_API_INT, false}, {"budget_tokens", FM_API_INT, false},     \
        {"budget_period", FM_API_STRING, false}, {"heartbeat_s", FM_API_INT, false},       \
        {"cron", FM_API_STRING_OR_NULL, false}, {"grants", FM_API_ARRAY, false}

static const fm_api_field hire_fields[] = {{"handle", FM_API_STRING, true}, AGENT_FIELDS,
                                           {NULL}};
static const fm_api_field edit_fields[] = {AGENT_FIELDS, {NULL}};

/* Replaces *dst with the body's string `key` when it is there (null
 * clears it). */
static void take_text(const json_t *b, const char *key, char **dst)
{
    json_t *v = json_object_get(b, key);
    if (!v)
        return;
    free(*dst);
    *dst = json_is_string(v) ? fm_xstrdup(json_string_value(v)) : NULL;
}

/* Replaces *dst with the body's integer `key` when it is there: false with
 * a 422 naming it if it is not from 0 to hi. */
static bool take_int(fm_api_res *rs, const json_t *b, const char *key, int64_t hi, int64_t *dst)
{
    json_t *v = json_object_get(b, key);
    if (!v)
        return true;
    if (json_integer_value(v) < 0 || json_integer_value(v) > hi) {
        fm__api_error(rs, 422, "invalid", key, "%s: want 0 to %lld", key, (long long)hi);
        return false;
    }
    *dst = json_integer_value(v);
    return true;
}

/* One grant from {"tool", "ceiling", "on"}: false with a 422 naming
 * grants[i] and what is wrong. */
static bool grant_of(fm_api_res *rs, const json_t *j, size_t i, fm_grant *g)
{
    char field[32];
    snprintf(field, sizeof field, "grants[%zu]", i);
    memset(g, 0, sizeof *g);
    g->ceiling = FM_CEIL_ASK;
    if (!json_is_object(j)) {
        fm__api_error(rs, 422, "wrong_type", field, "%s: want an object {tool, ceiling, on}",
                      field);
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (strcmp(key, "tool") && strcmp(key, "ceiling") && strcmp(key, "on")) {
            fm__api_error(rs, 422, "unknown_field", field, "%s: unknown field '%s'", field, key);
            return false;
        }
    }
    const char *tool = json_string_value(json_object_get(j, "tool"));
    json_t *ceil = json_object_get(j, "ceiling"), *on = json_object_get(j, "on");
    int c;
    if (!tool) {
        fm__api_error(rs, 422, "missing_field", field, "%s: tool is required (a string)", field);
        return false;
    }
    if (!fm_tool_known(tool)) {
        fm__api_error(rs, 422, "invalid", field, "%s: unknown tool '%s' (known: %s)", field, tool,
                      fm_tool_words());
        return false;
    }
    if (ceil && (!json_is_string(ceil) || fm_ceiling_parse(json_string_value(ceil), &c) != FM_OK)) {
        fm__api_error(rs, 422, "invalid", field, "%s: ceiling must be one of %s", field,
                      fm_ceiling_words());
        return false;
    }
    if (on && (!json_is_array(on) || json_array_size(on) > PATTERNS_MAX)) {
        fm__api_error(rs, 422, "wrong_type", field, "%s: on must be an array of at most %d strings",
                      field, PATTERNS_MAX);
        return false;
    }
    for (size_t k = 0; on && k < json_array_size(on); k++) {
        const char *p = json_string_value(json_array_get(on, k));
        if (!p || !*p) {
            fm__api_error(rs, 422, "wrong_type", field, "%s: on[%zu] must be a non-empty string",
                          field, k);
            return false;
        }
    }
    g->tool = fm_xstrdup(tool);
    if (ceil)
        g->ceiling = (fm_ceiling)c;
    for (size_t k = 0; on && k < json_array_size(on); k++) {
        g->on = fm_xreallocarray(g->on, g->n_on + 1, sizeof *g->on);
        g->on[g->n_on++] = fm_xstrdup(json_string_value(json_array_get(on, k)));
    }
    return true;
}

/* Applies the body's fields onto `a` (as read, or a new one): false with
 * rs set when one is not acceptable. The operation checks the rest (title,
 * autonomy within the company's policy, a command for process agents, the
 * org chart). */
static bool apply_fields(fm_api_res *rs, const json_t *b, fm_agent *a)
{
    json_t *v;
    int x;
    if (!fm__api_text(rs, b, "title", 1, TITLE_MAX) ||
        !fm__api_text(rs, b, "instructions", 0, INSTRUCTIONS_MAX))
        return false;
    if ((v = json_object_get(b, "kind"))) {
        if (fm_agent_kind_parse(json_string_value(v), &x) != FM_OK) {
            fm__api_error(rs, 422, "invalid", "kind", "kind: want one of %s",
                          fm_agent_kind_words());
            return false;
        }
        a->kind = (fm_agent_kind)x;
    }
    if ((v = json_object_get(b, "budget_period"))) {
        if (fm_period_parse(json_string_value(v), &x) != FM_OK) {
            fm__api_error(rs, 422, "invalid", "budget_period", "budget_period: want one of %s",
                          fm_period_words());
            return false;
        }
        a->budget.period = (fm_period)x;
    }
    int64_t autonomy = a->autonomy;
    if (!take_int(rs, b, "autonomy", 2, &autonomy) ||
        !take_int(rs, b, "budget_usd_micro", INT64_MAX / 4, &a->budget.usd_micro) ||
        !take_int(rs, b, "budget_tokens", INT64_MAX / 4, &a->budget.tokens) ||
        !take_int(rs, b, "heartbeat_s", 366LL * 86400, &a->schedule.heartbeat_s))
        return false;
    a->autonomy = (int)autonomy;
    const char *cron = json_string_value(json_object_get(b, "cron"));
    fm_cron parsed;
    char why[128];
    if (cron && fm_cron_parse(cron, &parsed, why, sizeof why) != FM_OK) {
        fm__api_error(rs, 422, "invalid", "cron", "cron '%s' is not a cron expression: %s", cron,
                      why);
        return false;
    }
    json_t *grants = json_object_get(b, "grants");
    if (grants && json_array_size(grants) > GRANTS_MAX) {
        fm__api_error(rs, 422, "invalid", "grants", "grants: at most %d", GRANTS_MAX);
        return false;
    }
    fm_grant *g = grants ? fm_xcalloc(json_array_size(grants) + 1, sizeof *g) : NULL;
    size_t ng = 0;
    for (; grants && ng < json_array_size(grants); ng++) {
        if (!grant_of(rs, json_array_get(grants, ng), ng, &g[ng])) {
            for (size_t k = 0; k <= ng; k++)
                fm_grant_release(&g[k]);
            free(g);
            return false;
        }
    }
    if (grants) { /* the list replaces the agent's */
        for (size_t i = 0; i < a->n_grants; i++)
            fm_grant_release(&a->grants[i]);
        free(a->grants);
        a->grants = g;
        a->n_grants = ng;
    }
    take_text(b, "title", &a->title);
    take_text(b, "model", &a->model);
    take_text(b, "command", &a->command);
    take_text(b, "instructions", &a->instructions);
    take_text(b, "cron", &a->schedule.cron);
    return true;
}

/* "member:ana" names the member ana (as the API shows managers). */
static const char *manager_arg(const json_t *b)
{
    const char *m = json_string_value(json_object_get(b, "manager"));
    return m && strncmp(m, "member:", 7) == 0 ? m + 7 : m;
}

static void hire_agent(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, hire_fields);
    if (!b)
        return;
    fm_agent a = {.company_id = rq->who.company_id, .autonomy = 1,
                  .budget.period = FM_PERIOD_MONTH};
    fm_error err = {0};
    const char *h = json_string_value(json_object_get(b, "handle"));
    a.handle = fm_xstrdup(*h == '@' ? h + 1 : h);
    if (!json_object_get(b, "title"))
        fm__api_error(rs, 422, "missing_field", "title", "title is required");
    else if (!json_object_get(b, "manager"))
        fm__api_error(rs, 422, "missing_field", "manager", "manager is required");
    else if (apply_fields(rs, b, &a)) {
        if (a.kind == FM_AGENT_LLM && !a.model)
            a.model = fm_xstrdup("sim");
        if (fm_agent_hire(rq->store, rq->who.actor, &a, manager_arg(b), &err) == FM_OK)
            answer_agent(rq, rs, a.handle, 201);
        else
            fm__api_fail(rs, &err);
    }
    fm_agent_release(&a);
    json_decref(b);
}

/* Whether If-Match lets the change go ahead on agent `a` as it is now
 * (else 412, rs set). Without If-Match there is no tag to work out. */
static bool etag_matches(fm_api_req *rq, fm_api_res *rs, const fm_agent *a)
{
    if (!fm__api_header(rq, "If-Match"))
        return true;
    char now[48], what[160];
    json_decref(shown_agent(rq, a, now));
    snprintf(what, sizeof what, "agent %s", a->handle);
    return fm__api_if_match(rq, rs, now, what);
}

/* Inside the caller's transaction: reads the agent, checks If-Match, then
 * applies the fields. Any refusal leaves rs set and returns an error, so
 * the caller rolls back and the PATCH is all or nothing. */
static int apply_edit(fm_api_req *rq, fm_api_res *rs, const json_t *b, fm_error *err)
{
    fm_agent a;
    if (!fm__api_agent(rq, rs, rq->params[0], &a))
        return FM_ENOTFOUND;
    int rc = etag_matches(rq, rs, &a) ? FM_OK : FM_ECONFLICT;
    if (rc == FM_OK && !apply_fields(rs, b, &a))
        rc = FM_EINVAL;
    if (rc == FM_OK)
        rc = fm_agent_update(rq->store, rq->who.actor, &a, manager_arg(b), err);
    fm_agent_release(&a);
    return rc;
}

static void edit_agent(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, edit_fields);
    fm_error err = {0};
    if (!b)
        return;
    int rc = rq->store->ops->begin(rq->store, &err);
    if (rc == FM_OK)
        rc = fm_store_end(rq->store, apply_edit(rq, rs, b, &err), &err);
    if (rc == FM_OK)
        answer_agent(rq, rs, rq->params[0], 200);
    else if (!rs->status)
        fm__api_fail(rs, &err);
    json_decref(b);
}

/* Fires the agent: its history stays; its reports move to its manager. */
static void fire_agent(fm_api_req *rq, fm_api_res *rs)
{
    fm_error err = {0};
    if (fm_agent_fire(rq->store, rq->who.actor, rq->who.company_id, rq->params[0], &err) != FM_OK)
        fm__api_fail(rs, &err);
    else
        answer_agent(rq, rs, rq->params[0], 200);
}

static const fm_api_field set_status_fields[] = {{"team", FM_API_BOOL, false}, {NULL}};

static void set_status(fm_api_req *rq, fm_api_res *rs, fm_agent_status to)
{
    json_t *b = fm__api_body(rq, rs, set_status_fields);
    if (!b)
        return;
    bool team = json_is_true(json_object_get(b, "team"));
    json_decref(b);
    size_t count = 0;
    fm_error err = {0};
    if (fm_agent_set_status(rq->store, rq->who.actor, rq->who.company_id, rq->params[0], team, to,
                            &count, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    fm__api_ok(rs, 200, json_pack("{s:s, s:s, s:I}", "agent", rq->params[0], "status",
                                  fm_agent_status_name(to), "changed", (json_int_t)count));
}

/* The kill switch for the whole company, and back. */
static void set_status_all(fm_api_req *rq, fm_api_res *rs, fm_agent_status to)
{
    json_t *b = fm__api_body(rq, rs, (const fm_api_field[]){{NULL}});
    if (!b)
        return;
    json_decref(b);
    size_t count = 0;
    fm_error err = {0};
    if (fm_agent_set_status(rq->store, rq->who.actor, rq->who.company_id, NULL, false, to, &count,
                            &err) != FM_OK)
        fm__api_fail(rs, &err);
    else
        fm__api_ok(rs, 200, json_pack("{s:s, s:I}", "status", fm_agent_status_name(to),
                                      "changed", (json_int_t)count));
}

static void pause_all(fm_api_req *rq, fm_api_res *rs)
{
    set_status_all(rq, rs, FM_AGENT_PAUSED);
}

static void resume_all(fm_api_req *rq, fm_api_res *rs)
{
    set_status_all(rq, rs, FM_AGENT_ACTIVE);
}

static void pause_agent(fm_api_req *rq, fm_api_res *rs)
{
    set_status(rq, rs, FM_AGENT_PAUSED);
}

static void resume_agent(fm_api_req *rq, fm_api_res *rs)
{
    set_status(rq, rs, FM_AGENT_ACTIVE);
}

#define MESSAGE_MAX (64 * 1024)
static const fm_api_field message_fields[] = {{"text", FM_API_STRING, true}, {NULL}};

/* A message to an agent from the caller (a member, or an agent as itself):
 * a new thread and a wake, as `firma message` gives. */
static void post_message(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, message_fields);
    if (!b)
        return;
    const char *text = json_string_value(json_object_get(b, "text"));
    fm_agent a;
    fm_id id = 0;
    fm_error err = {0};
    if (fm__api_text(rs, b, "text", 1, MESSAGE_MAX) && fm__api_agent(rq, rs, rq->params[0], &a)) {
        if (fm_message_deliver(rq->store, rq->who.actor, rq->who.company_id, a.id, rq->who.actor,
                               text, &id, &err) == FM_OK)
            fm__api_ok(rs, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "to",
                                          a.handle, "from", rq->who.actor));
        else
            fm__api_fail(rs, &err);
        fm_agent_release(&a);
    }
    json_decref(b);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/agents", .handler = list_agents,
     .least = FM_ROLE_VIEWER, .summary = "The company's agents (fired ones left out)"},
    {.method = FM_HTTP_POST, .pattern = "/v1/agents", .handler = hire_agent,
     .least = FM_ROLE_ADMIN,
     .summary = "Hire an agent ({handle, title, manager, ...}); 201 with it and its ETag"},
    {.method = FM_HTTP_GET, .pattern = "/v1/agents/{handle}", .handler = get_agent,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "One agent, with its ETag (an agent's token: only itself)"},
    {.method = FM_HTTP_PATCH, .pattern = "/v1/agents/{handle}", .handler = edit_agent,
     .least = FM_ROLE_ADMIN,
     .summary = "Change an agent (title, manager, model, budget, grants, ...); If-Match: ETag, "
                "else 412"},
    {.method = FM_HTTP_DELETE, .pattern = "/v1/agents/{handle}", .handler = fire_agent,
     .least = FM_ROLE_ADMIN,
     .summary = "Fire an agent (its history stays; its reports move to its manager)"},
    {.method = FM_HTTP_POST, .pattern = "/v1/company/pause", .handler = pause_all,
     .least = FM_ROLE_OPERATOR, .summary = "Pause every agent of the company (the kill switch)"},
    {.method = FM_HTTP_POST, .pattern = "/v1/company/resume", .handler = resume_all,
     .least = FM_ROLE_OPERATOR, .summary = "Resume every agent of the company"},
    {.method = FM_HTTP_POST, .pattern = "/v1/agents/{handle}/pause", .handler = pause_agent,
     .least = FM_ROLE_OPERATOR, .summary = "Pause an agent, or with {\"team\": true} its team"},
    {.method = FM_HTTP_POST, .pattern = "/v1/agents/{handle}/resume", .handler = resume_agent,
     .least = FM_ROLE_OPERATOR, .summary = "Resume an agent, or with {\"team\": true} its team"},
    {.method = FM_HTTP_POST, .pattern = "/v1/agents/{handle}/messages", .handler = post_message,
     .least = FM_ROLE_OPERATOR,
     .summary = "Send an agent a message from the caller ({\"text\": ...}); it wakes"},
};

const fm_api_resource fm__api_agents = {"agents", routes, sizeof routes / sizeof routes[0]};
