/* firma goal: what the company is for, as a tree. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static int goal_add(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("goal", "want: goal add TITLE [--parent GOAL] [--owner AGENT]");
    fm_goal g;
    memset(&g, 0, sizeof g);
    g.company_id = c->company.id;
    g.title = fm_xstrdup(a->pos[1]);
    g.description = fm_xstrdup(cli_opt(a, "description"));
    const char *v;
    int rc = FM_OK;
    if ((v = cli_opt(a, "parent")))
        rc = cli_id(c, v, "goal", &g.parent_id);
    if (rc == FM_OK && (v = cli_opt(a, "owner"))) {
        fm_agent ag;
        if ((rc = cli_agent(c, v, &ag)) == FM_OK) {
            g.owner_agent = ag.id;
            fm_agent_release(&ag);
        }
    }
    if (rc == FM_OK)
        rc = fm_goal_add(c->store, c->actor, &g, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc == FM_OK)
        printf("goal %lld added\n", (long long)g.id);
    fm_goal_release(&g);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

static void print_goals(const fm_goal *v, size_t n, fm_id parent, int depth, const fm_agent *ags,
                        size_t na)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].parent_id != parent)
            continue;
        const char *owner = cli_handle_of(ags, na, v[i].owner_agent);
        printf("%*s%lld. %s  [%s%s%s]\n", depth * 2, "", (long long)v[i].id, v[i].title,
               fm_goal_status_name(v[i].status), owner ? ", @" : "", owner ? owner : "");
        print_goals(v, n, v[i].id, depth + 1, ags, na);
    }
}

static int goal_list(fm_cli *c)
{
    fm_goal *v = NULL;
    fm_agent *ags = NULL;
    size_t n = 0, na = 0;
    int rc = c->store->ops->goal_list(c->store, c->company.id, &v, &n, &c->err);
    if (rc == FM_OK)
        rc = c->store->ops->agent_list(c->store, c->company.id, true, &ags, &na, &c->err);
    if (rc == FM_OK && c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:I, s:I, s:s, s:s?, s:s, s:s?}", "id",
                                                 (json_int_t)v[i].id, "parent",
                                                 (json_int_t)v[i].parent_id, "title", v[i].title,
                                                 "description", v[i].description, "status",
                                                 fm_goal_status_name(v[i].status), "owner",
                                                 cli_handle_of(ags, na, v[i].owner_agent)));
        cli_print_json(arr);
    } else if (rc == FM_OK) {
        print_goals(v, n, 0, 0, ags, na);
    }
    fm_goal_list_free(v, n);
    fm_agent_list_free(ags, na);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

static int goal_status(fm_cli *c, cli_args *a)
{
    fm_id id;
    int to;
    if (a->n_pos != 3)
        return cli_usage_error("goal", "want: goal status ID active|achieved|dropped");
    int rc = cli_id(c, a->pos[1], "goal", &id);
    if (rc == FM_OK && fm_goal_status_parse(a->pos[2], &to) != FM_OK)
        rc = fm_error_set(&c->err, FM_EINVAL, "'%s' is not a goal status: want one of %s",
                          a->pos[2], fm_goal_status_words());
    if (rc == FM_OK)
        rc = fm_goal_set_status(c->store, c->actor, c->company.id, id, (fm_goal_status)to,
                                &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("goal %lld is now %s\n", (long long)id, a->pos[2]);
    return 0;
}

static int goal_run(fm_cli *c, cli_args *a)
{
    const char *sub = a->n_pos ? a->pos[0] : "list";
    if (strcmp(sub, "add") == 0)
        return goal_add(c, a);
    if (strcmp(sub, "list") == 0)
        return goal_list(c);
    if (strcmp(sub, "status") == 0)
        return goal_status(c, a);
    return cli_usage_error("goal", "unknown subcommand '%s' (see firma goal --help)", sub);
}

const cli_command cmd_goal = {
    .name = "goal",
    .summary = "add, list and close goals",
    .usage = "usage: firma goal list\n"
             "       firma goal add TITLE [--parent GOAL] [--owner AGENT] [--description TEXT]\n"
             "       firma goal status ID active|achieved|dropped\n",
    .options = "parent=,owner=,description=",
    .run = goal_run,
    .needs_company = true,
};
