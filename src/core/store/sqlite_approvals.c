/* The SQLite store: approvals and agent notes. */
#include "core/store/sqlite_int.h"
#include "firma/base.h"

#include <stdlib.h>
#include <string.h>

static int prep_fail(fm_error *err)
{
    return err && err->code ? err->code : FM_ESTORE;
}

#define APPROVAL_COLS "id, company_id, agent_id, run_id, step_id, kind, tool, args, reason, " \
                      "approver, status, decided_by, why, created_at, decided_at"

static void bind_approval(sqlite3_stmt *st, const fm_approval *a)
{
    sqlite3_bind_int64(st, 1, a->company_id);
    sqlite3_bind_int64(st, 2, a->agent_id);
    sqlite3_bind_int64(st, 3, a->run_id);
    sqlite3_bind_int64(st, 4, a->step_id);
    fm__sq_text(st, 5, a->kind ? a->kind : "tool");
    fm__sq_text(st, 6, a->tool);
    fm__sq_text(st, 7, a->args);
    fm__sq_text(st, 8, a->reason);
    fm__sq_text(st, 9, a->approver);
    fm__sq_text(st, 10, fm_approval_status_name(a->status));
    fm__sq_text(st, 11, a->decided_by);
    fm__sq_text(st, 12, a->why);
    sqlite3_bind_int64(st, 13, a->created_at);
    sqlite3_bind_int64(st, 14, a->decided_at);
}

int fm__sq_approval_insert(fm_store *s, fm_approval *a, fm_error *err)
{
    static const char sql[] = "INSERT INTO approvals(company_id, agent_id, run_id, step_id, kind, "
                              "tool, args, reason, approver, status, decided_by, why, created_at, "
                              "decided_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    a->created_at = fm__sq_stamp(a->created_at);
    bind_approval(st, a);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        a->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_approval_update(fm_store *s, const fm_approval *a, fm_error *err)
{
    static const char sql[] = "UPDATE approvals SET company_id=?1, agent_id=?2, run_id=?3, "
                              "step_id=?4, kind=?5, tool=?6, args=?7, reason=?8, approver=?9, "
                              "status=?10, decided_by=?11, why=?12, created_at=?13, "
                              "decided_at=?14 WHERE id=?15";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    bind_approval(st, a);
    sqlite3_bind_int64(st, 15, a->id);
    return fm__sq_exec(q, st, err);
}

static int read_approval(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_approval *a = rec;
    a->id = sqlite3_column_int64(st, 0);
    a->company_id = sqlite3_column_int64(st, 1);
    a->agent_id = sqlite3_column_int64(st, 2);
    a->run_id = sqlite3_column_int64(st, 3);
    a->step_id = sqlite3_column_int64(st, 4);
    a->kind = fm__sq_col_dup(st, 5);
    a->tool = fm__sq_col_dup(st, 6);
    a->args = fm__sq_col_dup(st, 7);
    a->reason = fm__sq_col_dup(st, 8);
    a->approver = fm__sq_col_dup(st, 9);
    a->status = fm__sq_col_enum(st, 10, fm_approval_status_parse, FM_APPROVAL_PENDING);
    a->decided_by = fm__sq_col_dup(st, 11);
    a->why = fm__sq_col_dup(st, 12);
    a->created_at = sqlite3_column_int64(st, 13);
    a->decided_at = sqlite3_column_int64(st, 14);
    return FM_OK;
}

int fm__sq_approval_get(fm_store *s, fm_id id, fm_approval *out, fm_error *err)
{
    static const char sql[] = "SELECT " APPROVAL_COLS " FROM approvals WHERE id=?1";
    int rc = fm__sq_get(fm__sq(s), sql, id, "approval", read_approval, out, sizeof *out, err);
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, rc, "no approval %lld", (long long)id);
    return rc;
}

int fm__sq_approval_list(fm_store *s, fm_id company, int status, fm_approval **out, size_t *n,
                         fm_error *err)
{
    static const char sql[] = "SELECT " APPROVAL_COLS " FROM approvals WHERE company_id=?1 AND "
                              "(?2 IS NULL OR status=?2) ORDER BY id";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    sqlite3_bind_int64(st, 1, company);
    fm__sq_text(st, 2, status >= 0 ? fm_approval_status_name(status) : NULL);
    return fm__sq_collect(q, st, sizeof **out, read_approval, (void **)out, n, err);
}

/* Read from the (company, status) index alone, never the table: decided
 * approvals are in it too, but its entries are a few bytes each. */
const char fm__sq_approval_count_sql[] = "SELECT count(*) FROM approvals INDEXED BY "
                                         "approvals_pending WHERE status='pending'";

int fm__sq_approval_count_pending(fm_store *s, int64_t *n, fm_error *err)
{
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, fm__sq_approval_count_sql, err);
    if (!st)
        return prep_fail(err);
    int rc = fm__sq_one_row(q, st, "count", err);
    *n = rc == FM_OK ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc;
}

/* ---- notes ------------------------------------------------------------------------ */

int fm__sq_note_put(fm_store *s, fm_id agent, const char *key, const char *text, fm_error *err)
{
    static const char sql[] = "INSERT INTO notes(agent_id, key, body, updated_at) "
                              "VALUES(?1,?2,?3,?4) ON CONFLICT(agent_id, key) DO UPDATE SET "
                              "body=excluded.body, updated_at=excluded.updated_at";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    sqlite3_bind_int64(st, 1, agent);
    fm__sq_text(st, 2, key);
    fm__sq_text(st, 3, text ? text : "");
    sqlite3_bind_int64(st, 4, fm_now_us());
    return fm__sq_exec(q, st, err);
}

int fm__sq_note_list(fm_store *s, fm_id agent, char ***keys, char ***texts, size_t *n,
                     fm_error *err)
{
    static const char sql[] = "SELECT key, body FROM notes WHERE agent_id=?1 ORDER BY key";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    sqlite3_bind_int64(st, 1, agent);
    size_t len = 0, cap = 8;
    char **k = fm_xcalloc(cap, sizeof *k), **t = fm_xcalloc(cap, sizeof *t);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap *= 2;
            k = fm_xreallocarray(k, cap, sizeof *k);
            t = fm_xreallocarray(t, cap, sizeof *t);
        }
        k[len] = fm__sq_col_dup(st, 0);
        t[len++] = fm__sq_col_dup(st, 1);
    }
    sqlite3_reset(st);
    *keys = k;
    *texts = t;
    *n = len;
    return rc == SQLITE_DONE ? FM_OK : fm__sq_fail(q, rc, err);
}
