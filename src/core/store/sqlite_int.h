/* Internals shared by the SQLite store's files. */
#ifndef FIRMA_SQLITE_INT_H
#define FIRMA_SQLITE_INT_H

#include "firma/store.h"

#include <sqlite3.h>

#define FM__STMT_CACHE 256

typedef struct fm__sqlite {
    fm_store base;
    sqlite3 *db;
    int in_tx;
    struct {
        const char *sql; /* compared by address: statements are static strings */
        sqlite3_stmt *st;
    } cache[FM__STMT_CACHE];
    size_t n_cache;
} fm__sqlite;

static inline fm__sqlite *fm__sq(fm_store *s)
{
    return (fm__sqlite *)s;
}

/* A cached, reset statement for `sql` (a string literal). NULL on error, with
 * `err` set. */
sqlite3_stmt *fm__sq_prep(fm__sqlite *q, const char *sql, fm_error *err);
/* Maps a SQLite result code to an fm_err, filling `err` with the message. */
int fm__sq_fail(fm__sqlite *q, int rc, fm_error *err);
/* Steps a statement expected to finish (INSERT/UPDATE/DELETE): FM_OK,
 * FM_EEXIST on a constraint, or the mapped error. Resets it after. */
int fm__sq_exec(fm__sqlite *q, sqlite3_stmt *st, fm_error *err);

/* Binding helpers: NULL strings and 0 ids bind SQL NULL where noted. */
void fm__sq_text(sqlite3_stmt *st, int i, const char *s);
void fm__sq_id(sqlite3_stmt *st, int i, fm_id id); /* 0 -> NULL */
char *fm__sq_col_dup(sqlite3_stmt *st, int i);     /* NULL column -> NULL */
int fm__sq_col_enum(sqlite3_stmt *st, int i, int (*parse)(const char *, int *), int dflt);

/* Steps a single-row SELECT: FM_OK with a row, FM_ENOTFOUND ("<what> not
 * found"), or an error. The caller resets the statement. */
int fm__sq_one_row(fm__sqlite *q, sqlite3_stmt *st, const char *what, fm_error *err);
/* Reads the row `st` selects into `out` (`size` bytes, zeroed first) with
 * `read`, and resets `st`: FM_OK, FM_ENOTFOUND ("<what> not found"), or an
 * error. If `read` fails, *out may hold what it read: the caller releases it. */
typedef int (*fm__sq_reader)(sqlite3_stmt *st, void *rec, fm_error *err);
int fm__sq_row(fm__sqlite *q, sqlite3_stmt *st, const char *what, fm__sq_reader read, void *out,
               size_t size, fm_error *err);
/* fm__sq_row for `sql` (a string literal) with ?1 bound to `id`: a _get. */
int fm__sq_get(fm__sqlite *q, const char *sql, fm_id id, const char *what, fm__sq_reader read,
               void *out, size_t size, fm_error *err);
/* Collects every row of `st` into a heap array of `size`-byte records, each
 * zeroed then filled by `read`; used by all the _list functions. */
int fm__sq_collect(fm__sqlite *q, sqlite3_stmt *st, size_t size, fm__sq_reader read,
                   void **out, size_t *n, fm_error *err);
/* fm__sq_collect for `sql` (a string literal) with ?1 bound to `id`: the
 * rows of one company, agent, run or thread. */
int fm__sq_list(fm__sqlite *q, const char *sql, fm_id id, size_t size, fm__sq_reader read,
                void **out, size_t *n, fm_error *err);
/* `t`, or now when `t` is 0. */
int64_t fm__sq_stamp(int64_t t);

extern const fm_store_ops fm__sqlite_ops;

/* Entity functions, one file per group. */
int fm__sq_company_insert(fm_store *s, fm_company *c, fm_error *err);
int fm__sq_company_update(fm_store *s, const fm_company *c, fm_error *err);
int fm__sq_company_get(fm_store *s, fm_id id, fm_company *out, fm_error *err);
int fm__sq_company_find(fm_store *s, const char *name, fm_company *out, fm_error *err);
int fm__sq_company_list(fm_store *s, fm_company **out, size_t *n, fm_error *err);
int fm__sq_member_insert(fm_store *s, fm_member *m, fm_error *err);
int fm__sq_member_update(fm_store *s, const fm_member *m, fm_error *err);
int fm__sq_member_delete(fm_store *s, fm_id id, fm_error *err);
int fm__sq_member_get(fm_store *s, fm_id id, fm_member *out, fm_error *err);
int fm__sq_member_find(fm_store *s, fm_id company, const char *handle, fm_member *out,
                       fm_error *err);
int fm__sq_member_list(fm_store *s, fm_id company, fm_member **out, size_t *n, fm_error *err);
int fm__sq_agent_insert(fm_store *s, fm_agent *a, fm_error *err);
int fm__sq_agent_update(fm_store *s, const fm_agent *a, fm_error *err);
int fm__sq_agent_get(fm_store *s, fm_id id, fm_agent *out, fm_error *err);
int fm__sq_agent_find(fm_store *s, fm_id company, const char *handle, fm_agent *out,
                      fm_error *err);
int fm__sq_agent_list(fm_store *s, fm_id company, bool brief, fm_agent **out, size_t *n,
                      fm_error *err);
int fm__sq_agent_reports(fm_store *s, fm_id manager, fm_agent **out, size_t *n, fm_error *err);
int fm__sq_goal_insert(fm_store *s, fm_goal *g, fm_error *err);
int fm__sq_goal_update(fm_store *s, const fm_goal *g, fm_error *err);
int fm__sq_goal_get(fm_store *s, fm_id id, fm_goal *out, fm_error *err);
int fm__sq_goal_list(fm_store *s, fm_id company, fm_goal **out, size_t *n, fm_error *err);

int fm__sq_task_insert(fm_store *s, fm_task *t, fm_error *err);
int fm__sq_task_update(fm_store *s, const fm_task *t, fm_error *err);
int fm__sq_task_get(fm_store *s, fm_id id, fm_task *out, fm_error *err);
int fm__sq_task_list(fm_store *s, const fm_task_filter *f, fm_task **out, size_t *n,
                     fm_error *err);
int fm__sq_task_checkout(fm_store *s, fm_id task, fm_id run, int64_t now, int64_t until,
                         fm_error *err);
int fm__sq_task_release(fm_store *s, fm_id task, fm_id run, fm_error *err);
int fm__sq_thread_insert(fm_store *s, fm_id company, const char *subject, fm_id task,
                         fm_id *id_out, fm_error *err);
int fm__sq_message_insert(fm_store *s, fm_message *m, fm_error *err);
int fm__sq_message_list(fm_store *s, fm_id thread, fm_message **out, size_t *n, fm_error *err);
int fm__sq_message_get(fm_store *s, fm_id id, fm_message *out, fm_error *err);
int fm__sq_thread_list(fm_store *s, fm_id company, fm_id task, fm_id before, size_t limit,
                       fm_thread **out, size_t *n, fm_error *err);
int fm__sq_thread_get(fm_store *s, fm_id id, fm_thread *out, fm_error *err);
int fm__sq_thread_of_task(fm_store *s, fm_id company, fm_id task, fm_id *id, fm_error *err);
/* Its query, for the test that checks the plan. */
extern const char fm__sq_thread_of_task_sql[];
int fm__sq_spend_daily(fm_store *s, fm_id company, fm_id agent, int64_t since,
                       fm_spend_day **out, size_t *n, fm_error *err);
int fm__sq_ledger_list(fm_store *s, fm_id company, fm_id agent, fm_id before, size_t limit,
                       fm_ledger_row **out, size_t *n, fm_error *err);
int fm__sq_ledger_insert(fm_store *s, const fm_ledger_entry *e, fm_error *err);
int fm__sq_ledger_spend(fm_store *s, fm_id company, int64_t since, fm_spend **out, size_t *n,
                        fm_error *err);

int fm__sq_audit_head(fm_store *s, fm_id company, int64_t *seq, unsigned char *hash,
                      fm_error *err);
int fm__sq_audit_insert(fm_store *s, fm_audit_event *e, fm_error *err);
int fm__sq_audit_scan(fm_store *s, const fm_audit_filter *f, fm_audit_cb cb, void *ctx,
                      fm_error *err);
int fm__sq_checkpoint_insert(fm_store *s, const fm_checkpoint *c, fm_error *err);
int fm__sq_checkpoint_last(fm_store *s, fm_id company, fm_checkpoint *out, fm_error *err);
int fm__sq_checkpoint_list(fm_store *s, fm_id company, fm_checkpoint **out, size_t *n,
                           fm_error *err);
int fm__sq_secret_put(fm_store *s, fm_id company, const char *name, const unsigned char *blob,
                      size_t len, fm_error *err);
int fm__sq_secret_get(fm_store *s, fm_id company, const char *name, unsigned char **blob,
                      size_t *len, fm_error *err);
int fm__sq_secret_list(fm_store *s, fm_id company, char ***names, int64_t **updated_at,
                       size_t *n, fm_error *err);
int fm__sq_secret_delete(fm_store *s, fm_id company, const char *name, fm_error *err);

int fm__sq_wake_insert(fm_store *s, fm_wake *w, fm_error *err);
int fm__sq_wake_pending(fm_store *s, fm_id after_id, int64_t now, size_t limit, fm_wake **out,
                        size_t *n, fm_error *err);
int fm__sq_wake_ready(fm_store *s, int64_t now, size_t limit, fm_wake **out, size_t *n,
                      fm_error *err);
int fm__sq_wake_take(fm_store *s, fm_id agent, fm_id run, int64_t now, size_t *taken,
                     fm_error *err);
int fm__sq_wake_of_run(fm_store *s, fm_id run, fm_wake **out, size_t *n, fm_error *err);
int fm__sq_wake_release(fm_store *s, fm_id run, fm_error *err);
int fm__sq_wake_done(fm_store *s, fm_id run, int64_t now, fm_error *err);
int fm__sq_run_insert(fm_store *s, fm_run *r, fm_error *err);
int fm__sq_run_update(fm_store *s, const fm_run *r, fm_error *err);
int fm__sq_run_get(fm_store *s, fm_id id, fm_run *out, fm_error *err);
int fm__sq_run_list_open(fm_store *s, fm_run **out, size_t *n, fm_error *err);
int fm__sq_run_list_agent(fm_store *s, fm_id agent, fm_id before, size_t limit, fm_run **out,
                          size_t *n, fm_error *err);
int fm__sq_step_insert(fm_store *s, fm_step *x, fm_error *err);
int fm__sq_step_update(fm_store *s, const fm_step *x, fm_error *err);
int fm__sq_step_list(fm_store *s, fm_id run, fm_step **out, size_t *n, fm_error *err);
int fm__sq_approval_insert(fm_store *s, fm_approval *a, fm_error *err);
int fm__sq_approval_update(fm_store *s, const fm_approval *a, fm_error *err);
int fm__sq_approval_get(fm_store *s, fm_id id, fm_approval *out, fm_error *err);
int fm__sq_approval_list(fm_store *s, fm_id company, int status, fm_approval **out, size_t *n,
                         fm_error *err);
int fm__sq_note_put(fm_store *s, fm_id agent, const char *key, const char *text, fm_error *err);
int fm__sq_note_list(fm_store *s, fm_id agent, char ***keys, char ***texts, size_t *n,
                     fm_error *err);
int fm__sq_timer_due(fm_store *s, int64_t now, size_t limit, fm_timer **out, size_t *n,
                     fm_error *err);
int fm__sq_timer_fire(fm_store *s, const fm_timer *t, int64_t now, bool *woke, fm_error *err);
int fm__sq_timer_next(fm_store *s, int64_t *at, fm_error *err);
int fm__sq_step_feed(fm_store *s, fm_id company, fm_id after, size_t limit,
                     fm_step_event **out, size_t *n, fm_error *err);
int fm__sq_step_last_id(fm_store *s, fm_id *id, fm_error *err);
int fm__sq_token_insert(fm_store *s, fm_token *t, fm_error *err);
int fm__sq_token_find(fm_store *s, const unsigned char hash[FM_HASH_BYTES], fm_token *out,
                      fm_error *err);
int fm__sq_token_revoke_run(fm_store *s, fm_id run, int64_t now, fm_error *err);
int fm__sq_token_list(fm_store *s, fm_id company, fm_token **out, size_t *n, fm_error *err);
int fm__sq_token_revoke(fm_store *s, fm_id company, fm_id id, int64_t now, fm_error *err);
int fm__sq_spend_of(fm_store *s, fm_id company, fm_id agent, int64_t since, int64_t *usd_micro,
                    int64_t *tokens, fm_error *err);
int fm__sq_ledger_open(fm_store *s, fm_id run, int64_t *usd_micro, int64_t *tokens,
                       fm_error *err);
/* The timer queries' SQL, for tests that check the plan uses the index. */
extern const char fm__sq_timer_due_sql[], fm__sq_timer_next_sql[];
int fm__sq_wake_count_pending(fm_store *s, int64_t *n, fm_error *err);
int fm__sq_approval_count_pending(fm_store *s, int64_t *n, fm_error *err);
/* Their queries, for the tests that check the plans. */
extern const char fm__sq_wake_count_sql[], fm__sq_approval_count_sql[];
/* Migration v4: sets next_timer_at of every active agent with a schedule,
 * counted from now. */
int fm__sq_timers_backfill(fm__sqlite *q, fm_error *err);

#endif
