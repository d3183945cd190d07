/*
 * Tasks: list (filtered, paged by id), add, read with an ETag, change with
 * If-Match, and check out. An agent's token sees only the tasks assigned to
 * its agent, and checks them out for its run.
 *
 * The ETag is a hash of the task as the API shows it, so any change anyone
 * makes (a person, an agent, the runtime) changes it; PATCH with a stale
 * If-Match is 412 and changes nothing.
 */
#include "http/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define TITLE_MAX 500
#define TEXT_MAX (64 * 1024)
#define LEASE_DEFAULT_S 900

static json_t *task_json(const fm_task *t, const char *assignee)
{
    return json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:I, s:I, s:i, s:s?, s:b, s:s, s:I, s:I, s:I}",
                     "id", (json_int_t)t->id, "title", t->title, "body", t->body, "status",
                     fm_task_status_name(t->status), "assignee", assignee, "goal",
                     (json_int_t)t->goal_id, "parent", (json_int_t)t->parent_id, "priority",
                     t->priority, "result", t->result, "tainted", t->tainted, "creator",
                     t->creator ? t->creator : "", "checkout_run", (json_int_t)t->checkout_run,
                     "created_us", (json_int_t)t->created_at, "updated_us",
                     (json_int_t)t->updated_at);
}

/* Task t as shown, with its ETag in `etag`. */
static json_t *shown_task(fm_api_req *rq, const fm_task *t, char etag[48])
{
    json_t *j = task_json(t, fm__api_name(rq, t->assignee));
    fm__api_etag(j, etag);
    return j;
}

/* Answers with task `id` as it is now, and its ETag. */
static void answer_task(fm_api_req *rq, fm_api_res *rs, const char *id, int status)
{
    fm_task t;
    if (!fm__api_task(rq, rs, id, &t))
        return;
    fm__api_ok(rs, status, shown_task(rq, &t, rs->etag));
    fm_task_release(&t);
}

static void list_tasks(fm_api_req *rq, fm_api_res *rs)
{
    fm_task_filter f = {.company_id = rq->who.company_id, .status = -1};
    int64_t limit, after;
    const char *v;
    fm_error err = {0};
    if (!fm__api_query_int(rq, rs, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
        !fm__api_query_int(rq, rs, "after", 0, INT64_MAX, 0, &after))
        return;
    if ((v = fm__api_query(rq, "status")) && fm_task_status_parse(v, &f.status) != FM_OK) {
        fm__api_error(rs, 422, "invalid", "status", "status %s: want one of %s", v,
                      fm_task_status_words());
        return;
    }
    if ((v = fm__api_query(rq, "assignee"))) {
        fm_agent a;
        if (!fm__api_agent(rq, rs, v, &a))
            return;
        f.assignee = a.id;
        fm_agent_release(&a);
    }
    if (fm__api_is_agent(rq)) {
        if (f.assignee && f.assignee != rq->who.agent_id) {
            fm__api_error(rs, 403, "forbidden", "assignee",
                          "an agent's token sees only its own tasks");
            return;
        }
        f.assignee = rq->who.agent_id;
    }
    f.after_id = after;
    f.limit = (size_t)limit + 1; /* one more says whether there is a next page */
    fm_task *t = NULL;
    size_t n = 0;
    if (rq->store->ops->task_list(rq->store, &f, &t, &n, &err) != FM_OK) {
        fm_task_list_free(t, n);
        fm__api_fail(rs, &err);
        return;
    }
    bool more = n > (size_t)limit;
    size_t shown = more ? (size_t)limit : n;
    json_t *arr = json_array();
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(arr, task_json(&t[i], fm__api_name(rq, t[i].assignee)));
    json_t *next = more ? json_sprintf("%lld", (long long)t[shown - 1].id) : json_null();
    fm__api_ok(rs, 200, json_pack("{s:o, s:o}", "tasks", arr, "next", next));
    fm_task_list_free(t, n);
}

static const fm_api_field add_fields[] = {
    {"title", FM_API_STRING, true},       {"body", FM_API_STRING_OR_NULL, false},
    {"assignee", FM_API_STRING_OR_NULL, false}, {"priority", FM_API_INT, false},
    {"goal", FM_API_INT, false},          {"parent", FM_API_INT, false},
    {NULL},
};

static void add_task(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, add_fields);
    if (!b)
        return;
    fm_task t = {.company_id = rq->who.company_id, .priority = 2};
    const char *who = json_string_value(json_object_get(b, "assignee"));
    json_t *p = json_object_get(b, "priority");
    fm_agent a;
    fm_error err = {0};
    bool ok = fm__api_text(rs, b, "title", 1, TITLE_MAX) &&
              fm__api_text(rs, b, "body", 0, TEXT_MAX);
    if (ok && p && (json_integer_value(p) < 0 || json_integer_value(p) > 3)) {
        fm__api_error(rs, 422, "invalid", "priority", "priority: want 0 (highest) to 3");
        ok = false;
    }
    if (ok && who && (ok = fm__api_agent(rq, rs, who, &a))) {
        t.assignee = a.id;
        fm_agent_release(&a);
    }
    if (ok) {
        t.title = fm_xstrdup(json_string_value(json_object_get(b, "title")));
        t.body = fm_xstrdup(json_string_value(json_object_get(b, "body")));
        t.priority = p ? (int)json_integer_value(p) : 2;
        t.goal_id = json_integer_value(json_object_get(b, "goal"));
        t.parent_id = json_integer_value(json_object_get(b, "parent"));
        if (fm_task_add(rq->store, rq->who.actor, &t, &err) == FM_OK) {
            /* Answer as GET /v1/tasks/{id} would, ETag included. */
            char id[24];
            snprintf(id, sizeof id, "%lld", (long long)t.id);
            answer_task(rq, rs, id, 201);
        } else {
            fm__api_fail(rs, &err);
        }
    }
    fm_task_release(&t);
    json_decref(b);
}

static void get_task(fm_api_req *rq, fm_api_res *rs)
{
    answer_task(rq, rs, rq->params[0], 200);
}

static const fm_api_field patch_fields[] = {
    {"status", FM_API_STRING, false},
    {"assignee", FM_API_STRING_OR_NULL, false},
    {"result", FM_API_STRING, false},
    {NULL},
};

/* Whether If-Match lets the change go ahead on task t as it is now (else
 * 412, rs set). */
static bool etag_matches(fm_api_req *rq, fm_api_res *rs, const fm_task *t)
{
    if (!fm__api_header(rq, "If-Match"))
        return true;
    char now[48], what[48];
    json_decref(shown_task(rq, t, now));
    snprintf(what, sizeof what, "task %lld", (long long)t->id);
    return fm__api_if_match(rq, rs, now, what);
}

/* Inside the caller's transaction: reads the task, checks If-Match, then
 * assigns and moves. Any refusal leaves rs set and returns an error, so
 * the caller rolls back and the PATCH is all or nothing. */
static int apply_patch(fm_api_req *rq, fm_api_res *rs, json_t *b, fm_error *err)
{
    fm_store *s = rq->store;
    json_t *who = json_object_get(b, "assignee");
    const char *st = json_string_value(json_object_get(b, "status"));
    int to = -1;
    fm_id agent = 0;
    fm_task t;
    if (st && fm_task_status_parse(st, &to) != FM_OK) {
        fm__api_error(rs, 422, "invalid", "status", "status %s: want one of %s", st,
                      fm_task_status_words());
        return FM_EINVAL;
    }
    if (json_is_string(who)) {
        fm_agent a;
        if (!fm__api_agent(rq, rs, json_string_value(who), &a))
            return FM_ENOTFOUND;
        agent = a.id;
        fm_agent_release(&a);
    }
    if (!fm__api_task(rq, rs, rq->params[0], &t))
        return FM_ENOTFOUND;
    int rc = etag_matches(rq, rs, &t) ? FM_OK : FM_ECONFLICT;
    if (rc == FM_OK && who)
        rc = fm_task_assign(s, rq->who.actor, t.company_id, t.id, agent, err);
    if (rc == FM_OK && to >= 0)
        rc = fm_task_move(s, rq->who.actor, t.company_id, t.id, (fm_task_status)to,
                          json_string_value(json_object_get(b, "result")), err);
    fm_task_release(&t);
    return rc;
}

static void patch_task(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, patch_fields);
    fm_error err = {0};
    if (!b || !fm__api_text(rs, b, "result", 0, TEXT_MAX)) {
        json_decref(b);
        return;
    }
    if (json_object_get(b, "result") && !json_object_get(b, "status")) {
        fm__api_error(rs, 422, "invalid", "result", "result is kept with a move: send status too");
        json_decref(b);
        return;
    }
    /* One write transaction from the If-Match check to the change, so no
     * other writer (the CLI, another server) slips in between. */
    int rc = rq->store->ops->begin(rq->store, &err);
    if (rc == FM_OK)
        rc = fm_store_end(rq->store, apply_patch(rq, rs, b, &err), &err);
    if (rc == FM_OK)
        answer_task(rq, rs, rq->params[0], 200);
    else if (!rs->status)
        fm__api_fail(rs, &err);
    json_decref(b);
}

static const fm_api_field checkout_fields[] = {{"lease_s", FM_API_INT, false}, {NULL}};

/* A checkout lease belongs to a run, so only an agent's token (which has
 * one) can take it; another run holding it is 409. */
static void checkout_task(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, checkout_fields);
    if (!b)
        return;
    json_t *l = json_object_get(b, "lease_s");
    int64_t lease = l ? json_integer_value(l) : LEASE_DEFAULT_S;
    json_decref(b);
    fm_task t;
    fm_error err = {0};
    if (!fm__api_is_agent(rq)) {
        fm__api_error(rs, 403, "forbidden", NULL,
                      "a checkout is held by an agent's run: only an agent's token takes one");
        return;
    }
    if (lease < 1 || lease > 86400) {
        fm__api_error(rs, 422, "invalid", "lease_s", "lease_s: want 1 to 86400 seconds");
        return;
    }
    if (!fm__api_task(rq, rs, rq->params[0], &t))
        return;
    int rc = fm_task_checkout(rq->store, rq->who.actor, rq->who.company_id, t.id, rq->who.run_id,
                              lease * 1000000, &err);
    fm_task_release(&t);
    if (rc == FM_ECONFLICT)
        fm__api_error(rs, 409, "conflict", NULL, "task %s is checked out by another run",
                      rq->params[0]);
    else if (rc != FM_OK)
        fm__api_fail(rs, &err);
    else
        answer_task(rq, rs, rq->params[0], 200);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/tasks", .handler = list_tasks,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "Tasks by id, filtered by ?status= and ?assignee=, paged by ?limit= and "
                "?after= (the answer's next)"},
    {.method = FM_HTTP_POST, .pattern = "/v1/tasks", .handler = add_task,
     .least = FM_ROLE_OPERATOR, .summary = "Add a task (an assignee wakes)"},
    {.method = FM_HTTP_GET, .pattern = "/v1/tasks/{id}", .handler = get_task,
     .least = FM_ROLE_VIEWER, .agents = true, .summary = "One task, with its ETag"},
    {.method = FM_HTTP_PATCH, .pattern = "/v1/tasks/{id}", .handler = patch_task,
     .least = FM_ROLE_OPERATOR,
     .summary = "Assign and/or move a task; If-Match: ETag, else 412"},
    {.method = FM_HTTP_POST, .pattern = "/v1/tasks/{id}/checkout", .handler = checkout_task,
     .agents = true, .agents_only = true,
     .summary = "Take a task's checkout lease for the token's run (agent tokens; 409 if held)"},
};

const fm_api_resource fm__api_tasks = {"tasks", routes, sizeof routes / sizeof routes[0]};
