/*
 * The SQLite store: wakes. A wake is written in the same transaction as the
 * change that causes it (a task assigned, a message sent), so no wake is lost
 * by a crash between the two. A run takes an agent's pending wakes together
 * (one task at most), which is how wakes arriving during a run coalesce into
 * the next.
 */
#include "core/store/sqlite_int.h"
#include "firma/base.h"

#include <stdlib.h>
#include <string.h>

void fm_wake_release(fm_wake *w)
{
    if (w) {
        free(w->payload);
        w->payload = NULL;
    }
}

int fm__sq_wake_insert(fm_store *s, fm_wake *w, fm_error *err)
{
    static const char sql[] = "INSERT INTO wakes(company_id, agent_id, kind, ref, payload, "
                              "created_at, due_at) VALUES(?1,?2,?3,?4,?5,?6,?7)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    w->created_at = fm__sq_stamp(w->created_at);
    sqlite3_bind_int64(st, 1, w->company_id);
    sqlite3_bind_int64(st, 2, w->agent_id);
    fm__sq_text(st, 3, fm_wake_kind_name(w->kind));
    sqlite3_bind_int64(st, 4, w->ref);
    fm__sq_text(st, 5, w->payload);
    sqlite3_bind_int64(st, 6, w->created_at);
    sqlite3_bind_int64(st, 7, w->due_at);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        w->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

static int read_wake(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_wake *w = rec;
    w->id = sqlite3_column_int64(st, 0);
    w->company_id = sqlite3_column_int64(st, 1);
    w->agent_id = sqlite3_column_int64(st, 2);
    w->kind = fm__sq_col_enum(st, 3, fm_wake_kind_parse, FM_WAKE_TASK);
    w->ref = sqlite3_column_int64(st, 4);
    w->payload = fm__sq_col_dup(st, 5);
    w->created_at = sqlite3_column_int64(st, 6);
    w->due_at = sqlite3_column_int64(st, 7);
    w->run_id = sqlite3_column_int64(st, 8);
    w->done_at = sqlite3_column_int64(st, 9);
    return FM_OK;
}

int fm__sq_wake_pending(fm_store *s, fm_id after_id, int64_t now, size_t limit, fm_wake **out,
                        size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT id, company_id, agent_id, kind, ref, payload, created_at, "
                              "due_at, run_id, done_at FROM wakes INDEXED BY wakes_untaken "
                              "WHERE done_at=0 AND run_id=0 "
                              "AND due_at<=?2 AND id>?1 ORDER BY id LIMIT ?3";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    return fm__sq_collect(q, st, sizeof **out, read_wake, (void **)out, n, err);
}

int fm__sq_wake_take(fm_store *s, fm_id agent, fm_id run, int64_t now, size_t *taken,
                     fm_error *err)
{
    /* Every pending wake but only the oldest task: messages, approvals and
     * timers coalesce into one run, while each task gets a run of its own,
     * which keeps a run's context on one piece of work. */
    static const char sql[] =
        "UPDATE wakes SET run_id=?2 WHERE agent_id=?1 AND done_at=0 AND run_id=0 AND due_at<=?3 "
        "AND (kind<>'task' OR id=(SELECT min(id) FROM wakes WHERE agent_id=?1 AND kind='task' "
        "AND done_at=0 AND run_id=0 AND due_at<=?3))";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, agent);
    sqlite3_bind_int64(st, 2, run);
    sqlite3_bind_int64(st, 3, now);
    int rc = fm__sq_exec(q, st, err);
    *taken = rc == FM_OK ? (size_t)sqlite3_changes(q->db) : 0;
    return rc;
}

static int read_ready(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_wake *w = rec;
    w->id = sqlite3_column_int64(st, 0);
    w->company_id = sqlite3_column_int64(st, 1);
    w->agent_id = sqlite3_column_int64(st, 2);
    return FM_OK;
}

int fm__sq_wake_ready(fm_store *s, int64_t now, size_t limit, fm_wake **out, size_t *n,
                      fm_error *err)
{
    static const char sql[] =
        "SELECT min(w.id), w.company_id, w.agent_id FROM wakes w INDEXED BY wakes_untaken "
        "JOIN agents a ON a.id=w.agent_id "
        "WHERE w.done_at=0 AND w.run_id=0 AND w.due_at<=?1 AND a.status='active' "
        "GROUP BY w.agent_id ORDER BY 1 LIMIT ?2";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    return fm__sq_collect(q, st, sizeof **out, read_ready, (void **)out, n, err);
}

int fm__sq_wake_of_run(fm_store *s, fm_id run, fm_wake **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT id, company_id, agent_id, kind, ref, payload, created_at, "
                              "due_at, run_id, done_at FROM wakes WHERE run_id=?1 ORDER BY id";
    return fm__sq_list(fm__sq(s), sql, run, sizeof **out, read_wake, (void **)out, n, err);
}

int fm__sq_wake_done(fm_store *s, fm_id run, int64_t now, fm_error *err)
{
    static const char sql[] = "UPDATE wakes SET done_at=?2 WHERE run_id=?1 AND done_at=0";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, now);
    return fm__sq_exec(q, st, err);
}

int fm__sq_wake_release(fm_store *s, fm_id run, fm_error *err)
{
    static const char sql[] = "UPDATE wakes SET run_id=0 WHERE run_id=?1 AND done_at=0";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, run);
    return fm__sq_exec(q, st, err);
}

/* The partial index holds only untaken wakes, so this visits those rows and
 * no others (SQLite rechecks each row against the index's WHERE). */
const char fm__sq_wake_count_sql[] = "SELECT count(*) FROM wakes INDEXED BY wakes_untaken "
                                     "WHERE done_at=0 AND run_id=0";

int fm__sq_wake_count_pending(fm_store *s, int64_t *n, fm_error *err)
{
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, fm__sq_wake_count_sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    int rc = fm__sq_one_row(q, st, "count", err);
    *n = rc == FM_OK ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc;
}
