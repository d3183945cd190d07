/* governance/tokens and the orphan settle of governance/budget. */
#include "firma/governance.h"
#include "helpers.h"

#include <sodium.h>

static void agent_tokens_check_expire_and_revoke(void **state)
{
    tdb *t = tdb_new(true);
    fm_id ceo;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    char *a = NULL, *b = NULL;
    assert_int_equal(fm_token_issue_agent(t->s, t->company, ceo, 7, 60000000, &a, &t->err), FM_OK);
    assert_int_equal(fm_token_issue_agent(t->s, t->company, ceo, 8, 1, &b, &t->err), FM_OK);
    assert_true(strncmp(a, "fma_", 4) == 0 && strlen(a) == 4 + 43);
    assert_string_not_equal(a, b);
    fm_token tk;
    assert_int_equal(fm_token_check(t->s, a, &tk, &t->err), FM_OK);
    assert_int_equal(tk.kind, FM_TOKEN_AGENT);
    assert_int_equal(tk.agent_id, ceo);
    assert_int_equal(tk.run_id, 7);
    assert_int_equal(tk.company_id, t->company);
    /* The text is nowhere in the database: only its hash. */
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)a, strlen(a), NULL, 0);
    assert_memory_equal(tk.hash, h, sizeof h);
    /* Expired, unknown, not a token. */
    usleep(2000);
    assert_int_equal(fm_token_check(t->s, b, &tk, &t->err), FM_EPERM);
    assert_string_equal(t->err.msg, "the token has expired");
    char *forged = fm_xstrdup(a);
    forged[10] = forged[10] == 'A' ? 'B' : 'A';
    assert_int_equal(fm_token_check(t->s, forged, &tk, &t->err), FM_EPERM);
    assert_string_equal(t->err.msg, "unknown token");
    assert_int_equal(fm_token_check(t->s, "Bearer xyz", &tk, &t->err), FM_EPERM);
    assert_string_equal(t->err.msg, "not a firma token");
    /* Revoking run 7 ends a, not b's run. */
    assert_int_equal(fm_token_revoke_run(t->s, 7, &t->err), FM_OK);
    assert_int_equal(fm_token_check(t->s, a, &tk, &t->err), FM_EPERM);
    assert_string_equal(t->err.msg, "the token was revoked");
    free(forged);
    free(a);
    free(b);
    tdb_free(t);
}

/* A member token acts with its member's role, capped by its own; it never
 * expires, and revoking it (by id, within its company) ends it. */
static void member_tokens_carry_a_capped_role(void **state)
{
    tdb *t = tdb_new(true);
    fm_member ana;
    assert_int_equal(t->s->ops->member_find(t->s, t->company, "ana", &ana, &t->err), FM_OK);
    char *full = NULL, *capped = NULL;
    fm_id id_full, id_capped;
    assert_int_equal(fm_token_issue_member(t->s, t->company, ana.id, "laptop", FM_ROLE_OWNER,
                                           &full, &id_full, &t->err), FM_OK);
    assert_int_equal(fm_token_issue_member(t->s, t->company, ana.id, NULL, FM_ROLE_VIEWER,
                                           &capped, &id_capped, &t->err), FM_OK);
    fm_token tk;
    assert_int_equal(fm_token_check(t->s, full, &tk, &t->err), FM_OK);
    assert_int_equal(tk.kind, FM_TOKEN_MEMBER);
    assert_int_equal(tk.member_id, ana.id);
    assert_int_equal(tk.expires_at, 0);
    assert_string_equal(tk.name, "laptop");
    assert_int_equal(fm_token_role(FM_ROLE_OWNER, &tk), FM_ROLE_OWNER);
    assert_int_equal(fm_token_role(FM_ROLE_OPERATOR, &tk), FM_ROLE_OPERATOR);
    assert_int_equal(fm_token_check(t->s, capped, &tk, &t->err), FM_OK);
    assert_int_equal(fm_token_role(FM_ROLE_OWNER, &tk), FM_ROLE_VIEWER);
    /* A name too long for the table is refused, not cut. */
    char longname[80];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    char *none = NULL;
    assert_int_equal(fm_token_issue_member(t->s, t->company, ana.id, longname, FM_ROLE_OWNER,
                                           &none, NULL, &t->err), FM_EINVAL);
    assert_null(none);
    assert_int_equal(t->s->ops->token_revoke(t->s, t->company, id_full, fm_now_us(), &t->err),
                     FM_OK);
    assert_int_equal(fm_token_check(t->s, full, &tk, &t->err), FM_EPERM);
    assert_int_equal(fm_token_check(t->s, capped, &tk, &t->err), FM_OK);
    fm_member_release(&ana);
    free(full);
    free(capped);
    tdb_free(t);
}

/* The audit event of the last change to `object`, as "actor action details". */
static int last_event(const fm_audit_event *e, void *ctx)
{
    fm_buf *b = ctx;
    fm_buf_reset(b);
    fm_buf_addf(b, "%s %s %s", e->actor, e->action, e->details ? e->details : "");
    return 0;
}

static char *audited(tdb *t, const char *object)
{
    fm_buf b = FM_BUF_INIT;
    fm_audit_filter f = {.company_id = t->company, .object = object};
    assert_int_equal(t->s->ops->audit_scan(t->s, &f, last_event, &b, &t->err), FM_OK);
    return fm_buf_detach(&b);
}

/* fm_token_create and fm_token_revoke audit what they do, never the token's
 * text; revoking is scoped to the company. */
static void making_and_revoking_tokens_is_audited(void **state)
{
    tdb *t = tdb_new(true);
    fm_member ana;
    assert_int_equal(t->s->ops->member_find(t->s, t->company, "ana", &ana, &t->err), FM_OK);
    char *text = NULL;
    fm_id id = 0;
    assert_int_equal(fm_token_create(t->s, "member:ana", t->company, &ana, "ci", FM_ROLE_OPERATOR,
                                     &text, &id, &t->err), FM_OK);
    assert_true(id > 0);
    char *ev = audited(t, "member:ana");
    char *want = fm_xasprintf("member:ana token.create {\"name\":\"ci\",\"role\":\"operator\","
                              "\"token\":%lld}", (long long)id);
    assert_string_equal(ev, want);
    assert_null(strstr(ev, text));
    free(ev);
    free(want);
    fm_token tk;
    assert_int_equal(fm_token_check(t->s, text, &tk, &t->err), FM_OK);
    /* A token that cannot be made is neither made nor audited. */
    char longname[80], *none = NULL;
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(fm_token_create(t->s, "member:ana", t->company, &ana, longname,
                                     FM_ROLE_OWNER, &none, NULL, &t->err), FM_EINVAL);
    assert_null(none);
    ev = audited(t, "member:ana");
    assert_null(strstr(ev, longname));
    free(ev);
    assert_int_equal(fm_token_revoke(t->s, "member:ana", t->company + 1, id, &t->err),
                     FM_ENOTFOUND);
    assert_int_equal(fm_token_check(t->s, text, &tk, &t->err), FM_OK);
    assert_int_equal(fm_token_revoke(t->s, "member:ana", t->company, id, &t->err), FM_OK);
    assert_int_equal(fm_token_check(t->s, text, &tk, &t->err), FM_EPERM);
    char *object = fm_xasprintf("token:%lld", (long long)id);
    ev = audited(t, object);
    assert_string_equal(ev, "member:ana token.revoke {}");
    free(ev);
    free(object);
    fm_member_release(&ana);
    free(text);
    tdb_free(t);
}

static fm_member add_admin(tdb *t, const char *handle)
{
    fm_member m = {.company_id = t->company, .handle = fm_xstrdup(handle),
                   .role = FM_ROLE_ADMIN};
    assert_int_equal(fm_member_add(t->s, "test", &m, &t->err), FM_OK);
    return m;
}

/* Removing a member revokes their tokens: the next member added may get
 * the same id, and must not be reachable with the old member's tokens. */
static void a_removed_members_tokens_die_with_them(void **state)
{
    tdb *t = tdb_new(true);
    fm_member bob = add_admin(t, "bob");
    char *text = NULL;
    assert_int_equal(fm_token_create(t->s, "test", t->company, &bob, NULL, FM_ROLE_OWNER, &text,
                                     NULL, &t->err), FM_OK);
    assert_int_equal(fm_member_rm(t->s, "test", t->company, "bob", &t->err), FM_OK);
    char *ev = audited(t, "member:bob");
    assert_string_equal(ev, "test member.rm {\"tokens_revoked\":1}");
    free(ev);
    fm_member carol = add_admin(t, "carol");
    assert_int_equal(carol.id, bob.id); /* SQLite gives the freed id again */
    fm_token tk;
    assert_int_equal(fm_token_check(t->s, text, &tk, &t->err), FM_EPERM);
    assert_string_equal(t->err.msg, "the token was revoked");
    fm_member_release(&bob);
    fm_member_release(&carol);
    free(text);
    tdb_free(t);
}

/* A reservation a crash left open is charged at its worst case, released,
 * and audited; a run without one is left alone. */
static void orphaned_reservations_are_settled(void **state)
{
    tdb *t = tdb_new(true);
    fm_id ceo;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    fm_agent a;
    assert_int_equal(t->s->ops->agent_get(t->s, ceo, &a, &t->err), FM_OK);
    a.budget.usd_micro = 10000000;
    assert_int_equal(fm_agent_update(t->s, "test", &a, NULL, &t->err), FM_OK);
    fm_agent_release(&a);
    fm_company c;
    assert_int_equal(t->s->ops->company_get(t->s, t->company, &c, &t->err), FM_OK);
    c.budget.usd_micro = 10000000;
    assert_int_equal(t->s->ops->company_update(t->s, &c, &t->err), FM_OK);
    fm_company_release(&c);
    fm_reservation r1, r2;
    assert_int_equal(fm_budget_reserve(t->s, t->company, ceo, 5, 300000, 1000, &r1, &t->err),
                     FM_OK);
    assert_int_equal(fm_budget_reserve(t->s, t->company, ceo, 6, 200000, 800, &r2, &t->err),
                     FM_OK);
    assert_int_equal(fm_budget_settle(t->s, &r2, "sim", 1000, 10, 0, 5, &t->err), FM_OK);
    int64_t usd, tok;
    assert_int_equal(t->s->ops->ledger_open(t->s, 5, &usd, &tok, &t->err), FM_OK);
    assert_int_equal(usd, 300000);
    assert_int_equal(tok, 1000);
    assert_int_equal(fm_budget_settle_orphan(t->s, t->company, ceo, 6, &usd, &t->err), FM_OK);
    assert_int_equal(usd, 0); /* settled already: nothing to do */
    assert_int_equal(fm_budget_settle_orphan(t->s, t->company, ceo, 5, &usd, &t->err), FM_OK);
    assert_int_equal(usd, 300000);
    assert_int_equal(t->s->ops->ledger_open(t->s, 5, &usd, &tok, &t->err), FM_OK);
    assert_int_equal(usd, 0);
    assert_int_equal(tok, 0);
    /* Spent: the worst case of run 5 and the real cost of run 6. */
    fm_spend *v;
    size_t n;
    assert_int_equal(t->s->ops->ledger_spend(t->s, t->company, 0, &v, &n, &t->err), FM_OK);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].agent_id == ceo)
            total = v[i].usd_micro;
    free(v);
    assert_int_equal(total, 301000);
    /* Twice is a no-op. */
    assert_int_equal(fm_budget_settle_orphan(t->s, t->company, ceo, 5, &usd, &t->err), FM_OK);
    assert_int_equal(usd, 0);
    tdb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agent_tokens_check_expire_and_revoke),
        cmocka_unit_test(member_tokens_carry_a_capped_role),
        cmocka_unit_test(making_and_revoking_tokens_is_audited),
        cmocka_unit_test(a_removed_members_tokens_die_with_them),
        cmocka_unit_test(orphaned_reservations_are_settled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
