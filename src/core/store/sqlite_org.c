/* The SQLite store: companies, members, agents and goals. */
#include "core/store/codec.h"
#include "core/store/sqlite_int.h"
#include "firma/base.h"
#include "firma/schedule.h"

#include <stdlib.h>
#include <string.h>


/* ---- companies ------------------------------------------------------------ */

#define COMPANY_COLS "id, name, title, mission, budget_usd, budget_tokens, budget_period, " \
                     "policies, created_at"

static int read_company(sqlite3_stmt *st, fm_company *c, fm_error *err)
{
    fm_company_init(c);
    c->id = sqlite3_column_int64(st, 0);
    c->name = fm__sq_col_dup(st, 1);
    c->title = fm__sq_col_dup(st, 2);
    c->mission = fm__sq_col_dup(st, 3);
    c->budget.usd_micro = sqlite3_column_int64(st, 4);
    c->budget.tokens = sqlite3_column_int64(st, 5);
    c->budget.period = fm__sq_col_enum(st, 6, fm_period_parse, FM_PERIOD_MONTH);
    c->created_at = sqlite3_column_int64(st, 8);
    return fm__policies_decode((const char *)sqlite3_column_text(st, 7), &c->policies, err);
}

static void bind_company(sqlite3_stmt *st, const fm_company *c, char *policies)
{
    fm__sq_text(st, 1, c->name);
    fm__sq_text(st, 2, c->title);
    fm__sq_text(st, 3, c->mission);
    sqlite3_bind_int64(st, 4, c->budget.usd_micro);
    sqlite3_bind_int64(st, 5, c->budget.tokens);
    fm__sq_text(st, 6, fm_period_name(c->budget.period));
    fm__sq_text(st, 7, policies);
}

int fm__sq_company_insert(fm_store *s, fm_company *c, fm_error *err)
{
    static const char sql[] = "INSERT INTO companies(name, title, mission, budget_usd, "
                              "budget_tokens, budget_period, policies, created_at) "
                              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    char *pol = fm__policies_encode(&c->policies);
    c->created_at = fm__sq_stamp(c->created_at);
    bind_company(st, c, pol);
    sqlite3_bind_int64(st, 8, c->created_at);
    int rc = fm__sq_exec(q, st, err);
    free(pol);
    if (rc == FM_EEXIST)
        return fm_error_set(err, FM_EEXIST, "a company named '%s' already exists", c->name);
    if (rc == FM_OK)
        c->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_company_update(fm_store *s, const fm_company *c, fm_error *err)
{
    static const char sql[] = "UPDATE companies SET name=?1, title=?2, mission=?3, "
                              "budget_usd=?4, budget_tokens=?5, budget_period=?6, policies=?7 "
                              "WHERE id=?8";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    char *pol = fm__policies_encode(&c->policies);
    bind_company(st, c, pol);
    sqlite3_bind_int64(st, 8, c->id);
    int rc = fm__sq_exec(q, st, err);
    free(pol);
    return rc;
}

static int company_by(fm__sqlite *q, sqlite3_stmt *st, fm_company *out, const char *what,
                      fm_error *err)
{
    int rc = fm__sq_one_row(q, st, what, err);
    if (rc == FM_OK)
        rc = read_company(st, out, err);
    sqlite3_reset(st);
    return rc;
}

int fm__sq_company_get(fm_store *s, fm_id id, fm_company *out, fm_error *err)
{
    static const char sql[] = "SELECT " COMPANY_COLS " FROM companies WHERE id=?1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    return company_by(q, st, out, "company", err);
}

int fm__sq_company_find(fm_store *s, const char *name, fm_company *out, fm_error *err)
{
    static const char sql[] = "SELECT " COMPANY_COLS " FROM companies WHERE name=?1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    fm__sq_text(st, 1, name);
    int rc = company_by(q, st, out, "company", err);
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, FM_ENOTFOUND, "no company named '%s'", name);
    return rc;
}

static int read_company_row(sqlite3_stmt *st, void *rec, fm_error *err)
{
    return read_company(st, rec, err);
}

int fm__sq_company_list(fm_store *s, fm_company **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT " COMPANY_COLS " FROM companies ORDER BY name";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    return fm__sq_collect(q, st, sizeof **out, read_company_row, (void **)out, n, err);
}

/* ---- members --------------------------------------------------------------- */

static int write_identities(fm__sqlite *q, const fm_member *m, fm_error *err)
{
    static const char del[] = "DELETE FROM member_identities WHERE member_id=?1";
    static const char ins[] = "INSERT INTO member_identities(member_id, company_id, pos, "
                              "channel, ident) VALUES(?1,?2,?3,?4,?5)";
    sqlite3_stmt *st = fm__sq_prep(q, del, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, m->id);
    int rc = fm__sq_exec(q, st, err);
    for (size_t i = 0; rc == FM_OK && i < m->n_identities; i++) {
        if (!(st = fm__sq_prep(q, ins, err)))
            return err ? err->code : FM_ESTORE;
        sqlite3_bind_int64(st, 1, m->id);
        sqlite3_bind_int64(st, 2, m->company_id);
        sqlite3_bind_int64(st, 3, (int64_t)i);
        fm__sq_text(st, 4, m->identities[i].channel);
        fm__sq_text(st, 5, m->identities[i].ident);
        rc = fm__sq_exec(q, st, err);
        if (rc == FM_EEXIST)
            fm_error_set(err, FM_EEXIST, "%s id '%s' already belongs to another member",
                         m->identities[i].channel, m->identities[i].ident);
    }
    return rc;
}

static int read_identities(fm__sqlite *q, fm_member *m, fm_error *err)
{
    static const char sql[] = "SELECT channel, ident FROM member_identities WHERE member_id=?1 "
                              "ORDER BY pos";
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, m->id);
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->n_identities == cap) {
            cap = cap ? cap * 2 : 4;
            m->identities = fm_xreallocarray(m->identities, cap, sizeof *m->identities);
        }
        fm_identity *id = &m->identities[m->n_identities++];
        id->channel = fm__sq_col_dup(st, 0);
        id->ident = fm__sq_col_dup(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? FM_OK : fm__sq_fail(q, rc, err);
}

int fm__sq_member_insert(fm_store *s, fm_member *m, fm_error *err)
{
    static const char sql[] = "INSERT INTO members(company_id, handle, name, role, created_at) "
                              "VALUES(?1,?2,?3,?4,?5)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    m->created_at = fm__sq_stamp(m->created_at);
    sqlite3_bind_int64(st, 1, m->company_id);
    fm__sq_text(st, 2, m->handle);
    fm__sq_text(st, 3, m->name);
    fm__sq_text(st, 4, fm_role_name(m->role));
    sqlite3_bind_int64(st, 5, m->created_at);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_EEXIST)
        return fm_error_set(err, FM_EEXIST, "member '%s' already exists", m->handle);
    if (rc != FM_OK)
        return rc;
    m->id = sqlite3_last_insert_rowid(q->db);
    return write_identities(q, m, err);
}

int fm__sq_member_update(fm_store *s, const fm_member *m, fm_error *err)
{
    static const char sql[] = "UPDATE members SET handle=?1, name=?2, role=?3 WHERE id=?4";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    fm__sq_text(st, 1, m->handle);
    fm__sq_text(st, 2, m->name);
    fm__sq_text(st, 3, fm_role_name(m->role));
    sqlite3_bind_int64(st, 4, m->id);
    int rc = fm__sq_exec(q, st, err);
    return rc == FM_OK ? write_identities(q, m, err) : rc;
}

int fm__sq_member_delete(fm_store *s, fm_id id, fm_error *err)
{
    static const char sql[] = "DELETE FROM members WHERE id=?1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_EEXIST) /* a foreign key: agents still report to this member */
        return fm_error_set(err, FM_EORG, "agents still report to this member");
    return rc;
}

#define MEMBER_COLS "id, company_id, handle, name, role, created_at"

static int read_member(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_member *m = rec;
    m->id = sqlite3_column_int64(st, 0);
    m->company_id = sqlite3_column_int64(st, 1);
    m->handle = fm__sq_col_dup(st, 2);
    m->name = fm__sq_col_dup(st, 3);
    m->role = fm__sq_col_enum(st, 4, fm_role_parse, FM_ROLE_VIEWER);
    m->created_at = sqlite3_column_int64(st, 5);
    return FM_OK;
}

static int member_by(fm__sqlite *q, sqlite3_stmt *st, fm_member *out, fm_error *err)
{
    int rc = fm__sq_row(q, st, "member", read_member, out, sizeof *out, err);
    if (rc == FM_OK && (rc = read_identities(q, out, err)) != FM_OK)
        fm_member_release(out);
    return rc;
}

int fm__sq_member_get(fm_store *s, fm_id id, fm_member *out, fm_error *err)
{
    static const char sql[] = "SELECT " MEMBER_COLS " FROM members WHERE id=?1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    return member_by(q, st, out, err);
}

int fm__sq_member_find(fm_store *s, fm_id company, const char *handle, fm_member *out,
                       fm_error *err)
{
    static const char sql[] = "SELECT " MEMBER_COLS " FROM members WHERE company_id=?1 AND "
                              "handle=?2";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    fm__sq_text(st, 2, handle);
    int rc = member_by(q, st, out, err);
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, FM_ENOTFOUND, "no member '%s'", handle);
    return rc;
}

int fm__sq_member_list(fm_store *s, fm_id company, fm_member **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT " MEMBER_COLS " FROM members WHERE company_id=?1 "
                              "ORDER BY id";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    int rc = fm__sq_collect(q, st, sizeof **out, read_member, (void **)out, n, err);
    for (size_t i = 0; rc == FM_OK && i < *n; i++)
        rc = read_identities(q, &(*out)[i], err);
    return rc;
}

/* ---- agents ---------------------------------------------------------------- */

#define AGENT_COLS "id, company_id, handle, title, manager_agent, manager_member, kind, " \
                   "model, command, autonomy, budget_usd, budget_tokens, budget_period, "   \
                   "status, created_at, updated_at, heartbeat_s, cron, grants, instructions, " \
                   "next_timer_at"

static void bind_agent(sqlite3_stmt *st, const fm_agent *a, char *grants)
{
    sqlite3_bind_int64(st, 1, a->company_id);
    fm__sq_text(st, 2, a->handle);
    fm__sq_text(st, 3, a->title);
    fm__sq_id(st, 4, a->manager_agent);
    fm__sq_id(st, 5, a->manager_member);
    fm__sq_text(st, 6, fm_agent_kind_name(a->kind));
    fm__sq_text(st, 7, a->model);
    fm__sq_text(st, 8, a->command);
    sqlite3_bind_int(st, 9, a->autonomy);
    fm__sq_text(st, 10, grants);
    sqlite3_bind_int64(st, 11, a->budget.usd_micro);
    sqlite3_bind_int64(st, 12, a->budget.tokens);
    fm__sq_text(st, 13, fm_period_name(a->budget.period));
    sqlite3_bind_int64(st, 14, a->schedule.heartbeat_s);
    fm__sq_text(st, 15, a->schedule.cron);
    fm__sq_text(st, 16, fm_agent_status_name(a->status));
    fm__sq_text(st, 17, a->instructions);
    sqlite3_bind_int64(st, 18, a->created_at);
    sqlite3_bind_int64(st, 19, a->updated_at);
}

/* The agent's next timer if it were written now (at `at`): its schedule's
 * next fire time while it is active, else none (0, stored as NULL). */
static void bind_timer(sqlite3_stmt *st, int i, const fm_agent *a, int64_t at)
{
    int64_t next = a->status == FM_AGENT_ACTIVE ? fm_schedule_next(&a->schedule, at) : 0;
    fm__sq_id(st, i, next);
}

int fm__sq_agent_insert(fm_store *s, fm_agent *a, fm_error *err)
{
    static const char sql[] =
        "INSERT INTO agents(company_id, handle, title, manager_agent, manager_member, kind, "
        "model, command, autonomy, grants, budget_usd, budget_tokens, budget_period, "
        "heartbeat_s, cron, status, instructions, created_at, updated_at, next_timer_at) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    a->created_at = fm__sq_stamp(a->created_at);
    a->updated_at = a->updated_at ? a->updated_at : a->created_at;
    char *grants = fm__grants_encode(a->grants, a->n_grants);
    bind_agent(st, a, grants);
    bind_timer(st, 20, a, a->created_at);
    int rc = fm__sq_exec(q, st, err);
    free(grants);
    if (rc == FM_EEXIST)
        return fm_error_set(err, FM_EEXIST, "agent '%s' already exists", a->handle);
    if (rc == FM_OK)
        a->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_agent_update(fm_store *s, const fm_agent *a, fm_error *err)
{
    static const char sql[] =
        "UPDATE agents SET company_id=?1, handle=?2, title=?3, manager_agent=?4, "
        "manager_member=?5, kind=?6, model=?7, command=?8, autonomy=?9, grants=?10, "
        "budget_usd=?11, budget_tokens=?12, budget_period=?13, heartbeat_s=?14, cron=?15, "
        "status=?16, instructions=?17, created_at=?18, updated_at=?19, "
        /* The timer moves only when what decides it changes (the right-hand
         * sides see the row as it was): editing a title must not push a
         * heartbeat back. */
        "next_timer_at=CASE WHEN heartbeat_s IS ?14 AND cron IS ?15 AND status IS ?16 "
        "THEN next_timer_at ELSE ?21 END WHERE id=?20";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    char *grants = fm__grants_encode(a->grants, a->n_grants);
    bind_agent(st, a, grants);
    sqlite3_bind_int64(st, 20, a->id);
    bind_timer(st, 21, a, fm__sq_stamp(a->updated_at));
    int rc = fm__sq_exec(q, st, err);
    free(grants);
    return rc;
}

static int read_agent_brief(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_agent *a = rec;
    a->id = sqlite3_column_int64(st, 0);
    a->company_id = sqlite3_column_int64(st, 1);
    a->handle = fm__sq_col_dup(st, 2);
    a->title = fm__sq_col_dup(st, 3);
    a->manager_agent = sqlite3_column_int64(st, 4);
    a->manager_member = sqlite3_column_int64(st, 5);
    a->kind = fm__sq_col_enum(st, 6, fm_agent_kind_parse, FM_AGENT_LLM);
    a->model = fm__sq_col_dup(st, 7);
    a->command = fm__sq_col_dup(st, 8);
    a->autonomy = sqlite3_column_int(st, 9);
    a->budget.usd_micro = sqlite3_column_int64(st, 10);
    a->budget.tokens = sqlite3_column_int64(st, 11);
    a->budget.period = fm__sq_col_enum(st, 12, fm_period_parse, FM_PERIOD_MONTH);
    a->status = fm__sq_col_enum(st, 13, fm_agent_status_parse, FM_AGENT_PAUSED);
    a->created_at = sqlite3_column_int64(st, 14);
    a->updated_at = sqlite3_column_int64(st, 15);
    a->next_timer_at = sqlite3_column_int64(st, 20);
    return FM_OK;
}

static int read_agent_full(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_agent *a = rec;
    read_agent_brief(st, rec, err);
    a->schedule.heartbeat_s = sqlite3_column_int64(st, 16);
    a->schedule.cron = fm__sq_col_dup(st, 17);
    a->instructions = fm__sq_col_dup(st, 19);
    return fm__grants_decode((const char *)sqlite3_column_text(st, 18), &a->grants, &a->n_grants,
                             err);
}

static int agent_by(fm__sqlite *q, sqlite3_stmt *st, fm_agent *out, fm_error *err)
{
    int rc = fm__sq_row(q, st, "agent", read_agent_full, out, sizeof *out, err);
    if (rc != FM_OK)
        fm_agent_release(out);
    return rc;
}

int fm__sq_agent_get(fm_store *s, fm_id id, fm_agent *out, fm_error *err)
{
    static const char sql[] = "SELECT " AGENT_COLS " FROM agents WHERE id=?1";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    return agent_by(q, st, out, err);
}

int fm__sq_agent_find(fm_store *s, fm_id company, const char *handle, fm_agent *out,
                      fm_error *err)
{
    static const char sql[] = "SELECT " AGENT_COLS " FROM agents WHERE company_id=?1 AND "
                              "handle=?2";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    sqlite3_bind_int64(st, 1, company);
    fm__sq_text(st, 2, handle);
    int rc = agent_by(q, st, out, err);
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, FM_ENOTFOUND, "no agent '%s'", handle);
    return rc;
}

int fm__sq_agent_list(fm_store *s, fm_id company, bool brief, fm_agent **out, size_t *n,
                      fm_error *err)
{
    static const char sql[] = "SELECT " AGENT_COLS " FROM agents WHERE company_id=?1 "
                              "ORDER BY id";
    return fm__sq_list(fm__sq(s), sql, company, sizeof **out,
                       brief ? read_agent_brief : read_agent_full, (void **)out, n, err);
}

int fm__sq_agent_reports(fm_store *s, fm_id manager, fm_agent **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT " AGENT_COLS " FROM agents WHERE manager_agent=?1 AND "
                              "status<>'fired' ORDER BY id";
    return fm__sq_list(fm__sq(s), sql, manager, sizeof **out, read_agent_brief,
                       (void **)out, n, err);
}

/* ---- goals ----------------------------------------------------------------- */

#define GOAL_COLS "id, company_id, parent_id, title, description, owner_agent, status, created_at"

static void bind_goal(sqlite3_stmt *st, const fm_goal *g)
{
    sqlite3_bind_int64(st, 1, g->company_id);
    fm__sq_id(st, 2, g->parent_id);
    fm__sq_text(st, 3, g->title);
    fm__sq_text(st, 4, g->description);
    fm__sq_id(st, 5, g->owner_agent);
    fm__sq_text(st, 6, fm_goal_status_name(g->status));
    sqlite3_bind_int64(st, 7, g->created_at);
}

int fm__sq_goal_insert(fm_store *s, fm_goal *g, fm_error *err)
{
    static const char sql[] = "INSERT INTO goals(company_id, parent_id, title, description, "
                              "owner_agent, status, created_at) VALUES(?1,?2,?3,?4,?5,?6,?7)";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    g->created_at = fm__sq_stamp(g->created_at);
    bind_goal(st, g);
    int rc = fm__sq_exec(q, st, err);
    if (rc == FM_OK)
        g->id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

int fm__sq_goal_update(fm_store *s, const fm_goal *g, fm_error *err)
{
    static const char sql[] = "UPDATE goals SET company_id=?1, parent_id=?2, title=?3, "
                              "description=?4, owner_agent=?5, status=?6, created_at=?7 "
                              "WHERE id=?8";
    fm__sqlite *q = fm__sq(s);
    sqlite3_stmt *st = fm__sq_prep(q, sql, err);
    if (!st)
        return err ? err->code : FM_ESTORE;
    bind_goal(st, g);
    sqlite3_bind_int64(st, 8, g->id);
    return fm__sq_exec(q, st, err);
}

static int read_goal(sqlite3_stmt *st, void *rec, fm_error *err)
{
    fm_goal *g = rec;
    g->id = sqlite3_column_int64(st, 0);
    g->company_id = sqlite3_column_int64(st, 1);
    g->parent_id = sqlite3_column_int64(st, 2);
    g->title = fm__sq_col_dup(st, 3);
    g->description = fm__sq_col_dup(st, 4);
    g->owner_agent = sqlite3_column_int64(st, 5);
    g->status = fm__sq_col_enum(st, 6, fm_goal_status_parse, FM_GOAL_ACTIVE);
    g->created_at = sqlite3_column_int64(st, 7);
    return FM_OK;
}

int fm__sq_goal_get(fm_store *s, fm_id id, fm_goal *out, fm_error *err)
{
    static const char sql[] = "SELECT " GOAL_COLS " FROM goals WHERE id=?1";
    return fm__sq_get(fm__sq(s), sql, id, "goal", read_goal, out, sizeof *out, err);
}

int fm__sq_goal_list(fm_store *s, fm_id company, fm_goal **out, size_t *n, fm_error *err)
{
    static const char sql[] = "SELECT " GOAL_COLS " FROM goals WHERE company_id=?1 ORDER BY id";
    return fm__sq_list(fm__sq(s), sql, company, sizeof **out, read_goal, (void **)out, n, err);
}
