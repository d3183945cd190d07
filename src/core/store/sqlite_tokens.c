/* The SQLite store: bearer tokens (by hash), a run's open reservations, and
 * spending totals for budget checks. */
#include "core/store/sqlite_int.h"
#include "firma/base.h"

#include <stdio.h>
#include <string.h>

static const char *const token_kinds[] = {"member", "agent"};

#define TOKEN_COLS                                                                     \
    "id, company_id, kind, member_id, agent_id, run_id, created_at, expires_at, "      \
    "revoked_at, name, role"

static int read_token(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_token *t = rec;
    t->id = sqlite3_column_int64(st, 0);
    t->company_id = sqlite3_column_int64(st, 1);
    const char *k = (const char *)sqlite3_column_text(st, 2);
    t->kind = k && strcmp(k, "agent") == 0 ? FM_TOKEN_AGENT : FM_TOKEN_MEMBER;
    t->member_id = sqlite3_column_int64(st, 3);
    t->agent_id = sqlite3_column_int64(st, 4);
    t->run_id = sqlite3_column_int64(st, 5);
    t->created_at = sqlite3_column_int64(st, 6);
    t->expires_at = sqlite3_column_int64(st, 7);
    t->revoked_at = sqlite3_column_int64(st, 8);
    const char *name = (const char *)sqlite3_column_text(st, 9);
    if (name)
        snprintf(t->name, sizeof t->name, "%s", name);
    /* An unreadable cap is the strictest one, never none. */
    const char *role = (const char *)sqlite3_column_text(st, 10);
    int r = FM_ROLE_OWNER;
    if (role && fm_role_parse(role, &r) != FM_OK)
        r = FM_ROLE_VIEWER;
    t->role_cap = (fm_role)r;
    return FM_OK;
}

int fm__sq_token_insert(fm_store *s, fm_token *t, fm_error *err)
{
    static const char sql[] = "INSERT INTO tokens(company_id, kind, member_id, agent_id, run_id, "
                              "hash, created_at, expires_at, revoked_at, name, role) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    t->created_at = fm__sq_stamp(t->created_at);
    sqlite3_bind_int64(st, 1, t->company_id);
    fm__sq_text(st, 2, token_kinds[t->kind]);
    sqlite3_bind_int64(st, 3, t->member_id);
    sqlite3_bind_int64(st, 4, t->agent_id);
    sqlite3_bind_int64(st, 5, t->run_id);
    sqlite3_bind_blob(st, 6, t->hash, FM_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, t->created_at);
    sqlite3_bind_int64(st, 8, t->expires_at);
    sqlite3_bind_int64(st, 9, t->revoked_at);
    fm__sq_text(st, 10, t->name[0] ? t->name : NULL);
    fm__sq_text(st, 11, t->role_cap != FM_ROLE_OWNER ? fm_role_name(t->role_cap) : NULL);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        t->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_token_find(fm_store *s, const unsigned char hash[FM_HASH_BYTES], fm_token *out,
                      fm_error *err)
{
    static const char sql[] = "SELECT " TOKEN_COLS " FROM tokens WHERE hash=?1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_blob(st, 1, hash, FM_HASH_BYTES, SQLITE_STATIC);
    int rc = fm__sq_row(q, st, "token", read_token, out, sizeof *out, err);
    if (rc == FM_OK)
        memcpy(out->hash, hash, FM_HASH_BYTES);
    return rc;
}

int fm__sq_token_revoke_run(fm_store *s, fm_id run, int64_t now, fm_error *err)
{
    static const char sql[] = "UPDATE tokens SET revoked_at=?2 WHERE run_id=?1 AND run_id!=0 "
                              "AND revoked_at=0";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, now);
    return fm__sq_exec(q, st, err);
}

int fm__sq_token_list(fm_store *s, fm_id company, fm_token **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT " TOKEN_COLS " FROM tokens WHERE company_id=?1 AND "
                              "kind='member' ORDER BY id";
    return fm__sq_list(fm__sq(s), sql, company, sizeof **out, read_token, (void **)out, n, err);
}

int fm__sq_token_revoke(fm_store *s, fm_id company, fm_id id, int64_t now, fm_error *err)
{
    static const char sql[] = "UPDATE tokens SET revoked_at=CASE WHEN revoked_at=0 THEN ?3 "
                              "ELSE revoked_at END WHERE id=?1 AND company_id=?2 AND "
                              "kind='member'";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, company);
    sqlite3_bind_int64(st, 3, now);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK && sqlite3_changes(q->db) == 0)
        return fm_error_set(err, FM_ENOTFOUND, "no token %lld in this company", (long long)id);
    return rc;
}

int fm__sq_ledger_open(fm_store *s, fm_id run, int64_t *usd_micro, int64_t *tokens,
                       fm_error *err)
{
    static const char sql[] = "SELECT coalesce(sum(usd_micro), 0), coalesce(sum(tokens_in), 0) "
                              "FROM ledger WHERE run_id=?1 AND run_id!=0 "
                              "AND kind IN ('reserve', 'release')";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, run);
    int rc = fm__sq_one_row(q, st, "ledger", err);
    *usd_micro = rc == FM_OK ? sqlite3_column_int64(st, 0) : 0;
    *tokens = rc == FM_OK ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    return rc;
}

int fm__sq_spend_of(fm_store *s, fm_id company, fm_id agent, int64_t since, int64_t *usd_micro,
                    int64_t *tokens, fm_error *err)
{
    static const char by_agent[] = "SELECT coalesce(sum(usd_micro), 0), coalesce(sum(tokens), 0) "
                                   "FROM spend_days WHERE company_id=?1 AND agent_id=?2 "
                                   "AND day>=?3";
    static const char by_company[] = "SELECT coalesce(sum(usd_micro), 0), "
                                     "coalesce(sum(tokens), 0) FROM spend_company_days "
                                     "WHERE company_id=?1 AND day>=?3 AND ?2=0";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, agent ? by_agent : by_company, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, agent);
    sqlite3_bind_int64(st, 3, since / 86400000000LL);
    int rc = fm__sq_one_row(q, st, "spending", err);
    *usd_micro = rc == FM_OK ? sqlite3_column_int64(st, 0) : 0;
    *tokens = rc == FM_OK ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    return rc;
}
