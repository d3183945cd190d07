/* Operations on members and agents: hire, fire, pause, resume, edit. */
#include "core/ops_int.h"
#include "firma/base.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *fm__details(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    if (!j)
        return fm_xstrdup("{}");
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    char *r = fm_xstrdup(s ? s : "{}");
    free(s);
    return r;
}

int fm__audit(fm_store *s, fm_id company, const char *actor, const char *action,
              const char *object, char *details_owned, fm_error *err)
{
    int rc = fm_audit_append(s, company, actor, action, object, details_owned, err);
    free(details_owned);
    return rc;
}

int fm__agent_of(fm_store *s, fm_id company, fm_id id, bool working, fm_agent *out,
                 fm_error *err)
{
    int rc = s->ops->agent_get(s, id, out, err);
    if (rc == FM_ENOTFOUND || (rc == FM_OK && out->company_id != company)) {
        if (rc == FM_OK)
            fm_agent_release(out);
        return fm_error_set(err, FM_ENOTFOUND, "agent %lld is not in this company",
                            (long long)id);
    }
    if (rc == FM_OK && working && out->status == FM_AGENT_FIRED) {
        rc = fm_error_set(err, FM_EINVAL, "agent '%s' has been fired", out->handle);
        fm_agent_release(out);
    }
    return rc;
}

/* ---- members -------------------------------------------------------------- */

static int handle_free(fm_store *s, fm_id company, const char *handle, fm_error *err)
{
    fm_id a, m;
    if (!fm_valid_handle(handle))
        return fm_error_set(err, FM_EINVAL,
                            "'%s' is not a valid handle: use a-z, 0-9, _ and -, starting with a "
                            "letter, at most 40", handle ? handle : "");
    if (fm_org_resolve(s, company, handle, &a, &m, NULL) == FM_OK)
        return fm_error_set(err, FM_EEXIST, "the handle '%s' is already taken by %s %s", handle,
                            a ? "agent" : "member", handle);
    return FM_OK;
}

static int owner_count(fm_store *s, fm_id company, size_t *count, fm_error *err)
{
    fm_member *v;
    size_t n;
    int rc = s->ops->member_list(s, company, &v, &n, err);
    *count = 0;
    for (size_t i = 0; rc == FM_OK && i < n; i++)
        *count += v[i].role == FM_ROLE_OWNER;
    fm_member_list_free(v, n);
    return rc;
}

int fm_member_add(fm_store *s, const char *actor, fm_member *m, fm_error *err)
{
    int rc = s->ops->begin(s, err);
    size_t owners = 0;
    if (rc == FM_OK)
        rc = handle_free(s, m->company_id, m->handle, err);
    if (rc == FM_OK && m->role == FM_ROLE_OWNER && (rc = owner_count(s, m->company_id, &owners,
                                                                     err)) == FM_OK && owners)
        rc = fm_error_set(err, FM_EORG, "the company already has an owner; the org chart has "
                                        "one root");
    if (rc == FM_OK)
        rc = s->ops->member_insert(s, m, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("member:%s", m->handle);
        rc = fm__audit(s, m->company_id, actor, "member.add", obj,
                       fm__details("{s:s, s:s?}", "role", fm_role_name(m->role), "name", m->name),
                       err);
        free(obj);
    }
    return fm_store_end(s, rc, err);
}

/* Revokes member `member`'s API tokens: a member id can be given again to
 * the next member added, and their old tokens must not act as that one. */
static int revoke_tokens_of(fm_store *s, fm_id company, fm_id member, int64_t *count,
                            fm_error *err)
{
    fm_token *t = NULL;
    size_t n = 0;
    int64_t now = fm_now_us();
    int rc = s->ops->token_list(s, company, &t, &n, err);
    *count = 0;
    for (size_t i = 0; rc == FM_OK && i < n; i++)
        if (t[i].member_id == member && !t[i].revoked_at) {
            rc = s->ops->token_revoke(s, company, t[i].id, now, err);
            ++*count;
        }
    free(t);
    return rc;
}

int fm_member_rm(fm_store *s, const char *actor, fm_id company, const char *handle,
                 fm_error *err)
{
    int64_t revoked = 0;
    fm_member m;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->member_find(s, company, handle, &m, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    if (m.role == FM_ROLE_OWNER)
        rc = fm_error_set(err, FM_EORG, "'%s' is the company's owner and cannot be removed",
                          handle);
    if (rc == FM_OK && (rc = s->ops->member_delete(s, m.id, err)) == FM_EORG)
        fm_error_set(err, FM_EORG, "agents still report to '%s'; give them another manager first",
                     handle);
    if (rc == FM_OK)
        rc = revoke_tokens_of(s, company, m.id, &revoked, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("member:%s", handle);
        rc = fm__audit(s, company, actor, "member.rm", obj,
                       fm__details("{s:I}", "tokens_revoked", (json_int_t)revoked), err);
        free(obj);
    }
    fm_member_release(&m);
    return fm_store_end(s, rc, err);
}

/* ---- agents ---------------------------------------------------------------- */

static int check_agent_fields(fm_store *s, const fm_agent *a, fm_error *err)
{
    fm_company c;
    int rc = s->ops->company_get(s, a->company_id, &c, err);
    if (rc != FM_OK)
        return rc;
    if (!a->title || !*a->title)
        rc = fm_error_set(err, FM_EINVAL, "agent '%s' needs a title", a->handle);
    else if (a->autonomy < 0 || a->autonomy > c.policies.max_autonomy)
        rc = fm_error_set(err, FM_EINVAL, "autonomy %d is out of range: this company allows 0 to %d",
                          a->autonomy, c.policies.max_autonomy);
    else if (a->kind != FM_AGENT_LLM && (!a->command || !*a->command))
        rc = fm_error_set(err, FM_EINVAL, "a %s agent needs a command",
                          fm_agent_kind_name(a->kind));
    else if (a->budget.usd_micro < 0 || a->budget.tokens < 0)
        rc = fm_error_set(err, FM_EINVAL, "a budget cannot be negative");
    for (size_t i = 0; rc == FM_OK && i < a->n_grants; i++)
        if (!fm_tool_known(a->grants[i].tool))
            rc = fm_error_set(err, FM_EINVAL, "unknown tool '%s' in grant (known: %s)",
                              a->grants[i].tool, fm_tool_words());
    fm_company_release(&c);
    return rc;
}

static int set_manager(fm_store *s, fm_agent *a, const char *manager, fm_error *err)
{
    fm_id ma, mm;
    int rc = fm_org_resolve(s, a->company_id, manager, &ma, &mm, err);
    if (rc == FM_ENOTFOUND)
        return fm_error_set(err, FM_EORG, "manager '%s' is neither an agent nor a member of this "
                                          "company", manager);
    if (rc == FM_OK)
        rc = fm_org_check_manager(s, a->company_id, a->id, a->handle, ma, mm, err);
    if (rc == FM_OK) {
        a->manager_agent = ma;
        a->manager_member = mm;
    }
    return rc;
}

int fm_agent_hire(fm_store *s, const char *actor, fm_agent *a, const char *manager,
                  fm_error *err)
{
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = handle_free(s, a->company_id, a->handle, err);
    if (rc == FM_OK)
        rc = check_agent_fields(s, a, err);
    if (rc == FM_OK && !manager)
        rc = fm_org_check_manager(s, a->company_id, 0, a->handle, 0, 0, err);
    if (rc == FM_OK)
        rc = set_manager(s, a, manager, err);
    if (rc == FM_OK)
        rc = s->ops->agent_insert(s, a, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("agent:%s", a->handle);
        rc = fm__audit(s, a->company_id, actor, "agent.hire", obj,
                       fm__details("{s:s, s:s, s:s, s:s?, s:I, s:i}", "title", a->title,
                                   "manager", manager, "kind", fm_agent_kind_name(a->kind),
                                   "model", a->model, "budget_usd_micro",
                                   (json_int_t)a->budget.usd_micro, "autonomy", a->autonomy),
                       err);
        free(obj);
    }
    return fm_store_end(s, rc, err);
}

/* Moves every agent reporting to `from` (an agent id) to the given manager. */
static int move_reports(fm_store *s, const char *actor, const fm_agent *from, fm_error *err)
{
    fm_agent *v;
    size_t n;
    int rc = s->ops->agent_list(s, from->company_id, false, &v, &n, err);
    for (size_t i = 0; rc == FM_OK && i < n; i++) {
        if (v[i].manager_agent != from->id || v[i].status == FM_AGENT_FIRED)
            continue;
        v[i].manager_agent = from->manager_agent;
        v[i].manager_member = from->manager_member;
        v[i].updated_at = fm_now_us();
        rc = s->ops->agent_update(s, &v[i], err);
        if (rc == FM_OK) {
            char *obj = fm_xasprintf("agent:%s", v[i].handle);
            rc = fm__audit(s, from->company_id, actor, "agent.reassign", obj,
                           fm__details("{s:s, s:s}", "from", from->handle, "why",
                                       "manager fired"),
                           err);
            free(obj);
        }
    }
    fm_agent_list_free(v, n);
    return rc;
}

/* Goals the fired agent owned pass to its manager agent, or stay unowned
 * when a member managed it (members own the company, not single goals). */
static int move_goals(fm_store *s, const char *actor, const fm_agent *from, fm_error *err)
{
    fm_goal *v;
    size_t n;
    int rc = s->ops->goal_list(s, from->company_id, &v, &n, err);
    for (size_t i = 0; rc == FM_OK && i < n; i++) {
        if (v[i].owner_agent != from->id)
            continue;
        v[i].owner_agent = from->manager_agent;
        rc = s->ops->goal_update(s, &v[i], err);
        if (rc == FM_OK) {
            char *obj = fm_xasprintf("goal:%lld", (long long)v[i].id);
            rc = fm__audit(s, from->company_id, actor, "goal.owner", obj,
                           fm__details("{s:s, s:I, s:s}", "from", from->handle, "to",
                                       (json_int_t)from->manager_agent, "why", "owner fired"),
                           err);
            free(obj);
        }
    }
    fm_goal_list_free(v, n);
    return rc;
}

int fm_agent_fire(fm_store *s, const char *actor, fm_id company, const char *handle,
                  fm_error *err)
{
    fm_agent a;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->agent_find(s, company, handle, &a, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    if (a.status == FM_AGENT_FIRED)
        rc = fm_error_set(err, FM_EINVAL, "agent '%s' has already been fired", handle);
    if (rc == FM_OK)
        rc = move_reports(s, actor, &a, err);
    if (rc == FM_OK)
        rc = move_goals(s, actor, &a, err);
    if (rc == FM_OK) {
        a.status = FM_AGENT_FIRED;
        a.updated_at = fm_now_us();
        rc = s->ops->agent_update(s, &a, err);
    }
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("agent:%s", handle);
        rc = fm__audit(s, company, actor, "agent.fire", obj, NULL, err);
        free(obj);
    }
    fm_agent_release(&a);
    return fm_store_end(s, rc, err);
}

/* Marks the agents to change: `root` and, with `team`, everyone under it
 * (0 root = the whole company). Breadth-first over the manager ids. */
static void mark_team(const fm_agent *v, size_t n, fm_id root, bool team, bool *mark)
{
    for (size_t i = 0; i < n; i++)
        mark[i] = root == 0 || v[i].id == root;
    if (!team || root == 0)
        return;
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            if (mark[i] || !v[i].manager_agent)
                continue;
            for (size_t j = 0; j < n; j++) {
                if (mark[j] && v[j].id == v[i].manager_agent) {
                    mark[i] = grew = true;
                    break;
                }
            }
        }
    }
}

static int apply_status(fm_store *s, const char *actor, fm_agent *a, fm_agent_status to,
                        fm_error *err)
{
    a->status = to;
    a->updated_at = fm_now_us();
    int rc = s->ops->agent_update(s, a, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("agent:%s", a->handle);
        rc = fm__audit(s, a->company_id, actor, to == FM_AGENT_PAUSED ? "agent.pause"
                                                                       : "agent.resume",
                       obj, NULL, err);
        free(obj);
    }
    return rc;
}

int fm_agent_set_status(fm_store *s, const char *actor, fm_id company, const char *handle,
                        bool team, fm_agent_status to, size_t *count, fm_error *err)
{
    fm_agent *v = NULL, root;
    size_t n = 0;
    *count = 0;
    int rc = s->ops->begin(s, err);
    fm_id root_id = 0;
    if (rc == FM_OK && handle && (rc = s->ops->agent_find(s, company, handle, &root, err)) ==
                                     FM_OK) {
        root_id = root.id;
        if (root.status == FM_AGENT_FIRED)
            rc = fm_error_set(err, FM_EINVAL, "agent '%s' has been fired", handle);
        fm_agent_release(&root);
    }
    if (rc == FM_OK)
        rc = s->ops->agent_list(s, company, false, &v, &n, err);
    bool *mark = fm_xcalloc(n ? n : 1, sizeof *mark);
    if (rc == FM_OK)
        mark_team(v, n, root_id, team, mark);
    for (size_t i = 0; rc == FM_OK && i < n; i++) {
        if (!mark[i] || v[i].status == FM_AGENT_FIRED || v[i].status == to)
            continue;
        rc = apply_status(s, actor, &v[i], to, err);
        (*count)++;
    }
    free(mark);
    fm_agent_list_free(v, n);
    return fm_store_end(s, rc, err);
}

/* The names of the fields that differ, for the audit record. */
static json_t *changed_fields(const fm_agent *o, const fm_agent *a)
{
    json_t *c = json_array();
#define DIFF_STR(f) if ((o->f == NULL) != (a->f == NULL) || (o->f && strcmp(o->f, a->f) != 0)) \
        json_array_append_new(c, json_string(#f))
#define DIFF_INT(f) if (o->f != a->f) json_array_append_new(c, json_string(#f))
    DIFF_STR(title); DIFF_STR(model); DIFF_STR(command); DIFF_STR(instructions);
    DIFF_STR(schedule.cron);
    DIFF_INT(kind); DIFF_INT(autonomy); DIFF_INT(budget.usd_micro); DIFF_INT(budget.tokens);
    DIFF_INT(budget.period); DIFF_INT(schedule.heartbeat_s); DIFF_INT(manager_agent);
    DIFF_INT(manager_member); DIFF_INT(n_grants);
#undef DIFF_STR
#undef DIFF_INT
    return c;
}

int fm_agent_update(fm_store *s, const char *actor, fm_agent *a, const char *manager,
                    fm_error *err)
{
    fm_agent old;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = fm__agent_of(s, a->company_id, a->id, true, &old, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    rc = check_agent_fields(s, a, err);
    if (rc == FM_OK && manager)
        rc = set_manager(s, a, manager, err);
    if (rc == FM_OK) {
        a->updated_at = fm_now_us();
        rc = s->ops->agent_update(s, a, err);
    }
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("agent:%s", a->handle);
        rc = fm__audit(s, a->company_id, actor, "agent.update", obj,
                       fm__details("{s:o}", "changed", changed_fields(&old, a)), err);
        free(obj);
    }
    fm_agent_release(&old);
    return fm_store_end(s, rc, err);
}
