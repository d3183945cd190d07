/*
 * agents/<handle>.md -> fm_agent_spec.
 *
 * The file is YAML front matter between two '---' lines, then the agent's
 * instructions. Line numbers in messages are the .md file's: the front matter
 * is parsed with a line offset of 1 (it starts on line 2).
 *
 * The instructions are normalised so that reading what the writer wrote
 * gives the same text: leading blank lines are dropped and the text ends in
 * exactly one newline (an empty body gives NULL).
 */
#include "core/files/internal.h"

#include "firma/errors.h"
#include "firma/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const agent_keys[] = {"title",    "manager", "kind",   "model",
                                         "command",  "autonomy", "status", "budget",
                                         "schedule", "grants",   NULL};
enum { A_TITLE, A_MANAGER, A_KIND, A_MODEL, A_COMMAND, A_AUTONOMY, A_STATUS, A_BUDGET,
       A_SCHEDULE, A_GRANTS, A_N };
static const char *const schedule_keys[] = {"heartbeat", "cron", NULL};
static const char *const grant_keys[] = {"tool", "on", "ceiling", NULL};

/* ---- front matter ------------------------------------------------------------ */

/* Whether the line at `pos` is '---' (trailing blanks allowed); *next is
 * the start of the following line. */
static bool delimiter_at(const char *t, size_t len, size_t pos, size_t *next)
{
    if (len - pos < 3 || memcmp(t + pos, "---", 3) != 0)
        return false;
    size_t i = pos + 3;
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r'))
        i++;
    if (i < len && t[i] != '\n')
        return false;
    *next = i < len ? i + 1 : len;
    return true;
}

static int split(const char *path, const char *t, size_t len, fm_str *front, fm_str *body,
                 fm_error *err)
{
    size_t pos = 0, next;
    if (len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a byte-order mark some editors add */
    if (!delimiter_at(t, len, pos, &next))
        return fm__fail(err, FM_EPARSE, path, 1,
                        "an agent file must start with a '---' line, then YAML front matter "
                        "(title, manager, ...), then another '---' line");
    size_t start = next;
    for (pos = start; pos < len;) {
        if (delimiter_at(t, len, pos, &next)) {
            *front = (fm_str){t + start, pos - start};
            *body = (fm_str){t + next, len - next};
            return FM_OK;
        }
        const char *nl = memchr(t + pos, '\n', len - pos);
        pos = nl ? (size_t)(nl - t) + 1 : len;
    }
    return fm__fail(err, FM_EPARSE, path, 1,
                    "the front matter opened by '---' on line 1 is never closed "
                    "(add a line '---' after it, before the instructions)");
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The body without leading blank lines and trailing blank space, plus one
 * newline; NULL when there is no text. */
static char *instructions(fm_str body)
{
    const char *p = body.ptr, *end = body.ptr + body.len;
    for (const char *q = p; q < end; q++) {
        if (*q == '\n')
            p = q + 1;
        else if (!blank(*q))
            break;
    }
    const char *e = end;
    while (e > p && (blank(e[-1]) || e[-1] == '\n'))
        e--;
    if (e == p)
        return NULL;
    while (e < end && (e[0] == ' ' || e[0] == '\t'))
        e++; /* trailing spaces on the last line are text (a markdown line break) */
    fm_buf b = FM_BUF_INIT;
    fm_buf_add(&b, p, (size_t)(e - p));
    fm_buf_addc(&b, '\n');
    return fm_buf_detach(&b);
}

/* ---- fields -------------------------------------------------------------------- */

static int parse_live_status(const char *word, int *out)
{
    int v;
    /* Fired agents are not exported, so a file never says "fired". */
    if (fm_agent_status_parse(word, &v) != FM_OK || v == FM_AGENT_FIRED)
        return FM_EINVAL;
    *out = v;
    return FM_OK;
}

static bool nonempty(const char *s)
{
    return *s != '\0';
}

static int read_schedule(const fm__yaml *y, struct fy_node *n, int line, fm_schedule *sc,
                         fm_error *err)
{
    struct fy_node *v[2];
    int l[2];
    char *hb = NULL, why[160];
    fm_cron cron;
    int rc = fm__yaml_fields(y, n, line, "schedule", schedule_keys, v, l, err);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[0], l[0], "heartbeat", &hb, err);
    if (rc == FM_OK && hb && fm_parse_duration(hb, &sc->heartbeat_s) != FM_OK)
        rc = fm__yaml_fail(y, l[0], err,
                           "heartbeat '%s' is not a duration (like 90s, 15m, 4h, 1d or 1h30m)",
                           hb);
    free(hb);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[1], l[1], "cron", &sc->cron, err);
    if (rc == FM_OK && sc->cron && fm_cron_parse(sc->cron, &cron, why, sizeof why) != FM_OK)
        rc = fm__yaml_fail(y, l[1], err, "cron '%s' is not a cron expression: %s", sc->cron, why);
    return rc;
}

static int read_grant(const fm__yaml *y, struct fy_node *n, int line, fm_grant *g,
                      fm_error *err)
{
    struct fy_node *v[3];
    int l[3];
    int rc = fm__yaml_fields(y, n, line, "grant", grant_keys, v, l, err);
    if (rc == FM_OK)
        rc = fm__yaml_need(y, v[0], l[0] ? l[0] : line, "tool", "grant", &g->tool, err);
    if (rc == FM_OK && !fm_tool_known(g->tool))
        rc = fm__yaml_fail(y, l[0], err, "tool '%s' is not a known tool (%s)", g->tool,
                           fm_tool_words());
    if (rc == FM_OK)
        rc = fm__yaml_strv(y, v[1], l[1], "on", nonempty, "a pattern", &g->on, &g->n_on, err);
    if (rc == FM_OK && fm__yaml_absent(v[2]))
        rc = fm__yaml_fail(y, line, err, "missing key 'ceiling' in grant (one of: %s)",
                           fm_ceiling_words());
    int ceiling = FM_CEIL_DENY;
    if (rc == FM_OK)
        rc = fm__yaml_enum(y, v[2], l[2], "ceiling", fm_ceiling_parse, fm_ceiling_words(),
                           &ceiling, err);
    g->ceiling = (fm_ceiling)ceiling;
    return rc;
}

static int read_grants(const fm__yaml *y, struct fy_node *n, int line, fm_agent *a,
                       fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    int rc = fm__yaml_need_list(y, n, line, "grants", err);
    size_t count = rc == FM_OK ? (size_t)fy_node_sequence_item_count(n) : 0;
    a->grants = count ? fm_xcalloc(count, sizeof *a->grants) : NULL;
    void *it = NULL;
    struct fy_node *item;
    while (rc == FM_OK && (item = fy_node_sequence_iterate(n, &it)))
        rc = read_grant(y, item, fm__yaml_line(y, item, line), &a->grants[a->n_grants++], err);
    return rc;
}

/* title, manager, kind, model, command, and the rules tying the last three. */
static int read_identity(const fm__yaml *y, struct fy_node **v, const int *l, int line,
                         fm_agent_spec *as, fm_error *err)
{
    fm_agent *a = &as->agent;
    int rc = fm__yaml_need(y, v[A_TITLE], l[A_TITLE] ? l[A_TITLE] : line, "title", "agent",
                           &a->title, err);
    if (rc == FM_OK)
        rc = fm__yaml_handle(y, v[A_MANAGER], l[A_MANAGER], "manager", &as->manager_handle, err);
    if (rc == FM_OK && !as->manager_handle)
        return fm__yaml_fail(y, line, err,
                             "missing key 'manager' in agent (the handle of an agent or a member)");
    int kind = FM_AGENT_LLM;
    if (rc == FM_OK)
        rc = fm__yaml_enum(y, v[A_KIND], l[A_KIND], "kind", fm_agent_kind_parse,
                           fm_agent_kind_words(), &kind, err);
    a->kind = (fm_agent_kind)kind;
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[A_MODEL], l[A_MODEL], "model", &a->model, err);
    if (rc == FM_OK)
        rc = fm__yaml_text(y, v[A_COMMAND], l[A_COMMAND], "command", &a->command, err);
    if (rc != FM_OK)
        return rc;
    if (a->kind == FM_AGENT_LLM && a->command)
        return fm__yaml_fail(y, l[A_COMMAND], err,
                             "command is only for process and http agents (this agent's kind "
                             "is llm)");
    if (a->kind != FM_AGENT_LLM && (!a->command || !*a->command))
        return fm__yaml_fail(y, l[A_KIND], err, "a %s agent needs a command (%s)",
                             fm_agent_kind_name(a->kind),
                             a->kind == FM_AGENT_HTTP ? "its URL" : "the command line to run");
    if (a->kind != FM_AGENT_LLM && a->model)
        return fm__yaml_fail(y, l[A_MODEL], err, "model is only for llm agents");
    if (a->model && !*a->model)
        return fm__yaml_fail(y, l[A_MODEL], err, "model must not be empty");
    if (a->kind == FM_AGENT_LLM && !a->model)
        a->model = fm_xstrdup("sim");
    return FM_OK;
}

/* autonomy, status, budget, schedule, grants. */
static int read_limits(const fm__yaml *y, struct fy_node **v, const int *l, fm_agent *a,
                       fm_error *err)
{
    int64_t autonomy = 1;
    int rc = fm__yaml_int(y, v[A_AUTONOMY], l[A_AUTONOMY], "autonomy", 0, 2, &autonomy, err);
    a->autonomy = (int)autonomy;
    int status = FM_AGENT_ACTIVE;
    if (rc == FM_OK)
        rc = fm__yaml_enum(y, v[A_STATUS], l[A_STATUS], "status", parse_live_status,
                           "active, paused", &status, err);
    a->status = (fm_agent_status)status;
    if (rc == FM_OK)
        rc = fm__yaml_budget(y, v[A_BUDGET], l[A_BUDGET], &a->budget, err);
    if (rc == FM_OK)
        rc = read_schedule(y, v[A_SCHEDULE], l[A_SCHEDULE], &a->schedule, err);
    if (rc == FM_OK)
        rc = read_grants(y, v[A_GRANTS], l[A_GRANTS], a, err);
    return rc;
}

static int read_front(const fm__yaml *y, fm_agent_spec *as, int *manager_line,
                      int *autonomy_line, fm_error *err)
{
    struct fy_node *v[A_N];
    int l[A_N];
    int line = fm__yaml_line(y, y->root, 1);
    int rc = fm__yaml_fields(y, y->root, line, "agent", agent_keys, v, l, err);
    *manager_line = l[A_MANAGER] ? l[A_MANAGER] : 1;
    *autonomy_line = l[A_AUTONOMY] ? l[A_AUTONOMY] : 1;
    if (rc == FM_OK)
        rc = read_identity(y, v, l, line, as, err);
    if (rc == FM_OK)
        rc = read_limits(y, v, l, &as->agent, err);
    return rc;
}

int fm__read_agent(const char *handle, const char *text, size_t len, fm_agent_spec *a,
                   int *manager_line, int *autonomy_line, fm_error *err)
{
    char path[96];
    snprintf(path, sizeof path, "agents/%s.md", handle);
    memset(a, 0, sizeof *a);
    a->agent.handle = fm_xstrdup(handle);
    a->agent.budget.period = FM_PERIOD_MONTH;
    fm_str front = {0}, body = {0};
    int rc = split(path, text, len, &front, &body, err);
    fm__yaml y;
    if (rc == FM_OK)
        rc = fm__yaml_load(&y, path, 1, front.ptr, front.len, err);
    if (rc == FM_OK) {
        rc = read_front(&y, a, manager_line, autonomy_line, err);
        fm__yaml_release(&y);
    }
    if (rc == FM_OK)
        a->agent.instructions = instructions(body);
    else
        fm__agent_spec_release(a); /* on error `a` holds nothing (found by fuzz_files) */
    return rc;
}

void fm__agent_spec_release(fm_agent_spec *a)
{
    fm_agent_release(&a->agent);
    free(a->manager_handle);
    a->manager_handle = NULL;
}
