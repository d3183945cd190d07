/*
 * company.yaml -> fm_company_spec: the company, its members and its goal tree.
 *
 * Only the shape and single values are checked here; rules that need the
 * whole company (one owner, unique handles, goal owners are agents) are in
 * validate.c, which gets the lines recorded in fm__where.
 */
#include "core/files/internal.h"

#include "firma/errors.h"

#include <stdlib.h>
#include <string.h>

static const char *const company_keys[] = {"name",     "title",   "mission", "budget",
                                           "policies", "members", "goals",   NULL};
enum { C_NAME, C_TITLE, C_MISSION, C_BUDGET, C_POLICIES, C_MEMBERS, C_GOALS, C_N };

static const char *const policy_keys[] = {"max_autonomy", "ask_for", "tainted", NULL};
static const char *const member_keys[] = {"handle", "name", "role", "channels", NULL};
enum { M_HANDLE, M_NAME, M_ROLE, M_CHANNELS, M_N };
static const char *const goal_keys[] = {"title", "description", "owner", "status", "goals", NULL};
enum { G_TITLE, G_DESCRIPTION, G_OWNER, G_STATUS, G_GOALS, G_N };

/* A key's line when present, else the line of the mapping holding it. */
static int at(const int *lines, int k, int fallback)
{
    return lines[k] ? lines[k] : fallback;
}

/* A required handle: present, non-empty and well formed. */
static int need_handle(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                       const char *what, char **out, fm_error *err)
{
    int rc = fm__yaml_handle(y, n, line, key, out, err);
    if (rc == FM_OK && !*out)
        rc = fm__yaml_fail(y, line, err, "missing key '%s' in %s", key, what);
    return rc;
}

/* ---- policies --------------------------------------------------------------- */

/* A tainted run may be asked about or refused; "allow" would defeat taint. */
static int parse_tainted(const char *word, int *out)
{
    int v;
    if (fm_ceiling_parse(word, &v) != FM_OK || v == FM_CEIL_ALLOW)
        return FM_EINVAL;
    *out = v;
    return FM_OK;
}

static int read_policies(const fm__yaml *y, struct fy_node *n, int line, fm_policies *p,
                         fm_error *err)
{
    struct fy_node *v[3];
    int l[3];
    int rc = fm__yaml_fields(y, n, line, "policies", policy_keys, v, l, err);
    int64_t max = p->max_autonomy;
    if (rc == FM_OK)
        rc = fm__yaml_int(y, v[0], l[0], "max_autonomy", 0, 2, &max, err);
    p->max_autonomy = (int)max;
    char want[400];
    snprintf(want, sizeof want, "a known tool (%s)", fm_tool_words());
    if (rc == FM_OK)
        rc = fm__yaml_strv(y, v[1], l[1], "ask_for", fm_tool_known, want, &p->ask_for,
                           &p->n_ask_for, err);
    int tainted = (int)p->tainted;
    if (rc == FM_OK)
        rc = fm__yaml_enum(y, v[2], l[2], "tainted", parse_tainted, "ask, deny", &tainted, err);
    p->tainted = (fm_ceiling)tainted;
    return rc;
}

/* ---- members ------------------------------------------------------------------ */

/* channels: {telegram: "123", email: a@b.c} in file order. */
static int read_channel(const fm__yaml *y, struct fy_node_pair *p, int line, fm_identity *id,
                        fm_error *err)
{
    int kl = fm__yaml_line(y, fy_node_pair_key(p), line);
    int rc = fm__yaml_handle(y, fy_node_pair_key(p), kl, "channel", &id->channel, err);
    if (rc == FM_OK && !id->channel)
        return fm__yaml_fail(y, kl, err, "a channel needs a name, like telegram or email");
    if (rc == FM_OK && fm__yaml_absent(fy_node_pair_value(p)))
        return fm__yaml_fail(y, kl, err, "channel '%s' needs an id", id->channel);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, fy_node_pair_value(p), kl, id->channel, &id->ident, err);
    return rc;
}

static int read_channels(const fm__yaml *y, struct fy_node *n, int line, fm_member *m,
                         fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    if (!fy_node_is_mapping(n))
        return fm__yaml_fail(y, fm__yaml_line(y, n, line), err,
                             "channels must be a mapping (channel: id), not %s",
                             fy_node_is_sequence(n) ? "a list" : "text");
    size_t count = (size_t)fy_node_mapping_item_count(n);
    m->identities = count ? fm_xcalloc(count, sizeof *m->identities) : NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    int rc = FM_OK;
    while (rc == FM_OK && (p = fy_node_mapping_iterate(n, &it)))
        rc = read_channel(y, p, line, &m->identities[m->n_identities++], err);
    return rc;
}

static int read_member(const fm__yaml *y, struct fy_node *n, int line, fm_member *m,
                       int *handle_line, int *role_line, fm_error *err)
{
    struct fy_node *v[M_N];
    int l[M_N];
    int rc = fm__yaml_fields(y, n, line, "member", member_keys, v, l, err);
    *handle_line = at(l, M_HANDLE, line);
    *role_line = at(l, M_ROLE, line);
    if (rc == FM_OK)
        rc = need_handle(y, v[M_HANDLE], *handle_line, "handle", "member", &m->handle, err);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[M_NAME], l[M_NAME], "name", &m->name, err);
    if (rc == FM_OK && !v[M_ROLE])
        rc = fm__yaml_fail(y, line, err, "missing key 'role' in member (one of: %s)",
                           fm_role_words());
    int role = FM_ROLE_VIEWER;
    if (rc == FM_OK)
        rc = fm__yaml_enum(y, v[M_ROLE], *role_line, "role", fm_role_parse, fm_role_words(),
                           &role, err);
    m->role = (fm_role)role;
    if (rc == FM_OK)
        rc = read_channels(y, v[M_CHANNELS], l[M_CHANNELS], m, err);
    return rc;
}

static int read_members(const fm__yaml *y, struct fy_node *n, int line, fm_company_spec *s,
                        fm__where *w, fm_error *err)
{
    w->members_line = line ? line : 1;
    if (fm__yaml_absent(n))
        return FM_OK;
    int rc = fm__yaml_need_list(y, n, line, "members", err);
    size_t count = rc == FM_OK ? (size_t)fy_node_sequence_item_count(n) : 0;
    if (count) {
        s->members = fm_xcalloc(count, sizeof *s->members);
        w->member_handle = fm_xcalloc(count, sizeof *w->member_handle);
        w->member_role = fm_xcalloc(count, sizeof *w->member_role);
    }
    void *it = NULL;
    struct fy_node *item;
    while (rc == FM_OK && (item = fy_node_sequence_iterate(n, &it))) {
        size_t i = s->n_members++;
        rc = read_member(y, item, fm__yaml_line(y, item, line), &s->members[i],
                         &w->member_handle[i], &w->member_role[i], err);
    }
    return rc;
}

/* ---- goals ---------------------------------------------------------------------- */

static int read_goals(const fm__yaml *y, struct fy_node *n, int line, int parent,
                      fm_company_spec *s, fm__where *w, fm_error *err);

/* Appends one goal, then its sub-goals, so a parent precedes its children. */
static int read_goal(const fm__yaml *y, struct fy_node *n, int line, int parent,
                     fm_company_spec *s, fm__where *w, fm_error *err)
{
    struct fy_node *v[G_N];
    int l[G_N];
    int rc = fm__yaml_fields(y, n, line, "goal", goal_keys, v, l, err);
    if (rc != FM_OK)
        return rc;
    size_t i = s->n_goals++;
    s->goals = fm_xreallocarray(s->goals, s->n_goals, sizeof *s->goals);
    w->goal_owner = fm_xreallocarray(w->goal_owner, s->n_goals, sizeof *w->goal_owner);
    fm_goal_spec *g = &s->goals[i];
    memset(g, 0, sizeof *g);
    g->parent = parent;
    g->goal.status = FM_GOAL_ACTIVE;
    w->goal_owner[i] = l[G_OWNER];
    rc = fm__yaml_need(y, v[G_TITLE], at(l, G_TITLE, line), "title", "goal", &g->goal.title, err);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[G_DESCRIPTION], l[G_DESCRIPTION], "description",
                           &g->goal.description, err);
    if (rc == FM_OK)
        rc = fm__yaml_handle(y, v[G_OWNER], l[G_OWNER], "owner", &g->owner_handle, err);
    int status = FM_GOAL_ACTIVE;
    if (rc == FM_OK)
        rc = fm__yaml_enum(y, v[G_STATUS], l[G_STATUS], "status", fm_goal_status_parse,
                           fm_goal_status_words(), &status, err);
    g->goal.status = (fm_goal_status)status;
    if (rc == FM_OK)
        rc = read_goals(y, v[G_GOALS], l[G_GOALS], (int)i, s, w, err);
    return rc;
}

static int read_goals(const fm__yaml *y, struct fy_node *n, int line, int parent,
                      fm_company_spec *s, fm__where *w, fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    int rc = fm__yaml_need_list(y, n, line, "goals", err);
    void *it = NULL;
    struct fy_node *item;
    while (rc == FM_OK && (item = fy_node_sequence_iterate(n, &it)))
        rc = read_goal(y, item, fm__yaml_line(y, item, line), parent, s, w, err);
    return rc;
}

/* ---- the file ------------------------------------------------------------------- */

static int read_root(const fm__yaml *y, fm_company_spec *s, fm__where *w, fm_error *err)
{
    fm_company *c = &s->company;
    struct fy_node *v[C_N];
    int l[C_N];
    int line = fm__yaml_line(y, y->root, 1);
    int rc = fm__yaml_fields(y, y->root, line, "company", company_keys, v, l, err);
    if (rc == FM_OK)
        rc = need_handle(y, v[C_NAME], at(l, C_NAME, line), "name", "company", &c->name, err);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[C_TITLE], l[C_TITLE], "title", &c->title, err);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[C_MISSION], l[C_MISSION], "mission", &c->mission, err);
    if (rc == FM_OK)
        rc = fm__yaml_budget(y, v[C_BUDGET], l[C_BUDGET], &c->budget, err);
    if (rc == FM_OK)
        rc = read_policies(y, v[C_POLICIES], l[C_POLICIES], &c->policies, err);
    if (rc == FM_OK)
        rc = read_members(y, v[C_MEMBERS], l[C_MEMBERS], s, w, err);
    if (rc == FM_OK)
        rc = read_goals(y, v[C_GOALS], l[C_GOALS], -1, s, w, err);
    return rc;
}

int fm__read_company(const char *text, size_t len, fm_company_spec *s, fm__where *w,
                     fm_error *err)
{
    fm__yaml y;
    int rc = fm__yaml_load(&y, "company.yaml", 0, text, len, err);
    if (rc != FM_OK)
        return rc;
    fm_company_init(&s->company);
    rc = read_root(&y, s, w, err);
    fm__yaml_release(&y);
    return rc;
}
