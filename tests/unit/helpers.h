/*
 * Shared by the unit tests: a fresh database in a temporary directory and a
 * small company in it. Each test gets its own, so tests are independent.
 */
#ifndef FIRMA_TEST_HELPERS_H
#define FIRMA_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "firma/base.h"
#include "firma/ops.h"
#include "firma/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tdb {
    char dir[64];
    char path[128];
    fm_store *s;
    fm_id company;
    fm_error err;
} tdb;

static inline void tdb_rmdir(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Opens a new database; with `with_company`, creates company "acme" with
 * owner member "ana" (an agent "ceo" reporting to ana is NOT created). */
static inline tdb *tdb_new(bool with_company)
{
    tdb *t = fm_xcalloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/firma-unit-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/t.db", t->dir);
    assert_int_equal(fm_store_open(t->path, &t->s, &t->err), FM_OK);
    if (!with_company)
        return t;
    fm_company_spec spec;
    memset(&spec, 0, sizeof spec);
    fm_company_init(&spec.company);
    spec.company.name = fm_xstrdup("acme");
    spec.company.budget.usd_micro = 100 * 1000000;
    spec.members = fm_xcalloc(1, sizeof *spec.members);
    spec.n_members = 1;
    spec.members[0].handle = fm_xstrdup("ana");
    spec.members[0].role = FM_ROLE_OWNER;
    assert_int_equal(fm_company_import(t->s, "test", &spec, NULL, &t->company, &t->err), FM_OK);
    fm_spec_release(&spec);
    return t;
}

static inline void tdb_free(tdb *t)
{
    fm_store_close(t->s);
    tdb_rmdir(t->dir);
    free(t);
}

/* Hires `handle` under `manager`; returns the status (asserting nothing). */
static inline int tdb_hire(tdb *t, const char *handle, const char *manager, fm_id *id)
{
    fm_agent a;
    memset(&a, 0, sizeof a);
    a.company_id = t->company;
    a.handle = fm_xstrdup(handle);
    a.title = fm_xstrdup("Worker");
    a.model = fm_xstrdup("sim");
    a.autonomy = 1;
    fm_error_clear(&t->err);
    int rc = fm_agent_hire(t->s, "test", &a, manager, &t->err);
    if (id)
        *id = a.id;
    fm_agent_release(&a);
    return rc;
}

/* Runs one SQL statement on the database file directly, as an attacker with
 * the sqlite3 shell would. */
#include <sqlite3.h>
static inline void tdb_sql(tdb *t, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql failed: %s: %s\n", sql, msg ? msg : "?");
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

#endif
