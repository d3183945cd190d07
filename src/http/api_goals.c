/* Goals: list, add, read, and close (achieved or dropped) or reopen. */
#include "http/api.h"

#include <stdio.h>
#include <string.h>

#define TITLE_MAX 500
#define TEXT_MAX (64 * 1024)

static json_t *goal_json(fm_api_req *rq, const fm_goal *g)
{
    return json_pack("{s:I, s:s, s:s?, s:s, s:I, s:s?, s:I}", "id", (json_int_t)g->id, "title",
                     g->title, "description", g->description, "status",
                     fm_goal_status_name(g->status), "parent", (json_int_t)g->parent_id, "owner",
                     fm__api_name(rq, g->owner_agent), "created_us", (json_int_t)g->created_at);
}

static void list_goals(fm_api_req *rq, fm_api_res *rs)
{
    fm_goal *g = NULL;
    size_t ng = 0;
    int status = -1;
    const char *v = fm__api_query(rq, "status");
    fm_error err = {0};
    if (v && fm_goal_status_parse(v, &status) != FM_OK) {
        fm__api_error(rs, 422, "invalid", "status", "status %s: want one of %s", v,
                      fm_goal_status_words());
        return;
    }
    if (rq->store->ops->goal_list(rq->store, rq->who.company_id, &g, &ng, &err) != FM_OK) {
        fm_goal_list_free(g, ng);
        fm__api_fail(rs, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < ng; i++)
        if (status < 0 || (int)g[i].status == status)
            json_array_append_new(arr, goal_json(rq, &g[i]));
    fm__api_ok(rs, 200, json_pack("{s:o}", "goals", arr));
    fm_goal_list_free(g, ng);
}

/* Answers with goal `id` (404 for another company's). */
static void answer_goal(fm_api_req *rq, fm_api_res *rs, fm_id id, int status)
{
    fm_goal g;
    fm_error err = {0};
    int rc = rq->store->ops->goal_get(rq->store, id, &g, &err);
    if (rc == FM_OK && g.company_id != rq->who.company_id) {
        fm_goal_release(&g);
        rc = FM_ENOTFOUND;
    }
    if (rc == FM_ENOTFOUND)
        fm__api_error(rs, 404, "not_found", NULL, "no goal %lld in this company", (long long)id);
    else if (rc != FM_OK)
        fm__api_fail(rs, &err);
    else {
        fm__api_ok(rs, status, goal_json(rq, &g));
        fm_goal_release(&g);
    }
}

static void get_goal(fm_api_req *rq, fm_api_res *rs)
{
    fm_id id;
    if (fm__api_id(rs, rq->params[0], "goal", &id))
        answer_goal(rq, rs, id, 200);
}

static const fm_api_field add_fields[] = {
    {"title", FM_API_STRING, true},
    {"description", FM_API_STRING_OR_NULL, false},
    {"parent", FM_API_INT, false},
    {"owner", FM_API_STRING_OR_NULL, false},
    {NULL},
};

static void add_goal(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, add_fields);
    if (!b)
        return;
    const char *title = json_string_value(json_object_get(b, "title"));
    const char *desc = json_string_value(json_object_get(b, "description"));
    const char *owner = json_string_value(json_object_get(b, "owner"));
    fm_goal g = {.company_id = rq->who.company_id,
                 .parent_id = json_integer_value(json_object_get(b, "parent"))};
    fm_agent a;
    fm_error err = {0};
    bool ok = fm__api_text(rs, b, "title", 1, TITLE_MAX) &&
              fm__api_text(rs, b, "description", 0, TEXT_MAX);
    if (ok && g.parent_id < 0) {
        fm__api_error(rs, 422, "invalid", "parent", "parent: a goal's id");
        ok = false;
    } else if (ok && owner && (ok = fm__api_agent(rq, rs, owner, &a))) {
        g.owner_agent = a.id;
        fm_agent_release(&a);
    }
    if (ok) {
        g.title = (char *)title;
        g.description = (char *)desc;
        if (fm_goal_add(rq->store, rq->who.actor, &g, &err) == FM_OK)
            answer_goal(rq, rs, g.id, 201);
        else
            fm__api_fail(rs, &err);
    }
    json_decref(b);
}

static const fm_api_field patch_fields[] = {{"status", FM_API_STRING, true}, {NULL}};

static void patch_goal(fm_api_req *rq, fm_api_res *rs)
{
    fm_id id;
    int to;
    fm_error err = {0};
    if (!fm__api_id(rs, rq->params[0], "goal", &id))
        return;
    json_t *b = fm__api_body(rq, rs, patch_fields);
    if (!b)
        return;
    const char *st = json_string_value(json_object_get(b, "status"));
    if (fm_goal_status_parse(st, &to) != FM_OK)
        fm__api_error(rs, 422, "invalid", "status", "status %s: want one of %s", st,
                      fm_goal_status_words());
    else if (fm_goal_set_status(rq->store, rq->who.actor, rq->who.company_id, id,
                                (fm_goal_status)to, &err) != FM_OK)
        fm__api_fail(rs, &err);
    else
        answer_goal(rq, rs, id, 200);
    json_decref(b);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/goals", .handler = list_goals,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "The company's goals (?status=active|achieved|dropped)"},
    {.method = FM_HTTP_POST, .pattern = "/v1/goals", .handler = add_goal,
     .least = FM_ROLE_OPERATOR, .summary = "Add a goal ({title, description, parent, owner})"},
    {.method = FM_HTTP_GET, .pattern = "/v1/goals/{id}", .handler = get_goal,
     .least = FM_ROLE_VIEWER, .agents = true, .summary = "One goal"},
    {.method = FM_HTTP_PATCH, .pattern = "/v1/goals/{id}", .handler = patch_goal,
     .least = FM_ROLE_OPERATOR,
     .summary = "Close a goal ({\"status\": \"achieved\"} or \"dropped\") or reopen it"},
};

const fm_api_resource fm__api_goals = {"goals", routes, sizeof routes / sizeof routes[0]};
