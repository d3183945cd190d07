/* firma approvals, approve, deny: see what waits for a decision, and decide. */
#include "cli/cli.h"
#include "firma/tools.h"

#include <stdlib.h>
#include <string.h>

#define ARGS_SHOWN 60 /* bytes of an approval's arguments shown in the list */

static json_t *approval_json(const fm_approval *a, const char *agent)
{
    return json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:I, s:I, s:I}",
                     "id", (json_int_t)a->id, "agent", agent, "kind", a->kind, "tool", a->tool,
                     "args", a->args, "reason", a->reason, "approver", a->approver, "status",
                     fm_approval_status_name(a->status), "decided_by", a->decided_by, "why",
                     a->why, "run", (json_int_t)a->run_id, "created_us",
                     (json_int_t)a->created_at, "decided_us", (json_int_t)a->decided_at);
}

/* One approval as a line or two for people. */
static void print_approval(const fm_approval *a, const char *agent, int64_t now)
{
    fm_buf age = FM_BUF_INIT;
    int64_t secs = now > a->created_at ? (now - a->created_at) / 1000000 : 0;
    fm_format_duration(&age, secs);
    const char *args = a->args ? a->args : "";
    size_t n = strlen(args);
    bool cut = n > ARGS_SHOWN;
    if (cut) {
        n = ARGS_SHOWN;
        while (n > 0 && ((unsigned char)args[n] & 0xC0) == 0x80) /* a whole character */
            n--;
    }
    printf("#%-4lld @%-12s %-8s %-12s %.*s%s\n", (long long)a->id, agent ? agent : "?",
           a->kind ? a->kind : "-", a->tool ? a->tool : "-", (int)n, args, cut ? "..." : "");
    printf("      reason: %s\n      approver: %s  age: %s  status: %s", a->reason ? a->reason : "-",
           a->approver ? a->approver : "-", age.ptr, fm_approval_status_name(a->status));
    if (a->decided_by)
        printf(" by %s%s%s", a->decided_by, a->why ? ": " : "", a->why ? a->why : "");
    printf("\n");
    fm_buf_release(&age);
}

static int approvals_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos)
        return cli_usage_error("approvals", "takes no arguments (see firma approvals --help)");
    bool all = cli_flag(a, "all");
    fm_approval *v = NULL;
    fm_agent *ags = NULL;
    size_t n = 0, na = 0;
    int rc = c->store->ops->approval_list(c->store, c->company.id,
                                          all ? -1 : FM_APPROVAL_PENDING, &v, &n, &c->err);
    if (rc == FM_OK)
        rc = c->store->ops->agent_list(c->store, c->company.id, true, &ags, &na, &c->err);
    if (rc != FM_OK) {
        fm_approval_list_free(v, n);
        return cli_fail(c, rc);
    }
    int64_t now = fm_now_us();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *who = cli_handle_of(ags, na, v[i].agent_id);
        if (c->json)
            json_array_append_new(arr, approval_json(&v[i], who));
        else
            print_approval(&v[i], who, now);
    }
    if (c->json)
        cli_print_json(arr);
    else
        json_decref(arr);
    if (!c->json && n == 0)
        printf(all ? "no approvals\n" : "no pending approvals\n");
    fm_agent_list_free(ags, na);
    fm_approval_list_free(v, n);
    return 0;
}

/* "12" or "#12". */
static int approval_id(fm_cli *c, const char *text, fm_id *id)
{
    int64_t v;
    if (fm_parse_i64(text + (text[0] == '#'), &v) != FM_OK || v <= 0)
        return fm_error_set(&c->err, FM_EUSAGE, "'%s' is not an approval number", text);
    *id = v;
    return FM_OK;
}

static int decide(fm_cli *c, cli_args *a, const char *cmd, bool approve)
{
    const char *why = cli_opt(a, "why");
    if (a->n_pos != 1)
        return cli_usage_error(cmd, "want: %s ID%s", cmd,
                               approve ? " [--why TEXT]" : " --why TEXT");
    if (!approve && (!why || !*why))
        return cli_usage_error(cmd, "a denial needs --why TEXT: the agent reads it");
    fm_id id = 0;
    int rc = approval_id(c, a->pos[0], &id);
    if (rc == FM_OK)
        rc = fm_approval_decide(c->store, c->company.id, id, approve, c->actor,
                                strncmp(c->actor, "cli:", 4) == 0, why, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    if (c->json)
        cli_print_json(json_pack("{s:I, s:s}", "id", (json_int_t)id, "status",
                                 approve ? "approved" : "denied"));
    else
        printf("approval #%lld %s\n", (long long)id, approve ? "approved" : "denied");
    return 0;
}

static int approve_run(fm_cli *c, cli_args *a)
{
    return decide(c, a, "approve", true);
}

static int deny_run(fm_cli *c, cli_args *a)
{
    return decide(c, a, "deny", false);
}

#define WHO_MAY_DECIDE                                                                         \
    "An approval may be decided by its approver (the requesting agent's manager),\n"          \
    "by any agent above that approver, by an owner or admin member (--as ana), or\n"          \
    "by the local operator (the default actor cli:USER, who holds the database).\n"           \
    "The waiting agent is woken with the decision.\n"

const cli_command cmd_approvals = {
    .name = "approvals",
    .summary = "list the approvals waiting for a decision",
    .usage = "usage: firma approvals [--all] [--json]\n\n"
             "Lists pending approvals: id, agent, kind (tool, question, action), tool,\n"
             "arguments, the policy's reason, who must decide and how long it has waited.\n"
             "--all includes decided ones.\n\n" WHO_MAY_DECIDE,
    .options = "all",
    .run = approvals_run,
    .needs_company = true,
};

const cli_command cmd_approve = {
    .name = "approve",
    .summary = "approve a held tool call, question or action",
    .usage = "usage: firma approve ID [--why TEXT]\n\n" WHO_MAY_DECIDE,
    .options = "why=",
    .run = approve_run,
    .needs_company = true,
};

const cli_command cmd_deny = {
    .name = "deny",
    .summary = "deny an approval, saying why",
    .usage = "usage: firma deny ID --why TEXT\n\n" WHO_MAY_DECIDE,
    .options = "why=",
    .run = deny_run,
    .needs_company = true,
};
