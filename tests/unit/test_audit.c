/* governance/: the audit chain under tampering, signed checkpoints, keys, secrets. */
#include "firma/governance.h"
#include "helpers.h"

#include <sys/stat.h>

typedef struct fixture {
    tdb *t;
    fm_keys k;
    char witness[160];
    char keyfile[160];
} fixture;

/* A company with some history: 3 agents, 4 tasks moved around, a checkpoint
 * after every few changes as the CLI makes them. */
static int setup(void **state)
{
    fixture *f = fm_xcalloc(1, sizeof *f);
    f->t = tdb_new(true);
    snprintf(f->keyfile, sizeof f->keyfile, "%s/master.key", f->t->dir);
    snprintf(f->witness, sizeof f->witness, "%s/master.key.head", f->t->dir);
    assert_int_equal(fm_keys_load(f->keyfile, f->t->path, true, &f->k, &f->t->err), FM_OK);
    assert_int_equal(tdb_hire(f->t, "ceo", "ana", NULL), FM_OK);
    assert_int_equal(tdb_hire(f->t, "cto", "ceo", NULL), FM_OK);
    assert_int_equal(fm_checkpoint_make(f->t->s, &f->k, f->t->company, f->witness, &f->t->err),
                     FM_OK);
    assert_int_equal(tdb_hire(f->t, "cmo", "ceo", NULL), FM_OK);
    for (int i = 0; i < 4; i++) {
        fm_task task = {.company_id = f->t->company, .title = fm_xstrdup("job")};
        assert_int_equal(fm_task_add(f->t->s, "test", &task, &f->t->err), FM_OK);
        assert_int_equal(fm_task_move(f->t->s, "test", f->t->company, task.id, FM_TASK_DOING,
                                      NULL, &f->t->err), FM_OK);
        fm_task_release(&task);
    }
    assert_int_equal(fm_checkpoint_make(f->t->s, &f->k, f->t->company, f->witness, &f->t->err),
                     FM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fm_keys_release(&f->k);
    tdb_free(f->t);
    free(f);
    return 0;
}

static int verify(fixture *f, fm_audit_report *r)
{
    fm_error_clear(&f->t->err);
    return fm_audit_verify(f->t->s, &f->k, f->t->company, f->witness, r, &f->t->err);
}

static void intact_chain_verifies(void **state)
{
    fixture *f = *state;
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_OK);
    /* company.create, member.add, 3 hires, 4 x (task.add + task.move) */
    assert_int_equal(r.events, 13);
    assert_int_equal(r.checkpoints, 3); /* two in the table, the newest also in the witness */
    assert_int_equal(r.bad_seq, 0);
}

static void edited_event_is_found(void **state)
{
    fixture *f = *state;
    tdb_sql(f->t, "UPDATE audit_events SET actor='member:mallory' WHERE seq=4");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_int_equal(r.bad_seq, 4);
    assert_non_null(strstr(r.why, "edited"));
    assert_non_null(strstr(f->t->err.msg, "event #4"));
}

static void edited_details_are_found(void **state)
{
    fixture *f = *state;
    tdb_sql(f->t, "UPDATE audit_events SET details='{}' WHERE seq=13");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_int_equal(r.bad_seq, 13);
}

static void deleted_event_is_found(void **state)
{
    fixture *f = *state;
    tdb_sql(f->t, "DELETE FROM audit_events WHERE seq=6");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_int_equal(r.bad_seq, 7);
    assert_non_null(strstr(r.why, "6 was expected"));
}

static void inserted_event_is_found(void **state)
{
    fixture *f = *state;
    /* A forged row slipped between 5 and 6, and the rest renumbered. */
    tdb_sql(f->t, "UPDATE audit_events SET seq=seq+100 WHERE seq>5;"
                  "UPDATE audit_events SET seq=seq-99 WHERE seq>105;"
                  "INSERT INTO audit_events(id, company_id, seq, ts, actor, action, object, "
                  "details, prev, hash) SELECT 1000, company_id, 6, ts, 'member:ana', "
                  "'agent.hire', 'agent:spy', '{}', hash, hash FROM audit_events WHERE seq=5");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_true(r.bad_seq >= 6 && r.bad_seq <= 7);
}

static void reordered_events_are_found(void **state)
{
    fixture *f = *state;
    /* Swap the contents of rows 8 and 9, keeping the seq column in row order. */
    tdb_sql(f->t, "UPDATE audit_events SET id=-8, seq=-8 WHERE seq=8; UPDATE audit_events SET id=8, "
                  "seq=8 WHERE seq=9; UPDATE audit_events SET id=9, seq=9 WHERE id=-8");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_int_equal(r.bad_seq, 8);
}

static void truncated_tail_is_found_by_checkpoint(void **state)
{
    fixture *f = *state;
    tdb_sql(f->t, "DELETE FROM audit_events WHERE seq>10");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_non_null(strstr(r.why, "deleted from the end"));
}

static void truncation_with_checkpoints_deleted_is_found_by_witness(void **state)
{
    fixture *f = *state;
    tdb_sql(f->t, "DELETE FROM audit_events WHERE seq>10; DELETE FROM audit_checkpoints");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_non_null(strstr(r.why, "covers event #13"));
}

static void rewritten_chain_is_found_by_signature(void **state)
{
    fixture *f = *state;
    /* Rewrite event 12 and recompute every hash after it, as an attacker who
     * knows the hash function can; the signed checkpoint at 13 disagrees. */
    tdb_sql(f->t, "UPDATE audit_events SET actor='member:mallory' WHERE seq=12");
    /* Recompute in C with the same function the attacker would copy. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->t->path, &db), SQLITE_OK);
    unsigned char prev[FM_HASH_BYTES];
    for (int seq = 12; seq <= 13; seq++) {
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "SELECT company_id, seq, ts, actor, action, object, details, prev "
                               "FROM audit_events WHERE seq=?1", -1, &st, NULL);
        sqlite3_bind_int(st, 1, seq);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        fm_audit_event e = {.company_id = sqlite3_column_int64(st, 0),
                            .seq = sqlite3_column_int64(st, 1), .ts = sqlite3_column_int64(st, 2),
                            .actor = (char *)sqlite3_column_text(st, 3),
                            .action = (char *)sqlite3_column_text(st, 4),
                            .object = (char *)sqlite3_column_text(st, 5),
                            .details = (char *)sqlite3_column_text(st, 6)};
        memcpy(e.prev, seq == 12 ? sqlite3_column_blob(st, 7) : prev, FM_HASH_BYTES);
        fm_audit_hash(&e, e.hash);
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db, "UPDATE audit_events SET prev=?1, hash=?2 WHERE seq=?3", -1, &st,
                           NULL);
        sqlite3_bind_blob(st, 1, e.prev, FM_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, e.hash, FM_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, seq);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        memcpy(prev, e.hash, FM_HASH_BYTES);
    }
    sqlite3_close(db);
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_int_equal(r.bad_seq, 13);
    assert_non_null(strstr(r.why, "signed checkpoint"));
}

static void forged_checkpoint_is_found(void **state)
{
    fixture *f = *state;
    tdb_sql(f->t, "UPDATE audit_checkpoints SET sig=zeroblob(64)");
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_ETAMPER);
    assert_non_null(strstr(r.why, "bad signature"));
}

static void key_file_is_private(void **state)
{
    fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->keyfile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    chmod(f->keyfile, 0644);
    fm_keys k;
    assert_int_equal(fm_keys_load(f->keyfile, f->t->path, false, &k, &f->t->err), FM_EPERM);
    assert_non_null(strstr(f->t->err.msg, "chmod 600"));
    chmod(f->keyfile, 0600);
    /* The same file gives the same keys. */
    assert_int_equal(fm_keys_load(f->keyfile, f->t->path, false, &k, &f->t->err), FM_OK);
    assert_memory_equal(k.sign_pk, f->k.sign_pk, 32);
    fm_keys_release(&k);
}

static void secrets_are_sealed_and_bound_to_their_name(void **state)
{
    fixture *f = *state;
    const char *v = "sk-live-1234567890";
    assert_int_equal(fm_secret_set(f->t->s, &f->k, f->t->company, "test", "STRIPE_KEY",
                                   (const unsigned char *)v, strlen(v), &f->t->err), FM_OK);
    assert_int_equal(fm_secret_set(f->t->s, &f->k, f->t->company, "test", "OTHER",
                                   (const unsigned char *)"x", 1, &f->t->err), FM_OK);
    unsigned char *out;
    size_t len;
    assert_int_equal(fm_secret_get(f->t->s, &f->k, f->t->company, "STRIPE_KEY", &out, &len,
                                   &f->t->err), FM_OK);
    assert_int_equal(len, strlen(v));
    assert_memory_equal(out, v, len);
    fm_secret_wipe(out, len);
    /* The value is nowhere in the database file in clear. */
    fm_buf file = FM_BUF_INIT;
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->t->path);
    fm_buf_read_file(&file, f->t->path, 1 << 26);
    fm_buf_read_file(&file, wal, 1 << 26);
    assert_null(memmem(file.ptr, file.len, v, strlen(v)));
    fm_buf_release(&file);
    /* Moving the sealed blob to another name makes it unreadable. */
    tdb_sql(f->t, "UPDATE secrets SET blob=(SELECT blob FROM secrets WHERE name='STRIPE_KEY') "
                  "WHERE name='OTHER'");
    assert_int_equal(fm_secret_get(f->t->s, &f->k, f->t->company, "OTHER", &out, &len,
                                   &f->t->err), FM_ECRYPTO);
    /* A wrong master key cannot open it either. */
    fm_keys other;
    setenv("FIRMA_MASTER_KEY", "0000000000000000000000000000000000000000000000000000000000000001",
           1);
    assert_int_equal(fm_keys_load(NULL, f->t->path, false, &other, &f->t->err), FM_OK);
    unsetenv("FIRMA_MASTER_KEY");
    assert_int_equal(fm_secret_get(f->t->s, &other, f->t->company, "STRIPE_KEY", &out, &len,
                                   &f->t->err), FM_ECRYPTO);
    fm_keys_release(&other);
    assert_int_equal(fm_secret_set(f->t->s, &f->k, f->t->company, "test", "bad name",
                                   (const unsigned char *)"x", 1, &f->t->err), FM_EINVAL);
    assert_int_equal(fm_secret_rm(f->t->s, f->t->company, "test", "STRIPE_KEY", &f->t->err),
                     FM_OK);
    assert_int_equal(fm_secret_rm(f->t->s, f->t->company, "test", "STRIPE_KEY", &f->t->err),
                     FM_ENOTFOUND);
    /* Setting and removing secrets is audited, and the chain still holds. */
    fm_audit_report r;
    assert_int_equal(verify(f, &r), FM_OK);
}

static void budget_periods_start_where_expected(void **state)
{
    int64_t t;
    assert_int_equal(fm_parse_time("2026-11-25T15:30Z", &t), FM_OK); /* a Wednesday */
    int64_t want;
    fm_parse_time("2026-11-25", &want);
    assert_int_equal(fm_period_start(FM_PERIOD_DAY, t), want);
    fm_parse_time("2026-11-23", &want);
    assert_int_equal(fm_period_start(FM_PERIOD_WEEK, t), want);
    fm_parse_time("2026-11-01", &want);
    assert_int_equal(fm_period_start(FM_PERIOD_MONTH, t), want);
    assert_int_equal(fm_period_start(FM_PERIOD_TOTAL, t), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(intact_chain_verifies),
        T(edited_event_is_found),
        T(edited_details_are_found),
        T(deleted_event_is_found),
        T(inserted_event_is_found),
        T(reordered_events_are_found),
        T(truncated_tail_is_found_by_checkpoint),
        T(truncation_with_checkpoints_deleted_is_found_by_witness),
        T(rewritten_chain_is_found_by_signature),
        T(forged_checkpoint_is_found),
        T(key_file_is_private),
        T(secrets_are_sealed_and_bound_to_their_name),
        cmocka_unit_test(budget_periods_start_where_expected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
