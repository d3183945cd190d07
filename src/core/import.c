/*
 * Company files <-> store. Import writes a whole validated spec in one
 * transaction (company, members, agents, goals — each with its audit event),
 * so a failure half-way leaves nothing behind. Export reads a company back
 * into a spec that fm_spec_write_dir turns into the same files.
 */
#include "core/ops_int.h"
#include "firma/base.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int import_members(fm_store *s, const char *actor, fm_id company,
                          const fm_company_spec *spec, fm_id *ids, fm_error *err)
{
    int rc = FM_OK;
    for (size_t i = 0; rc == FM_OK && i < spec->n_members; i++) {
        fm_member m = spec->members[i]; /* shallow: the store only sets id and time */
        m.company_id = company;
        m.id = 0;
        rc = s->ops->member_insert(s, &m, err);
        ids[i] = m.id;
        if (rc == FM_OK) {
            char *obj = fm_xasprintf("member:%s", m.handle);
            rc = fm__audit(s, company, actor, "member.add", obj,
                           fm__details("{s:s, s:s?}", "role", fm_role_name(m.role), "name",
                                       m.name),
                           err);
            free(obj);
        }
    }
    return rc;
}

static fm_id member_id(const fm_company_spec *spec, const fm_id *ids, const char *handle)
{
    for (size_t i = 0; i < spec->n_members; i++)
        if (strcmp(spec->members[i].handle, handle) == 0)
            return ids[i];
    return 0;
}

static fm_id agent_id(const fm_company_spec *spec, const fm_id *ids, const char *handle)
{
    for (size_t i = 0; handle && i < spec->n_agents; i++)
        if (strcmp(spec->agents[i].agent.handle, handle) == 0)
            return ids[i];
    return 0;
}

/* Agents go in two passes: all rows first (those under a member get their
 * manager at once), then the agent-to-agent reporting lines, which may point
 * at agents inserted later in file order. The spec was validated as a tree. */
static int import_agents(fm_store *s, const char *actor, fm_id company,
                         const fm_company_spec *spec, const fm_id *mids, fm_id *ids,
                         fm_error *err)
{
    int rc = FM_OK;
    /* Both passes write whole rows from the spec: give them one time, or
     * the second pass would write a spec's zero times over the first's. */
    int64_t now = fm_now_us();
    for (size_t i = 0; rc == FM_OK && i < spec->n_agents; i++) {
        fm_agent a = spec->agents[i].agent;
        a.company_id = company;
        a.id = a.manager_agent = 0;
        a.created_at = a.created_at ? a.created_at : now;
        a.updated_at = a.updated_at ? a.updated_at : now;
        a.manager_member = member_id(spec, mids, spec->agents[i].manager_handle);
        rc = s->ops->agent_insert(s, &a, err);
        ids[i] = a.id;
    }
    for (size_t i = 0; rc == FM_OK && i < spec->n_agents; i++) {
        fm_agent a = spec->agents[i].agent;
        a.company_id = company;
        a.id = ids[i];
        a.created_at = a.created_at ? a.created_at : now;
        a.updated_at = a.updated_at ? a.updated_at : now;
        a.manager_member = member_id(spec, mids, spec->agents[i].manager_handle);
        a.manager_agent = a.manager_member ? 0 : agent_id(spec, ids, spec->agents[i].manager_handle);
        if (a.manager_agent)
            rc = s->ops->agent_update(s, &a, err);
        if (rc == FM_OK) {
            char *obj = fm_xasprintf("agent:%s", a.handle);
            rc = fm__audit(s, company, actor, "agent.hire", obj,
                           fm__details("{s:s, s:s, s:s, s:s?, s:I, s:i}", "title", a.title,
                                       "manager", spec->agents[i].manager_handle, "kind",
                                       fm_agent_kind_name(a.kind), "model", a.model,
                                       "budget_usd_micro", (json_int_t)a.budget.usd_micro,
                                       "autonomy", a.autonomy),
                           err);
            free(obj);
        }
    }
    return rc;
}

static int import_goals(fm_store *s, const char *actor, fm_id company,
                        const fm_company_spec *spec, const fm_id *aids, fm_error *err)
{
    fm_id *ids = fm_xcalloc(spec->n_goals + 1, sizeof *ids);
    int rc = FM_OK;
    for (size_t i = 0; rc == FM_OK && i < spec->n_goals; i++) {
        const fm_goal_spec *gs = &spec->goals[i];
        fm_goal g = gs->goal;
        g.company_id = company;
        g.id = 0;
        g.parent_id = gs->parent >= 0 ? ids[gs->parent] : 0;
        g.owner_agent = agent_id(spec, aids, gs->owner_handle);
        rc = s->ops->goal_insert(s, &g, err);
        ids[i] = g.id;
        if (rc == FM_OK) {
            char *obj = fm_xasprintf("goal:%lld", (long long)g.id);
            rc = fm__audit(s, company, actor, "goal.add", obj,
                           fm__details("{s:s, s:I}", "title", g.title, "parent",
                                       (json_int_t)g.parent_id),
                           err);
            free(obj);
        }
    }
    free(ids);
    return rc;
}

int fm_company_import(fm_store *s, const char *actor, const fm_company_spec *spec,
                      const char *as_name, fm_id *id_out, fm_error *err)
{
    fm_company c = spec->company;
    c.id = 0;
    c.created_at = 0;
    if (as_name)
        c.name = (char *)as_name;
    if (!fm_valid_handle(c.name))
        return fm_error_set(err, FM_EINVAL, "'%s' is not a valid company name", c.name);
    fm_id *mids = fm_xcalloc(spec->n_members + 1, sizeof *mids);
    fm_id *aids = fm_xcalloc(spec->n_agents + 1, sizeof *aids);
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->company_insert(s, &c, err);
    if (rc == FM_OK)
        rc = fm__audit(s, c.id, actor, "company.create", "company",
                       fm__details("{s:s, s:s?, s:I}", "name", c.name, "title", c.title,
                                   "budget_usd_micro", (json_int_t)c.budget.usd_micro),
                       err);
    if (rc == FM_OK)
        rc = import_members(s, actor, c.id, spec, mids, err);
    if (rc == FM_OK)
        rc = import_agents(s, actor, c.id, spec, mids, aids, err);
    if (rc == FM_OK)
        rc = import_goals(s, actor, c.id, spec, aids, err);
    free(mids);
    free(aids);
    rc = fm_store_end(s, rc, err);
    if (rc == FM_OK)
        *id_out = c.id;
    return rc;
}

/* ---- export ---------------------------------------------------------------- */

static const char *handle_of_agent(const fm_agent *v, size_t n, fm_id id)
{
    for (size_t i = 0; id && i < n; i++)
        if (v[i].id == id)
            return v[i].handle;
    return NULL;
}

static const char *handle_of_member(const fm_member *v, size_t n, fm_id id)
{
    for (size_t i = 0; id && i < n; i++)
        if (v[i].id == id)
            return v[i].handle;
    return NULL;
}

static int by_handle(const void *a, const void *b)
{
    return strcmp(((const fm_agent_spec *)a)->agent.handle, ((const fm_agent_spec *)b)->agent.handle);
}

static void export_agents(fm_company_spec *out, fm_agent *v, size_t n, const fm_member *m,
                          size_t nm)
{
    out->agents = fm_xcalloc(n ? n : 1, sizeof *out->agents);
    /* Name every manager before moving any agent out of `v`. */
    for (size_t i = 0; i < n; i++) {
        const char *mgr = v[i].manager_agent ? handle_of_agent(v, n, v[i].manager_agent)
                                             : handle_of_member(m, nm, v[i].manager_member);
        out->agents[i].manager_handle = fm_xstrdup(mgr ? mgr : "");
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].status == FM_AGENT_FIRED) {
            free(out->agents[i].manager_handle);
            continue;
        }
        fm_agent_spec *as = &out->agents[out->n_agents++];
        as->manager_handle = out->agents[i].manager_handle;
        as->agent = v[i];
        memset(&v[i], 0, sizeof v[i]); /* moved into the spec */
        as->agent.id = as->agent.company_id = as->agent.manager_agent = 0;
        as->agent.manager_member = as->agent.created_at = as->agent.updated_at = 0;
    }
    qsort(out->agents, out->n_agents, sizeof *out->agents, by_handle);
}

/* Depth-first from each top-level goal, so parents precede children. */
static void export_goal(fm_company_spec *out, const fm_goal *v, size_t n, size_t at, int parent,
                        const fm_agent *agents, size_t na)
{
    fm_goal_spec *gs = &out->goals[out->n_goals];
    int me = (int)out->n_goals++;
    gs->goal = v[at];
    gs->goal.title = fm_xstrdup(v[at].title);
    gs->goal.description = fm_xstrdup(v[at].description);
    gs->goal.id = gs->goal.company_id = gs->goal.parent_id = gs->goal.owner_agent = 0;
    gs->goal.created_at = 0;
    gs->parent = parent;
    gs->owner_handle = fm_xstrdup(handle_of_agent(agents, na, v[at].owner_agent));
    for (size_t i = 0; i < n; i++)
        if (v[i].parent_id == v[at].id)
            export_goal(out, v, n, i, me, agents, na);
}

int fm_company_export(fm_store *s, fm_id company, fm_company_spec *out, fm_error *err)
{
    memset(out, 0, sizeof *out);
    fm_agent *agents = NULL;
    fm_goal *goals = NULL;
    size_t na = 0, ng = 0;
    int rc = s->ops->company_get(s, company, &out->company, err);
    if (rc == FM_OK)
        rc = s->ops->member_list(s, company, &out->members, &out->n_members, err);
    if (rc == FM_OK)
        rc = s->ops->agent_list(s, company, false, &agents, &na, err);
    if (rc == FM_OK)
        rc = s->ops->goal_list(s, company, &goals, &ng, err);
    if (rc == FM_OK) {
        out->company.id = out->company.created_at = 0;
        out->goals = fm_xcalloc(ng ? ng : 1, sizeof *out->goals);
        for (size_t i = 0; i < ng; i++)
            if (!goals[i].parent_id)
                export_goal(out, goals, ng, i, -1, agents, na);
        export_agents(out, agents, na, out->members, out->n_members);
        /* Ids were needed to name managers; a spec carries none. */
        for (size_t i = 0; i < out->n_members; i++)
            out->members[i].id = out->members[i].company_id = out->members[i].created_at = 0;
    }
    fm_agent_list_free(agents, na);
    fm_goal_list_free(goals, ng);
    if (rc != FM_OK)
        fm_spec_release(out);
    return rc;
}
