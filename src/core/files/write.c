/*
 * fm_spec_files and fm_spec_write_dir: the canonical form of a company folder.
 *
 * Canonical means: keys in the documented order, keys at their default left
 * out (except `budget`, always written, and `model` for llm agents, which is
 * what people change most), money through fm_format_usd, durations through
 * fm_format_duration, scalars chosen by emit.c. The same spec always gives
 * the same bytes, and reading them back gives the same spec, so export, edit,
 * import, export is a clean diff in git.
 */
#include "core/files/internal.h"

#include "firma/errors.h"

#include <stdlib.h>
#include <string.h>

static void key(fm_buf *b, int indent, const char *k)
{
    fm_buf_addf(b, "%*s%s: ", indent, "", k);
}

static void text_field(fm_buf *b, int indent, const char *k, const char *v)
{
    if (!v)
        return;
    key(b, indent, k);
    fm__emit_text(b, v, indent);
}

/* "- k: v", the first key of a mapping that is a list item at `indent`. */
static void item_field(fm_buf *b, int indent, const char *k, const char *v)
{
    fm_buf_addf(b, "%*s- %s: ", indent, "", k);
    fm__emit_text(b, v ? v : "", indent + 2);
}

static void flow_list(fm_buf *b, char *const *v, size_t n)
{
    fm_buf_addc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            fm_buf_adds(b, ", ");
        fm__emit_flow_text(b, v[i]);
    }
    fm_buf_adds(b, "]\n");
}

static void budget_field(fm_buf *b, int indent, const fm_budget *bu)
{
    key(b, indent, "budget");
    fm_buf_adds(b, "{usd: ");
    fm_format_usd(b, bu->usd_micro);
    if (bu->tokens)
        fm_buf_addf(b, ", tokens: %lld", (long long)bu->tokens);
    if (bu->period != FM_PERIOD_MONTH)
        fm_buf_addf(b, ", period: %s", fm_period_name(bu->period));
    fm_buf_adds(b, "}\n");
}

/* ---- company.yaml ------------------------------------------------------------- */

static void policies(fm_buf *b, const fm_policies *p)
{
    if (p->max_autonomy == 2 && !p->n_ask_for && p->tainted == FM_CEIL_ASK)
        return;
    fm_buf_adds(b, "policies:\n");
    if (p->max_autonomy != 2)
        fm_buf_addf(b, "  max_autonomy: %d\n", p->max_autonomy);
    if (p->n_ask_for) {
        key(b, 2, "ask_for");
        flow_list(b, p->ask_for, p->n_ask_for);
    }
    if (p->tainted != FM_CEIL_ASK)
        fm_buf_addf(b, "  tainted: %s\n", fm_ceiling_name(p->tainted));
}

static void member(fm_buf *b, const fm_member *m)
{
    item_field(b, 2, "handle", m->handle);
    text_field(b, 4, "name", m->name);
    fm_buf_addf(b, "    role: %s\n", fm_role_name(m->role));
    if (!m->n_identities)
        return;
    key(b, 4, "channels");
    fm_buf_addc(b, '{');
    for (size_t i = 0; i < m->n_identities; i++) {
        fm_buf_adds(b, i ? ", " : "");
        fm__emit_flow_text(b, m->identities[i].channel);
        fm_buf_adds(b, ": ");
        fm__emit_flow_text(b, m->identities[i].ident);
    }
    fm_buf_adds(b, "}\n");
}

/* The goals whose parent is `parent`, as list items at `indent`. */
static void goals(fm_buf *b, const fm_company_spec *s, int parent, int indent)
{
    for (size_t i = 0; i < s->n_goals; i++) {
        const fm_goal_spec *g = &s->goals[i];
        if (g->parent != parent)
            continue;
        item_field(b, indent, "title", g->goal.title);
        text_field(b, indent + 2, "description", g->goal.description);
        text_field(b, indent + 2, "owner", g->owner_handle);
        if (g->goal.status != FM_GOAL_ACTIVE)
            fm_buf_addf(b, "%*sstatus: %s\n", indent + 2, "", fm_goal_status_name(g->goal.status));
        bool children = false;
        for (size_t j = i + 1; j < s->n_goals && !children; j++)
            children = s->goals[j].parent == (int)i;
        if (children) {
            fm_buf_addf(b, "%*sgoals:\n", indent + 2, "");
            goals(b, s, (int)i, indent + 4);
        }
    }
}

static void company_yaml(fm_buf *b, const fm_company_spec *s)
{
    const fm_company *c = &s->company;
    text_field(b, 0, "name", c->name ? c->name : "");
    text_field(b, 0, "title", c->title);
    text_field(b, 0, "mission", c->mission);
    budget_field(b, 0, &c->budget);
    policies(b, &c->policies);
    if (s->n_members)
        fm_buf_adds(b, "members:\n");
    for (size_t i = 0; i < s->n_members; i++)
        member(b, &s->members[i]);
    if (s->n_goals)
        fm_buf_adds(b, "goals:\n");
    goals(b, s, -1, 2);
}

/* ---- agents/<handle>.md -------------------------------------------------------- */

static void grants(fm_buf *b, const fm_agent *a)
{
    if (!a->n_grants)
        return;
    fm_buf_adds(b, "grants:\n");
    for (size_t i = 0; i < a->n_grants; i++) {
        const fm_grant *g = &a->grants[i];
        item_field(b, 2, "tool", g->tool);
        if (g->n_on) {
            key(b, 4, "on");
            flow_list(b, g->on, g->n_on);
        }
        fm_buf_addf(b, "    ceiling: %s\n", fm_ceiling_name(g->ceiling));
    }
}

static void schedule(fm_buf *b, const fm_schedule *sc)
{
    if (!sc->heartbeat_s && !sc->cron)
        return;
    fm_buf_adds(b, "schedule: {");
    if (sc->heartbeat_s) {
        fm_buf_adds(b, "heartbeat: ");
        fm_format_duration(b, sc->heartbeat_s);
    }
    if (sc->cron) {
        fm_buf_adds(b, sc->heartbeat_s ? ", cron: " : "cron: ");
        fm__emit_quoted(b, sc->cron); /* always quoted: cron starts with * or a digit */
    }
    fm_buf_adds(b, "}\n");
}

static void agent_md(fm_buf *b, const fm_agent_spec *as)
{
    const fm_agent *a = &as->agent;
    fm_buf_adds(b, "---\n");
    text_field(b, 0, "title", a->title ? a->title : "");
    text_field(b, 0, "manager", as->manager_handle ? as->manager_handle : "");
    if (a->kind != FM_AGENT_LLM)
        fm_buf_addf(b, "kind: %s\n", fm_agent_kind_name(a->kind));
    text_field(b, 0, "model", a->kind == FM_AGENT_LLM ? a->model : NULL);
    text_field(b, 0, "command", a->command);
    if (a->autonomy != 1)
        fm_buf_addf(b, "autonomy: %d\n", a->autonomy);
    if (a->status != FM_AGENT_ACTIVE)
        fm_buf_addf(b, "status: %s\n", fm_agent_status_name(a->status));
    budget_field(b, 0, &a->budget);
    schedule(b, &a->schedule);
    grants(b, a);
    fm_buf_adds(b, "---\n");
    if (!a->instructions || !*a->instructions)
        return;
    fm_buf_addc(b, '\n');
    fm_buf_adds(b, a->instructions);
    if (a->instructions[strlen(a->instructions) - 1] != '\n')
        fm_buf_addc(b, '\n');
}

/* ---- the folder ------------------------------------------------------------------ */

static int by_handle(const void *x, const void *y)
{
    const fm_agent_spec *a = *(const fm_agent_spec *const *)x;
    const fm_agent_spec *b = *(const fm_agent_spec *const *)y;
    return strcmp(a->agent.handle, b->agent.handle);
}

/* Calls `each` with agents/<handle>.md for each agent not fired, by handle. */
static int agent_files(const fm_company_spec *s, fm_spec_file_fn each, void *ctx, fm_error *err)
{
    const fm_agent_spec **order = s->n_agents ? fm_xcalloc(s->n_agents, sizeof *order) : NULL;
    for (size_t i = 0; i < s->n_agents; i++)
        order[i] = &s->agents[i];
    if (s->n_agents)
        qsort(order, s->n_agents, sizeof *order, by_handle);
    int rc = FM_OK;
    fm_buf b = FM_BUF_INIT;
    for (size_t i = 0; rc == FM_OK && i < s->n_agents; i++) {
        if (order[i]->agent.status == FM_AGENT_FIRED)
            continue; /* a fired agent leaves the org chart, and the files */
        fm_buf_reset(&b);
        agent_md(&b, order[i]);
        char *path = fm_xasprintf("agents/%s.md", order[i]->agent.handle);
        rc = each(ctx, path, b.ptr, b.len, err);
        free(path);
    }
    fm_buf_release(&b);
    free(order);
    return rc;
}

/* Handles become file names: refuse anything that could leave agents/. */
static int check_handles(const fm_company_spec *s, fm_error *err)
{
    for (size_t i = 0; i < s->n_agents; i++)
        if (!fm_valid_handle(s->agents[i].agent.handle))
            return fm_error_set(err, FM_EINVAL, "agent handle '%s' is not a valid handle",
                                s->agents[i].agent.handle ? s->agents[i].agent.handle : "");
    return FM_OK;
}

int fm_spec_files(const fm_company_spec *s, fm_spec_file_fn each, void *ctx, fm_error *err)
{
    int rc = check_handles(s, err);
    if (rc != FM_OK)
        return rc;
    fm_buf b = FM_BUF_INIT;
    company_yaml(&b, s);
    rc = each(ctx, "company.yaml", b.ptr, b.len, err);
    fm_buf_release(&b);
    return rc == FM_OK ? agent_files(s, each, ctx, err) : rc;
}

/* fm_spec_files' callback for fm_spec_write_dir: `ctx` is the folder. */
static int write_one(void *ctx, const char *path, const char *text, size_t len, fm_error *err)
{
    char *full = fm_xasprintf("%s/%s", (const char *)ctx, path);
    int rc = fm__write_file(full, text, len, err);
    free(full);
    return rc;
}

int fm_spec_write_dir(const fm_company_spec *s, const char *dir, fm_error *err)
{
    int rc = check_handles(s, err);
    if (rc != FM_OK)
        return rc;
    char *agents = fm_xasprintf("%s/agents", dir);
    rc = fm__mkdir_p(agents, err);
    free(agents);
    return rc == FM_OK ? fm_spec_files(s, write_one, (void *)dir, err) : rc;
}
