/*
 * Rules that need the whole company, for specs read from files and specs
 * built in code alike:
 *
 *   - handles are unique across members and agents (one namespace);
 *   - exactly one member is the owner;
 *   - every agent's manager is an agent or a member, and following managers
 *     upward from any agent reaches a member: no cycles (so the org chart is
 *     a tree under the members);
 *   - goal owners are agents; autonomy <= policies.max_autonomy;
 *   - the single values a file could not have held (kinds, tools, cron ...),
 *     for specs built in code.
 *
 * Codes: FM_EORG for org-chart rules (handles, owner, managers, cycles, goal
 * owners), FM_EPARSE for bad single values. The first broken rule is
 * reported, checking the company, then members, agents (sorted order), the
 * reporting lines, and goals.
 */
#include "core/files/internal.h"

#include "firma/errors.h"
#include "firma/schedule.h"

#include <stdio.h>
#include <string.h>

#define COMPANY "company.yaml"

/* Line i of a where-array, 0 (unknown) without one. */
static int wline(const int *lines, size_t i)
{
    return lines ? lines[i] : 0;
}

static const char *agent_path(char *buf, size_t len, const fm_agent *a)
{
    snprintf(buf, len, "agents/%s.md", a->handle ? a->handle : "?");
    return buf;
}

static int check_company(const fm_company *c, fm_error *err)
{
    if (!fm_valid_handle(c->name))
        return fm__fail(err, FM_EPARSE, COMPANY, 0, "name '%s' is not a valid handle",
                        c->name ? c->name : "");
    const fm_policies *p = &c->policies;
    if (p->max_autonomy < 0 || p->max_autonomy > 2)
        return fm__fail(err, FM_EPARSE, COMPANY, 0, "max_autonomy must be 0, 1 or 2");
    for (size_t i = 0; i < p->n_ask_for; i++)
        if (!fm_tool_known(p->ask_for[i]))
            return fm__fail(err, FM_EPARSE, COMPANY, 0, "ask_for: '%s' is not a known tool (%s)",
                            p->ask_for[i] ? p->ask_for[i] : "", fm_tool_words());
    if (p->tainted != FM_CEIL_ASK && p->tainted != FM_CEIL_DENY)
        return fm__fail(err, FM_EPARSE, COMPANY, 0, "tainted must be ask or deny");
    if (c->budget.usd_micro < 0 || c->budget.tokens < 0)
        return fm__fail(err, FM_EPARSE, COMPANY, 0, "the budget must not be negative");
    return FM_OK;
}

static int check_members(const fm_company_spec *s, const fm__where *w, fm_error *err)
{
    const int *hl = w ? w->member_handle : NULL, *rl = w ? w->member_role : NULL;
    size_t owner = s->n_members;
    for (size_t i = 0; i < s->n_members; i++) {
        const fm_member *m = &s->members[i];
        if (!fm_valid_handle(m->handle))
            return fm__fail(err, FM_EPARSE, COMPANY, wline(hl, i),
                            "member handle '%s' is not a valid handle", m->handle ? m->handle : "");
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->members[j].handle, m->handle) == 0)
                return fm__fail(err, FM_EORG, COMPANY, wline(hl, i),
                                "handle '%s' is used by two members", m->handle);
        if (m->role != FM_ROLE_OWNER)
            continue;
        if (owner < s->n_members)
            return fm__fail(err, FM_EORG, COMPANY, wline(rl, i),
                            "member '%s' is a second owner ('%s' is the owner; a company has "
                            "exactly one)",
                            m->handle, s->members[owner].handle);
        owner = i;
    }
    if (owner == s->n_members)
        return fm__fail(err, FM_EORG, COMPANY, w ? w->members_line : 0,
                        "no member has role owner (a company has exactly one owner)");
    return FM_OK;
}

static const fm_member *find_member(const fm_company_spec *s, const char *handle)
{
    for (size_t i = 0; handle && i < s->n_members; i++)
        if (strcmp(s->members[i].handle, handle) == 0)
            return &s->members[i];
    return NULL;
}

/* The index of the agent with `handle`, or -1. */
static long find_agent(const fm_company_spec *s, const char *handle)
{
    for (size_t i = 0; handle && i < s->n_agents; i++)
        if (s->agents[i].agent.handle && strcmp(s->agents[i].agent.handle, handle) == 0)
            return (long)i;
    return -1;
}

/* What a file could not get wrong but code can. */
static int check_agent_values(const fm_agent *a, const char *path, fm_error *err)
{
    char why[160];
    fm_cron cron;
    if (!a->title || !*a->title)
        return fm__fail(err, FM_EPARSE, path, 0, "missing key 'title' in agent");
    if ((a->kind == FM_AGENT_LLM) != !a->command)
        return fm__fail(err, FM_EPARSE, path, 0,
                        "a command is required for process and http agents, and only for them");
    if (a->autonomy < 0 || a->autonomy > 2)
        return fm__fail(err, FM_EPARSE, path, 0, "autonomy must be 0, 1 or 2");
    if (a->schedule.cron && fm_cron_parse(a->schedule.cron, &cron, why, sizeof why) != FM_OK)
        return fm__fail(err, FM_EPARSE, path, 0, "cron '%s' is not a cron expression: %s",
                        a->schedule.cron, why);
    for (size_t g = 0; g < a->n_grants; g++)
        if (!fm_tool_known(a->grants[g].tool))
            return fm__fail(err, FM_EPARSE, path, 0, "tool '%s' is not a known tool (%s)",
                            a->grants[g].tool ? a->grants[g].tool : "", fm_tool_words());
    if (a->budget.usd_micro < 0 || a->budget.tokens < 0)
        return fm__fail(err, FM_EPARSE, path, 0, "the budget must not be negative");
    return FM_OK;
}

static int check_agent(const fm_company_spec *s, const fm__where *w, size_t i, fm_error *err)
{
    const fm_agent_spec *as = &s->agents[i];
    const fm_agent *a = &as->agent;
    char path[96];
    agent_path(path, sizeof path, a);
    if (!fm_valid_handle(a->handle))
        return fm__fail(err, FM_EPARSE, path, 0, "'%s' is not a valid agent handle",
                        a->handle ? a->handle : "");
    if (find_member(s, a->handle))
        return fm__fail(err, FM_EORG, path, w ? 1 : 0,
                        "handle '%s' is already a member's (agents and members share one "
                        "namespace of handles)",
                        a->handle);
    if (find_agent(s, a->handle) != (long)i)
        return fm__fail(err, FM_EORG, path, 0, "two agents have the handle '%s'", a->handle);
    if (!as->manager_handle)
        return fm__fail(err, FM_EORG, path, 0, "missing key 'manager' in agent");
    int rc = check_agent_values(a, path, err);
    if (rc == FM_OK && a->autonomy > s->company.policies.max_autonomy)
        rc = fm__fail(err, FM_EPARSE, path, wline(w ? w->agent_autonomy : NULL, i),
                      "autonomy %d is above the company's policies.max_autonomy %d",
                      a->autonomy, s->company.policies.max_autonomy);
    return rc;
}

/* Agent i's reporting cycle, if following managers from it comes back to
 * it, as "a -> b -> a" in `out`. */
static bool cycle_from(const fm_company_spec *s, size_t i, fm_buf *out)
{
    long j = (long)i;
    for (size_t steps = 0; steps < s->n_agents; steps++) {
        j = find_agent(s, s->agents[j].manager_handle);
        if (j < 0)
            return false;
        if (j == (long)i)
            break;
    }
    if (j != (long)i)
        return false; /* leads into a cycle that does not include i */
    fm_buf_adds(out, s->agents[i].agent.handle);
    do {
        j = find_agent(s, s->agents[j].manager_handle);
        fm_buf_addf(out, " -> %s", s->agents[j].agent.handle);
    } while (j != (long)i);
    return true;
}

static int check_reporting(const fm_company_spec *s, const fm__where *w, fm_error *err)
{
    char path[96];
    const int *ml = w ? w->agent_manager : NULL;
    for (size_t i = 0; i < s->n_agents; i++) {
        const char *m = s->agents[i].manager_handle;
        if (find_agent(s, m) < 0 && !find_member(s, m))
            return fm__fail(err, FM_EORG, agent_path(path, sizeof path, &s->agents[i].agent),
                            wline(ml, i),
                            "manager '%s' is neither an agent nor a member of this company", m);
    }
    for (size_t i = 0; i < s->n_agents; i++) {
        fm_buf chain = FM_BUF_INIT;
        if (cycle_from(s, i, &chain)) {
            bool self = strcmp(s->agents[i].manager_handle, s->agents[i].agent.handle) == 0;
            fm__fail(err, FM_EORG, agent_path(path, sizeof path, &s->agents[i].agent),
                     wline(ml, i), "reporting cycle: %s%s", chain.ptr,
                     self ? " (an agent cannot be its own manager)" : "");
            fm_buf_release(&chain);
            return FM_EORG;
        }
    }
    return FM_OK;
}

/* Whether goal i's parent is -1 or the previous goal or one of its
 * ancestors: the depth-first order files.h promises, which the writer's
 * nesting reproduces. */
static bool depth_first(const fm_company_spec *s, size_t i)
{
    int p = s->goals[i].parent;
    if (p == -1)
        return true;
    for (int a = (int)i - 1; a >= 0 && a < (int)i; a = s->goals[a].parent)
        if (a == p)
            return true;
    return false;
}

static int check_goals(const fm_company_spec *s, const fm__where *w, fm_error *err)
{
    for (size_t i = 0; i < s->n_goals; i++) {
        const fm_goal_spec *g = &s->goals[i];
        if (!depth_first(s, i))
            return fm__fail(err, FM_EPARSE, COMPANY, 0,
                            "goal %zu is out of order: its parent must be the goal before it "
                            "or one of that goal's parents",
                            i + 1);
        if (!g->goal.title || !*g->goal.title)
            return fm__fail(err, FM_EPARSE, COMPANY, 0, "goal %zu has no title", i + 1);
        if (g->owner_handle && find_agent(s, g->owner_handle) < 0)
            return fm__fail(err, FM_EORG, COMPANY, wline(w ? w->goal_owner : NULL, i),
                            "goal owner '%s' is not an agent of this company", g->owner_handle);
    }
    return FM_OK;
}

int fm__spec_check(const fm_company_spec *s, const fm__where *w, fm_error *err)
{
    int rc = check_company(&s->company, err);
    if (rc == FM_OK)
        rc = check_members(s, w, err);
    for (size_t i = 0; rc == FM_OK && i < s->n_agents; i++)
        rc = check_agent(s, w, i, err);
    if (rc == FM_OK)
        rc = check_reporting(s, w, err);
    if (rc == FM_OK)
        rc = check_goals(s, w, err);
    return rc;
}

int fm_spec_validate(const fm_company_spec *s, fm_error *err)
{
    return fm__spec_check(s, NULL, err);
}
