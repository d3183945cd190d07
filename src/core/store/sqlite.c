/*
 * The SQLite store: one file in WAL mode, opened per process.
 *
 * Schema changes are numbered migrations applied in order inside one
 * transaction each; PRAGMA user_version records the last one applied, so an
 * old database is upgraded in place the first time a newer firma opens it,
 * and a database from a newer firma is refused rather than misread.
 *
 * Statements are prepared once per connection and cached by the address of
 * their SQL text (always a string literal), which keeps hot paths such as
 * agent creation free of re-parsing.
 */
#include "core/store/sqlite_int.h"
#include "firma/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* v1: the company core. */
static const char schema_v1[] =
    "CREATE TABLE companies("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT, mission TEXT,"
    " budget_usd INTEGER NOT NULL DEFAULT 0, budget_tokens INTEGER NOT NULL DEFAULT 0,"
    " budget_period TEXT NOT NULL DEFAULT 'month', policies TEXT NOT NULL DEFAULT '{}',"
    " created_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE members("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES companies(id),"
    " handle TEXT NOT NULL, name TEXT, role TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " UNIQUE(company_id, handle)) STRICT;"
    "CREATE TABLE member_identities("
    " member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,"
    " company_id INTEGER NOT NULL, pos INTEGER NOT NULL, channel TEXT NOT NULL,"
    " ident TEXT NOT NULL, PRIMARY KEY(member_id, pos), UNIQUE(company_id, channel, ident))"
    " STRICT;"
    "CREATE TABLE agents("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES companies(id),"
    " handle TEXT NOT NULL, title TEXT NOT NULL,"
    " manager_agent INTEGER REFERENCES agents(id), manager_member INTEGER REFERENCES members(id),"
    " kind TEXT NOT NULL, model TEXT, command TEXT, autonomy INTEGER NOT NULL,"
    " grants TEXT NOT NULL DEFAULT '[]', budget_usd INTEGER NOT NULL DEFAULT 0,"
    " budget_tokens INTEGER NOT NULL DEFAULT 0, budget_period TEXT NOT NULL DEFAULT 'month',"
    " heartbeat_s INTEGER NOT NULL DEFAULT 0, cron TEXT, status TEXT NOT NULL,"
    " instructions TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE(company_id, handle)) STRICT;"
    "CREATE INDEX agents_manager ON agents(manager_agent);"
    "CREATE TABLE goals("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES companies(id),"
    " parent_id INTEGER REFERENCES goals(id), title TEXT NOT NULL, description TEXT,"
    " owner_agent INTEGER REFERENCES agents(id), status TEXT NOT NULL,"
    " created_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE tasks("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES companies(id),"
    " parent_id INTEGER REFERENCES tasks(id), goal_id INTEGER REFERENCES goals(id),"
    " title TEXT NOT NULL, body TEXT, creator TEXT NOT NULL,"
    " assignee INTEGER REFERENCES agents(id), status TEXT NOT NULL,"
    " priority INTEGER NOT NULL DEFAULT 2, due INTEGER NOT NULL DEFAULT 0, result TEXT,"
    " tainted INTEGER NOT NULL DEFAULT 0, checkout_run INTEGER NOT NULL DEFAULT 0,"
    " checkout_until INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX tasks_company_status ON tasks(company_id, status);"
    "CREATE INDEX tasks_assignee ON tasks(assignee, status);"
    "CREATE TABLE threads("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES companies(id),"
    " subject TEXT, task_id INTEGER REFERENCES tasks(id), created_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE messages("
    " id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL REFERENCES threads(id),"
    " company_id INTEGER NOT NULL, sender TEXT NOT NULL, body TEXT NOT NULL,"
    " tainted INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX messages_thread ON messages(thread_id, id);"
    "CREATE TABLE audit_events("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,"
    " details TEXT NOT NULL, prev BLOB NOT NULL, hash BLOB NOT NULL,"
    " UNIQUE(company_id, seq)) STRICT;"
    "CREATE TABLE audit_checkpoints("
    " company_id INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " hash BLOB NOT NULL, sig BLOB NOT NULL, PRIMARY KEY(company_id, seq)) STRICT;"
    "CREATE TABLE secrets("
    " company_id INTEGER NOT NULL REFERENCES companies(id), name TEXT NOT NULL,"
    " blob BLOB NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY(company_id, name)) STRICT;";

/* v2: what the runtime needs — wakes, runs and steps, approvals, the
 * spending ledger and agent notes. */
static const char schema_v2[] =
    "CREATE TABLE wakes("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, agent_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL, ref INTEGER NOT NULL DEFAULT 0, payload TEXT,"
    " created_at INTEGER NOT NULL, due_at INTEGER NOT NULL DEFAULT 0,"
    " run_id INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0,"
    " done_at INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX wakes_pending ON wakes(done_at, due_at);"
    "CREATE INDEX wakes_agent ON wakes(agent_id, done_at);"
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, agent_id INTEGER NOT NULL,"
    " status TEXT NOT NULL, reason TEXT, tainted INTEGER NOT NULL DEFAULT 0,"
    " lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0,"
    " started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX runs_agent ON runs(agent_id, id);"
    "CREATE INDEX runs_open ON runs(status) WHERE status IN ('queued','running','waiting');"
    "CREATE TABLE steps("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL,"
    " kind TEXT NOT NULL, status TEXT NOT NULL, tool TEXT, request TEXT, response TEXT,"
    " prompt_bytes INTEGER NOT NULL DEFAULT 0, tokens_in INTEGER NOT NULL DEFAULT 0,"
    " tokens_cached INTEGER NOT NULL DEFAULT 0, tokens_out INTEGER NOT NULL DEFAULT 0,"
    " usd_micro INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL,"
    " ended_at INTEGER NOT NULL DEFAULT 0, UNIQUE(run_id, seq)) STRICT;"
    "CREATE TABLE approvals("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, agent_id INTEGER NOT NULL,"
    " run_id INTEGER NOT NULL DEFAULT 0, step_id INTEGER NOT NULL DEFAULT 0,"
    " kind TEXT NOT NULL, tool TEXT, args TEXT, reason TEXT, approver TEXT,"
    " status TEXT NOT NULL, decided_by TEXT, why TEXT, created_at INTEGER NOT NULL,"
    " decided_at INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX approvals_pending ON approvals(company_id, status);"
    "CREATE TABLE ledger("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, agent_id INTEGER NOT NULL DEFAULT 0,"
    " run_id INTEGER NOT NULL DEFAULT 0, kind TEXT NOT NULL, usd_micro INTEGER NOT NULL,"
    " tokens_in INTEGER NOT NULL DEFAULT 0, tokens_cached INTEGER NOT NULL DEFAULT 0,"
    " tokens_out INTEGER NOT NULL DEFAULT 0, model TEXT, created_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX ledger_time ON ledger(company_id, created_at);"
    "CREATE TABLE notes("
    " id INTEGER PRIMARY KEY, agent_id INTEGER NOT NULL REFERENCES agents(id),"
    " key TEXT NOT NULL, body TEXT NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE(agent_id, key)) STRICT;";

/* v3: spending per agent per UTC day, kept by a trigger in the same
 * transaction as each ledger row, so a budget check reads a few rows per
 * agent instead of summing the whole ledger on every model call. */
static const char schema_v3[] =
    "CREATE TABLE spend_days("
    " company_id INTEGER NOT NULL, agent_id INTEGER NOT NULL, day INTEGER NOT NULL,"
    " usd_micro INTEGER NOT NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(company_id, agent_id, day)) STRICT, WITHOUT ROWID;"
    "INSERT INTO spend_days SELECT company_id, agent_id, created_at / 86400000000,"
    " SUM(usd_micro), SUM(tokens_in + tokens_out) FROM ledger GROUP BY 1, 2, 3;"
    "CREATE TRIGGER ledger_spend_days AFTER INSERT ON ledger BEGIN"
    " INSERT INTO spend_days(company_id, agent_id, day, usd_micro, tokens)"
    " VALUES(NEW.company_id, NEW.agent_id, NEW.created_at / 86400000000, NEW.usd_micro,"
    " NEW.tokens_in + NEW.tokens_out)"
    " ON CONFLICT(company_id, agent_id, day) DO UPDATE SET"
    " usd_micro = usd_micro + excluded.usd_micro, tokens = tokens + excluded.tokens;"
    "END;";

/* v4: agent timers. next_timer_at is when the agent's schedule next wakes
 * it (NULL: never, or not while it is paused or fired); the partial index
 * holds only agents with a timer, in time order, and is the queue the
 * runtime takes due timers from. Existing rows get their first time from
 * fm__sq_timers_backfill, in the same transaction (SQL cannot read cron). */
static const char schema_v4[] =
    "ALTER TABLE agents ADD COLUMN next_timer_at INTEGER;"
    "CREATE INDEX agents_timer ON agents(next_timer_at) WHERE next_timer_at IS NOT NULL;";

/* v5: bearer tokens, stored hashed (member tokens with a role for the API;
 * agent tokens scoped to one agent and one run), and the ledger by run, to
 * find what a run left reserved when it was cut off by a crash. */
static const char schema_v5[] =
    "CREATE TABLE tokens("
    " id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES companies(id),"
    " kind TEXT NOT NULL CHECK (kind IN ('member','agent')),"
    " member_id INTEGER NOT NULL DEFAULT 0, agent_id INTEGER NOT NULL DEFAULT 0,"
    " run_id INTEGER NOT NULL DEFAULT 0, hash BLOB NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,"
    " revoked_at INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX tokens_run ON tokens(run_id) WHERE run_id != 0;"
    "CREATE INDEX ledger_run ON ledger(run_id) WHERE run_id != 0;"
    /* Starting a run must not cost more with more runs in flight: wakes
     * by run, wakes nobody has taken yet, and a company's spending per day
     * (so a budget check reads two short ranges, not a row per agent). */
    "CREATE INDEX wakes_run ON wakes(run_id);"
    "DROP INDEX wakes_pending;"
    "CREATE INDEX wakes_untaken ON wakes(due_at) WHERE done_at = 0 AND run_id = 0;"
    "CREATE TABLE spend_company_days("
    " company_id INTEGER NOT NULL, day INTEGER NOT NULL,"
    " usd_micro INTEGER NOT NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(company_id, day)) STRICT, WITHOUT ROWID;"
    "INSERT INTO spend_company_days SELECT company_id, day, SUM(usd_micro), SUM(tokens)"
    " FROM spend_days GROUP BY 1, 2;"
    "CREATE TRIGGER ledger_spend_company_days AFTER INSERT ON ledger BEGIN"
    " INSERT INTO spend_company_days(company_id, day, usd_micro, tokens)"
    " VALUES(NEW.company_id, NEW.created_at / 86400000000, NEW.usd_micro,"
    " NEW.tokens_in + NEW.tokens_out)"
    " ON CONFLICT(company_id, day) DO UPDATE SET"
    " usd_micro = usd_micro + excluded.usd_micro, tokens = tokens + excluded.tokens;"
    "END;";

/* v6: member tokens get a name (for people listing them) and a role cap
 * (NULL: the member's own role), for the HTTP API. */
static const char schema_v6[] =
    "ALTER TABLE tokens ADD COLUMN name TEXT;"
    "ALTER TABLE tokens ADD COLUMN role TEXT;"
    "CREATE INDEX tokens_company ON tokens(company_id, kind);";

/* v7: threads by company and by task, for the API's thread list and a
 * task's comments. (The ledger gets no index for its pages: three rows a
 * model call make it the hottest table there is, and an index on it cost
 * the runtime about 8% of its steps per second; a page walks the ids down.) */
static const char schema_v7[] =
    "CREATE INDEX threads_company ON threads(company_id, id);"
    "CREATE INDEX threads_task ON threads(task_id) WHERE task_id IS NOT NULL;";

/* A migration: SQL, then optionally C for what SQL cannot compute, in one
 * transaction. */
static const struct migration {
    const char *sql;
    int (*then)(fm__sqlite *q, fm_error *err);
} migrations[] = {
    {schema_v1, NULL},
    {schema_v2, NULL},
    {schema_v3, NULL},
    {schema_v4, fm__sq_timers_backfill},
    {schema_v5, NULL},
    {schema_v6, NULL},
    {schema_v7, NULL},
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int fm_sqlite_latest_version(void)
{
    return N_MIGRATIONS;
}

int fm__sq_fail(fm__sqlite *q, int rc, fm_error *err)
{
    int prim = rc & 0xff;
    const char *msg = q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
    if (prim == SQLITE_CONSTRAINT)
        return fm_error_set(err, FM_EEXIST, "%s", msg);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return fm_error_set(err, FM_EBUSY, "database is busy: %s", msg);
    if (prim == SQLITE_FULL)
        return fm_error_set(err, FM_EIO, "%s: disk full: %s (nothing of this change was saved)",
                            q->base.path, msg);
    if (prim == SQLITE_IOERR || prim == SQLITE_CANTOPEN || prim == SQLITE_READONLY)
        return fm_error_set(err, FM_EIO, "%s: cannot write the database (disk full or not "
                                         "writable?): %s; nothing of this change was saved",
                            q->base.path, msg);
    return fm_error_set(err, FM_ESTORE, "database error: %s", msg);
}

sqlite3_stmt *fm__sq_prep(fm__sqlite *q, const char *sql, fm_error *err)
{
    for (size_t i = 0; i < q->n_cache; i++) {
        if (q->cache[i].sql == sql) {
            sqlite3_reset(q->cache[i].st);
            sqlite3_clear_bindings(q->cache[i].st);
            return q->cache[i].st;
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        fm__sq_fail(q, rc, err);
        return NULL;
    }
    if (q->n_cache < FM__STMT_CACHE) {
        q->cache[q->n_cache].sql = sql;
        q->cache[q->n_cache].st = st;
        q->n_cache++;
    } else {
        /* Cache full: a programming error (raise FM__STMT_CACHE), not a user one. */
        abort();
    }
    return st;
}

int fm__sq_exec(fm__sqlite *q, sqlite3_stmt *st, fm_error *err)
{
    int rc = sqlite3_step(st);
    int r = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? FM_OK : fm__sq_fail(q, rc, err);
    sqlite3_reset(st);
    return r;
}

void fm__sq_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void fm__sq_id(sqlite3_stmt *st, int i, fm_id id)
{
    if (id)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

char *fm__sq_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? fm_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

int fm__sq_col_enum(sqlite3_stmt *st, int i, int (*parse)(const char *, int *), int dflt)
{
    int v = dflt;
    parse((const char *)sqlite3_column_text(st, i), &v);
    return v;
}

/* Steps a single-row SELECT: FM_OK with a row, FM_ENOTFOUND, or an error. */
int fm__sq_one_row(fm__sqlite *q, sqlite3_stmt *st, const char *what, fm_error *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return FM_OK;
    if (rc == SQLITE_DONE)
        return fm_error_set(err, FM_ENOTFOUND, "%s not found", what);
    return fm__sq_fail(q, rc, err);
}

int fm__sq_row(fm__sqlite *q, sqlite3_stmt *st, const char *what, fm__sq_reader read, void *out,
               size_t size, fm_error *err)
{
    memset(out, 0, size);
    int rc = fm__sq_one_row(q, st, what, err);
    if (rc == FM_OK)
        rc = read(st, out, err);
    sqlite3_reset(st);
    return rc;
}

int fm__sq_get(fm__sqlite *q, const char *sql, fm_id id, const char *what, fm__sq_reader read,
               void *out, size_t size, fm_error *err)
{
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    return fm__sq_row(q, st, what, read, out, size, err);
}

/* Collects every row of `st` into a growing array of `size`-byte records with
 * `read` filling each; used by all the _list functions. */
int fm__sq_collect(fm__sqlite *q, sqlite3_stmt *st, size_t size, fm__sq_reader read, void **out,
                   size_t *n, fm_error *err)
{
    size_t len = 0, cap = 16;
    char *v = fm_xcalloc(cap, size);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            v = fm_xreallocarray(v, cap * 2, size);
            memset(v + cap * size, 0, cap * size);
            cap *= 2;
        }
        if (read(st, v + len * size, err) != FM_OK) {
            rc = SQLITE_CORRUPT;
            len++;
            break;
        }
        len++;
    }
    sqlite3_reset(st);
    *out = v;
    *n = len;
    if (rc != SQLITE_DONE)
        return err && err->code ? err->code : fm__sq_fail(q, rc, err);
    return FM_OK;
}

int fm__sq_list(fm__sqlite *q, const char *sql, fm_id id, size_t size, fm__sq_reader read,
                void **out, size_t *n, fm_error *err)
{
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    return fm__sq_collect(q, st, size, read, out, n, err);
}

int64_t fm__sq_stamp(int64_t t)
{
    return t ? t : fm_now_us();
}

static int run_sql(fm__sqlite *q, const char *sql, fm_error *err)
{
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? FM_OK : fm__sq_fail(q, rc, err);
}

static int user_version(fm__sqlite *q, int *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return FM_ESTORE;
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? FM_OK : FM_ESTORE;
}

/* Applies migrations (have, upto]; each in its own IMMEDIATE transaction so a
 * crash mid-way leaves the database at a whole version. */
static int migrate(fm__sqlite *q, int upto, fm_error *err)
{
    int have;
    if (user_version(q, &have) != FM_OK)
        return fm__sq_fail(q, sqlite3_errcode(q->db), err);
    if (have > N_MIGRATIONS)
        return fm_error_set(err, FM_ESCHEMA,
                            "%s: database schema version %d is newer than this firma "
                            "understands (%d); use a newer firma",
                            q->base.path, have, N_MIGRATIONS);
    for (int v = have + 1; v <= upto; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v);
        int rc = run_sql(q, "BEGIN IMMEDIATE", err);
        if (rc == FM_OK)
            rc = run_sql(q, migrations[v - 1].sql, err);
        if (rc == FM_OK && migrations[v - 1].then)
            rc = migrations[v - 1].then(q, err);
        if (rc == FM_OK)
            rc = run_sql(q, pragma, err);
        if (rc == FM_OK)
            rc = run_sql(q, "COMMIT", err);
        if (rc != FM_OK) {
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
            fm_error_prefix(err, "%s: upgrading schema to version %d: ", q->base.path, v);
            return rc;
        }
    }
    return FM_OK;
}

static void sq_close(fm_store *s)
{
    fm__sqlite *q = fm__sq(s);
    for (size_t i = 0; i < q->n_cache; i++)
        sqlite3_finalize(q->cache[i].st);
    sqlite3_close(q->db);
    free(q->base.path);
    free(q);
}

/* Transactions nest: the outermost is BEGIN IMMEDIATE ... COMMIT, inner ones
 * are savepoints, so an inner rollback undoes only its own part and the
 * outer transaction goes on. The runtime wraps a tool's step and the tool's
 * own transaction in one, so they commit together. */
static int sq_begin(fm_store *s, fm_error *err)
{
    fm__sqlite *q = fm__sq(s);
    char sql[48];
    if (sqlite3_get_autocommit(q->db))
        q->in_tx = 0; /* SQLite rolled a failed transaction back on its own */
    /* IMMEDIATE takes the write lock now, so the audit head read inside the
     * transaction cannot be raced by another writer. */
    if (q->in_tx == 0)
        snprintf(sql, sizeof sql, "BEGIN IMMEDIATE");
    else
        snprintf(sql, sizeof sql, "SAVEPOINT fm%d", q->in_tx);
    int rc = run_sql(q, sql, err);
    if (rc == FM_OK)
        q->in_tx++;
    return rc;
}

static int sq_commit(fm_store *s, fm_error *err)
{
    fm__sqlite *q = fm__sq(s);
    char sql[48];
    if (q->in_tx <= 1)
        snprintf(sql, sizeof sql, "COMMIT");
    else
        snprintf(sql, sizeof sql, "RELEASE fm%d", q->in_tx - 1);
    int rc = run_sql(q, sql, err);
    if (rc == FM_OK && q->in_tx > 0)
        q->in_tx--;
    return rc;
}

static void sq_rollback(fm_store *s)
{
    fm__sqlite *q = fm__sq(s);
    if (q->in_tx > 1) {
        char sql[64];
        snprintf(sql, sizeof sql, "ROLLBACK TO fm%d; RELEASE fm%d", q->in_tx - 1, q->in_tx - 1);
        if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK) {
            q->in_tx--;
            return;
        }
    }
    if (sqlite3_get_autocommit(q->db) == 0)
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    q->in_tx = 0;
}

static int sq_schema_version(fm_store *s, int *v)
{
    return user_version(fm__sq(s), v);
}

int fm_sqlite_open(const char *path, int max_version, fm_store **out, fm_error *err)
{
    fm__sqlite *q = fm_xcalloc(1, sizeof *q);
    q->base.ops = &fm__sqlite_ops;
    q->base.path = fm_xstrdup(path);
    int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        fm_error_set(err, FM_EIO, "%s: cannot open database: %s", path,
                     q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        sq_close(&q->base);
        return FM_EIO;
    }
    sqlite3_busy_timeout(q->db, 5000);
    rc = run_sql(q, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;", err);
    if (rc == FM_OK)
        rc = migrate(q, max_version < N_MIGRATIONS ? max_version : N_MIGRATIONS, err);
    if (rc != FM_OK) {
        if (err && !strstr(err->msg, path))
            fm_error_prefix(err, "%s: ", path);
        sq_close(&q->base);
        return rc;
    }
    *out = &q->base;
    return FM_OK;
}

int fm_store_open(const char *path, fm_store **out, fm_error *err)
{
    if (!path || !*path)
        return fm_error_set(err, FM_EINVAL, "no database path given");
    if (strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0)
        return fm_error_set(err, FM_EINVAL,
                            "%s: PostgreSQL is not supported by this build yet; use a SQLite "
                            "file path", path);
    return fm_sqlite_open(path, N_MIGRATIONS, out, err);
}

void fm_store_close(fm_store *s)
{
    if (s)
        s->ops->close(s);
}

const fm_store_ops fm__sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .schema_version = sq_schema_version,
    .company_insert = fm__sq_company_insert,
    .company_update = fm__sq_company_update,
    .company_get = fm__sq_company_get,
    .company_find = fm__sq_company_find,
    .company_list = fm__sq_company_list,
    .member_insert = fm__sq_member_insert,
    .member_update = fm__sq_member_update,
    .member_delete = fm__sq_member_delete,
    .member_get = fm__sq_member_get,
    .member_find = fm__sq_member_find,
    .member_list = fm__sq_member_list,
    .agent_insert = fm__sq_agent_insert,
    .agent_update = fm__sq_agent_update,
    .agent_get = fm__sq_agent_get,
    .agent_find = fm__sq_agent_find,
    .agent_list = fm__sq_agent_list,
    .agent_reports = fm__sq_agent_reports,
    .goal_insert = fm__sq_goal_insert,
    .goal_update = fm__sq_goal_update,
    .goal_get = fm__sq_goal_get,
    .goal_list = fm__sq_goal_list,
    .task_insert = fm__sq_task_insert,
    .task_update = fm__sq_task_update,
    .task_get = fm__sq_task_get,
    .task_list = fm__sq_task_list,
    .task_checkout = fm__sq_task_checkout,
    .task_release = fm__sq_task_release,
    .thread_insert = fm__sq_thread_insert,
    .message_insert = fm__sq_message_insert,
    .message_list = fm__sq_message_list,
    .message_get = fm__sq_message_get,
    .ledger_insert = fm__sq_ledger_insert,
    .ledger_spend = fm__sq_ledger_spend,
    .spend_daily = fm__sq_spend_daily,
    .ledger_list = fm__sq_ledger_list,
    .thread_list = fm__sq_thread_list,
    .thread_get = fm__sq_thread_get,
    .thread_of_task = fm__sq_thread_of_task,
    .audit_head = fm__sq_audit_head,
    .audit_insert = fm__sq_audit_insert,
    .audit_scan = fm__sq_audit_scan,
    .checkpoint_insert = fm__sq_checkpoint_insert,
    .checkpoint_last = fm__sq_checkpoint_last,
    .checkpoint_list = fm__sq_checkpoint_list,
    .secret_put = fm__sq_secret_put,
    .secret_get = fm__sq_secret_get,
    .secret_list = fm__sq_secret_list,
    .secret_delete = fm__sq_secret_delete,
    .wake_insert = fm__sq_wake_insert,
    .wake_pending = fm__sq_wake_pending,
    .wake_ready = fm__sq_wake_ready,
    .wake_take = fm__sq_wake_take,
    .wake_of_run = fm__sq_wake_of_run,
    .wake_done = fm__sq_wake_done,
    .wake_release = fm__sq_wake_release,
    .run_insert = fm__sq_run_insert,
    .run_update = fm__sq_run_update,
    .run_get = fm__sq_run_get,
    .run_list_open = fm__sq_run_list_open,
    .run_list_agent = fm__sq_run_list_agent,
    .step_insert = fm__sq_step_insert,
    .step_update = fm__sq_step_update,
    .step_list = fm__sq_step_list,
    .approval_insert = fm__sq_approval_insert,
    .approval_update = fm__sq_approval_update,
    .approval_get = fm__sq_approval_get,
    .approval_list = fm__sq_approval_list,
    .note_put = fm__sq_note_put,
    .note_list = fm__sq_note_list,
    .timer_due = fm__sq_timer_due,
    .timer_fire = fm__sq_timer_fire,
    .timer_next = fm__sq_timer_next,
    .step_feed = fm__sq_step_feed,
    .step_last_id = fm__sq_step_last_id,
    .token_insert = fm__sq_token_insert,
    .token_find = fm__sq_token_find,
    .token_revoke_run = fm__sq_token_revoke_run,
    .token_list = fm__sq_token_list,
    .token_revoke = fm__sq_token_revoke,
    .ledger_open = fm__sq_ledger_open,
    .spend_of = fm__sq_spend_of,
    .wake_count_pending = fm__sq_wake_count_pending,
    .approval_count_pending = fm__sq_approval_count_pending,
};
