/*
 * The store: where a company's truth lives. An interface (a table of
 * functions) with one implementation per database: SQLite now
 * (src/core/store/sqlite.c), PostgreSQL later, both passing one test suite.
 *
 * Rules every implementation keeps:
 *  - Writes happen inside begin()/commit(); a failed call inside a transaction
 *    leaves it open for the caller to roll back. Reads work in or out of one.
 *  - _insert functions set the struct's id (and created_at when it is 0).
 *  - _get/_find fill a caller-owned struct (release it with the model's
 *    _release); _list functions return a heap array the caller frees with
 *    fm_store_free_list-style helpers in this header.
 *  - Not found is FM_ENOTFOUND; a unique-key clash is FM_EEXIST; a held lease
 *    is FM_ECONFLICT; anything else from the database is FM_ESTORE with the
 *    database's message in the fm_error.
 *  - audit_insert only stores; the chain (seq, prev, hash) is computed by
 *    fm_audit_append (audit.h) from audit_head in the same transaction.
 */
#ifndef FIRMA_STORE_H
#define FIRMA_STORE_H

#include "firma/errors.h"
#include "firma/model.h"

typedef struct fm_store fm_store;

typedef struct fm_task_filter {
    fm_id company_id;
    int status;        /* an fm_task_status, or -1 for any */
    fm_id assignee;    /* 0 = any */
    fm_id goal_id;     /* 0 = any */
    fm_id after_id;    /* only tasks with id > after_id (paging; 0 = from the first) */
    size_t limit;      /* 0 = no limit */
} fm_task_filter;

typedef struct fm_audit_filter {
    fm_id company_id;
    int64_t after_seq;  /* events with seq > after_seq */
    int64_t before_seq; /* and seq < before_seq (0: no bound) */
    const char *actor;  /* exact match, or NULL */
    const char *action; /* prefix match ("task." matches task.move), or NULL */
    const char *object; /* exact match, or NULL */
    size_t limit;       /* 0 = no limit */
    bool newest_first;
} fm_audit_filter;

/* Called per event by audit_scan; a non-zero return stops the scan and is
 * returned by audit_scan. The event is only valid during the call. */
typedef int (*fm_audit_cb)(const fm_audit_event *e, void *ctx);

typedef struct fm_checkpoint {
    fm_id company_id;
    int64_t seq;
    int64_t ts;
    unsigned char hash[FM_HASH_BYTES];
    unsigned char sig[64];
} fm_checkpoint;

typedef struct fm_ledger_entry {
    fm_id company_id, agent_id, run_id;
    const char *kind;   /* "charge", "reserve", "settle", "release" */
    int64_t usd_micro;
    int64_t tokens_in, tokens_cached, tokens_out;
    const char *model;
    int64_t created_at;
} fm_ledger_entry;

typedef struct fm_spend {
    fm_id agent_id;
    int64_t usd_micro;
    int64_t tokens;
} fm_spend;

/* What an agent spent on one UTC day (agent_id 0: the company's own
 * spending, not an agent's). */
typedef struct fm_spend_day {
    fm_id agent_id;
    int64_t day;        /* days since 1970-01-01, UTC */
    int64_t usd_micro;
    int64_t tokens;
} fm_spend_day;

/* A ledger row as stored (ledger_list). */
typedef struct fm_ledger_row {
    fm_id id, company_id, agent_id, run_id;
    char kind[12];      /* "charge", "reserve", "settle", "release" */
    int64_t usd_micro;
    int64_t tokens_in, tokens_cached, tokens_out;
    char *model;        /* may be NULL */
    int64_t created_at;
} fm_ledger_row;

/* A conversation: messages to an agent, or the comments on a task. */
typedef struct fm_thread {
    fm_id id, company_id;
    fm_id task_id;      /* 0: not a task's */
    char *subject;
    int64_t created_at;
    int64_t n_messages; /* filled by thread_list and thread_get */
    int64_t last_at;    /* the newest message's time (0: none) */
} fm_thread;

typedef struct fm_message {
    fm_id id, thread_id, company_id;
    char *sender;      /* an actor string */
    char *body;
    bool tainted;
    int64_t created_at;
} fm_message;
void fm_message_release(fm_message *m);

/* A wake: an event that makes an agent run (schema v2). */
typedef struct fm_wake {
    fm_id id, company_id, agent_id;
    fm_wake_kind kind;
    fm_id ref;          /* the task, message, approval ... it is about */
    char *payload;      /* JSON object or NULL */
    int64_t created_at;
    int64_t due_at;     /* 0 = now */
    fm_id run_id;       /* the run that took it, 0 = pending */
    int64_t done_at;    /* 0 = not handled yet */
} fm_wake;
void fm_wake_release(fm_wake *w);
void fm_wake_list_free(fm_wake *v, size_t n);

/* A run: one agent handling its wakes (schema v2). */
typedef struct fm_run {
    fm_id id, company_id, agent_id;
    fm_run_status status;
    char *reason;        /* why it ended or waits, for people */
    bool tainted;        /* its context holds content from outside */
    int64_t started_at, ended_at;
} fm_run;
void fm_run_release(fm_run *r);
void fm_run_list_free(fm_run *v, size_t n);

typedef enum { FM_STEP_MODEL, FM_STEP_TOOL, FM_STEP_PROCESS } fm_step_kind;
typedef enum { FM_STEP_STARTED, FM_STEP_FINISHED, FM_STEP_UNKNOWN } fm_step_status;
#define FM_STEP_KIND_N 3
#define FM_STEP_STATUS_N 3
/* "model", "tool", "process"; "started", "finished", "unknown" (as stored,
 * and in the API); "?" out of range. */
extern const char *const fm_step_kind_names[FM_STEP_KIND_N];
extern const char *const fm_step_status_names[FM_STEP_STATUS_N];
const char *fm_step_kind_name(fm_step_kind k);
const char *fm_step_status_name(fm_step_status st);

/* A step of a run, written before the run moves on. */
typedef struct fm_step {
    fm_id id, run_id;
    int seq;              /* 1, 2, 3 ... within the run */
    fm_step_kind kind;
    fm_step_status status;
    char *tool;           /* tool steps: the tool's name */
    char *request;        /* model: the assistant turn (JSON); tool: the call (JSON);
                             process: the wakes given on stdin (JSON) */
    char *response;       /* tool: the result text; model: NULL; process: exit code,
                             stdout and the tail of stderr (JSON) */
    int64_t prompt_bytes, tokens_in, tokens_cached, tokens_out, usd_micro;
    int64_t started_at, ended_at;
} fm_step;
void fm_step_release(fm_step *s);

/* A step as the live feed shows it: the step (without its request and
 * response) and the agent whose run it is. */
typedef struct fm_step_event {
    fm_step step;
    fm_id agent_id;
    char agent[48]; /* its handle ("" if it has none) */
} fm_step_event;
void fm_step_event_list_free(fm_step_event *v, size_t n);
void fm_step_list_free(fm_step *v, size_t n);

/* An approval: a held tool call or a question, routed up the org chart. */
typedef struct fm_approval {
    fm_id id, company_id, agent_id, run_id, step_id;
    char *kind;           /* "tool", "budget", "question" */
    char *tool;
    char *args;           /* the call's arguments (JSON), secrets not substituted */
    char *reason;         /* what the policy said */
    char *approver;       /* "member:ana" or "agent:ceo": who must decide */
    fm_approval_status status;
    char *decided_by, *why;
    int64_t created_at, decided_at;
} fm_approval;
void fm_approval_release(fm_approval *a);
void fm_approval_list_free(fm_approval *v, size_t n);

/* Timers (schema v4). Each agent row holds next_timer_at: when its schedule
 * next wakes it (fm_agent.next_timer_at). agent_insert and agent_update keep
 * it, so no caller can leave it stale:
 *  - an agent written active with a schedule gets fm_schedule_next after the
 *    time of the write (created_at on insert, updated_at on update);
 *  - one written paused or fired, or without a schedule, gets none: a paused
 *    agent's timer does not tick, and resuming it counts afresh from then;
 *  - an update that changes neither schedule nor status leaves it alone.
 * An index on next_timer_at holding only agents that have one is the queue:
 * timer_due and timer_next are index seeks, and firing touches only the due
 * rows, so a million idle agents cost nothing per tick. */
/* A bearer token (schema v5), stored as the BLAKE2b-256 hash of its text:
 * the database never holds one a reader could use (governance.h). */
typedef enum { FM_TOKEN_MEMBER, FM_TOKEN_AGENT } fm_token_kind;
typedef struct fm_token {
    fm_id id, company_id;
    fm_token_kind kind;
    fm_id member_id;        /* member tokens */
    fm_id agent_id, run_id; /* agent tokens: one agent, one run */
    unsigned char hash[FM_HASH_BYTES];
    int64_t created_at;
    int64_t expires_at;     /* 0 = never */
    int64_t revoked_at;     /* 0 = not revoked */
    /* Schema v6, member tokens: a label for people ("laptop", "ci"), and a
     * role cap: the token acts with the member's role or this one, whichever
     * may do less (FM_ROLE_OWNER, the zero value, caps nothing). */
    char name[65];
    fm_role role_cap;
} fm_token;

typedef struct fm_timer {
    fm_id agent_id, company_id;
    int64_t due_at;     /* the agent's next_timer_at when it was read */
} fm_timer;

typedef struct fm_store_ops {
    const char *name;
    void (*close)(fm_store *s);
    int (*begin)(fm_store *s, fm_error *err);
    int (*commit)(fm_store *s, fm_error *err);
    void (*rollback)(fm_store *s);
    int (*schema_version)(fm_store *s, int *version);

    int (*company_insert)(fm_store *s, fm_company *c, fm_error *err);
    int (*company_update)(fm_store *s, const fm_company *c, fm_error *err);
    int (*company_get)(fm_store *s, fm_id id, fm_company *out, fm_error *err);
    int (*company_find)(fm_store *s, const char *name, fm_company *out, fm_error *err);
    int (*company_list)(fm_store *s, fm_company **out, size_t *n, fm_error *err);

    int (*member_insert)(fm_store *s, fm_member *m, fm_error *err);
    int (*member_update)(fm_store *s, const fm_member *m, fm_error *err);
    int (*member_delete)(fm_store *s, fm_id id, fm_error *err);
    int (*member_get)(fm_store *s, fm_id id, fm_member *out, fm_error *err);
    int (*member_find)(fm_store *s, fm_id company, const char *handle, fm_member *out,
                       fm_error *err);
    int (*member_list)(fm_store *s, fm_id company, fm_member **out, size_t *n, fm_error *err);

    int (*agent_insert)(fm_store *s, fm_agent *a, fm_error *err);
    int (*agent_update)(fm_store *s, const fm_agent *a, fm_error *err);
    int (*agent_get)(fm_store *s, fm_id id, fm_agent *out, fm_error *err);
    int (*agent_find)(fm_store *s, fm_id company, const char *handle, fm_agent *out,
                      fm_error *err);
    /* The agents reporting to `manager` (not fired), brief, by id; uses the
     * manager index, so its cost does not grow with the company. */
    int (*agent_reports)(fm_store *s, fm_id manager, fm_agent **out, size_t *n, fm_error *err);
    /* brief: leave out instructions, grants and schedule (for org charts). */
    int (*agent_list)(fm_store *s, fm_id company, bool brief, fm_agent **out, size_t *n,
                      fm_error *err);

    int (*goal_insert)(fm_store *s, fm_goal *g, fm_error *err);
    int (*goal_update)(fm_store *s, const fm_goal *g, fm_error *err);
    int (*goal_get)(fm_store *s, fm_id id, fm_goal *out, fm_error *err);
    int (*goal_list)(fm_store *s, fm_id company, fm_goal **out, size_t *n, fm_error *err);

    int (*task_insert)(fm_store *s, fm_task *t, fm_error *err);
    int (*task_update)(fm_store *s, const fm_task *t, fm_error *err);
    int (*task_get)(fm_store *s, fm_id id, fm_task *out, fm_error *err);
    int (*task_list)(fm_store *s, const fm_task_filter *f, fm_task **out, size_t *n,
                     fm_error *err);
    /* Takes the checkout lease for `run` until `until` if it is free, expired
     * (checkout_until <= now) or already held by `run`; else FM_ECONFLICT. */
    int (*task_checkout)(fm_store *s, fm_id task, fm_id run, int64_t now, int64_t until,
                         fm_error *err);
    /* Gives the lease up if `run` holds it; FM_ECONFLICT otherwise. */
    int (*task_release)(fm_store *s, fm_id task, fm_id run, fm_error *err);

    int (*thread_insert)(fm_store *s, fm_id company, const char *subject, fm_id task,
                         fm_id *id_out, fm_error *err);
    int (*message_insert)(fm_store *s, fm_message *m, fm_error *err);
    int (*message_list)(fm_store *s, fm_id thread, fm_message **out, size_t *n, fm_error *err);
    int (*message_get)(fm_store *s, fm_id id, fm_message *out, fm_error *err);
    /* A company's threads, newest first: those with id < before (0: from
     * the newest), only task `task`'s when it is not 0, at most `limit`. */
    int (*thread_list)(fm_store *s, fm_id company, fm_id task, fm_id before, size_t limit,
                       fm_thread **out, size_t *n, fm_error *err);
    int (*thread_get)(fm_store *s, fm_id id, fm_thread *out, fm_error *err);
    /* The thread of task `task`'s comments: its oldest thread, or 0 in *id
     * when it has none yet (an index seek, not a list). */
    int (*thread_of_task)(fm_store *s, fm_id company, fm_id task, fm_id *id, fm_error *err);

    int (*ledger_insert)(fm_store *s, const fm_ledger_entry *e, fm_error *err);
    /* Spend since `since` (microseconds, counted from the start of its UTC
     * day, as budget periods are): one row per agent that spent, then one row
     * with agent_id -1 holding the company total (always present). */
    int (*ledger_spend)(fm_store *s, fm_id company, int64_t since, fm_spend **out, size_t *n,
                        fm_error *err);

    /* Spending per agent per UTC day since `since` (microseconds; from the
     * start of its day), day by day, agents by id within a day; only agent
     * `agent`'s when it is not 0. */
    int (*spend_daily)(fm_store *s, fm_id company, fm_id agent, int64_t since,
                       fm_spend_day **out, size_t *n, fm_error *err);
    /* Ledger rows, newest first: those with id < before (0: from the
     * newest), only agent `agent`'s when it is not 0, at most `limit`. */
    int (*ledger_list)(fm_store *s, fm_id company, fm_id agent, fm_id before, size_t limit,
                       fm_ledger_row **out, size_t *n, fm_error *err);

    /* The last event's seq and hash (seq 0 and zero hash for an empty chain). */
    int (*audit_head)(fm_store *s, fm_id company, int64_t *seq, unsigned char *hash,
                      fm_error *err);
    int (*audit_insert)(fm_store *s, fm_audit_event *e, fm_error *err);
    int (*audit_scan)(fm_store *s, const fm_audit_filter *f, fm_audit_cb cb, void *ctx,
                      fm_error *err);
    int (*checkpoint_insert)(fm_store *s, const fm_checkpoint *c, fm_error *err);
    int (*checkpoint_last)(fm_store *s, fm_id company, fm_checkpoint *out, fm_error *err);
    int (*checkpoint_list)(fm_store *s, fm_id company, fm_checkpoint **out, size_t *n,
                           fm_error *err);

    int (*secret_put)(fm_store *s, fm_id company, const char *name, const unsigned char *blob,
                      size_t len, fm_error *err);
    int (*secret_get)(fm_store *s, fm_id company, const char *name, unsigned char **blob,
                      size_t *len, fm_error *err);
    int (*secret_list)(fm_store *s, fm_id company, char ***names, int64_t **updated_at,
                       size_t *n, fm_error *err);
    int (*secret_delete)(fm_store *s, fm_id company, const char *name, fm_error *err);

    int (*wake_insert)(fm_store *s, fm_wake *w, fm_error *err);
    /* Pending wakes (done_at 0, run 0, due by `now`) with id > after_id, oldest first. */
    int (*wake_pending)(fm_store *s, fm_id after_id, int64_t now, size_t limit, fm_wake **out,
                        size_t *n, fm_error *err);
    /* The agents with pending wakes due by `now` that can run (status active),
     * oldest wake first, one row each (id = that oldest wake's id). */
    int (*wake_ready)(fm_store *s, int64_t now, size_t limit, fm_wake **out, size_t *n,
                      fm_error *err);
    /* Marks `agent`'s pending wakes as taken by `run` — all of them but only
     * the oldest task wake, so each task gets its own run; returns how many. */
    int (*wake_take)(fm_store *s, fm_id agent, fm_id run, int64_t now, size_t *taken,
                     fm_error *err);
    /* The wakes a run took, oldest first. */
    int (*wake_of_run)(fm_store *s, fm_id run, fm_wake **out, size_t *n, fm_error *err);
    /* Marks the run's wakes handled. */
    int (*wake_done)(fm_store *s, fm_id run, int64_t now, fm_error *err);
    /* Gives the run's unhandled wakes back (a run that could not finish):
     * they are pending again, so no wake is lost. */
    int (*wake_release)(fm_store *s, fm_id run, fm_error *err);

    int (*run_insert)(fm_store *s, fm_run *r, fm_error *err);
    int (*run_update)(fm_store *s, const fm_run *r, fm_error *err);
    int (*run_get)(fm_store *s, fm_id id, fm_run *out, fm_error *err);
    /* Runs not done or failed (queued, running, waiting), for recovery. */
    int (*run_list_open)(fm_store *s, fm_run **out, size_t *n, fm_error *err);
    /* Agent `agent`'s runs with id < `before` (0: no bound), newest first, at
     * most `limit`; the caller frees with fm_run_list_free. */
    int (*run_list_agent)(fm_store *s, fm_id agent, fm_id before, size_t limit, fm_run **out,
                          size_t *n, fm_error *err);

    int (*step_insert)(fm_store *s, fm_step *st, fm_error *err);
    int (*step_update)(fm_store *s, const fm_step *st, fm_error *err);
    int (*step_list)(fm_store *s, fm_id run, fm_step **out, size_t *n, fm_error *err);
    /* The steps of company `company`'s runs with id > after, in id order, at
     * most `limit` (0: no limit), without request and response. */
    int (*step_feed)(fm_store *s, fm_id company, fm_id after, size_t limit, fm_step_event **out,
                     size_t *n, fm_error *err);
    /* The newest step's id, of any company (0 when there is none). */
    int (*step_last_id)(fm_store *s, fm_id *id, fm_error *err);

    int (*approval_insert)(fm_store *s, fm_approval *a, fm_error *err);
    int (*approval_update)(fm_store *s, const fm_approval *a, fm_error *err);
    int (*approval_get)(fm_store *s, fm_id id, fm_approval *out, fm_error *err);
    /* status -1 for any. */
    int (*approval_list)(fm_store *s, fm_id company, int status, fm_approval **out, size_t *n,
                         fm_error *err);

    int (*note_put)(fm_store *s, fm_id agent, const char *key, const char *text, fm_error *err);
    /* Keys and texts in key order; the caller frees both arrays with fm_strv_free. */
    int (*note_list)(fm_store *s, fm_id agent, char ***keys, char ***texts, size_t *n,
                     fm_error *err);

    /* Timers due by `now` (next_timer_at <= now), earliest first, at most
     * `limit` (0 = all); the caller frees *out with free(). */
    int (*timer_due)(fm_store *s, int64_t now, size_t limit, fm_timer **out, size_t *n,
                     fm_error *err);
    /* Fires a timer timer_due returned, inside the caller's transaction: the
     * agent gets a timer wake (payload {"schedule":"heartbeat","every_s":N}
     * or {"schedule":"cron","cron":"..."}, due_at the time it was due) unless
     * a timer wake of its is still not done (pending or held by a run), and
     * its timer moves to the schedule's first time after `now` — so a timer
     * missed for a day fires once, not once per missed slot. Does nothing if
     * next_timer_at is no longer t->due_at (another process fired it, or the
     * schedule changed) or is after `now`. *woke says whether a wake was
     * written. */
    int (*timer_fire)(fm_store *s, const fm_timer *t, int64_t now, bool *woke, fm_error *err);
    /* The earliest next_timer_at of all agents, 0 when none has a timer. */
    int (*timer_next)(fm_store *s, int64_t *at, fm_error *err);

    /* ---- tokens and open reservations (schema v5) ---- */
    int (*token_insert)(fm_store *s, fm_token *t, fm_error *err);
    /* By hash; FM_ENOTFOUND if no token has it. */
    int (*token_find)(fm_store *s, const unsigned char hash[FM_HASH_BYTES], fm_token *out,
                      fm_error *err);
    /* Revokes every token of a run not yet revoked. */
    int (*token_revoke_run)(fm_store *s, fm_id run, int64_t now, fm_error *err);
    /* A company's member tokens, revoked ones too, by id; the caller frees
     * *out with free(). Hashes are not read back (left zero). (schema v6) */
    int (*token_list)(fm_store *s, fm_id company, fm_token **out, size_t *n, fm_error *err);
    /* Revokes member token `id` of `company`: FM_ENOTFOUND if it has no
     * such token; revoking a revoked one keeps its first time. (schema v6) */
    int (*token_revoke)(fm_store *s, fm_id company, fm_id id, int64_t now, fm_error *err);
    /* What run `run` holds reserved and not released: the sum of its
     * "reserve" and "release" ledger rows (an index seek by run). */
    int (*ledger_open)(fm_store *s, fm_id run, int64_t *usd_micro, int64_t *tokens,
                       fm_error *err);
    /* Spent (reservations included) since `since` by agent `agent`, or by
     * the whole company when agent is 0: a range of per-day totals. */
    int (*spend_of)(fm_store *s, fm_id company, fm_id agent, int64_t since, int64_t *usd_micro,
                    int64_t *tokens, fm_error *err);

    /* ---- counts for metrics: all companies, read from an index ---- */
    /* Wakes no run has taken (done_at 0, run 0), due or not. */
    int (*wake_count_pending)(fm_store *s, int64_t *n, fm_error *err);
    /* Approvals still pending. */
    int (*approval_count_pending)(fm_store *s, int64_t *n, fm_error *err);
} fm_store_ops;

struct fm_store {
    const fm_store_ops *ops;
    char *path;
};

/* Opens (creating if needed) the database at `path` and brings its schema up
 * to date. Only SQLite paths for now. */
int fm_store_open(const char *path, fm_store **out, fm_error *err);
/* NULL is a no-op. */
void fm_store_close(fm_store *s);

/* SQLite specifics, for tests and tools. */
int fm_sqlite_open(const char *path, int max_version, fm_store **out, fm_error *err);
int fm_sqlite_latest_version(void);

/* Ends a transaction begun with ops->begin: commits when `rc` is FM_OK, rolls
 * back otherwise (including when the commit fails). Returns the final status. */
int fm_store_end(fm_store *s, int rc, fm_error *err);

/* audit_scan into an array of copies, for callers that want the events
 * after the scan; the caller frees *out with fm_audit_event_list_free (on
 * an error *out is NULL). */
int fm_store_audit_list(fm_store *s, const fm_audit_filter *f, fm_audit_event **out, size_t *n,
                        fm_error *err);

/* Freeing what _list functions return. */
void fm_company_list_free(fm_company *v, size_t n);
void fm_member_list_free(fm_member *v, size_t n);
void fm_agent_list_free(fm_agent *v, size_t n);
void fm_goal_list_free(fm_goal *v, size_t n);
void fm_task_list_free(fm_task *v, size_t n);
void fm_message_list_free(fm_message *v, size_t n);
void fm_thread_release(fm_thread *t);
void fm_thread_list_free(fm_thread *v, size_t n);
void fm_ledger_list_free(fm_ledger_row *v, size_t n);
void fm_audit_event_list_free(fm_audit_event *v, size_t n);
void fm_strv_free(char **v, size_t n);

#endif
