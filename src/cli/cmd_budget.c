/* firma budget: spend this period against the caps, per agent and company. */
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
            json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:s}", "agent", ags[i].handle,
                                                 "spent_usd_micro", (json_int_t)s,
                                                 "budget_usd_micro",
                                                 (json_int_t)ags[i].budget.usd_micro, "period",
                                                 fm_period_name(p)));
            continue;
        }
        fm_buf_reset(&b);
        fm_format_usd(&b, s);
        fm_buf_adds(&b, " of $");
        fm_format_usd(&b, ags[i].budget.usd_micro);
        printf("  @%-16s $%s per %s\n", ags[i].handle, b.ptr, fm_period_name(p));
    }
    if (rc == FM_OK && c->json)
        cli_print_json(json_pack("{s:I, s:I, s:s, s:o}", "spent_usd_micro", (json_int_t)total,
                                 "budget_usd_micro", (json_int_t)c->company.budget.usd_micro,
                                 "period", fm_period_name(cp), "agents", arr));
    else
        json_decref(arr);
    fm_buf_release(&b);
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
             "against each cap. Budgets are hard stops, not warnings.\n",
    .options = "",
    .run = budget_run,
    .needs_company = true,
};
