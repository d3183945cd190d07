/* firma budget: spend this period against the caps, per agent, team and
 * company. A team is an agent and everyone under it in the org chart. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static int64_t spent_of(const fm_spend *v, size_t n, fm_id agent)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].agent_id == agent)
            return v[i].usd_micro;
    return 0;
}

static int by_id(const void *x, const void *y)
{
    fm_id a = ((const fm_agent *)x)->id, b = ((const fm_agent *)y)->id;
    return (a > b) - (a < b);
}

static long index_of(const fm_agent *ags, size_t n, fm_id id)
{
    fm_agent key = {.id = id};
    const fm_agent *f = bsearch(&key, ags, n, sizeof *ags, by_id);
    return f ? (long)(f - ags) : -1;
}

/* team[i]: what agent i and everyone under it spent in the company's period
 * (each agent's spend added to every manager above it). *has_team[i]: agent
 * i manages someone. `ags` is sorted by id. */
static void team_spend(const fm_agent *ags, size_t n, const fm_spend *v, size_t nv,
                       int64_t *team, bool *has_team)
{
    for (size_t i = 0; i < n; i++) {
        if (ags[i].status == FM_AGENT_FIRED)
            continue;
        int64_t s = spent_of(v, nv, ags[i].id);
        team[i] += s;
        long up = index_of(ags, n, ags[i].manager_agent);
        for (size_t hops = 0; up >= 0 && hops < n; hops++) {
            team[up] += s;
            has_team[up] = true;
            up = index_of(ags, n, ags[up].manager_agent);
        }
    }
}

static int budget_run(fm_cli *c, cli_args *a)
{
    int64_t now = fm_now_us();
    fm_agent *ags = NULL;
    size_t na = 0;
    fm_spend *per[FM_PERIOD_N] = {0};
    size_t nper[FM_PERIOD_N] = {0};
    int rc = c->store->ops->agent_list(c->store, c->company.id, true, &ags, &na, &c->err);
    for (int p = 0; rc == FM_OK && p < FM_PERIOD_N; p++)
        rc = c->store->ops->ledger_spend(c->store, c->company.id, fm_period_start(p, now), &per[p],
                                         &nper[p], &c->err);
    json_t *arr = json_array();
    fm_period cp = c->company.budget.period;
    if (na)
        qsort(ags, na, sizeof *ags, by_id);
    int64_t *team = fm_xcalloc(na + 1, sizeof *team);
    bool *has_team = fm_xcalloc(na + 1, sizeof *has_team);
    if (rc == FM_OK)
        team_spend(ags, na, per[cp], nper[cp], team, has_team);
    int64_t total = rc == FM_OK ? spent_of(per[cp], nper[cp], -1) : 0;
    fm_buf b = FM_BUF_INIT;
    if (rc == FM_OK && !c->json) {
        fm_buf_adds(&b, "company: $");
        fm_format_usd(&b, total);
        fm_buf_adds(&b, " of $");
        fm_format_usd(&b, c->company.budget.usd_micro);
        printf("%s per %s\n", b.ptr, fm_period_name(cp));
    }
    for (size_t i = 0; rc == FM_OK && i < na; i++) {
        if (ags[i].status == FM_AGENT_FIRED)
            continue;
        fm_period p = ags[i].budget.period;
        int64_t s = spent_of(per[p], nper[p], ags[i].id);
        if (c->json) {
            json_t *o = json_pack("{s:s, s:I, s:I, s:s}", "agent", ags[i].handle,
                                  "spent_usd_micro", (json_int_t)s, "budget_usd_micro",
                                  (json_int_t)ags[i].budget.usd_micro, "period",
                                  fm_period_name(p));
            if (has_team[i])
                json_object_set_new(o, "team_spent_usd_micro", json_integer(team[i]));
            json_array_append_new(arr, o);
            continue;
        }
        fm_buf_reset(&b);
        fm_format_usd(&b, s);
        fm_buf_adds(&b, " of $");
        fm_format_usd(&b, ags[i].budget.usd_micro);
        fm_buf_addf(&b, " per %s", fm_period_name(p));
        if (has_team[i]) {
            fm_buf_addf(&b, "%*s team $", b.len < 32 ? (int)(32 - b.len) : 1, "");
            fm_format_usd(&b, team[i]);
            fm_buf_addf(&b, " this %s", fm_period_name(cp));
        }
        printf("  @%-16s $%s\n", ags[i].handle, b.ptr);
    }
    if (rc == FM_OK && c->json)
        cli_print_json(json_pack("{s:I, s:I, s:s, s:o}", "spent_usd_micro", (json_int_t)total,
                                 "budget_usd_micro", (json_int_t)c->company.budget.usd_micro,
                                 "period", fm_period_name(cp), "agents", arr));
    else
        json_decref(arr);
    fm_buf_release(&b);
    free(team);
    free(has_team);
    for (int p = 0; p < FM_PERIOD_N; p++)
        free(per[p]);
    fm_agent_list_free(ags, na);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

const cli_command cmd_budget = {
    .name = "budget",
    .summary = "show spending against budgets",
    .usage = "usage: firma budget [--json]\n\n"
             "Money spent this period per agent and for the company, from the ledger,\n"
             "against each cap, and for each manager its team's spend (the agent and\n"
             "everyone under it, in the company's period). Budgets are hard stops.\n",
    .options = "",
    .run = budget_run,
    .needs_company = true,
};
