/* Threads and their messages (what people and the outside sent agents, and
 * what agents sent back), and the comments on a task, which are the task's
 * thread. Message bodies from outside are marked tainted, as the agents see
 * them. */
#include "http/api.h"

#include <stdio.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define COMMENT_MAX (64 * 1024)

static json_t *thread_json(const fm_thread *t)
{
    return json_pack("{s:I, s:s?, s:I, s:I, s:I, s:I}", "id", (json_int_t)t->id, "subject",
                     t->subject, "task", (json_int_t)t->task_id, "message_count",
                     (json_int_t)t->n_messages, "created_us", (json_int_t)t->created_at,
                     "last_us", (json_int_t)t->last_at);
}

static json_t *message_json(const fm_message *m)
{
    return json_pack("{s:I, s:s, s:s, s:b, s:I}", "id", (json_int_t)m->id, "from", m->sender,
                     "text", m->body ? m->body : "", "tainted", m->tainted, "at_us",
                     (json_int_t)m->created_at);
}

static void list_threads(fm_api_req *rq, fm_api_res *rs)
{
    int64_t limit, before, task;
    if (!fm__api_query_int(rq, rs, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
        !fm__api_query_int(rq, rs, "before", 0, INT64_MAX, 0, &before) ||
        !fm__api_query_int(rq, rs, "task", 0, INT64_MAX, 0, &task))
        return;
    fm_thread *t = NULL;
    size_t n = 0;
    fm_error err = {0};
    if (rq->store->ops->thread_list(rq->store, rq->who.company_id, task, before,
                                    (size_t)limit + 1, &t, &n, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    bool more = n > (size_t)limit;
    size_t shown = more ? (size_t)limit : n;
    json_t *arr = json_array();
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(arr, thread_json(&t[i]));
    json_t *next = more ? json_sprintf("%lld", (long long)t[shown - 1].id) : json_null();
    fm__api_ok(rs, 200, json_pack("{s:o, s:o}", "threads", arr, "next", next));
    fm_thread_list_free(t, n);
}

/* The messages of `thread` after ?after= (an id), at most ?limit=, into
 * `into` as "messages" and "next". False with rs set. */
static bool add_messages(fm_api_req *rq, fm_api_res *rs, fm_id thread, json_t *into)
{
    int64_t limit, after;
    if (!fm__api_query_int(rq, rs, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
        !fm__api_query_int(rq, rs, "after", 0, INT64_MAX, 0, &after))
        return false;
    fm_message *m = NULL;
    size_t n = 0, shown = 0;
    fm_error err = {0};
    if (thread && rq->store->ops->message_list(rq->store, thread, &m, &n, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return false;
    }
    json_t *arr = json_array(), *next = json_null();
    for (size_t i = 0; i < n; i++) {
        if (m[i].id <= after)
            continue;
        if (shown == (size_t)limit) {
            json_decref(next);
            next = json_sprintf("%lld", (long long)m[i - 1].id);
            break;
        }
        json_array_append_new(arr, message_json(&m[i]));
        shown++;
    }
    json_object_set_new(into, "messages", arr);
    json_object_set_new(into, "next", next);
    fm_message_list_free(m, n);
    return true;
}

static void get_thread(fm_api_req *rq, fm_api_res *rs)
{
    fm_id id;
    fm_thread t;
    fm_error err = {0};
    if (!fm__api_id(rs, rq->params[0], "thread", &id))
        return;
    int rc = rq->store->ops->thread_get(rq->store, id, &t, &err);
    if (rc == FM_OK && t.company_id != rq->who.company_id) {
        fm_thread_release(&t);
        rc = FM_ENOTFOUND;
    }
    if (rc == FM_ENOTFOUND) {
        fm__api_error(rs, 404, "not_found", NULL, "no thread %lld in this company", (long long)id);
        return;
    }
    if (rc != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    json_t *j = thread_json(&t);
    if (add_messages(rq, rs, t.id, j))
        fm__api_ok(rs, 200, j);
    else
        json_decref(j);
    fm_thread_release(&t);
}

static void list_comments(fm_api_req *rq, fm_api_res *rs)
{
    fm_task t;
    fm_id thread = 0;
    fm_error err = {0};
    if (!fm__api_task(rq, rs, rq->params[0], &t))
        return;
    if (rq->store->ops->thread_of_task(rq->store, rq->who.company_id, t.id, &thread, &err) !=
        FM_OK) {
        fm__api_fail(rs, &err);
    } else {
        json_t *j = json_pack("{s:I, s:o}", "task", (json_int_t)t.id, "thread",
                              thread ? json_integer(thread) : json_null());
        if (add_messages(rq, rs, thread, j))
            fm__api_ok(rs, 200, j);
        else
            json_decref(j);
    }
    fm_task_release(&t);
}

static const fm_api_field comment_fields[] = {{"text", FM_API_STRING, true}, {NULL}};

static void add_comment(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, comment_fields);
    if (!b)
        return;
    const char *text = json_string_value(json_object_get(b, "text"));
    fm_task t;
    fm_id id = 0;
    fm_error err = {0};
    if (fm__api_text(rs, b, "text", 1, COMMENT_MAX) && fm__api_task(rq, rs, rq->params[0], &t)) {
        if (fm_task_comment(rq->store, rq->who.actor, rq->who.company_id, t.id, text, &id,
                            &err) == FM_OK)
            fm__api_ok(rs, 201, json_pack("{s:I, s:I, s:s}", "id", (json_int_t)id, "task",
                                          (json_int_t)t.id, "from", rq->who.actor));
        else
            fm__api_fail(rs, &err);
        fm_task_release(&t);
    }
    json_decref(b);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/threads", .handler = list_threads,
     .least = FM_ROLE_VIEWER,
     .summary = "Threads, newest first (?task= a task's), paged by ?limit= and ?before="},
    {.method = FM_HTTP_GET, .pattern = "/v1/threads/{id}", .handler = get_thread,
     .least = FM_ROLE_VIEWER,
     .summary = "A thread and its messages, oldest first, paged by ?limit= and ?after="},
    {.method = FM_HTTP_GET, .pattern = "/v1/tasks/{id}/comments", .handler = list_comments,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "A task's comments, oldest first, paged by ?limit= and ?after="},
    {.method = FM_HTTP_POST, .pattern = "/v1/tasks/{id}/comments", .handler = add_comment,
     .least = FM_ROLE_OPERATOR,
     .summary = "Comment on a task ({\"text\": ...}); its assignee wakes"},
};

const fm_api_resource fm__api_threads = {"threads", routes, sizeof routes / sizeof routes[0]};
