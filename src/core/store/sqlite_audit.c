/* The SQLite store: audit events, signed checkpoints and sealed secrets. */
#include "core/store/sqlite_int.h"
#include "firma/base.h"

#include <stdlib.h>
#include <string.h>

static void copy_blob(sqlite3_stmt *st, int i, unsigned char *dst, size_t n)
{
    const void *p = sqlite3_column_blob(st, i);
    size_t len = (size_t)sqlite3_column_bytes(st, i);
    memset(dst, 0, n);
    if (p)
        memcpy(dst, p, len < n ? len : n);
}

int fm__sq_audit_head(fm_store *s, fm_id company, int64_t *seq, unsigned char *hash,
                      fm_error *err)
{
    static const char sql[] = "SELECT seq, hash FROM audit_events WHERE company_id=?1 "
                              "ORDER BY seq DESC LIMIT 1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        copy_blob(st, 1, hash, FM_HASH_BYTES);
    } else if (rc == SQLITE_DONE) {
        *seq = 0;
        memset(hash, 0, FM_HASH_BYTES);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FM_OK : fm__sq_fail(q, rc, err);
}

int fm__sq_audit_insert(fm_store *s, fm_audit_event *e, fm_error *err)
{
    static const char sql[] = "INSERT INTO audit_events(company_id, seq, ts, actor, action, "
                              "object, details, prev, hash) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, e->company_id);
    sqlite3_bind_int64(st, 2, e->seq);
    sqlite3_bind_int64(st, 3, e->ts);
    fm__sq_text(st, 4, e->actor);
    fm__sq_text(st, 5, e->action);
    fm__sq_text(st, 6, e->object);
    fm__sq_text(st, 7, e->details ? e->details : "{}");
    sqlite3_bind_blob(st, 8, e->prev, FM_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, e->hash, FM_HASH_BYTES, SQLITE_STATIC);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        e->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

/* Columns are read as they are stored, without assuming they are well
 * formed: verification must see exactly what an attacker left. */
static void read_event(sqlite3_stmt *st, fm_audit_event *e)
{
    e->id = sqlite3_column_int64(st, 0);
    e->company_id = sqlite3_column_int64(st, 1);
    e->seq = sqlite3_column_int64(st, 2);
    e->ts = sqlite3_column_int64(st, 3);
    e->actor = (char *)sqlite3_column_text(st, 4);
    e->action = (char *)sqlite3_column_text(st, 5);
    e->object = (char *)sqlite3_column_text(st, 6);
    e->details = (char *)sqlite3_column_text(st, 7);
    copy_blob(st, 8, e->prev, FM_HASH_BYTES);
    copy_blob(st, 9, e->hash, FM_HASH_BYTES);
}

int fm__sq_audit_scan(fm_store *s, const fm_audit_filter *f, fm_audit_cb cb, void *ctx,
                      fm_error *err)
{
    /* Ordered by row id, not seq: a verifier must notice rows whose seq was
     * rewritten to hide a reordering. */
#define AUDIT_SCAN(order)                                                                  \
    "SELECT id, company_id, seq, ts, actor, action, object, details, prev, hash "          \
    "FROM audit_events WHERE company_id=?1 AND seq>?2 AND (?3 IS NULL OR actor=?3) "       \
    "AND (?4 IS NULL OR substr(action,1,length(?4))=?4) AND (?5 IS NULL OR object=?5) "    \
    "AND (?7=0 OR seq<?7) ORDER BY id " order " LIMIT ?6"
    static const char asc[] = AUDIT_SCAN("ASC");
    static const char desc[] = AUDIT_SCAN("DESC");
#undef AUDIT_SCAN
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, f->newest_first ? desc : asc, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, f->company_id);
    sqlite3_bind_int64(st, 2, f->after_seq);
    fm__sq_text(st, 3, f->actor);
    fm__sq_text(st, 4, f->action);
    fm__sq_text(st, 5, f->object);
    sqlite3_bind_int64(st, 6, f->limit ? (int64_t)f->limit : -1);
    sqlite3_bind_int64(st, 7, f->before_seq);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        fm_audit_event e;
        read_event(st, &e);
        stop = cb(&e, ctx);
    }
    sqlite3_reset(st);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? FM_OK : fm__sq_fail(q, rc, err);
}

/* ---- checkpoints -------------------------------------------------------------- */

int fm__sq_checkpoint_insert(fm_store *s, const fm_checkpoint *c, fm_error *err)
{
    static const char sql[] = "INSERT OR REPLACE INTO audit_checkpoints(company_id, seq, ts, "
                              "hash, sig) VALUES(?1,?2,?3,?4,?5)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, c->company_id);
    sqlite3_bind_int64(st, 2, c->seq);
    sqlite3_bind_int64(st, 3, c->ts);
    sqlite3_bind_blob(st, 4, c->hash, FM_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, c->sig, sizeof c->sig, SQLITE_STATIC);
    return fm__sq_exec(q, st, err);
}

static int read_checkpoint(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_checkpoint *c = rec;
    c->company_id = sqlite3_column_int64(st, 0);
    c->seq = sqlite3_column_int64(st, 1);
    c->ts = sqlite3_column_int64(st, 2);
    copy_blob(st, 3, c->hash, FM_HASH_BYTES);
    copy_blob(st, 4, c->sig, sizeof c->sig);
    return FM_OK;
}

int fm__sq_checkpoint_last(fm_store *s, fm_id company, fm_checkpoint *out, fm_error *err)
{
    static const char sql[] = "SELECT company_id, seq, ts, hash, sig FROM audit_checkpoints "
                              "WHERE company_id=?1 ORDER BY seq DESC LIMIT 1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    int rc = fm__sq_one_row(q, st, "checkpoint", err);
    if (rc == FM_OK)
        read_checkpoint(st, out, err);
    sqlite3_reset(st);
    return rc;
}

int fm__sq_checkpoint_list(fm_store *s, fm_id company, fm_checkpoint **out, size_t *n,
                           fm_error *err)
{
    static const char sql[] = "SELECT company_id, seq, ts, hash, sig FROM audit_checkpoints "
                              "WHERE company_id=?1 ORDER BY seq";
    return fm__sq_list(fm__sq(s), sql, company, sizeof **out, read_checkpoint,
                       (void **)out, n, err);
}

/* ---- secrets ------------------------------------------------------------------ */

int fm__sq_secret_put(fm_store *s, fm_id company, const char *name, const unsigned char *blob,
                      size_t len, fm_error *err)
{
    static const char sql[] = "INSERT INTO secrets(company_id, name, blob, created_at, "
                              "updated_at) VALUES(?1,?2,?3,?4,?4) ON CONFLICT(company_id, name) "
                              "DO UPDATE SET blob=excluded.blob, updated_at=excluded.updated_at";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    fm__sq_text(st, 2, name);
    sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, fm_now_us());
    return fm__sq_exec(q, st, err);
}

int fm__sq_secret_get(fm_store *s, fm_id company, const char *name, unsigned char **blob,
                      size_t *len, fm_error *err)
{
    static const char sql[] = "SELECT blob FROM secrets WHERE company_id=?1 AND name=?2";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    fm__sq_text(st, 2, name);
    int rc = fm__sq_one_row(q, st, "secret", err);
    if (rc == FM_OK) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *blob = fm_xmalloc(*len);
        if (*len)
            memcpy(*blob, sqlite3_column_blob(st, 0), *len);
    } else if (rc == FM_ENOTFOUND) {
        fm_error_set(err, FM_ENOTFOUND, "no secret named '%s'", name);
    }
    sqlite3_reset(st);
    return rc;
}

int fm__sq_secret_list(fm_store *s, fm_id company, char ***names, int64_t **updated_at,
                       size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT name, updated_at FROM secrets WHERE company_id=?1 "
                              "ORDER BY name";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    size_t len = 0, cap = 8;
    char **v = fm_xcalloc(cap, sizeof *v);
    int64_t *t = fm_xcalloc(cap, sizeof *t);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap *= 2;
            v = fm_xreallocarray(v, cap, sizeof *v);
            t = fm_xreallocarray(t, cap, sizeof *t);
        }
        v[len] = fm__sq_col_dup(st, 0);
        t[len++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    *names = v;
    *updated_at = t;
    *n = len;
    return rc == SQLITE_DONE ? FM_OK : fm__sq_fail(q, rc, err);
}

int fm__sq_secret_delete(fm_store *s, fm_id company, const char *name, fm_error *err)
{
    static const char sql[] = "DELETE FROM secrets WHERE company_id=?1 AND name=?2";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    fm__sq_text(st, 2, name);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK && sqlite3_changes(q->db) == 0)
        return fm_error_set(err, FM_ENOTFOUND, "no secret named '%s'", name);
    return rc;
}
