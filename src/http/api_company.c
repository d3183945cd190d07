/* The company as a whole: what it is, its org chart, and its spending. */
#include "http/api.h"

#include <stdio.h>

static void get_company(fm_api_req *rq, fm_api_res *rs)
{
    fm_company c;
    fm_error err = {0};
    if (rq->store->ops->company_get(rq->store, rq->who.company_id, &c, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    /* role: what the token may do (a member's role, capped by the token's
     * --role), or "agent"; the dashboard offers only what it allows. */
    const char *role = fm__api_is_agent(rq) ? "agent" : fm_role_name(rq->who.role);
    fm__api_ok(rs, 200, json_pack("{s:I, s:s, s:s?, s:s?, s:{s:I, s:I, s:s}, s:s, s:s}", "id",
                                  (json_int_t)c.id, "name", c.name, "title", c.title, "mission",
                                  c.mission, "budget", "usd_micro",
                                  (json_int_t)c.budget.usd_micro, "tokens",
                                  (json_int_t)c.budget.tokens, "period",
                                  fm_period_name(c.budget.period), "you", rq->who.actor, "role",
                                  role));
    fm_company_release(&c);
}

/* Members and agents, each agent with its manager ("cto", or "member:ana"
 * for a person): the tree is the manager links, the owner at its root. */
static void get_org(fm_api_req *rq, fm_api_res *rs)
{
    fm_store *s = rq->store;
    fm_error err = {0};
    fm_member *m = NULL;
    fm_agent *a = NULL;
    size_t nm = 0, na = 0;
    if (s->ops->member_list(s, rq->who.company_id, &m, &nm, &err) != FM_OK ||
        s->ops->agent_list(s, rq->who.company_id, true, &a, &na, &err) != FM_OK) {
        fm_member_list_free(m, nm);
        fm__api_fail(rs, &err);
        return;
    }
    json_t *members = json_array(), *agents = json_array();
    for (size_t i = 0; i < nm; i++)
        json_array_append_new(members, json_pack("{s:s, s:s?, s:s}", "handle", m[i].handle,
                                                 "name", m[i].name, "role",
                                                 fm_role_name(m[i].role)));
    for (size_t i = 0; i < na; i++) {
        if (a[i].status == FM_AGENT_FIRED)
            continue;
        char mgr[96] = "?";
        for (size_t k = 0; a[i].manager_member && k < nm; k++)
            if (m[k].id == a[i].manager_member)
                snprintf(mgr, sizeof mgr, "member:%s", m[k].handle);
        if (a[i].manager_agent)
            snprintf(mgr, sizeof mgr, "%s", fm__api_handle(a, na, a[i].manager_agent));
        json_array_append_new(agents, json_pack("{s:s, s:s, s:s, s:s, s:s}", "handle",
                                                a[i].handle, "title", a[i].title, "manager", mgr,
                                                "kind", fm_agent_kind_name(a[i].kind), "status",
                                                fm_agent_status_name(a[i].status)));
    }
    fm__api_ok(rs, 200, json_pack("{s:o, s:o}", "members", members, "agents", agents));
    fm_member_list_free(m, nm);
    fm_agent_list_free(a, na);
}

/* Spent this period, against the cap, for the company and each agent (each
 * in its own budget period). */
static void get_budget(fm_api_req *rq, fm_api_res *rs)
{
    fm_store *s = rq->store;
    fm_error err = {0};
    fm_company c;
    fm_agent *a = NULL;
    size_t na = 0;
    int64_t now = fm_now_us(), usd, tok;
    if (s->ops->company_get(s, rq->who.company_id, &c, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    int rc = s->ops->agent_list(s, c.id, false, &a, &na, &err);
    if (rc == FM_OK)
        rc = s->ops->spend_of(s, c.id, 0, fm_period_start(c.budget.period, now), &usd, &tok, &err);
    json_t *agents = json_array();
    json_t *body = json_pack("{s:I, s:I, s:s, s:I}", "cap_usd_micro",
                             (json_int_t)c.budget.usd_micro, "spent_usd_micro", (json_int_t)usd,
                             "period", fm_period_name(c.budget.period), "spent_tokens",
                             (json_int_t)tok);
    for (size_t i = 0; rc == FM_OK && i < na; i++) {
        if (a[i].status == FM_AGENT_FIRED)
            continue;
        rc = s->ops->spend_of(s, c.id, a[i].id, fm_period_start(a[i].budget.period, now), &usd,
                              &tok, &err);
        json_array_append_new(agents, json_pack("{s:s, s:I, s:I, s:s, s:I}", "agent",
                                                a[i].handle, "cap_usd_micro",
                                                (json_int_t)a[i].budget.usd_micro,
                                                "spent_usd_micro", (json_int_t)usd, "period",
                                                fm_period_name(a[i].budget.period),
                                                "spent_tokens", (json_int_t)tok));
    }
    json_object_set_new(body, "agents", agents);
    if (rc == FM_OK)
        fm__api_ok(rs, 200, body);
    else {
        json_decref(body);
        fm__api_fail(rs, &err);
    }
    fm_agent_list_free(a, na);
    fm_company_release(&c);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/company", .handler = get_company,
     .least = FM_ROLE_VIEWER, .agents = true, .summary = "The token's company"},
    {.method = FM_HTTP_GET, .pattern = "/v1/org", .handler = get_org, .least = FM_ROLE_VIEWER,
     .agents = true, .summary = "The org chart: members, and agents with their managers"},
    {.method = FM_HTTP_GET, .pattern = "/v1/budget", .handler = get_budget,
     .least = FM_ROLE_VIEWER, .summary = "Spending this period against the caps"},
};

const fm_api_resource fm__api_company = {"company", routes, sizeof routes / sizeof routes[0]};
