/* firma task: add, list, show, assign, move, checkout, checkin. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static int agent_id_of(fm_cli *c, const char *handle, fm_id *id)
{
    fm_agent ag;
    int rc = cli_agent(c, handle, &ag);
    if (rc == FM_OK) {
        *id = ag.id;
        fm_agent_release(&ag);
    }
    return rc;
}

static int read_priority(fm_cli *c, const char *v, int *out)
{
    int64_t n;
    if (fm_parse_i64(v, &n) != FM_OK || n < 0 || n > 3)
        return fm_error_set(&c->err, FM_EINVAL, "--priority %s: want 0 (highest) to 3", v);
    *out = (int)n;
    return FM_OK;
}

static int task_add(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("task", "want: task add TITLE [--to AGENT] [--body TEXT] ...");
    fm_task t;
    memset(&t, 0, sizeof t);
    t.company_id = c->company.id;
    t.title = fm_xstrdup(a->pos[1]);
    t.body = fm_xstrdup(cli_opt(a, "body"));
    t.priority = 2;
    const char *v;
    int rc = FM_OK;
    if ((v = cli_opt(a, "to")))
        rc = agent_id_of(c, v, &t.assignee);
    if (rc == FM_OK && (v = cli_opt(a, "priority")))
        rc = read_priority(c, v, &t.priority);
    if (rc == FM_OK && (v = cli_opt(a, "goal")))
        rc = cli_id(c, v, "goal", &t.goal_id);
    if (rc == FM_OK && (v = cli_opt(a, "parent")))
        rc = cli_id(c, v, "task", &t.parent_id);
    if (rc == FM_OK && (v = cli_opt(a, "due")) && fm_parse_time(v, &t.due) != FM_OK)
        rc = fm_error_set(&c->err, FM_EINVAL, "--due %s: want YYYY-MM-DD or YYYY-MM-DDTHH:MMZ", v);
    if (rc == FM_OK)
        rc = fm_task_add(c->store, c->actor, &t, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc == FM_OK) {
        if (c->json)
            cli_print_json(json_pack("{s:I}", "id", (json_int_t)t.id));
        else
            printf("task #%lld added\n", (long long)t.id);
    }
    fm_task_release(&t);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

static json_t *task_json(const fm_task *t, const char *assignee)
{
    return json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:I, s:I, s:i, s:I, s:s?, s:b, s:s, s:I, s:I}",
                     "id", (json_int_t)t->id, "title", t->title, "body", t->body, "status",
                     fm_task_status_name(t->status), "assignee", assignee, "goal",
                     (json_int_t)t->goal_id, "parent", (json_int_t)t->parent_id, "priority",
                     t->priority, "due_us", (json_int_t)t->due, "result", t->result, "tainted",
                     t->tainted, "creator", t->creator ? t->creator : "", "checkout_run",
                     (json_int_t)t->checkout_run, "updated_us", (json_int_t)t->updated_at);
}

static int task_list(fm_cli *c, cli_args *a)
{
    fm_task_filter f = {.company_id = c->company.id, .status = -1};
    const char *v;
    int rc = FM_OK;
    if ((v = cli_opt(a, "status")) && fm_task_status_parse(v, &f.status) != FM_OK)
        rc = fm_error_set(&c->err, FM_EINVAL, "--status %s: want one of %s", v,
                          fm_task_status_words());
    if (rc == FM_OK && (v = cli_opt(a, "to")))
        rc = agent_id_of(c, v, &f.assignee);
    fm_agent *ags = NULL;
    fm_task *ts = NULL;
    size_t na = 0, nt = 0;
    if (rc == FM_OK)
        rc = c->store->ops->agent_list(c->store, c->company.id, true, &ags, &na, &c->err);
    if (rc == FM_OK)
        rc = c->store->ops->task_list(c->store, &f, &ts, &nt, &c->err);
    json_t *arr = json_array();
    for (size_t i = 0; rc == FM_OK && i < nt; i++) {
        const char *who = cli_handle_of(ags, na, ts[i].assignee);
        if (c->json)
            json_array_append_new(arr, task_json(&ts[i], who));
        else
            printf("#%-5lld %-9s P%d  %-14s %s\n", (long long)ts[i].id,
                   fm_task_status_name(ts[i].status), ts[i].priority, who ? who : "-",
                   ts[i].title);
    }
    if (rc == FM_OK && c->json)
        cli_print_json(arr);
    else
        json_decref(arr);
    fm_task_list_free(ts, nt);
    fm_agent_list_free(ags, na);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

static int task_show(fm_cli *c, const char *which)
{
    fm_id id;
    fm_task t;
    fm_agent ag = {0};
    int rc = cli_id(c, which, "task", &id);
    if (rc == FM_OK)
        rc = c->store->ops->task_get(c->store, id, &t, &c->err);
    if (rc == FM_OK && t.company_id != c->company.id) {
        fm_task_release(&t);
        rc = fm_error_set(&c->err, FM_ENOTFOUND, "no task %lld in this company", (long long)id);
    }
    if (rc != FM_OK)
        return cli_fail(c, rc);
    if (t.assignee)
        c->store->ops->agent_get(c->store, t.assignee, &ag, NULL);
    if (c->json) {
        cli_print_json(task_json(&t, ag.handle));
    } else {
        printf("#%lld  %s\n  status:   %s\n  assignee: %s%s\n  priority: %d\n  creator:  %s\n",
               (long long)t.id, t.title, fm_task_status_name(t.status), ag.handle ? "@" : "",
               ag.handle ? ag.handle : "-", t.priority, t.creator);
        if (t.goal_id)
            printf("  goal:     %lld\n", (long long)t.goal_id);
        if (t.parent_id)
            printf("  parent:   #%lld\n", (long long)t.parent_id);
        if (t.tainted)
            printf("  tainted:  yes (content from outside the company)\n");
        if (t.body)
            printf("\n%s\n", t.body);
        if (t.result)
            printf("\nresult: %s\n", t.result);
    }
    fm_agent_release(&ag);
    fm_task_release(&t);
    return 0;
}

static int task_assign(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 3)
        return cli_usage_error("task", "want: task assign ID AGENT (or - to unassign)");
    fm_id id, agent = 0;
    int rc = cli_id(c, a->pos[1], "task", &id);
    if (rc == FM_OK && strcmp(a->pos[2], "-") != 0)
        rc = agent_id_of(c, a->pos[2], &agent);
    if (rc == FM_OK)
        rc = fm_task_assign(c->store, c->actor, c->company.id, id, agent, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("task #%lld %s %s\n", (long long)id, agent ? "assigned to" : "unassigned",
           agent ? a->pos[2] : "");
    return 0;
}

static int task_move(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 3)
        return cli_usage_error("task", "want: task move ID STATUS [--result TEXT]");
    fm_id id;
    int to;
    int rc = cli_id(c, a->pos[1], "task", &id);
    if (rc == FM_OK && fm_task_status_parse(a->pos[2], &to) != FM_OK)
        rc = fm_error_set(&c->err, FM_EINVAL, "'%s' is not a task status: want one of %s",
                          a->pos[2], fm_task_status_words());
    if (rc == FM_OK)
        rc = fm_task_move(c->store, c->actor, c->company.id, id, (fm_task_status)to,
                          cli_opt(a, "result"), &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("task #%lld is now %s\n", (long long)id, a->pos[2]);
    return 0;
}

static int task_lease(fm_cli *c, cli_args *a, bool take)
{
    if (a->n_pos != 2 || !cli_opt(a, "run"))
        return cli_usage_error("task", "want: task %s ID --run RUN [--lease DURATION]",
                               take ? "checkout" : "checkin");
    fm_id id;
    int64_t run, lease = 15 * 60;
    int rc = cli_id(c, a->pos[1], "task", &id);
    if (rc == FM_OK && fm_parse_i64(cli_opt(a, "run"), &run) != FM_OK)
        rc = fm_error_set(&c->err, FM_EINVAL, "--run %s: want a run number", cli_opt(a, "run"));
    if (rc == FM_OK && cli_opt(a, "lease") && fm_parse_duration(cli_opt(a, "lease"), &lease) != FM_OK)
        rc = fm_error_set(&c->err, FM_EINVAL, "--lease %s: want a duration", cli_opt(a, "lease"));
    if (rc == FM_OK)
        rc = take ? fm_task_checkout(c->store, c->actor, c->company.id, id, run,
                                     lease * 1000000, &c->err)
                  : fm_task_checkin(c->store, c->actor, c->company.id, id, run, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("task #%lld %s run %lld\n", (long long)id, take ? "checked out by" : "released by",
           (long long)run);
    return 0;
}

static int task_run(fm_cli *c, cli_args *a)
{
    const char *sub = a->n_pos ? a->pos[0] : "list";
    if (strcmp(sub, "add") == 0)
        return task_add(c, a);
    if (strcmp(sub, "list") == 0)
        return task_list(c, a);
    if (strcmp(sub, "show") == 0 && a->n_pos == 2)
        return task_show(c, a->pos[1]);
    if (strcmp(sub, "assign") == 0)
        return task_assign(c, a);
    if (strcmp(sub, "move") == 0)
        return task_move(c, a);
    if (strcmp(sub, "checkout") == 0 || strcmp(sub, "checkin") == 0)
        return task_lease(c, a, sub[5] == 'o');
    return cli_usage_error("task", "unknown subcommand '%s' (see firma task --help)", sub);
}

const cli_command cmd_task = {
    .name = "task",
    .summary = "add, list, show, assign and move tasks",
    .usage = "usage: firma task add TITLE [--to AGENT] [--body TEXT] [--priority 0-3]\n"
             "                      [--goal GOAL] [--parent TASK] [--due YYYY-MM-DD]\n"
             "       firma task list [--status STATUS] [--to AGENT]\n"
             "       firma task show ID\n"
             "       firma task assign ID AGENT|-\n"
             "       firma task move ID STATUS [--result TEXT]\n"
             "       firma task checkout ID --run RUN [--lease 15m]\n"
             "       firma task checkin ID --run RUN\n\n"
             "Statuses: todo doing blocked review done cancelled. Legal moves:\n"
             "  todo -> doing blocked cancelled;  doing -> todo blocked review done cancelled;\n"
             "  blocked -> todo doing cancelled;  review -> doing done cancelled;\n"
             "  done is final;  cancelled -> todo (reopen).\n",
    .options = "to=,body=,priority=,goal=,parent=,due=,status=,result=,run=,lease=",
    .run = task_run,
    .needs_company = true,
};
