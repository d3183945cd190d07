/* Operations on goals and tasks: add, assign, move, checkout. */
#include "core/ops_int.h"
#include "firma/base.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *object_id(const char *kind, fm_id id)
{
    return fm_xasprintf("%s:%lld", kind, (long long)id);
}

static int task_of(fm_store *s, fm_id company, fm_id id, fm_task *out, fm_error *err)
{
    int rc = s->ops->task_get(s, id, out, err);
    if (rc == FM_OK && out->company_id != company) {
        fm_task_release(out);
        rc = FM_ENOTFOUND;
    }
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, FM_ENOTFOUND, "no task %lld in this company", (long long)id);
    return rc;
}

static int goal_of(fm_store *s, fm_id company, fm_id id, fm_goal *out, fm_error *err)
{
    int rc = s->ops->goal_get(s, id, out, err);
    if (rc == FM_OK && out->company_id != company) {
        fm_goal_release(out);
        rc = FM_ENOTFOUND;
    }
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, FM_ENOTFOUND, "no goal %lld in this company", (long long)id);
    return rc;
}

int fm__wake(fm_store *s, fm_id company, fm_id agent, fm_wake_kind kind, fm_id ref,
             fm_error *err)
{
    if (!agent)
        return FM_OK;
    fm_wake w = {.company_id = company, .agent_id = agent, .kind = kind, .ref = ref};
    return s->ops->wake_insert(s, &w, err);
}

/* ---- goals ------------------------------------------------------------------ */

int fm_goal_add(fm_store *s, const char *actor, fm_goal *g, fm_error *err)
{
    fm_goal parent;
    fm_agent owner;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK && (!g->title || !*g->title))
        rc = fm_error_set(err, FM_EINVAL, "a goal needs a title");
    if (rc == FM_OK && g->parent_id && (rc = goal_of(s, g->company_id, g->parent_id, &parent,
                                                     err)) == FM_OK)
        fm_goal_release(&parent);
    if (rc == FM_OK && g->owner_agent &&
        (rc = fm__agent_of(s, g->company_id, g->owner_agent, true, &owner, err)) == FM_OK)
        fm_agent_release(&owner);
    if (rc == FM_OK)
        rc = s->ops->goal_insert(s, g, err);
    if (rc == FM_OK) {
        char *obj = object_id("goal", g->id);
        rc = fm__audit(s, g->company_id, actor, "goal.add", obj,
                       fm__details("{s:s, s:I}", "title", g->title, "parent",
                                   (json_int_t)g->parent_id),
                       err);
        free(obj);
    }
    return fm_store_end(s, rc, err);
}

int fm_goal_set_status(fm_store *s, const char *actor, fm_id company, fm_id goal,
                       fm_goal_status to, fm_error *err)
{
    fm_goal g;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = goal_of(s, company, goal, &g, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    const char *from = fm_goal_status_name(g.status);
    g.status = to;
    rc = s->ops->goal_update(s, &g, err);
    if (rc == FM_OK) {
        char *obj = object_id("goal", goal);
        rc = fm__audit(s, company, actor, "goal.status", obj,
                       fm__details("{s:s, s:s}", "from", from, "to", fm_goal_status_name(to)),
                       err);
        free(obj);
    }
    fm_goal_release(&g);
    return fm_store_end(s, rc, err);
}

/* ---- tasks ------------------------------------------------------------------ */

static int check_task_links(fm_store *s, const fm_task *t, fm_error *err)
{
    fm_task parent;
    fm_goal goal;
    fm_agent agent;
    int rc = FM_OK;
    if (!t->title || !*t->title)
        return fm_error_set(err, FM_EINVAL, "a task needs a title");
    if (t->priority < 0 || t->priority > 3)
        return fm_error_set(err, FM_EINVAL, "priority %d is out of range 0 (highest) to 3",
                            t->priority);
    if (t->parent_id && (rc = task_of(s, t->company_id, t->parent_id, &parent, err)) == FM_OK)
        fm_task_release(&parent);
    if (rc == FM_OK && t->goal_id && (rc = goal_of(s, t->company_id, t->goal_id, &goal, err)) ==
                                         FM_OK)
        fm_goal_release(&goal);
    if (rc == FM_OK && t->assignee &&
        (rc = fm__agent_of(s, t->company_id, t->assignee, true, &agent, err)) == FM_OK)
        fm_agent_release(&agent);
    return rc;
}

int fm_task_add(fm_store *s, const char *actor, fm_task *t, fm_error *err)
{
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = check_task_links(s, t, err);
    if (rc == FM_OK) {
        if (!t->creator)
            t->creator = fm_xstrdup(actor);
        rc = s->ops->task_insert(s, t, err);
    }
    if (rc == FM_OK)
        rc = fm__wake(s, t->company_id, t->assignee, FM_WAKE_TASK, t->id, err);
    if (rc == FM_OK) {
        char *obj = object_id("task", t->id);
        rc = fm__audit(s, t->company_id, actor, "task.add", obj,
                       fm__details("{s:s, s:I, s:I, s:I, s:i, s:b}", "title", t->title,
                                   "assignee", (json_int_t)t->assignee, "goal",
                                   (json_int_t)t->goal_id, "parent", (json_int_t)t->parent_id,
                                   "priority", t->priority, "tainted", t->tainted),
                       err);
        free(obj);
    }
    return fm_store_end(s, rc, err);
}

int fm_task_assign(fm_store *s, const char *actor, fm_id company, fm_id task, fm_id agent,
                   fm_error *err)
{
    fm_task t;
    fm_agent a = {0};
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = task_of(s, company, task, &t, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    if (agent)
        rc = fm__agent_of(s, company, agent, true, &a, err);
    if (rc == FM_OK && (t.status == FM_TASK_DONE || t.status == FM_TASK_CANCELLED))
        rc = fm_error_set(err, FM_ETRANSITION, "task %lld is %s; reopen it before assigning it",
                          (long long)task, fm_task_status_name(t.status));
    fm_id from = t.assignee;
    if (rc == FM_OK) {
        t.assignee = agent;
        t.updated_at = fm_now_us();
        rc = s->ops->task_update(s, &t, err);
    }
    if (rc == FM_OK && agent != from)
        rc = fm__wake(s, company, agent, FM_WAKE_TASK, task, err);
    if (rc == FM_OK) {
        char *obj = object_id("task", task);
        rc = fm__audit(s, company, actor, "task.assign", obj,
                       fm__details("{s:I, s:I, s:s?}", "from", (json_int_t)from, "to",
                                   (json_int_t)agent, "agent", a.handle),
                       err);
        free(obj);
    }
    fm_agent_release(&a);
    fm_task_release(&t);
    return fm_store_end(s, rc, err);
}

/* "doing, blocked, cancelled" — the legal moves from `from`, for messages. */
static void legal_moves(fm_task_status from, fm_buf *b)
{
    for (int to = 0; to < FM_TASK_STATUS_N; to++) {
        if (!fm_task_transition_ok(from, to))
            continue;
        fm_buf_adds(b, b->len ? ", " : "");
        fm_buf_adds(b, fm_task_status_name(to));
    }
    if (!b->len)
        fm_buf_adds(b, "none: it is final");
}

int fm_task_move(fm_store *s, const char *actor, fm_id company, fm_id task, fm_task_status to,
                 const char *result, fm_error *err)
{
    fm_task t;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = task_of(s, company, task, &t, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    fm_task_status from = t.status;
    if (!fm_task_transition_ok(from, to)) {
        fm_buf legal = FM_BUF_INIT;
        legal_moves(from, &legal);
        rc = fm_error_set(err, FM_ETRANSITION,
                          "task %lld cannot move from %s to %s (from %s it can go to: %s)",
                          (long long)task, fm_task_status_name(from), fm_task_status_name(to),
                          fm_task_status_name(from), legal.ptr);
        fm_buf_release(&legal);
    }
    if (rc == FM_OK) {
        t.status = to;
        if (result) {
            free(t.result);
            t.result = fm_xstrdup(result);
        }
        if (to == FM_TASK_DONE || to == FM_TASK_CANCELLED)
            t.checkout_run = t.checkout_until = 0; /* a finished task holds no lease */
        t.updated_at = fm_now_us();
        rc = s->ops->task_update(s, &t, err);
    }
    if (rc == FM_OK) {
        char *obj = object_id("task", task);
        rc = fm__audit(s, company, actor, "task.move", obj,
                       fm__details("{s:s, s:s, s:s?}", "from", fm_task_status_name(from), "to",
                                   fm_task_status_name(to), "result", result),
                       err);
        free(obj);
    }
    fm_task_release(&t);
    return fm_store_end(s, rc, err);
}

int fm_task_checkout(fm_store *s, const char *actor, fm_id company, fm_id task, fm_id run,
                     int64_t lease_us, fm_error *err)
{
    fm_task t;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK && (rc = task_of(s, company, task, &t, err)) == FM_OK)
        fm_task_release(&t);
    int64_t now = fm_now_us();
    if (rc == FM_OK)
        rc = s->ops->task_checkout(s, task, run, now, now + lease_us, err);
    if (rc == FM_OK) {
        char *obj = object_id("task", task);
        rc = fm__audit(s, company, actor, "task.checkout", obj,
                       fm__details("{s:I, s:I}", "run", (json_int_t)run, "lease_us",
                                   (json_int_t)lease_us),
                       err);
        free(obj);
    }
    return fm_store_end(s, rc, err);
}

int fm_task_checkin(fm_store *s, const char *actor, fm_id company, fm_id task, fm_id run,
                    fm_error *err)
{
    fm_task t;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK && (rc = task_of(s, company, task, &t, err)) == FM_OK)
        fm_task_release(&t);
    if (rc == FM_OK)
        rc = s->ops->task_release(s, task, run, err);
    if (rc == FM_OK) {
        char *obj = object_id("task", task);
        rc = fm__audit(s, company, actor, "task.checkin", obj,
                       fm__details("{s:I}", "run", (json_int_t)run), err);
        free(obj);
    }
    return fm_store_end(s, rc, err);
}

/* ---- comments ---------------------------------------------------------------- */

int fm_task_comment(fm_store *s, const char *actor, fm_id company, fm_id task, const char *text,
                    fm_id *message_id, fm_error *err)
{
    if (!text || !*text)
        return fm_error_set(err, FM_EINVAL, "an empty comment");
    fm_task t;
    fm_id thread = 0;
    int rc = s->ops->begin(s, err);
    if (rc != FM_OK)
        return rc;
    if ((rc = task_of(s, company, task, &t, err)) != FM_OK)
        return fm_store_end(s, rc, err);
    /* A task's comments are its thread, made with the first comment. */
    rc = s->ops->thread_of_task(s, company, task, &thread, err);
    if (rc == FM_OK && !thread) {
        /* The title's first 60 bytes, not cutting a UTF-8 character: a cut
         * one would make the subject invalid, and the API could not show it. */
        size_t len = strnlen(t.title, 61);
        if (len > 60)
            for (len = 60; len && ((unsigned char)t.title[len] & 0xC0) == 0x80; len--)
                ;
        char *subject = fm_xasprintf("task %lld: %.*s", (long long)task, (int)len, t.title);
        rc = s->ops->thread_insert(s, company, subject, task, &thread, err);
        free(subject);
    }
    fm_message m = {.thread_id = thread, .company_id = company, .sender = (char *)actor,
                    .body = (char *)text, .tainted = !fm_actor_inside(actor)};
    if (rc == FM_OK)
        rc = s->ops->message_insert(s, &m, err);
    /* The assignee hears of it, unless it wrote it. */
    if (rc == FM_OK && t.assignee) {
        fm_agent a;
        bool own = false;
        if (strncmp(actor, "agent:", 6) == 0 &&
            s->ops->agent_get(s, t.assignee, &a, NULL) == FM_OK) {
            own = strcmp(actor + 6, a.handle) == 0;
            fm_agent_release(&a);
        }
        if (!own)
            rc = fm__wake(s, company, t.assignee, FM_WAKE_MESSAGE, m.id, err);
    }
    if (rc == FM_OK) {
        char *obj = object_id("task", task);
        rc = fm__audit(s, company, actor, "task.comment", obj,
                       fm__details("{s:I, s:I, s:b, s:I}", "message", (json_int_t)m.id, "thread",
                                   (json_int_t)thread, "tainted", m.tainted, "bytes",
                                   (json_int_t)strlen(text)),
                       err);
        free(obj);
    }
    if (rc == FM_OK && message_id)
        *message_id = m.id;
    fm_task_release(&t);
    return fm_store_end(s, rc, err);
}
