/*
 * firma org: the org chart as a tree, from the owner down, with each agent's
 * title, kind, status and budget use this period.
 *
 * Built for large companies: agents are indexed by id in a hash table, the
 * children of each node are linked lists, and the walk uses an explicit stack,
 * so 100,000 agents render in linear time without deep recursion.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct org {
    fm_agent *agents;
    size_t n;
    fm_member *members;
    size_t n_members;
    size_t *slot;            /* hash of agent id -> index + 1 (0 = empty) */
    size_t cap;
    size_t *first, *next;    /* child lists: first[i] / next[i] hold index + 1 */
    size_t *mfirst;          /* per member: first direct report, index + 1 */
    int64_t *spent;          /* per agent this period, micro-dollars */
} org;

static size_t hash_id(fm_id id, size_t cap)
{
    return (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

static size_t find(const org *o, fm_id id)
{
    for (size_t h = hash_id(id, o->cap);; h = (h + 1) & (o->cap - 1)) {
        size_t v = o->slot[h];
        if (!v || o->agents[v - 1].id == id)
            return v;
    }
}

/* Links children in reverse id order onto lists so that, walked, they come
 * out in id order (hiring order). */
static void build(org *o)
{
    for (o->cap = 16; o->cap < o->n * 2; o->cap *= 2)
        ;
    o->slot = fm_xcalloc(o->cap, sizeof *o->slot);
    for (size_t i = 0; i < o->n; i++) {
        size_t h = hash_id(o->agents[i].id, o->cap);
        while (o->slot[h])
            h = (h + 1) & (o->cap - 1);
        o->slot[h] = i + 1;
    }
    o->first = fm_xcalloc(o->n + 1, sizeof *o->first);
    o->next = fm_xcalloc(o->n + 1, sizeof *o->next);
    o->mfirst = fm_xcalloc(o->n_members + 1, sizeof *o->mfirst);
    for (size_t i = o->n; i-- > 0;) {
        const fm_agent *a = &o->agents[i];
        if (a->status == FM_AGENT_FIRED)
            continue;
        size_t *head = NULL;
        if (a->manager_agent) {
            size_t p = find(o, a->manager_agent);
            head = p ? &o->first[p - 1] : NULL;
        } else {
            for (size_t m = 0; m < o->n_members; m++)
                if (o->members[m].id == a->manager_member)
                    head = &o->mfirst[m];
        }
        if (head) {
            o->next[i] = *head;
            *head = i + 1;
        }
    }
}

/* Spend per agent in each agent's own budget period. */
static int load_spend(fm_cli *c, org *o)
{
    o->spent = fm_xcalloc(o->n + 1, sizeof *o->spent);
    int64_t now = fm_now_us();
    for (int p = 0; p < FM_PERIOD_N; p++) {
        fm_spend *v;
        size_t n;
        int rc = c->store->ops->ledger_spend(c->store, c->company.id, fm_period_start(p, now), &v,
                                             &n, &c->err);
        if (rc != FM_OK)
            return rc;
        for (size_t i = 0; i < n; i++) {
            size_t at = v[i].agent_id > 0 ? find(o, v[i].agent_id) : 0;
            if (at && o->agents[at - 1].budget.period == (fm_period)p)
                o->spent[at - 1] = v[i].usd_micro;
        }
        free(v);
    }
    return FM_OK;
}

static void line(fm_buf *out, const org *o, size_t i, const char *prefix, bool last)
{
    const fm_agent *a = &o->agents[i];
    fm_buf_addf(out, "%s%s@%s  %s  [%s", prefix, last ? "└── " : "├── ", a->handle, a->title,
                fm_agent_kind_name(a->kind));
    if (a->kind == FM_AGENT_LLM && a->model)
        fm_buf_addf(out, " %s", a->model);
    fm_buf_addf(out, ", %s]  $", fm_agent_status_name(a->status));
    fm_format_usd(out, o->spent[i]);
    fm_buf_adds(out, " / $");
    fm_format_usd(out, a->budget.usd_micro);
    fm_buf_addf(out, " per %s\n", fm_period_name(a->budget.period));
}

/* Depth-first over the child lists with an explicit stack of (node, depth);
 * the prefix buffer holds "│   " or "    " per level above. */
static void render_from(fm_buf *out, const org *o, size_t first)
{
    size_t cap = 64, top = 0;
    struct frame { size_t node; size_t depth; } *st = fm_xmalloc(cap * sizeof *st);
    fm_buf prefix = FM_BUF_INIT;
    fm_buf_adds(&prefix, "");
    if (first)
        st[top++] = (struct frame){first, 0};
    while (top) {
        struct frame f = st[--top];
        size_t i = f.node - 1;
        bool last = o->next[i] == 0;
        /* Trim the prefix to this depth: each level is 4 columns, 6 or 4 bytes. */
        size_t cut = 0;
        for (size_t d = 0; d < f.depth; d++)
            cut += (unsigned char)prefix.ptr[cut] == 0xe2 ? 6 : 4;
        prefix.len = cut;
        prefix.ptr[cut] = '\0';
        line(out, o, i, prefix.ptr, last);
        if (o->next[i]) {
            if (top == cap)
                st = fm_xreallocarray(st, cap *= 2, sizeof *st);
            st[top++] = (struct frame){o->next[i], f.depth};
        }
        if (o->first[i]) {
            fm_buf_adds(&prefix, last ? "    " : "│   ");
            if (top == cap)
                st = fm_xreallocarray(st, cap *= 2, sizeof *st);
            st[top++] = (struct frame){o->first[i], f.depth + 1};
        }
    }
    free(st);
    fm_buf_release(&prefix);
}

static void org_release(org *o)
{
    fm_agent_list_free(o->agents, o->n);
    fm_member_list_free(o->members, o->n_members);
    free(o->slot);
    free(o->first);
    free(o->next);
    free(o->mfirst);
    free(o->spent);
}

static json_t *org_json(const org *o, size_t first)
{
    json_t *arr = json_array();
    for (size_t k = first; k; k = o->next[k - 1]) {
        const fm_agent *a = &o->agents[k - 1];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:I, s:s, s:o}", "handle", a->handle,
                           "title", a->title, "kind", fm_agent_kind_name(a->kind), "model",
                           a->model, "status", fm_agent_status_name(a->status), "spent_usd_micro",
                           (json_int_t)o->spent[k - 1], "budget_usd_micro",
                           (json_int_t)a->budget.usd_micro, "period",
                           fm_period_name(a->budget.period), "reports",
                           org_json(o, o->first[k - 1])));
    }
    return arr;
}

int fm__org_render(fm_cli *c, fm_buf *out, bool json)
{
    org o;
    memset(&o, 0, sizeof o);
    int rc = c->store->ops->agent_list(c->store, c->company.id, true, &o.agents, &o.n, &c->err);
    if (rc == FM_OK)
        rc = c->store->ops->member_list(c->store, c->company.id, &o.members, &o.n_members,
                                        &c->err);
    if (rc == FM_OK) {
        build(&o);
        rc = load_spend(c, &o);
    }
    json_t *members = json ? json_array() : NULL;
    for (size_t m = 0; rc == FM_OK && m < o.n_members; m++) {
        const fm_member *mb = &o.members[m];
        if (json) {
            json_array_append_new(members, json_pack("{s:s, s:s?, s:s, s:o}", "member",
                                                     mb->handle, "name", mb->name, "role",
                                                     fm_role_name(mb->role), "reports",
                                                     org_json(&o, o.mfirst[m])));
            continue;
        }
        if (mb->role != FM_ROLE_OWNER && !o.mfirst[m])
            continue; /* members with no reports are not part of the chart */
        fm_buf_addf(out, "%s (%s)%s%s\n", mb->handle, fm_role_name(mb->role),
                    mb->name ? "  " : "", mb->name ? mb->name : "");
        render_from(out, &o, o.mfirst[m]);
    }
    if (json) {
        char *s = json_dumps(members, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            fm_buf_adds(out, s), fm_buf_addc(out, '\n');
        free(s);
        json_decref(members);
    }
    org_release(&o);
    return rc;
}

static int org_run(fm_cli *c, cli_args *a)
{
    fm_buf out = FM_BUF_INIT;
    if (!c->json) {
        fm_buf_addf(&out, "%s%s%s%s — budget $", c->company.title ? c->company.title : "",
                    c->company.title ? " (" : "", c->company.name, c->company.title ? ")" : "");
        fm_format_usd(&out, c->company.budget.usd_micro);
        fm_buf_addf(&out, " per %s\n", fm_period_name(c->company.budget.period));
    }
    int rc = fm__org_render(c, &out, c->json);
    if (rc == FM_OK)
        fwrite(out.ptr, 1, out.len, stdout);
    fm_buf_release(&out);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

const cli_command cmd_org = {
    .name = "org",
    .summary = "show the org chart",
    .usage = "usage: firma org [--json]\n\n"
             "The org chart as a tree from the owner down: each agent's handle, title,\n"
             "kind and model, status, and money spent this period against its budget.\n",
    .options = "",
    .run = org_run,
    .needs_company = true,
};
