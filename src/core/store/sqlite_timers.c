/*
 * The SQLite store: agent timers (store.h, "timers").
 *
 * There is no timer table and no timer in memory: agents.next_timer_at,
 * with the partial index agents_timer over the rows that have one, is the
 * priority queue. The earliest timer is the index's first entry; the due
 * ones are a range scan from its start, so finding them costs O(due) and
 * an agent without a schedule, or paused, is not in the index at all.
 *
 * Firing is compare-and-set on next_timer_at (the value timer_due read), so
 * when several processes share a database a slot fires once, whoever gets
 * there first; the loser sees a different value and does nothing.
 */
#include "core/store/sqlite_int.h"
#include "firma/base.h"
#include "firma/schedule.h"

#include <jansson.h>
#include <stdlib.h>

static int read_timer(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_timer *t = rec;
    t->agent_id = sqlite3_column_int64(st, 0);
    t->company_id = sqlite3_column_int64(st, 1);
    t->due_at = sqlite3_column_int64(st, 2);
    return FM_OK;
}

/* "IS NOT NULL" repeats the index's condition so the planner may use it. */
const char fm__sq_timer_due_sql[] = "SELECT id, company_id, next_timer_at FROM agents "
                                    "WHERE next_timer_at IS NOT NULL AND next_timer_at<=?1 "
                                    "ORDER BY next_timer_at LIMIT ?2";
const char fm__sq_timer_next_sql[] = "SELECT min(next_timer_at) FROM agents "
                                     "WHERE next_timer_at IS NOT NULL";

int fm__sq_timer_due(fm_store *s, int64_t now, size_t limit, fm_timer **out, size_t *n,
                     fm_error *err)
{
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, fm__sq_timer_due_sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    return fm__sq_collect(q, st, sizeof **out, read_timer, (void **)out, n, err);
}

int fm__sq_timer_next(fm_store *s, int64_t *at, fm_error *err)
{
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, fm__sq_timer_next_sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    int rc = fm__sq_one_row(q, st, "timer", err);
    *at = rc == FM_OK ? sqlite3_column_int64(st, 0) : 0; /* NULL reads as 0 */
    sqlite3_reset(st);
    return rc;
}

/* What a timer due at `due` (microseconds) is, for the agent to read: the
 * cron line if it names that minute, else the heartbeat; NULL when the
 * schedule has neither. The caller frees it. */
static char *timer_payload(const fm_schedule *sc, int64_t due)
{
    fm_cron c;
    json_t *j = NULL;
    if (sc->cron && due % 60000000 == 0 && fm_cron_parse(sc->cron, &c, NULL, 0) == FM_OK &&
        fm_cron_matches(&c, due / 1000000))
        j = json_pack("{s:s, s:s}", "schedule", "cron", "cron", sc->cron);
    else if (sc->heartbeat_s > 0)
        j = json_pack("{s:s, s:I}", "schedule", "heartbeat", "every_s",
                      (json_int_t)sc->heartbeat_s);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return text;
}

/* Adds the timer wake unless the agent has one not done yet; *woke says
 * whether it did. Two statements rather than one INSERT ... SELECT ... WHERE
 * NOT EXISTS: an INSERT from a SELECT may write several rows, so SQLite
 * gives it a statement journal (64 KiB, allocated and freed each time), which
 * made firing several times slower. Inside the caller's transaction the
 * check cannot be raced. */
static int add_wake(fm__sqlite *q, fm_id company, fm_id agent, const char *payload, int64_t now,
                    int64_t due, bool *woke, fm_error *err)
{
    static const char pending[] = "SELECT 1 FROM wakes WHERE agent_id=?1 AND done_at=0 AND "
                                  "kind=?2 LIMIT 1";
    static const char insert[] = "INSERT INTO wakes(company_id, agent_id, kind, payload, "
                                 "created_at, due_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
    *woke = false;
    sqlite3_stmt *st = fm__sq_prep(q, pending, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, agent);
    fm__sq_text(st, 2, fm_wake_kind_name(FM_WAKE_TIMER));
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return FM_OK; /* one is not done yet: this timer folds into it */
    if (step != SQLITE_DONE)
        return fm__sq_fail(q, step, err);
    if (!(st = fm__sq_prep(q, insert, err)))
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, agent);
    fm__sq_text(st, 3, fm_wake_kind_name(FM_WAKE_TIMER));
    fm__sq_text(st, 4, payload);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, due);
    int rc = fm__sq_exec(q, st, err);
    *woke = rc == FM_OK;
    return rc;
}

static int set_timer(fm__sqlite *q, fm_id agent, int64_t next, fm_error *err)
{
    static const char sql[] = "UPDATE agents SET next_timer_at=?2 WHERE id=?1";
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, agent);
    fm__sq_id(st, 2, next); /* 0 -> NULL: out of the queue */
    return fm__sq_exec(q, st, err);
}

int fm__sq_timer_fire(fm_store *s, const fm_timer *t, int64_t now, bool *woke, fm_error *err)
{
    static const char sql[] = "SELECT company_id, status, heartbeat_s, cron, next_timer_at "
                              "FROM agents WHERE id=?1";
    fm__sqlite *q = fm__sq(s);
    *woke = false;
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, t->agent_id);
    int rc = fm__sq_one_row(q, st, "agent", err);
    bool current = rc == FM_OK && sqlite3_column_type(st, 4) != SQLITE_NULL &&
                   sqlite3_column_int64(st, 4) == t->due_at && t->due_at <= now;
    if (!current) {
        sqlite3_reset(st);
        return rc == FM_ENOTFOUND ? FM_OK : rc; /* someone else fired it, or it moved */
    }
    fm_id company = sqlite3_column_int64(st, 0);
    bool active = fm__sq_col_enum(st, 1, fm_agent_status_parse, FM_AGENT_PAUSED) ==
                  FM_AGENT_ACTIVE;
    fm_schedule sc = {.heartbeat_s = sqlite3_column_int64(st, 2), .cron = fm__sq_col_dup(st, 3)};
    sqlite3_reset(st);
    /* After `now`, not after the slot that was due: a timer missed for a
     * day fires once. */
    rc = set_timer(q, t->agent_id, active ? fm_schedule_next(&sc, now) : 0, err);
    char *payload = active && rc == FM_OK ? timer_payload(&sc, t->due_at) : NULL;
    if (payload)
        rc = add_wake(q, company, t->agent_id, payload, now, t->due_at, woke, err);
    free(payload);
    free(sc.cron);
    return rc;
}

/* ---- migration v4 ---------------------------------------------------------------- */

typedef struct scheduled {
    fm_id id;
    fm_schedule sc;
} scheduled;

static int read_scheduled(sqlite3_stmt *st, void *rec, fm_error *err)
{
    scheduled *r = rec;
    r->id = sqlite3_column_int64(st, 0);
    r->sc.heartbeat_s = sqlite3_column_int64(st, 1);
    r->sc.cron = fm__sq_col_dup(st, 2);
    return FM_OK;
}

int fm__sq_timers_backfill(fm__sqlite *q, fm_error *err)
{
    static const char sql[] = "SELECT id, heartbeat_s, cron FROM agents WHERE status=?1 "
                              "AND (heartbeat_s>0 OR cron IS NOT NULL)";
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    fm__sq_text(st, 1, fm_agent_status_name(FM_AGENT_ACTIVE));
    /* Read them all first: updating rows of the table being scanned is
     * best avoided. A one-time cost, proportional to the scheduled agents. */
    scheduled *v = NULL;
    size_t n = 0;
    int rc = fm__sq_collect(q, st, sizeof *v, read_scheduled, (void **)&v, &n, err);
    int64_t now = fm_now_us();
    for (size_t i = 0; rc == FM_OK && i < n; i++)
        rc = set_timer(q, v[i].id, fm_schedule_next(&v[i].sc, now), err);
    for (size_t i = 0; i < n; i++)
        free(v[i].sc.cron);
    free(v);
    return rc;
}
