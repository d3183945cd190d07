/*
 * The policy decision (see policy.h for the rules, in order). Each rule can
 * only tighten the decision; none can widen what the grants allow.
 */
#include "firma/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const reading_tools[] = {"read_file", "list_files", "note", "ask_manager",
                                            "request_approval", "complete_task", "block_task"};
/* Writing files is not here: file tools are confined to the agent's own
 * workspace and to the paths its grants name, so a write is ordinary work. */
static const char *const risky_tools[] = {"exec", "http_fetch", "hire"};
static const char *const path_tools[] = {"read_file", "write_file", "list_files"};

static bool in(const char *tool, const char *const *set, size_t n)
{
    for (size_t i = 0; tool && i < n; i++)
        if (strcmp(tool, set[i]) == 0)
            return true;
    return false;
}
#define IN(tool, set) in((tool), (set), sizeof(set) / sizeof((set)[0]))

bool fm_tool_reads_only(const char *tool)
{
    /* Reporting on one's own work (complete, block, ask) changes nothing
     * outside the agent's lane, so even a suggest-only agent may do it. */
    return IN(tool, reading_tools);
}

bool fm_tool_risky(const char *tool)
{
    return IN(tool, risky_tools) || (tool && strncmp(tool, "mcp:", 4) == 0);
}

bool fm_tool_takes_path(const char *tool)
{
    return IN(tool, path_tools);
}

bool fm_call_privileged(const char *tool, const char *resource)
{
    if (!tool)
        return true;
    if (fm_tool_risky(tool))
        return true;
    if (strcmp(tool, "message") == 0 || strcmp(tool, "delegate") == 0)
        return !resource || (strncmp(resource, "agent:", 6) != 0 &&
                             strncmp(resource, "member:", 7) != 0);
    return false;
}

/* Recursive glob with a step budget: patterns come from the owner's files
 * but text comes from a model, and a budget keeps a pathological pair from
 * taking long (running out counts as no match, which denies). */
static bool match(const char *p, const char *t, bool path, long *budget)
{
    /* Literal characters and '?' iteratively; recursion only at stars, so
     * the depth is the number of stars, not the length of the text. */
    for (; *p && *p != '*'; p++, t++) {
        if (*t == '\0' || (*p == '?' ? (path && *t == '/') : *p != *t))
            return false;
    }
    if (*p == '\0')
        return *t == '\0';
    bool any = !path || p[1] == '*';
    while (*p == '*')
        p++;
    for (const char *s = t;; s++) {
        if (--*budget < 0)
            return false;
        if (match(p, s, path, budget))
            return true;
        if (*s == '\0' || (!any && *s == '/'))
            return false;
    }
}

bool fm_pattern_match(const char *pattern, const char *text, bool path)
{
    long budget = 100000;
    return pattern && text && match(pattern, text, path, &budget);
}

static void tighten(fm_policy_result *r, fm_ceiling to, const char *fmt, ...)
{
    if (to <= r->decision)
        return;
    r->decision = to;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

static bool grant_names_tool(const fm_grant *g, const char *tool)
{
    if (strcmp(g->tool, tool) == 0)
        return true;
    /* "mcp:server/any" grants every tool of that server. */
    size_t n = strlen(g->tool);
    return n > 4 && strcmp(g->tool + n - 4, "/any") == 0 && strncmp(g->tool, "mcp:", 4) == 0 &&
           strncmp(tool, g->tool, n - 3) == 0;
}

static bool grant_covers(const fm_grant *g, const char *resource, bool path)
{
    if (g->n_on == 0)
        return true;
    for (size_t i = 0; resource && i < g->n_on; i++)
        if (fm_pattern_match(g->on[i], resource, path))
            return true;
    return false;
}

/* Rule 1: the grants. Starts from deny and sets the grants' verdict. */
static void by_grants(const fm_policy_query *q, fm_policy_result *r)
{
    bool named = false, allow = false, ask = false;
    bool path = fm_tool_takes_path(q->tool);
    for (size_t i = 0; i < q->agent->n_grants; i++) {
        const fm_grant *g = &q->agent->grants[i];
        if (!grant_names_tool(g, q->tool))
            continue;
        named = true;
        if (!grant_covers(g, q->resource, path))
            continue;
        if (g->ceiling == FM_CEIL_DENY) {
            snprintf(r->why, sizeof r->why, "a grant denies %s on %s", q->tool,
                     q->resource ? q->resource : "anything");
            return;
        }
        allow |= g->ceiling == FM_CEIL_ALLOW;
        ask |= g->ceiling == FM_CEIL_ASK;
    }
    if (!named)
        snprintf(r->why, sizeof r->why, "@%s has no grant for the tool %s", q->agent->handle,
                 q->tool);
    else if (!allow && !ask)
        snprintf(r->why, sizeof r->why, "@%s's grants for %s do not cover %s", q->agent->handle,
                 q->tool, q->resource ? q->resource : "this call");
    else {
        r->decision = allow ? FM_CEIL_ALLOW : FM_CEIL_ASK;
        snprintf(r->why, sizeof r->why, "%s by @%s's grant for %s",
                 allow ? "allowed" : "needs approval", q->agent->handle, q->tool);
    }
}

void fm_policy_decide(const fm_policy_query *q, fm_policy_result *r)
{
    r->decision = FM_CEIL_DENY;
    r->why[0] = '\0';
    by_grants(q, r);
    if (r->decision == FM_CEIL_DENY)
        return;
    for (size_t i = 0; q->company && i < q->company->n_ask_for; i++)
        if (strcmp(q->company->ask_for[i], q->tool) == 0)
            tighten(r, FM_CEIL_ASK, "company policy: %s always needs approval", q->tool);
    int autonomy = q->agent->autonomy;
    if (q->company && autonomy > q->company->max_autonomy)
        autonomy = q->company->max_autonomy;
    if (autonomy <= 0 && !fm_tool_reads_only(q->tool))
        tighten(r, FM_CEIL_ASK, "@%s may only suggest (autonomy 0): %s needs approval",
                q->agent->handle, q->tool);
    if (autonomy == 1 && fm_tool_risky(q->tool))
        tighten(r, FM_CEIL_ASK, "%s is risky at autonomy 1: it needs approval", q->tool);
    if (q->tainted && fm_call_privileged(q->tool, q->resource)) {
        fm_ceiling t = q->company && q->company->tainted == FM_CEIL_DENY ? FM_CEIL_DENY
                                                                         : FM_CEIL_ASK;
        tighten(r, t, "this run read content from outside the company, which cannot drive %s%s",
                q->tool, t == FM_CEIL_ASK ? " without approval" : "");
    }
    if (strcmp(q->tool, "hire") == 0)
        tighten(r, FM_CEIL_ASK, "hiring always needs approval");
}
