/* firma hire, fire, pause, resume, agent: the staff. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

/* "tool", "tool:ceiling" or "tool:ceiling:pattern,pattern". */
static int parse_grant(fm_cli *c, const char *text, fm_grant *g)
{
    memset(g, 0, sizeof *g);
    const char *c1 = strchr(text, ':');
    /* "mcp:server/tool" has a colon of its own. */
    if (c1 && strncmp(text, "mcp:", 4) == 0)
        c1 = strchr(text + 4, ':');
    g->tool = c1 ? fm_xstrndup(text, (size_t)(c1 - text)) : fm_xstrdup(text);
    g->ceiling = FM_CEIL_ASK;
    if (c1) {
        const char *c2 = strchr(c1 + 1, ':');
        char *word = c2 ? fm_xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) : fm_xstrdup(c1 + 1);
        int v;
        int rc = fm_ceiling_parse(word, &v);
        free(word);
        if (rc != FM_OK)
            return fm_error_set(&c->err, FM_EINVAL, "grant '%s': the ceiling must be one of %s",
                                text, fm_ceiling_words());
        g->ceiling = (fm_ceiling)v;
        for (const char *p = c2 ? c2 + 1 : NULL; p && *p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            g->on = fm_xreallocarray(g->on, g->n_on + 1, sizeof *g->on);
            g->on[g->n_on++] = fm_xstrndup(p, n);
            p = comma ? comma + 1 : NULL;
        }
    }
    if (!fm_tool_known(g->tool))
        return fm_error_set(&c->err, FM_EINVAL, "grant '%s': unknown tool '%s' (known: %s)", text,
                            g->tool, fm_tool_words());
    return FM_OK;
}

static int read_budget(fm_cli *c, cli_args *a, fm_budget *b)
{
    const char *v;
    int x;
    if ((v = cli_opt(a, "budget")) && fm_parse_usd(v, &b->usd_micro) != FM_OK)
        return fm_error_set(&c->err, FM_EINVAL, "--budget %s: want dollars, e.g. 25 or 2.50", v);
    if ((v = cli_opt(a, "tokens")) && (fm_parse_i64(v, &b->tokens) != FM_OK || b->tokens < 0))
        return fm_error_set(&c->err, FM_EINVAL, "--tokens %s: want a whole number >= 0", v);
    if ((v = cli_opt(a, "period"))) {
        if (fm_period_parse(v, &x) != FM_OK)
            return fm_error_set(&c->err, FM_EINVAL, "--period %s: want one of %s", v,
                                fm_period_words());
        b->period = (fm_period)x;
    }
    return FM_OK;
}

static int replace_str(char **dst, const char *v)
{
    if (v) {
        free(*dst);
        *dst = fm_xstrdup(v);
    }
    return FM_OK;
}

/* Applies the options hire and agent set share onto `ag`. */
static int read_agent_opts(fm_cli *c, cli_args *a, fm_agent *ag)
{
    const char *v;
    int x;
    int64_t n;
    replace_str(&ag->title, cli_opt(a, "title"));
    replace_str(&ag->model, cli_opt(a, "model"));
    replace_str(&ag->command, cli_opt(a, "command"));
    replace_str(&ag->instructions, cli_opt(a, "instructions"));
    if ((v = cli_opt(a, "instructions-file"))) {
        fm_buf b = FM_BUF_INIT;
        int rc = fm_buf_read_file(&b, v, 1 << 20);
        if (rc != FM_OK) {
            fm_buf_release(&b);
            return fm_error_set(&c->err, rc, "--instructions-file %s: %s", v, fm_strerror(rc));
        }
        free(ag->instructions);
        ag->instructions = fm_buf_detach(&b);
    }
    if ((v = cli_opt(a, "kind"))) {
        if (fm_agent_kind_parse(v, &x) != FM_OK)
            return fm_error_set(&c->err, FM_EINVAL, "--kind %s: want one of %s", v,
                                fm_agent_kind_words());
        ag->kind = (fm_agent_kind)x;
    }
    if ((v = cli_opt(a, "autonomy"))) {
        if (fm_parse_i64(v, &n) != FM_OK || n < 0 || n > 2)
            return fm_error_set(&c->err, FM_EINVAL, "--autonomy %s: want 0, 1 or 2", v);
        ag->autonomy = (int)n;
    }
    if ((v = cli_opt(a, "heartbeat")) && fm_parse_duration(v, &ag->schedule.heartbeat_s) != FM_OK)
        return fm_error_set(&c->err, FM_EINVAL, "--heartbeat %s: want a duration like 30m or 4h",
                            v);
    replace_str(&ag->schedule.cron, cli_opt(a, "cron"));
    int it = 0, rc = read_budget(c, a, &ag->budget);
    bool first = true;
    while (rc == FM_OK && (v = cli_opt_next(a, "grant", &it))) {
        if (first) { /* --grant replaces the whole list */
            for (size_t i = 0; i < ag->n_grants; i++)
                fm_grant_release(&ag->grants[i]);
            ag->n_grants = 0;
            first = false;
        }
        ag->grants = fm_xreallocarray(ag->grants, ag->n_grants + 1, sizeof *ag->grants);
        rc = parse_grant(c, v, &ag->grants[ag->n_grants]);
        ag->n_grants++;
    }
    return rc;
}

static int hire_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 1)
        return cli_usage_error("hire", "say the new agent's handle: firma hire HANDLE --title "
                                       "TITLE --manager WHO");
    const char *manager = cli_opt(a, "manager");
    if (!cli_opt(a, "title") || !manager)
        return cli_usage_error("hire", "--title and --manager are required");
    fm_agent ag;
    memset(&ag, 0, sizeof ag);
    ag.company_id = c->company.id;
    ag.handle = fm_xstrdup(a->pos[0][0] == '@' ? a->pos[0] + 1 : a->pos[0]);
    ag.autonomy = 1;
    ag.budget.period = FM_PERIOD_MONTH;
    int rc = read_agent_opts(c, a, &ag);
    if (rc == FM_OK && ag.kind == FM_AGENT_LLM && !ag.model)
        ag.model = fm_xstrdup("sim");
    if (rc == FM_OK)
        rc = fm_agent_hire(c->store, c->actor, &ag, manager, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc == FM_OK) {
        if (c->json)
            cli_print_json(json_pack("{s:I, s:s}", "id", (json_int_t)ag.id, "handle", ag.handle));
        else
            printf("hired @%s (%s), reporting to %s\n", ag.handle, ag.title, manager);
    }
    fm_agent_release(&ag);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

#define AGENT_OPTS "title=,manager=,kind=,model=,command=,budget=,tokens=,period=,autonomy=," \
                   "grant=*,instructions=,instructions-file=,heartbeat=,cron="

const cli_command cmd_hire = {
    .name = "hire",
    .summary = "add an agent to the company",
    .usage = "usage: firma hire HANDLE --title TITLE --manager WHO [options]\n\n"
             "  --manager WHO          an agent's or a member's handle\n"
             "  --kind llm|process|http  (default llm)\n"
             "  --model NAME           llm agents: sim (default), openai:MODEL, anthropic:MODEL\n"
             "  --command CMD          process agents: the command; http agents: the URL\n"
             "  --budget USD           spending cap per period (default 0: may not spend)\n"
             "  --tokens N             token cap per period (0: none)\n"
             "  --period day|week|month|total  (default month)\n"
             "  --autonomy 0|1|2       0 suggest only, 1 ask for risky, 2 act within grants\n"
             "  --grant TOOL[:CEILING[:PATTERN,...]]  repeatable; ceiling allow|ask|deny\n"
             "  --instructions TEXT | --instructions-file FILE\n"
             "  --heartbeat DURATION   e.g. 4h;  --cron 'M H DOM MON DOW'\n"
             "An agent may do nothing it is not granted.\n",
    .options = AGENT_OPTS,
    .run = hire_run,
    .needs_company = true,
};

static int fire_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 1)
        return cli_usage_error("fire", "say which agent: firma fire HANDLE");
    const char *h = a->pos[0][0] == '@' ? a->pos[0] + 1 : a->pos[0];
    int rc = fm_agent_fire(c->store, c->actor, c->company.id, h, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("fired @%s; its reports now report to its manager\n", h);
    return 0;
}

const cli_command cmd_fire = {
    .name = "fire",
    .summary = "let an agent go",
    .usage = "usage: firma fire HANDLE\n\n"
             "Marks the agent fired (its history stays). Its reports move to its manager.\n",
    .options = "",
    .run = fire_run,
    .needs_company = true,
};

static int status_run(fm_cli *c, cli_args *a, fm_agent_status to, const char *verb)
{
    bool all = cli_flag(a, "all");
    if ((a->n_pos != 1) == !all)
        return cli_usage_error(verb, "say which agent, or --all: firma %s HANDLE [--team]", verb);
    const char *h = all ? NULL : a->pos[0][0] == '@' ? a->pos[0] + 1 : a->pos[0];
    size_t n = 0;
    int rc = fm_agent_set_status(c->store, c->actor, c->company.id, h, cli_flag(a, "team"), to,
                                 &n, &c->err);
    if (rc == FM_OK && n)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("%s %zu agent(s)\n", to == FM_AGENT_PAUSED ? "paused" : "resumed", n);
    return 0;
}

static int pause_run(fm_cli *c, cli_args *a)
{
    return status_run(c, a, FM_AGENT_PAUSED, "pause");
}

static int resume_run(fm_cli *c, cli_args *a)
{
    return status_run(c, a, FM_AGENT_ACTIVE, "resume");
}

const cli_command cmd_pause = {
    .name = "pause",
    .summary = "stop an agent, a team or everyone",
    .usage = "usage: firma pause HANDLE [--team] | firma pause --all\n\n"
             "The kill switch: a paused agent takes no new work; runs in flight stop at\n"
             "their next step. --team pauses the agent and everyone under it; --all the\n"
             "whole company.\n",
    .options = "team,all",
    .run = pause_run,
    .needs_company = true,
};

const cli_command cmd_resume = {
    .name = "resume",
    .summary = "let paused agents work again",
    .usage = "usage: firma resume HANDLE [--team] | firma resume --all\n",
    .options = "team,all",
    .run = resume_run,
    .needs_company = true,
};

static json_t *agent_json(const fm_agent *ag, const char *manager)
{
    json_t *grants = json_array();
    for (size_t i = 0; i < ag->n_grants; i++) {
        json_t *on = json_array();
        for (size_t k = 0; k < ag->grants[i].n_on; k++)
            json_array_append_new(on, json_string(ag->grants[i].on[k]));
        json_array_append_new(grants, json_pack("{s:s, s:s, s:o}", "tool", ag->grants[i].tool,
                                                "ceiling", fm_ceiling_name(ag->grants[i].ceiling),
                                                "on", on));
    }
    fm_buf next = FM_BUF_INIT;
    if (ag->next_timer_at)
        fm_format_time(&next, ag->next_timer_at);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s?, s:s?, s:i, s:s, s:I, s:I, s:s, s:o, "
                          "s:s?, s:I, s:s?, s:s?}",
                          "id", (json_int_t)ag->id, "handle", ag->handle, "title", ag->title,
                          "manager", manager, "kind", fm_agent_kind_name(ag->kind), "model",
                          ag->model, "command", ag->command, "autonomy", ag->autonomy, "status",
                          fm_agent_status_name(ag->status), "budget_usd_micro",
                          (json_int_t)ag->budget.usd_micro, "budget_tokens",
                          (json_int_t)ag->budget.tokens, "period",
                          fm_period_name(ag->budget.period), "grants", grants, "instructions",
                          ag->instructions, "heartbeat_s", (json_int_t)ag->schedule.heartbeat_s,
                          "cron", ag->schedule.cron, "next_timer_at", next.ptr);
    fm_buf_release(&next);
    return j;
}

/* "heartbeat 4h, cron '0 9 * * 1-5'; next check-in 2024-03-04T09:00:00Z". */
static void schedule_print(const fm_agent *ag)
{
    if (!ag->schedule.heartbeat_s && !ag->schedule.cron)
        return;
    fm_buf b = FM_BUF_INIT;
    if (ag->schedule.heartbeat_s) {
        fm_buf_adds(&b, "heartbeat ");
        fm_format_duration(&b, ag->schedule.heartbeat_s);
    }
    if (ag->schedule.cron)
        fm_buf_addf(&b, "%scron '%s'", b.len ? ", " : "", ag->schedule.cron);
    fm_buf_adds(&b, "; next check-in ");
    if (ag->next_timer_at)
        fm_format_time(&b, ag->next_timer_at);
    else
        fm_buf_adds(&b, ag->status == FM_AGENT_ACTIVE ? "never" : "none while not active");
    printf("  schedule: %s\n", b.ptr);
    fm_buf_release(&b);
}

static char *manager_handle(fm_cli *c, const fm_agent *ag)
{
    fm_agent m;
    fm_member mm;
    if (ag->manager_agent && c->store->ops->agent_get(c->store, ag->manager_agent, &m, NULL) ==
                                 FM_OK) {
        char *h = fm_xasprintf("@%s", m.handle);
        fm_agent_release(&m);
        return h;
    }
    if (ag->manager_member && c->store->ops->member_get(c->store, ag->manager_member, &mm,
                                                        NULL) == FM_OK) {
        char *h = fm_xstrdup(mm.handle);
        fm_member_release(&mm);
        return h;
    }
    return NULL;
}

static void agent_print(const fm_agent *ag, const char *mgr)
{
    fm_buf b = FM_BUF_INIT;
    fm_format_usd(&b, ag->budget.usd_micro);
    printf("@%s  %s\n  manager:  %s\n  kind:     %s%s%s\n  status:   %s\n  autonomy: %d\n"
           "  budget:   $%s per %s",
           ag->handle, ag->title, mgr ? mgr : "-", fm_agent_kind_name(ag->kind),
           ag->model || ag->command ? " " : "", ag->model ? ag->model : ag->command ? ag->command : "",
           fm_agent_status_name(ag->status), ag->autonomy, b.ptr,
           fm_period_name(ag->budget.period));
    if (ag->budget.tokens)
        printf(", %lld tokens", (long long)ag->budget.tokens);
    printf("\n");
    schedule_print(ag);
    printf("  grants:\n");
    for (size_t i = 0; i < ag->n_grants; i++) {
        printf("    %-16s %-5s", ag->grants[i].tool, fm_ceiling_name(ag->grants[i].ceiling));
        for (size_t k = 0; k < ag->grants[i].n_on; k++)
            printf("%s%s", k ? ", " : " on ", ag->grants[i].on[k]);
        printf("\n");
    }
    if (!ag->n_grants)
        printf("    (none: this agent may use no tool)\n");
    fm_buf_release(&b);
}

static int agent_show(fm_cli *c, const char *handle)
{
    fm_agent ag;
    int rc = cli_agent(c, handle, &ag);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    char *mgr = manager_handle(c, &ag);
    if (c->json)
        cli_print_json(agent_json(&ag, mgr));
    else
        agent_print(&ag, mgr);
    free(mgr);
    fm_agent_release(&ag);
    return 0;
}

static int agent_set(fm_cli *c, cli_args *a, const char *handle)
{
    fm_agent ag;
    int rc = cli_agent(c, handle, &ag);
    if (rc == FM_OK)
        rc = read_agent_opts(c, a, &ag);
    if (rc == FM_OK)
        rc = fm_agent_update(c->store, c->actor, &ag, cli_opt(a, "manager"), &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc == FM_OK)
        printf("updated @%s\n", ag.handle);
    fm_agent_release(&ag);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

static int agent_list(fm_cli *c)
{
    fm_agent *v;
    size_t n;
    int rc = c->store->ops->agent_list(c->store, c->company.id, true, &v, &n, &c->err);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (c->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "handle", v[i].handle,
                                                 "title", v[i].title, "kind",
                                                 fm_agent_kind_name(v[i].kind), "status",
                                                 fm_agent_status_name(v[i].status)));
        else
            printf("@%-16s %-32s %-8s %s\n", v[i].handle, v[i].title,
                   fm_agent_kind_name(v[i].kind), fm_agent_status_name(v[i].status));
    }
    if (c->json)
        cli_print_json(arr);
    else
        json_decref(arr);
    fm_agent_list_free(v, n);
    return 0;
}

static int agent_run(fm_cli *c, cli_args *a)
{
    const char *sub = a->n_pos ? a->pos[0] : "list";
    if (strcmp(sub, "list") == 0 && a->n_pos <= 1)
        return agent_list(c);
    if (strcmp(sub, "show") == 0 && a->n_pos == 2)
        return agent_show(c, a->pos[1]);
    if (strcmp(sub, "set") == 0 && a->n_pos == 2)
        return agent_set(c, a, a->pos[1]);
    return cli_usage_error("agent", "want: agent list | agent show HANDLE | agent set HANDLE "
                                    "[options]");
}

const cli_command cmd_agent = {
    .name = "agent",
    .summary = "list, show or change agents",
    .usage = "usage: firma agent list\n"
             "       firma agent show HANDLE\n"
             "       firma agent set HANDLE [--manager WHO] [--title T] [--budget USD] ...\n\n"
             "'set' takes the options of 'firma hire'; --grant replaces all grants.\n",
    .options = AGENT_OPTS,
    .run = agent_run,
    .needs_company = true,
};
