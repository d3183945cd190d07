/*
 * The SQLite store: runs and their steps — the
 * runtime's records (schema v2). A step is written before the run moves on,
 * so a crashed run can be rebuilt from its steps alone.
 */
#include "core/store/sqlite_int.h"
#include "firma/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int prep_fail(fm_error *err)
{
    return err && err->code ? err->code : FM_ESTORE;
}

void fm_run_release(fm_run *r)
{
    if (r) {
        free(r->reason);
        r->reason = NULL;
    }
}

void fm_step_release(fm_step *s)
{
    if (!s)
        return;
    free(s->tool);
    free(s->request);
    free(s->response);
    s->tool = s->request = s->response = NULL;
}

void fm_approval_release(fm_approval *a)
{
    if (!a)
        return;
    free(a->kind);
    free(a->tool);
    free(a->args);
    free(a->reason);
    free(a->approver);
    free(a->decided_by);
    free(a->why);
    memset(a, 0, sizeof *a);
}

/* ---- runs ------------------------------------------------------------------------ */

#define RUN_COLS "id, company_id, agent_id, status, reason, tainted, started_at, ended_at"

static void bind_run(sqlite3_stmt *st, const fm_run *r)
{
    sqlite3_bind_int64(st, 1, r->company_id);
    sqlite3_bind_int64(st, 2, r->agent_id);
    fm__sq_text(st, 3, fm_run_status_name(r->status));
    fm__sq_text(st, 4, r->reason);
    sqlite3_bind_int(st, 5, r->tainted);
    sqlite3_bind_int64(st, 6, r->started_at);
    sqlite3_bind_int64(st, 7, r->ended_at);
}

int fm__sq_run_insert(fm_store *s, fm_run *r, fm_error *err)
{
    static const char sql[] = "INSERT INTO runs(company_id, agent_id, status, reason, tainted, "
                              "started_at, ended_at) VALUES(?1,?2,?3,?4,?5,?6,?7)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    r->started_at = fm__sq_stamp(r->started_at);
    bind_run(st, r);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        r->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_run_update(fm_store *s, const fm_run *r, fm_error *err)
{
    static const char sql[] = "UPDATE runs SET company_id=?1, agent_id=?2, status=?3, reason=?4, "
                              "tainted=?5, started_at=?6, ended_at=?7 WHERE id=?8";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    bind_run(st, r);
    sqlite3_bind_int64(st, 8, r->id);
    return fm__sq_exec(q, st, err);
}

static int read_run(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_run *r = rec;
    r->id = sqlite3_column_int64(st, 0);
    r->company_id = sqlite3_column_int64(st, 1);
    r->agent_id = sqlite3_column_int64(st, 2);
    r->status = fm__sq_col_enum(st, 3, fm_run_status_parse, FM_RUN_FAILED);
    r->reason = fm__sq_col_dup(st, 4);
    r->tainted = sqlite3_column_int(st, 5) != 0;
    r->started_at = sqlite3_column_int64(st, 6);
    r->ended_at = sqlite3_column_int64(st, 7);
    return FM_OK;
}

int fm__sq_run_get(fm_store *s, fm_id id, fm_run *out, fm_error *err)
{
    static const char sql[] = "SELECT " RUN_COLS " FROM runs WHERE id=?1";
    return fm__sq_get(fm__sq(s), sql, id, "run", read_run, out, sizeof *out, err);
}

int fm__sq_run_list_open(fm_store *s, fm_run **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT " RUN_COLS " FROM runs WHERE status IN "
                              "('queued','running','waiting') ORDER BY id";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    return fm__sq_collect(q, st, sizeof **out, read_run, (void **)out, n, err);
}

/* Newest first down the runs_agent index (agent_id, id). */
int fm__sq_run_list_agent(fm_store *s, fm_id agent, fm_id before, size_t limit, fm_run **out,
                          size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT " RUN_COLS " FROM runs WHERE agent_id=?1 AND "
                              "(?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    sqlite3_bind_int64(st, 1, agent);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    return fm__sq_collect(q, st, sizeof **out, read_run, (void **)out, n, err);
}

/* ---- steps ------------------------------------------------------------------------- */


static int word_index(const char *const *words, int n, const unsigned char *w, int dflt)
{
    for (int i = 0; w && i < n; i++)
        if (strcmp(words[i], (const char *)w) == 0)
            return i;
    return dflt;
}

static void bind_step(sqlite3_stmt *st, const fm_step *x)
{
    sqlite3_bind_int64(st, 1, x->run_id);
    sqlite3_bind_int(st, 2, x->seq);
    fm__sq_text(st, 3, fm_step_kind_name(x->kind));
    fm__sq_text(st, 4, fm_step_status_name(x->status));
    fm__sq_text(st, 5, x->tool);
    fm__sq_text(st, 6, x->request);
    fm__sq_text(st, 7, x->response);
    sqlite3_bind_int64(st, 8, x->prompt_bytes);
    sqlite3_bind_int64(st, 9, x->tokens_in);
    sqlite3_bind_int64(st, 10, x->tokens_cached);
    sqlite3_bind_int64(st, 11, x->tokens_out);
    sqlite3_bind_int64(st, 12, x->usd_micro);
    sqlite3_bind_int64(st, 13, x->started_at);
    sqlite3_bind_int64(st, 14, x->ended_at);
}

int fm__sq_step_insert(fm_store *s, fm_step *x, fm_error *err)
{
    static const char sql[] = "INSERT INTO steps(run_id, seq, kind, status, tool, request, "
                              "response, prompt_bytes, tokens_in, tokens_cached, tokens_out, "
                              "usd_micro, started_at, ended_at) "
                              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    x->started_at = fm__sq_stamp(x->started_at);
    bind_step(st, x);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        x->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_step_update(fm_store *s, const fm_step *x, fm_error *err)
{
    static const char sql[] = "UPDATE steps SET run_id=?1, seq=?2, kind=?3, status=?4, tool=?5, "
                              "request=?6, response=?7, prompt_bytes=?8, tokens_in=?9, "
                              "tokens_cached=?10, tokens_out=?11, usd_micro=?12, started_at=?13, "
                              "ended_at=?14 WHERE id=?15";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return prep_fail(err);
    bind_step(st, x);
    sqlite3_bind_int64(st, 15, x->id);
    return fm__sq_exec(q, st, err);
}

static int read_step(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_step *x = rec;
    x->id = sqlite3_column_int64(st, 0);
    x->run_id = sqlite3_column_int64(st, 1);
    x->seq = sqlite3_column_int(st, 2);
    x->kind = word_index(fm_step_kind_names, FM_STEP_KIND_N, sqlite3_column_text(st, 3), FM_STEP_TOOL);
    x->status = word_index(fm_step_status_names, FM_STEP_STATUS_N, sqlite3_column_text(st, 4), FM_STEP_UNKNOWN);
    x->tool = fm__sq_col_dup(st, 5);
    x->request = fm__sq_col_dup(st, 6);
    x->response = fm__sq_col_dup(st, 7);
    x->prompt_bytes = sqlite3_column_int64(st, 8);
    x->tokens_in = sqlite3_column_int64(st, 9);
    x->tokens_cached = sqlite3_column_int64(st, 10);
    x->tokens_out = sqlite3_column_int64(st, 11);
    x->usd_micro = sqlite3_column_int64(st, 12);
    x->started_at = sqlite3_column_int64(st, 13);
    x->ended_at = sqlite3_column_int64(st, 14);
    return FM_OK;
}

int fm__sq_step_list(fm_store *s, fm_id run, fm_step **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT id, run_id, seq, kind, status, tool, request, response, "
                              "prompt_bytes, tokens_in, tokens_cached, tokens_out, usd_micro, "
                              "started_at, ended_at FROM steps WHERE run_id=?1 ORDER BY seq";
    return fm__sq_list(fm__sq(s), sql, run, sizeof **out, read_step, (void **)out, n, err);
}

static int read_step_event(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_step_event *x = rec;
    x->agent_id = sqlite3_column_int64(st, 15);
    const unsigned char *h = sqlite3_column_text(st, 16);
    snprintf(x->agent, sizeof x->agent, "%s", h ? (const char *)h : "");
    return read_step(st, &x->step, err);
}

int fm__sq_step_feed(fm_store *s, fm_id company, fm_id after, size_t limit,
                     fm_step_event **out, size_t *n, fm_error *err)
{
    static const char sql[] =
        "SELECT s.id, s.run_id, s.seq, s.kind, s.status, s.tool, NULL, NULL, s.prompt_bytes, "
        "s.tokens_in, s.tokens_cached, s.tokens_out, s.usd_micro, s.started_at, s.ended_at, "
        "r.agent_id, a.handle FROM steps s JOIN runs r ON r.id=s.run_id "
        "LEFT JOIN agents a ON a.id=r.agent_id "
        "WHERE s.id>?2 AND r.company_id=?1 ORDER BY s.id LIMIT ?3";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    return fm__sq_collect(q, st, sizeof **out, read_step_event, (void **)out, n, err);
}

int fm__sq_step_last_id(fm_store *s, fm_id *id, fm_error *err)
{
    static const char sql[] = "SELECT coalesce(max(id), 0) FROM steps";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    int rc = fm__sq_one_row(q, st, "step", err);
    *id = rc == FM_OK ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc;
}
