/*
 * Policy: may this agent make this tool call now? Deny by default.
 *
 *   decision = the most restrictive of
 *     1. its grants     no grant for the tool, or none whose patterns match
 *                       the resource -> deny; a matching deny grant wins;
 *                       else a matching allow grant -> allow; else ask
 *     2. the company    a tool in policies.ask_for -> at least ask
 *     3. autonomy       0 (suggest only): anything but reading -> ask;
 *                       1: risky tools -> ask; 2: as granted
 *     4. taint          a run whose context holds outside content asking for a
 *                       privileged tool -> policies.tainted (ask or deny)
 *     5. always         hire -> at least ask
 *
 * It is a pure function of its inputs (no store, no clock), so it can be
 * tested exhaustively and called on every tool call.
 */
#ifndef FIRMA_POLICY_H
#define FIRMA_POLICY_H

#include "firma/model.h"

typedef struct fm_policy_query {
    const fm_agent *agent;          /* grants and autonomy */
    const fm_policies *company;     /* ask_for, max_autonomy, tainted */
    const char *tool;               /* "exec", "message", "mcp:github/create_issue" ... */
    const char *resource;           /* what the call touches: a path, host, command line or
                                       recipient ("agent:cto", "member:ana", "customer:x@y");
                                       NULL when the tool has none */
    bool tainted;                   /* the run's context holds content from outside */
} fm_policy_query;

typedef struct fm_policy_result {
    fm_ceiling decision;            /* FM_CEIL_ALLOW, FM_CEIL_ASK or FM_CEIL_DENY */
    char why[256];                  /* for the model, the approval and the audit log */
} fm_policy_result;

void fm_policy_decide(const fm_policy_query *q, fm_policy_result *out);

/* Tools that only read (allowed at autonomy 0 when granted). */
bool fm_tool_reads_only(const char *tool);
/* Tools that act outside the agent's own lane: risky at autonomy 1. */
bool fm_tool_risky(const char *tool);
/* Whether a call is privileged for taint purposes: exec, hire, http_fetch,
 * any MCP tool, and message/delegate to anyone outside the company (a
 * recipient not starting "agent:" or "member:"). File tools are confined to
 * the agent's workspace, so they are not. */
bool fm_call_privileged(const char *tool, const char *resource);

/* Glob match for grant patterns, '?' one character. For paths (`path`),
 * '*' stays within one folder and "**" crosses folders (src then slash, two stars); for hosts,
 * commands and recipients '*' matches anything ("*.example.com", "git *",
 * "customer:*"). */
bool fm_pattern_match(const char *pattern, const char *text, bool path);
/* Whether the tool's resource is a path (read_file, write_file, list_files). */
bool fm_tool_takes_path(const char *tool);

#endif
