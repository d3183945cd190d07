/* Approvals: the inbox, and deciding one. Who may decide is the approval's
 * own rule (fm_approval_decide: its approver, anyone above, or an owner or
 * admin member); the route only asks for the operator role first. */
#include "http/api.h"
#include "firma/tools.h"

#include <string.h>

static json_t *approval_json(const fm_approval *a, const char *agent)
{
    return json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:I, s:I, s:I}",
                     "id", (json_int_t)a->id, "agent", agent, "kind", a->kind, "tool", a->tool,
                     "args", a->args, "reason", a->reason, "approver", a->approver, "status",
                     fm_approval_status_name(a->status), "decided_by", a->decided_by, "why",
                     a->why, "run", (json_int_t)a->run_id, "created_us",
                     (json_int_t)a->created_at, "decided_us", (json_int_t)a->decided_at);
}

static void list_approvals(fm_api_req *rq, fm_api_res *rs)
{
    const char *v = fm__api_query(rq, "status");
    int status = FM_APPROVAL_PENDING;
    if (v && strcmp(v, "all") == 0)
        status = -1;
    else if (v && fm_approval_status_parse(v, &status) != FM_OK) {
        fm__api_error(rs, 422, "invalid", "status", "status %s: want all or one of %s", v,
                      fm_approval_status_words());
        return;
    }
    fm_approval *a = NULL;
    size_t n = 0;
    fm_error err = {0};
    if (rq->store->ops->approval_list(rq->store, rq->who.company_id, status, &a, &n, &err) !=
        FM_OK) {
        fm_approval_list_free(a, n);
        fm__api_fail(rs, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, approval_json(&a[i], fm__api_name(rq, a[i].agent_id)));
    fm__api_ok(rs, 200, json_pack("{s:o}", "approvals", arr));
    fm_approval_list_free(a, n);
}

static const fm_api_field decide_fields[] = {{"why", FM_API_STRING, false}, {NULL}};

static void decide(fm_api_req *rq, fm_api_res *rs, bool approve)
{
    json_t *b = fm__api_body(rq, rs, decide_fields);
    if (!b)
        return;
    const char *why = json_string_value(json_object_get(b, "why"));
    fm_id id;
    fm_error err = {0};
    if (!approve && (!why || !*why))
        fm__api_error(rs, 422, "missing_field", "why", "a denial needs why: the agent reads it");
    else if (fm__api_text(rs, b, "why", 0, 4096) &&
             fm__api_id(rs, rq->params[0], "approval", &id)) {
        if (fm_approval_decide(rq->store, rq->who.company_id, id, approve, rq->who.actor, false,
                               why, &err) == FM_OK)
            fm__api_ok(rs, 200, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "status",
                                          approve ? "approved" : "denied", "decided_by",
                                          rq->who.actor));
        else
            fm__api_fail(rs, &err);
    }
    json_decref(b);
}

static void approve(fm_api_req *rq, fm_api_res *rs)
{
    decide(rq, rs, true);
}

static void deny(fm_api_req *rq, fm_api_res *rs)
{
    decide(rq, rs, false);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/approvals", .handler = list_approvals,
     .least = FM_ROLE_VIEWER,
     .summary = "Approvals: pending, or ?status=approved|denied|expired|all"},
    {.method = FM_HTTP_POST, .pattern = "/v1/approvals/{id}/approve", .handler = approve,
     .least = FM_ROLE_OPERATOR, .summary = "Approve ({\"why\": ...} optional); the agent wakes"},
    {.method = FM_HTTP_POST, .pattern = "/v1/approvals/{id}/deny", .handler = deny,
     .least = FM_ROLE_OPERATOR, .summary = "Deny ({\"why\": ...} required); the agent wakes"},
};

const fm_api_resource fm__api_approvals = {"approvals", routes,
                                           sizeof routes / sizeof routes[0]};
