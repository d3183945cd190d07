/* The SQLite store: tasks (with checkout leases), threads, messages, ledger. */
#include "core/store/sqlite_int.h"
#include "firma/base.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_COLS "id, company_id, parent_id, goal_id, title, body, creator, assignee, "    \
                  "status, priority, due, result, tainted, checkout_run, checkout_until, " \
                  "created_at, updated_at"

static void bind_task(sqlite3_stmt *st, const fm_task *t)
{
    sqlite3_bind_int64(st, 1, t->company_id);
    fm__sq_id(st, 2, t->parent_id);
    fm__sq_id(st, 3, t->goal_id);
    fm__sq_text(st, 4, t->title);
    fm__sq_text(st, 5, t->body);
    fm__sq_text(st, 6, t->creator ? t->creator : "system");
    fm__sq_id(st, 7, t->assignee);
    fm__sq_text(st, 8, fm_task_status_name(t->status));
    sqlite3_bind_int(st, 9, t->priority);
    sqlite3_bind_int64(st, 10, t->due);
    fm__sq_text(st, 11, t->result);
    sqlite3_bind_int(st, 12, t->tainted);
    sqlite3_bind_int64(st, 13, t->checkout_run);
    sqlite3_bind_int64(st, 14, t->checkout_until);
    sqlite3_bind_int64(st, 15, t->created_at);
    sqlite3_bind_int64(st, 16, t->updated_at);
}

int fm__sq_task_insert(fm_store *s, fm_task *t, fm_error *err)
{
    static const char sql[] =
        "INSERT INTO tasks(company_id, parent_id, goal_id, title, body, creator, assignee, "
        "status, priority, due, result, tainted, checkout_run, checkout_until, created_at, "
        "updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    t->created_at = fm__sq_stamp(t->created_at);
    t->updated_at = t->updated_at ? t->updated_at : t->created_at;
    bind_task(st, t);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        t->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_task_update(fm_store *s, const fm_task *t, fm_error *err)
{
    static const char sql[] =
        "UPDATE tasks SET company_id=?1, parent_id=?2, goal_id=?3, title=?4, body=?5, "
        "creator=?6, assignee=?7, status=?8, priority=?9, due=?10, result=?11, tainted=?12, "
        "checkout_run=?13, checkout_until=?14, created_at=?15, updated_at=?16 WHERE id=?17";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    bind_task(st, t);
    sqlite3_bind_int64(st, 17, t->id);
    return fm__sq_exec(q, st, err);
}

static int read_task(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_task *t = rec;
    t->id = sqlite3_column_int64(st, 0);
    t->company_id = sqlite3_column_int64(st, 1);
    t->parent_id = sqlite3_column_int64(st, 2);
    t->goal_id = sqlite3_column_int64(st, 3);
    t->title = fm__sq_col_dup(st, 4);
    t->body = fm__sq_col_dup(st, 5);
    t->creator = fm__sq_col_dup(st, 6);
    t->assignee = sqlite3_column_int64(st, 7);
    t->status = fm__sq_col_enum(st, 8, fm_task_status_parse, FM_TASK_TODO);
    t->priority = sqlite3_column_int(st, 9);
    t->due = sqlite3_column_int64(st, 10);
    t->result = fm__sq_col_dup(st, 11);
    t->tainted = sqlite3_column_int(st, 12) != 0;
    t->checkout_run = sqlite3_column_int64(st, 13);
    t->checkout_until = sqlite3_column_int64(st, 14);
    t->created_at = sqlite3_column_int64(st, 15);
    t->updated_at = sqlite3_column_int64(st, 16);
    return FM_OK;
}

int fm__sq_task_get(fm_store *s, fm_id id, fm_task *out, fm_error *err)
{
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks WHERE id=?1";
    int rc = fm__sq_get(fm__sq(s), sql, id, "task", read_task, out, sizeof *out, err);
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, FM_ENOTFOUND, "no task %lld", (long long)id);
    return rc;
}

int fm__sq_task_list(fm_store *s, const fm_task_filter *f, fm_task **out, size_t *n,
                     fm_error *err)
{
    /* One statement covers every filter: a NULL parameter matches all. */
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks WHERE company_id=?1 "
                              "AND (?2 IS NULL OR status=?2) AND (?3 IS NULL OR assignee=?3) "
                              "AND (?4 IS NULL OR goal_id=?4) AND id>?6 ORDER BY id LIMIT ?5";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, f->company_id);
    fm__sq_text(st, 2, f->status >= 0 ? fm_task_status_name(f->status) : NULL);
    fm__sq_id(st, 3, f->assignee);
    fm__sq_id(st, 4, f->goal_id);
    sqlite3_bind_int64(st, 5, f->limit ? (int64_t)f->limit : -1);
    sqlite3_bind_int64(st, 6, f->after_id);
    return fm__sq_collect(q, st, sizeof **out, read_task, (void **)out, n, err);
}

int fm__sq_task_checkout(fm_store *s, fm_id task, fm_id run, int64_t now, int64_t until,
                         fm_error *err)
{
    /* A single conditional UPDATE: whoever's row count is 1 holds the lease,
     * so two runs racing for one task cannot both win. */
    static const char sql[] = "UPDATE tasks SET checkout_run=?2, checkout_until=?3 WHERE id=?1 "
                              "AND (checkout_run=0 OR checkout_run=?2 OR checkout_until<=?4)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int64(st, 2, run);
    sqlite3_bind_int64(st, 3, until);
    sqlite3_bind_int64(st, 4, now);
    int rc = fm__sq_exec(q, st, err);
    if (rc != FM_OK)
        return rc;
    if (sqlite3_changes(q->db) == 1)
        return FM_OK;
    fm_task t;
    rc = fm__sq_task_get(s, task, &t, err);
    if (rc != FM_OK)
        return rc;
    rc = fm_error_set(err, FM_ECONFLICT, "task %lld is checked out by run %lld",
                      (long long)task, (long long)t.checkout_run);
    fm_task_release(&t);
    return rc;
}

int fm__sq_task_release(fm_store *s, fm_id task, fm_id run, fm_error *err)
{
    static const char sql[] = "UPDATE tasks SET checkout_run=0, checkout_until=0 "
                              "WHERE id=?1 AND checkout_run=?2";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int64(st, 2, run);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK && sqlite3_changes(q->db) != 1)
        return fm_error_set(err, FM_ECONFLICT, "run %lld does not hold task %lld",
                            (long long)run, (long long)task);
    return rc;
}

/* ---- threads and messages --------------------------------------------------- */

int fm__sq_thread_insert(fm_store *s, fm_id company, const char *subject, fm_id task,
                         fm_id *id_out, fm_error *err)
{
    static const char sql[] = "INSERT INTO threads(company_id, subject, task_id, created_at) "
                              "VALUES(?1,?2,?3,?4)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    fm__sq_text(st, 2, subject);
    fm__sq_id(st, 3, task);
    sqlite3_bind_int64(st, 4, fm_now_us());
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        *id_out = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_message_insert(fm_store *s, fm_message *m, fm_error *err)
{
    static const char sql[] = "INSERT INTO messages(thread_id, company_id, sender, body, "
                              "tainted, created_at) VALUES(?1,?2,?3,?4,?5,?6)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    m->created_at = fm__sq_stamp(m->created_at);
    sqlite3_bind_int64(st, 1, m->thread_id);
    sqlite3_bind_int64(st, 2, m->company_id);
    fm__sq_text(st, 3, m->sender);
    fm__sq_text(st, 4, m->body ? m->body : "");
    sqlite3_bind_int(st, 5, m->tainted);
    sqlite3_bind_int64(st, 6, m->created_at);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        m->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

static int read_message(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_message *m = rec;
    m->id = sqlite3_column_int64(st, 0);
    m->thread_id = sqlite3_column_int64(st, 1);
    m->company_id = sqlite3_column_int64(st, 2);
    m->sender = fm__sq_col_dup(st, 3);
    m->body = fm__sq_col_dup(st, 4);
    m->tainted = sqlite3_column_int(st, 5) != 0;
    m->created_at = sqlite3_column_int64(st, 6);
    return FM_OK;
}

int fm__sq_message_list(fm_store *s, fm_id thread, fm_message **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT id, thread_id, company_id, sender, body, tainted, "
                              "created_at FROM messages WHERE thread_id=?1 ORDER BY id";
    return fm__sq_list(fm__sq(s), sql, thread, sizeof **out, read_message, (void **)out, n, err);
}

int fm__sq_message_get(fm_store *s, fm_id id, fm_message *out, fm_error *err)
{
    static const char sql[] = "SELECT id, thread_id, company_id, sender, body, tainted, "
                              "created_at FROM messages WHERE id=?1";
    return fm__sq_get(fm__sq(s), sql, id, "message", read_message, out, sizeof *out, err);
}

static int read_thread(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_thread *t = rec;
    (void)err;
    t->id = sqlite3_column_int64(st, 0);
    t->company_id = sqlite3_column_int64(st, 1);
    t->task_id = sqlite3_column_int64(st, 2);
    t->subject = fm__sq_col_dup(st, 3);
    t->created_at = sqlite3_column_int64(st, 4);
    t->n_messages = sqlite3_column_int64(st, 5);
    t->last_at = sqlite3_column_int64(st, 6);
    return FM_OK;
}

#define THREAD_COLS                                                                        \
    "SELECT t.id, t.company_id, coalesce(t.task_id, 0), t.subject, t.created_at, "         \
    "(SELECT count(*) FROM messages m WHERE m.thread_id=t.id), "                            \
    "coalesce((SELECT max(m.created_at) FROM messages m WHERE m.thread_id=t.id), 0) "      \
    "FROM threads t "

int fm__sq_thread_list(fm_store *s, fm_id company, fm_id task, fm_id before, size_t limit,
                       fm_thread **out, size_t *n, fm_error *err)
{
    static const char all[] = THREAD_COLS "WHERE t.company_id=?1 AND t.id<?3 "
                                          "ORDER BY t.id DESC LIMIT ?4";
    static const char of_task[] = THREAD_COLS "WHERE t.task_id=?2 AND t.company_id=?1 "
                                              "AND t.id<?3 ORDER BY t.id DESC LIMIT ?4";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, task ? of_task : all, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, task);
    sqlite3_bind_int64(st, 3, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int64(st, 4, limit ? (int64_t)limit : -1);
    return fm__sq_collect(q, st, sizeof **out, read_thread, (void **)out, n, err);
}

int fm__sq_thread_get(fm_store *s, fm_id id, fm_thread *out, fm_error *err)
{
    static const char sql[] = THREAD_COLS "WHERE t.id=?1";
    return fm__sq_get(fm__sq(s), sql, id, "thread", read_thread, out, sizeof *out, err);
}

const char fm__sq_thread_of_task_sql[] = "SELECT id FROM threads WHERE task_id=?2 "
                                         "AND company_id=?1 ORDER BY id LIMIT 1";

int fm__sq_thread_of_task(fm_store *s, fm_id company, fm_id task, fm_id *id, fm_error *err)
{
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, fm__sq_thread_of_task_sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, task);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? FM_OK : fm__sq_fail(q, rc, err);
    sqlite3_reset(st);
    return rc;
}

/* ---- ledger ------------------------------------------------------------------ */

int fm__sq_ledger_insert(fm_store *s, const fm_ledger_entry *e, fm_error *err)
{
    static const char sql[] = "INSERT INTO ledger(company_id, agent_id, run_id, kind, usd_micro, "
                              "tokens_in, tokens_cached, tokens_out, model, created_at) "
                              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, e->company_id);
    sqlite3_bind_int64(st, 2, e->agent_id);
    sqlite3_bind_int64(st, 3, e->run_id);
    fm__sq_text(st, 4, e->kind);
    sqlite3_bind_int64(st, 5, e->usd_micro);
    sqlite3_bind_int64(st, 6, e->tokens_in);
    sqlite3_bind_int64(st, 7, e->tokens_cached);
    sqlite3_bind_int64(st, 8, e->tokens_out);
    fm__sq_text(st, 9, e->model);
    sqlite3_bind_int64(st, 10, fm__sq_stamp(e->created_at));
    return fm__sq_exec(q, st, err);
}

static int read_spend(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_spend *p = rec;
    p->agent_id = sqlite3_column_int64(st, 0);
    p->usd_micro = sqlite3_column_int64(st, 1);
    p->tokens = sqlite3_column_int64(st, 2);
    return FM_OK;
}

int fm__sq_ledger_spend(fm_store *s, fm_id company, int64_t since, fm_spend **out, size_t *n,
                        fm_error *err)
{
    static const char sql[] =
        "SELECT agent_id, SUM(usd_micro), SUM(tokens) FROM spend_days "
        "WHERE company_id=?1 AND day>=?2 GROUP BY agent_id "
        "UNION ALL SELECT -1, COALESCE(SUM(usd_micro),0), COALESCE(SUM(tokens),0) "
        "FROM spend_days WHERE company_id=?1 AND day>=?2";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, since / 86400000000LL);
    return fm__sq_collect(q, st, sizeof **out, read_spend, (void **)out, n, err);
}

static int read_spend_day(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_spend_day *p = rec;
    (void)err;
    p->agent_id = sqlite3_column_int64(st, 0);
    p->day = sqlite3_column_int64(st, 1);
    p->usd_micro = sqlite3_column_int64(st, 2);
    p->tokens = sqlite3_column_int64(st, 3);
    return FM_OK;
}

int fm__sq_spend_daily(fm_store *s, fm_id company, fm_id agent, int64_t since,
                       fm_spend_day **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT agent_id, day, usd_micro, tokens FROM spend_days "
                              "WHERE company_id=?1 AND day>=?2 AND (?3=0 OR agent_id=?3) "
                              "ORDER BY day, agent_id";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, since / 86400000000LL);
    sqlite3_bind_int64(st, 3, agent);
    return fm__sq_collect(q, st, sizeof **out, read_spend_day, (void **)out, n, err);
}

static int read_ledger(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_ledger_row *r = rec;
    (void)err;
    r->id = sqlite3_column_int64(st, 0);
    r->company_id = sqlite3_column_int64(st, 1);
    r->agent_id = sqlite3_column_int64(st, 2);
    r->run_id = sqlite3_column_int64(st, 3);
    const unsigned char *k = sqlite3_column_text(st, 4);
    snprintf(r->kind, sizeof r->kind, "%s", k ? (const char *)k : "");
    r->usd_micro = sqlite3_column_int64(st, 5);
    r->tokens_in = sqlite3_column_int64(st, 6);
    r->tokens_cached = sqlite3_column_int64(st, 7);
    r->tokens_out = sqlite3_column_int64(st, 8);
    r->model = fm__sq_col_dup(st, 9);
    r->created_at = sqlite3_column_int64(st, 10);
    return FM_OK;
}

int fm__sq_ledger_list(fm_store *s, fm_id company, fm_id agent, fm_id before, size_t limit,
                       fm_ledger_row **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT id, company_id, agent_id, run_id, kind, usd_micro, "
                              "tokens_in, tokens_cached, tokens_out, model, created_at "
                              "FROM ledger NOT INDEXED " /* down the ids from ?2 */
                              "WHERE id<?2 AND company_id=?1 AND (?3=0 OR agent_id=?3) "
                              "ORDER BY id DESC LIMIT ?4";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int64(st, 3, agent);
    sqlite3_bind_int64(st, 4, limit ? (int64_t)limit : -1);
    return fm__sq_collect(q, st, sizeof **out, read_ledger, (void **)out, n, err);
}
