/* Store helpers shared by every implementation: ending transactions and
 * freeing what the _list functions return. */
#include "firma/base.h"
#include "firma/store.h"

#include <stdlib.h>

#define LIST_FREE(fn, type, release)                                            \
    void fn(type *v, size_t n)                                                  \
    {                                                                           \
        for (size_t i = 0; v && i < n; i++)                                     \
            release(&v[i]);                                                     \
        free(v);                                                                \
    }

LIST_FREE(fm_company_list_free, fm_company, fm_company_release)
LIST_FREE(fm_member_list_free, fm_member, fm_member_release)
LIST_FREE(fm_agent_list_free, fm_agent, fm_agent_release)
LIST_FREE(fm_goal_list_free, fm_goal, fm_goal_release)
LIST_FREE(fm_task_list_free, fm_task, fm_task_release)
LIST_FREE(fm_message_list_free, fm_message, fm_message_release)
LIST_FREE(fm_wake_list_free, fm_wake, fm_wake_release)
LIST_FREE(fm_run_list_free, fm_run, fm_run_release)
LIST_FREE(fm_step_list_free, fm_step, fm_step_release)
LIST_FREE(fm_approval_list_free, fm_approval, fm_approval_release)
LIST_FREE(fm_thread_list_free, fm_thread, fm_thread_release)
LIST_FREE(fm_audit_event_list_free, fm_audit_event, fm_audit_event_release)

typedef struct audit_vec {
    fm_audit_event *v;
    size_t n, cap;
} audit_vec;

static int keep_event(const fm_audit_event *e, void *ctx)
{
    audit_vec *a = ctx;
    if (a->n == a->cap)
        a->v = fm_xreallocarray(a->v, a->cap = a->cap ? a->cap * 2 : 32, sizeof *a->v);
    fm_audit_event *d = &a->v[a->n++];
    *d = *e;
    d->actor = fm_xstrdup(e->actor);
    d->action = fm_xstrdup(e->action);
    d->object = fm_xstrdup(e->object);
    d->details = fm_xstrdup(e->details);
    return 0;
}

int fm_store_audit_list(fm_store *s, const fm_audit_filter *f, fm_audit_event **out, size_t *n,
                        fm_error *err)
{
    audit_vec a = {0};
    int rc = s->ops->audit_scan(s, f, keep_event, &a, err);
    if (rc != FM_OK) {
        fm_audit_event_list_free(a.v, a.n);
        a = (audit_vec){0};
    }
    *out = a.v;
    *n = a.n;
    return rc;
}

void fm_thread_release(fm_thread *t)
{
    if (t)
        free(t->subject);
}

void fm_ledger_list_free(fm_ledger_row *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].model);
    free(v);
}

void fm_message_release(fm_message *m)
{
    if (!m)
        return;
    free(m->sender);
    free(m->body);
}

void fm_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

int fm_store_end(fm_store *s, int rc, fm_error *err)
{
    if (rc == FM_OK)
        rc = s->ops->commit(s, err);
    if (rc != FM_OK)
        s->ops->rollback(s);
    return rc;
}

void fm_step_event_list_free(fm_step_event *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        fm_step_release(&v[i].step);
    free(v);
}

const char *const fm_step_kind_names[FM_STEP_KIND_N] = {"model", "tool", "process"};
const char *const fm_step_status_names[FM_STEP_STATUS_N] = {"started", "finished", "unknown"};

const char *fm_step_kind_name(fm_step_kind k)
{
    return (unsigned)k < FM_STEP_KIND_N ? fm_step_kind_names[k] : "?";
}

const char *fm_step_status_name(fm_step_status st)
{
    return (unsigned)st < FM_STEP_STATUS_N ? fm_step_status_names[st] : "?";
}
