/*
 * Name tables for the model's enums, the task status machine, and the
 * _release functions for the model structs.
 */
#include "firma/model.h"
#include "firma/errors.h"

#include <stdlib.h>
#include <string.h>

static int parse_word(const char *const *names, int n, const char *word, int *out)
{
    for (int i = 0; word && i < n; i++) {
        if (strcmp(names[i], word) == 0) {
            *out = i;
            return FM_OK;
        }
    }
    return FM_EINVAL;
}

#define FM_ENUM_TABLE(type, count, words, ...)                                  \
    static const char *const type##_names[count] = {__VA_ARGS__};               \
    const char *type##_name(int v)                                              \
    {                                                                           \
        return v >= 0 && v < (count) ? type##_names[v] : "?";                   \
    }                                                                           \
    int type##_parse(const char *word, int *out)                                \
    {                                                                           \
        return parse_word(type##_names, (count), word, out);                    \
    }                                                                           \
    const char *type##_words(void)                                              \
    {                                                                           \
        return words;                                                           \
    }

FM_ENUM_TABLE(fm_agent_kind, FM_AGENT_KIND_N, "llm, process, http", "llm", "process", "http")
FM_ENUM_TABLE(fm_agent_status, FM_AGENT_STATUS_N, "active, paused, fired", "active", "paused",
              "fired")
FM_ENUM_TABLE(fm_task_status, FM_TASK_STATUS_N, "todo, doing, blocked, review, done, cancelled",
              "todo", "doing", "blocked", "review", "done", "cancelled")
FM_ENUM_TABLE(fm_role, FM_ROLE_N, "owner, admin, operator, viewer", "owner", "admin", "operator",
              "viewer")
FM_ENUM_TABLE(fm_ceiling, FM_CEIL_N, "allow, ask, deny", "allow", "ask", "deny")
FM_ENUM_TABLE(fm_period, FM_PERIOD_N, "day, week, month, total", "day", "week", "month", "total")
FM_ENUM_TABLE(fm_goal_status, FM_GOAL_STATUS_N, "active, achieved, dropped", "active", "achieved",
              "dropped")
FM_ENUM_TABLE(fm_approval_status, FM_APPROVAL_STATUS_N, "pending, approved, denied, expired",
              "pending", "approved", "denied", "expired")
FM_ENUM_TABLE(fm_run_status, FM_RUN_STATUS_N, "queued, running, waiting, done, failed", "queued",
              "running", "waiting", "done", "failed")
FM_ENUM_TABLE(fm_wake_kind, FM_WAKE_KIND_N, "task, message, approval, timer, feed", "task",
              "message", "approval", "timer", "feed")

/*
 * The task status machine. Rows are `from`, bits are legal `to`s:
 *
 *   todo     -> doing blocked cancelled
 *   doing    -> todo blocked review done cancelled
 *   blocked  -> todo doing cancelled
 *   review   -> doing done cancelled
 *   done     -> (final)
 *   cancelled-> todo            (reopen)
 */
#define B(s) (1u << (s))
static const unsigned legal_moves[FM_TASK_STATUS_N] = {
    [FM_TASK_TODO] = B(FM_TASK_DOING) | B(FM_TASK_BLOCKED) | B(FM_TASK_CANCELLED),
    [FM_TASK_DOING] = B(FM_TASK_TODO) | B(FM_TASK_BLOCKED) | B(FM_TASK_REVIEW) |
                      B(FM_TASK_DONE) | B(FM_TASK_CANCELLED),
    [FM_TASK_BLOCKED] = B(FM_TASK_TODO) | B(FM_TASK_DOING) | B(FM_TASK_CANCELLED),
    [FM_TASK_REVIEW] = B(FM_TASK_DOING) | B(FM_TASK_DONE) | B(FM_TASK_CANCELLED),
    [FM_TASK_DONE] = 0,
    [FM_TASK_CANCELLED] = B(FM_TASK_TODO),
};
#undef B

bool fm_task_transition_ok(fm_task_status from, fm_task_status to)
{
    if ((unsigned)from >= FM_TASK_STATUS_N || (unsigned)to >= FM_TASK_STATUS_N)
        return false;
    return (legal_moves[from] >> to) & 1u;
}

static const char *const builtin_tools[] = {
    "delegate", "message", "ask_manager", "request_approval", "complete_task", "block_task",
    "note", "read_file", "write_file", "list_files", "exec", "http_fetch", "hire",
    "decide_approval",
};

bool fm_tool_known(const char *tool)
{
    if (!tool)
        return false;
    for (size_t i = 0; i < sizeof builtin_tools / sizeof builtin_tools[0]; i++)
        if (strcmp(tool, builtin_tools[i]) == 0)
            return true;
    /* "mcp:<server>/<tool>" with non-empty parts. */
    if (strncmp(tool, "mcp:", 4) == 0) {
        const char *slash = strchr(tool + 4, '/');
        return slash && slash > tool + 4 && slash[1] != '\0';
    }
    return false;
}

const char *fm_tool_words(void)
{
    return "delegate, message, ask_manager, request_approval, complete_task, block_task, note, "
           "read_file, write_file, list_files, exec, http_fetch, hire, decide_approval, "
           "mcp:<server>/<tool>";
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void fm_company_init(fm_company *c)
{
    memset(c, 0, sizeof *c);
    c->budget.period = FM_PERIOD_MONTH;
    c->policies.max_autonomy = 2;
    c->policies.tainted = FM_CEIL_ASK;
}

void fm_company_release(fm_company *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->title);
    free(c->mission);
    free_strv(c->policies.ask_for, c->policies.n_ask_for);
    memset(c, 0, sizeof *c);
}

void fm_member_release(fm_member *m)
{
    if (!m)
        return;
    free(m->handle);
    free(m->name);
    for (size_t i = 0; i < m->n_identities; i++) {
        free(m->identities[i].channel);
        free(m->identities[i].ident);
    }
    free(m->identities);
    memset(m, 0, sizeof *m);
}

void fm_grant_release(fm_grant *g)
{
    if (!g)
        return;
    free(g->tool);
    free_strv(g->on, g->n_on);
    memset(g, 0, sizeof *g);
}

void fm_agent_release(fm_agent *a)
{
    if (!a)
        return;
    free(a->handle);
    free(a->title);
    free(a->model);
    free(a->command);
    for (size_t i = 0; i < a->n_grants; i++)
        fm_grant_release(&a->grants[i]);
    free(a->grants);
    free(a->schedule.cron);
    free(a->instructions);
    memset(a, 0, sizeof *a);
}

void fm_goal_release(fm_goal *g)
{
    if (!g)
        return;
    free(g->title);
    free(g->description);
    memset(g, 0, sizeof *g);
}

void fm_task_release(fm_task *t)
{
    if (!t)
        return;
    free(t->title);
    free(t->body);
    free(t->creator);
    free(t->result);
    memset(t, 0, sizeof *t);
}

void fm_audit_event_release(fm_audit_event *e)
{
    if (!e)
        return;
    free(e->actor);
    free(e->action);
    free(e->object);
    free(e->details);
    memset(e, 0, sizeof *e);
}
