/*
 * The company model: plain structs for what a company is made of, with the
 * enums and their name tables. No I/O here: the store (store.h) persists these
 * and the company files (files.h) read and write them.
 *
 * Ownership: every `char *` in these structs is heap-owned by the struct and
 * freed by its _release function; arrays likewise. Ids are store row ids
 * (0 = none / not yet stored).
 */
#ifndef FIRMA_MODEL_H
#define FIRMA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t fm_id;

/* ---- enums with name tables --------------------------------------------
 * fm_X_name(v) gives the lowercase word used in files, the CLI and JSON;
 * fm_X_parse(word, &v) is its inverse (FM_EINVAL for an unknown word). */
#define FM_ENUM_NAMES(type)                                                     \
    const char *type##_name(int v);                                             \
    int type##_parse(const char *word, int *out);                               \
    const char *type##_words(void) /* "todo, doing, ..." for messages */

typedef enum { FM_AGENT_LLM, FM_AGENT_PROCESS, FM_AGENT_HTTP, FM_AGENT_KIND_N } fm_agent_kind;
FM_ENUM_NAMES(fm_agent_kind);

typedef enum { FM_AGENT_ACTIVE, FM_AGENT_PAUSED, FM_AGENT_FIRED, FM_AGENT_STATUS_N } fm_agent_status;
FM_ENUM_NAMES(fm_agent_status);

typedef enum {
    FM_TASK_TODO, FM_TASK_DOING, FM_TASK_BLOCKED, FM_TASK_REVIEW, FM_TASK_DONE,
    FM_TASK_CANCELLED, FM_TASK_STATUS_N
} fm_task_status;
FM_ENUM_NAMES(fm_task_status);
/* Whether `from -> to` is a legal move (docs/model.md has the table). */
bool fm_task_transition_ok(fm_task_status from, fm_task_status to);

typedef enum { FM_ROLE_OWNER, FM_ROLE_ADMIN, FM_ROLE_OPERATOR, FM_ROLE_VIEWER, FM_ROLE_N } fm_role;
FM_ENUM_NAMES(fm_role);

/* A grant's ceiling: the most an agent may do with a tool without asking. */
typedef enum { FM_CEIL_ALLOW, FM_CEIL_ASK, FM_CEIL_DENY, FM_CEIL_N } fm_ceiling;
FM_ENUM_NAMES(fm_ceiling);

typedef enum { FM_PERIOD_DAY, FM_PERIOD_WEEK, FM_PERIOD_MONTH, FM_PERIOD_TOTAL, FM_PERIOD_N } fm_period;
FM_ENUM_NAMES(fm_period);

typedef enum { FM_GOAL_ACTIVE, FM_GOAL_ACHIEVED, FM_GOAL_DROPPED, FM_GOAL_STATUS_N } fm_goal_status;
FM_ENUM_NAMES(fm_goal_status);

typedef enum {
    FM_APPROVAL_PENDING, FM_APPROVAL_APPROVED, FM_APPROVAL_DENIED, FM_APPROVAL_EXPIRED,
    FM_APPROVAL_STATUS_N
} fm_approval_status;
FM_ENUM_NAMES(fm_approval_status);

typedef enum {
    FM_RUN_QUEUED, FM_RUN_RUNNING, FM_RUN_WAITING, FM_RUN_DONE, FM_RUN_FAILED, FM_RUN_STATUS_N
} fm_run_status;
FM_ENUM_NAMES(fm_run_status);

typedef enum {
    FM_WAKE_TASK, FM_WAKE_MESSAGE, FM_WAKE_APPROVAL, FM_WAKE_TIMER, FM_WAKE_FEED, FM_WAKE_KIND_N
} fm_wake_kind;
FM_ENUM_NAMES(fm_wake_kind);

/* The built-in tools an agent may be granted (DESIGN.md section 3). Grants may
 * also name MCP tools as "mcp:<server>/<tool>" or every tool of a server, "mcp:<server>/any". */
bool fm_tool_known(const char *tool);
const char *fm_tool_words(void);

/* ---- budgets ------------------------------------------------------------ */
typedef struct fm_budget {
    int64_t usd_micro; /* cap per period in micro-dollars; 0 = may not spend */
    int64_t tokens;    /* cap per period in tokens; 0 = no separate token cap */
    fm_period period;
} fm_budget;

/* ---- company ------------------------------------------------------------ */
typedef struct fm_policies {
    int max_autonomy;   /* 0..2: no agent acts above this level */
    char **ask_for;     /* tools that always need an approval, company-wide */
    size_t n_ask_for;
    fm_ceiling tainted; /* what a tainted run gets for a privileged tool: ask or deny */
} fm_policies;

typedef struct fm_company {
    fm_id id;
    char *name;         /* unique in a database; a handle-like slug */
    char *title;        /* display name, e.g. "Acme Widgets" (may be NULL) */
    char *mission;
    fm_budget budget;
    fm_policies policies;
    int64_t created_at; /* microseconds since epoch */
} fm_company;
void fm_company_release(fm_company *c);
/* Defaults: empty strings NULL, budget 0/0/month, policies max_autonomy 2,
 * tainted ask. */
void fm_company_init(fm_company *c);

/* ---- member (a human) ---------------------------------------------------- */
typedef struct fm_identity {
    char *channel; /* "telegram", "slack", "email", "whatsapp", "matrix" ... */
    char *ident;   /* the id on that channel */
} fm_identity;

typedef struct fm_member {
    fm_id id, company_id;
    char *handle;
    char *name;
    fm_role role;
    fm_identity *identities;
    size_t n_identities;
    int64_t created_at;
} fm_member;
void fm_member_release(fm_member *m);

/* ---- agent ---------------------------------------------------------------- */
typedef struct fm_grant {
    char *tool;      /* a built-in tool name or "mcp:server/tool" */
    char **on;       /* resource patterns (paths, hosts, commands, recipients); may be empty */
    size_t n_on;
    fm_ceiling ceiling;
} fm_grant;

typedef struct fm_schedule {
    int64_t heartbeat_s; /* 0 = none */
    char *cron;          /* 5-field cron expression, or NULL */
} fm_schedule;

typedef struct fm_agent {
    fm_id id, company_id;
    char *handle;
    char *title;
    /* The manager is an agent or a member of the same company: exactly one of
     * these is set once stored. */
    fm_id manager_agent;
    fm_id manager_member;
    fm_agent_kind kind;
    char *model;      /* "sim", "openai:gpt-4o-mini", "anthropic:claude-..." (llm) */
    char *command;    /* process agents: the command line; http agents: the URL */
    int autonomy;     /* 0 suggest-only, 1 act and ask for risky, 2 act within grants */
    fm_grant *grants;
    size_t n_grants;
    fm_budget budget;
    fm_schedule schedule;
    fm_agent_status status;
    char *instructions;
    int64_t created_at, updated_at;
    /* When its schedule next wakes it (microseconds), 0 = never. Kept by the
     * store from schedule and status (store.h, "timers"); ignored on write. */
    int64_t next_timer_at;
} fm_agent;
void fm_agent_release(fm_agent *a);
void fm_grant_release(fm_grant *g);

/* ---- goal ------------------------------------------------------------------ */
typedef struct fm_goal {
    fm_id id, company_id;
    fm_id parent_id;  /* 0 = top-level */
    char *title;
    char *description;
    fm_id owner_agent; /* 0 = none */
    fm_goal_status status;
    int64_t created_at;
} fm_goal;
void fm_goal_release(fm_goal *g);

/* ---- task ------------------------------------------------------------------ */
typedef struct fm_task {
    fm_id id, company_id;
    fm_id parent_id, goal_id;
    char *title;
    char *body;
    char *creator;      /* an actor string: "member:ana", "agent:ceo", "cli:root" */
    fm_id assignee;     /* agent id, 0 = unassigned */
    fm_task_status status;
    int priority;       /* 0 (highest) .. 3 (lowest); default 2 */
    int64_t due;        /* microseconds since epoch, 0 = none */
    char *result;
    bool tainted;
    fm_id checkout_run; /* the run holding the checkout lease, 0 = none */
    int64_t checkout_until;
    int64_t created_at, updated_at;
} fm_task;
void fm_task_release(fm_task *t);

/* ---- audit event ----------------------------------------------------------- */
#define FM_HASH_BYTES 32
typedef struct fm_audit_event {
    fm_id id, company_id;
    int64_t seq;        /* 1, 2, 3 ... per company */
    int64_t ts;         /* microseconds since epoch */
    char *actor;        /* "member:ana", "agent:cto", "cli:root", "system" */
    char *action;       /* "agent.hire", "task.move" ... */
    char *object;       /* "agent:cto", "task:12" ... */
    char *details;      /* a JSON object, canonical (sorted keys, compact) */
    unsigned char prev[FM_HASH_BYTES];
    unsigned char hash[FM_HASH_BYTES];
} fm_audit_event;
void fm_audit_event_release(fm_audit_event *e);

#endif
