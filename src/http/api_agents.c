/* Agents: list, read, pause and resume, and messages to them. An agent's
 * token reads only its own agent. It sends no messages here: an agent's
 * messages go through its grants and the policy (process agents' "message"
 * action), which a route open to its token would bypass. */
#include "http/api.h"

#include <stdlib.h>
#include <string.h>

static json_t *agent_json(const fm_agent *a, const char *manager)
{
    json_t *grants = json_array();
    for (size_t i = 0; i < a->n_grants; i++)
        json_array_append_new(grants, json_pack("{s:s, s:s}", "tool", a->grants[i].tool,
                                                "ceiling",
                                                fm_ceiling_name(a->grants[i].ceiling)));
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:i, s:s, s:{s:I, s:I, s:s}, s:o}", "id",
                     (json_int_t)a->id, "handle", a->handle, "title", a->title, "manager",
                     manager, "kind", fm_agent_kind_name(a->kind), "model", a->model,
                     "autonomy", a->autonomy, "status", fm_agent_status_name(a->status),
                     "budget", "usd_micro", (json_int_t)a->budget.usd_micro, "tokens",
                     (json_int_t)a->budget.tokens, "period", fm_period_name(a->budget.period),
                     "grants", grants);
}

/* The handle of `a`'s manager, agent or member. */
static char *manager_of(fm_store *s, const fm_agent *a)
{
    fm_error err = {0};
    char *h = NULL;
    if (a->manager_agent) {
        fm_agent m;
        if (s->ops->agent_get(s, a->manager_agent, &m, &err) == FM_OK) {
            h = fm_xstrdup(m.handle);
            fm_agent_release(&m);
        }
    } else if (a->manager_member) {
        fm_member m;
        if (s->ops->member_get(s, a->manager_member, &m, &err) == FM_OK) {
            h = fm_xasprintf("member:%s", m.handle);
            fm_member_release(&m);
        }
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
        char *mgr = manager_of(rq->store, &a[i]);
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

static void get_agent(fm_api_req *rq, fm_api_res *rs)
{
    fm_agent a;
    if (!path_agent(rq, rs, &a))
        return;
    char *mgr = manager_of(rq->store, &a);
    fm__api_ok(rs, 200, agent_json(&a, mgr));
    free(mgr);
    fm_agent_release(&a);
}

static const fm_api_field set_status_fields[] = {{"team", FM_API_BOOL, false}, {NULL}};

static void set_status(fm_api_req *rq, fm_api_res *rs, fm_agent_status to)
{
    json_t *b = fm__api_body(rq, rs, set_status_fields);
    if (!b)
        return;
    bool team = json_is_true(json_object_get(b, "team"));
    json_decref(b);
    fm_agent a;
    if (!path_agent(rq, rs, &a))
        return;
    fm_agent_release(&a);
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
    if (!*text || strlen(text) > MESSAGE_MAX)
        fm__api_error(rs, 422, "invalid", "text", "text: want 1 to %d bytes", MESSAGE_MAX);
    else if (fm__api_agent(rq, rs, rq->params[0], &a)) {
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
    {.method = FM_HTTP_GET, .pattern = "/v1/agents/{handle}", .handler = get_agent,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "One agent (an agent's token: only itself)"},
    {.method = FM_HTTP_POST, .pattern = "/v1/agents/{handle}/pause", .handler = pause_agent,
     .least = FM_ROLE_OPERATOR, .summary = "Pause an agent, or with {\"team\": true} its team"},
    {.method = FM_HTTP_POST, .pattern = "/v1/agents/{handle}/resume", .handler = resume_agent,
     .least = FM_ROLE_OPERATOR, .summary = "Resume an agent, or with {\"team\": true} its team"},
    {.method = FM_HTTP_POST, .pattern = "/v1/agents/{handle}/messages", .handler = post_message,
     .least = FM_ROLE_OPERATOR,
     .summary = "Send an agent a message from the caller ({\"text\": ...}); it wakes"},
};

const fm_api_resource fm__api_agents = {"agents", routes, sizeof routes / sizeof routes[0]};
