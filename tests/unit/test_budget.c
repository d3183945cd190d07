/* governance/budget: prices, reservations that stop spending, settling, and a race. */
#include "firma/governance.h"
#include "helpers.h"

#include <sys/wait.h>

static void set_budget(tdb *t, const char *handle, int64_t usd, int64_t tokens)
{
    fm_agent a;
    assert_int_equal(t->s->ops->agent_find(t->s, t->company, handle, &a, &t->err), FM_OK);
    a.budget.usd_micro = usd;
    a.budget.tokens = tokens;
    assert_int_equal(fm_agent_update(t->s, "test", &a, NULL, &t->err), FM_OK);
    fm_agent_release(&a);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The owner's prices come before the built-in ones; a bad file changes
 * nothing and says where it is wrong. */
static void prices_from_a_file(void **state)
{
    tdb *t = tdb_new(false);
    char path[600];
    snprintf(path, sizeof path, "%s/prices.json", t->dir);
    fm_price p;
    fm_error err;
    assert_int_equal(fm_price_lookup("openai:gpt-5-mini", &p, &err), FM_ENOTFOUND);
    write_file(path, "{\"openai:gpt-5*\": {\"input\": 1.25, \"cached\": \"0.125\", "
                     "\"output\": 10},\n \"openai:gpt-4o-mini\": {\"input\": 0, \"output\": 0}}");
    assert_int_equal(fm_prices_load(path, &err), FM_OK);
    assert_int_equal(fm_price_lookup("openai:gpt-5-mini", &p, &err), FM_OK);
    assert_int_equal(p.input, 1250000);
    assert_int_equal(p.cached, 125000);
    assert_int_equal(p.output, 10000000);
    /* Exact wins over the built-in prefix; cached defaults to input. */
    assert_int_equal(fm_price_lookup("openai:gpt-4o-mini", &p, &err), FM_OK);
    assert_int_equal(p.output, 0);
    assert_int_equal(fm_price_lookup("openai:gpt-4o-mini-2024", &p, &err), FM_OK);
    assert_int_equal(p.output, 600000);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"x\": {\"input\": 1, \"output\": 2},", "prices.json:1: "},
        {"[]", "want an object of models"},
        {"{\"m\": {\"input\": -1, \"output\": 2}}", "model 'm': want {\"input\": USD"},
        {"{\"m\": {\"input\": 1}}", "model 'm'"},
        {"{\"m\": {\"input\": 1, \"output\": 2, \"extra\": 3}}", "model 'm'"},
        {"{\"m\": {\"input\": \"cheap\", \"output\": 2}}", "model 'm'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].text);
        assert_int_equal(fm_prices_load(path, &err), FM_EPARSE);
        if (!strstr(err.msg, bad[i].msg))
            fprintf(stderr, "case %zu: %s\n", i, err.msg);
        assert_non_null(strstr(err.msg, bad[i].msg));
    }
    /* The good prices stay after a bad file. */
    assert_int_equal(fm_price_lookup("openai:gpt-5-mini", &p, &err), FM_OK);
    assert_int_equal(fm_prices_load("/nonexistent/prices.json", &err), FM_EPARSE);
    fm_prices_reset();
    assert_int_equal(fm_price_lookup("openai:gpt-5-mini", &p, &err), FM_ENOTFOUND);
    tdb_free(t);
}

static void prices_and_rounding(void **state)
{
    fm_price p;
    fm_error err;
    assert_int_equal(fm_price_lookup("openai:gpt-4o-mini-2024-07-18", &p, &err), FM_OK);
    assert_string_equal(p.model, "openai:gpt-4o-mini*"); /* the longest prefix wins */
    assert_int_equal(fm_price_lookup("openai:gpt-4o", &p, &err), FM_OK);
    assert_string_equal(p.model, "openai:gpt-4o*");
    assert_int_equal(fm_price_lookup("acme:mystery", &p, &err), FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no price known for model 'acme:mystery'"));
    assert_int_equal(fm_price_lookup("sim", &p, &err), FM_OK);
    /* sim: $1/Mtok in, $0.10 cached, $4 out. */
    assert_int_equal(fm_price_cost(&p, 1000, 0, 0), 1000);
    assert_int_equal(fm_price_cost(&p, 1000, 1000, 500), 100 + 2000);
    assert_int_equal(fm_price_cost(&p, 1, 0, 0), 1);   /* rounds up */
    assert_int_equal(fm_price_cost(&p, 0, 0, 0), 0);
    assert_int_equal(fm_price_cost(&p, 10, 50, 0), 1); /* cached never exceeds input */
}

static int count_event(const fm_audit_event *e, void *ctx)
{
    (*(int *)ctx)++;
    return 0;
}

static void reserve_settle_and_refuse(void **state)
{
    tdb *t = tdb_new(true);
    fm_id ceo;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    set_budget(t, "ceo", 1000000, 0); /* $1 */
    fm_reservation r;
    assert_int_equal(fm_budget_reserve(t->s, t->company, ceo, 1, 600000, 100, &r, &t->err), FM_OK);
    /* Reserved money counts as spent: a second worst case does not fit. */
    assert_int_equal(fm_budget_reserve(t->s, t->company, ceo, 2, 600000, 100, &r, &t->err),
                     FM_EBUDGET);
    assert_string_equal(t->err.msg, "@ceo's budget would be exceeded: $0.6 of $1 spent today, "
                                    "and this call may cost up to $0.6");
    /* Settling to the real, smaller cost frees the rest. */
    fm_reservation first = {t->company, ceo, 1, 600000, 100};
    assert_int_equal(fm_budget_settle(t->s, &first, "sim", 100000, 80, 0, 20, &t->err), FM_OK);
    assert_int_equal(fm_budget_reserve(t->s, t->company, ceo, 2, 600000, 100, &r, &t->err), FM_OK);
    fm_spend *v;
    size_t n;
    assert_int_equal(t->s->ops->ledger_spend(t->s, t->company, 0, &v, &n, &t->err), FM_OK);
    assert_int_equal(v[n - 1].usd_micro, 700000); /* 0.1 charged + 0.6 reserved */
    free(v);
    /* The refusal was audited. */
    fm_audit_filter f = {.company_id = t->company, .action = "budget.refused"};
    int count = 0;
    assert_int_equal(t->s->ops->audit_scan(t->s, &f, count_event, &count, &t->err), FM_OK);
    assert_int_equal(count, 1);
    tdb_free(t);
}

static void company_and_token_caps(void **state)
{
    tdb *t = tdb_new(true); /* company budget: $100 */
    fm_id a, b;
    assert_int_equal(tdb_hire(t, "a", "ana", &a), FM_OK);
    assert_int_equal(tdb_hire(t, "b", "ana", &b), FM_OK);
    set_budget(t, "a", 80000000, 0);
    set_budget(t, "b", 80000000, 1000);
    fm_reservation r;
    assert_int_equal(fm_budget_reserve(t->s, t->company, a, 1, 70000000, 0, &r, &t->err), FM_OK);
    /* b is within its own $80 but the company has only $30 left. */
    assert_int_equal(fm_budget_reserve(t->s, t->company, b, 2, 40000000, 0, &r, &t->err),
                     FM_EBUDGET);
    assert_non_null(strstr(t->err.msg, "the company's budget would be exceeded"));
    assert_int_equal(fm_budget_reserve(t->s, t->company, b, 2, 1000, 900, &r, &t->err), FM_OK);
    assert_int_equal(fm_budget_reserve(t->s, t->company, b, 3, 1000, 200, &r, &t->err),
                     FM_EBUDGET);
    assert_non_null(strstr(t->err.msg, "@b's token budget would be exceeded: 900 of 1000"));
    /* An agent with no budget may not spend at all, but a free call passes. */
    fm_id c;
    assert_int_equal(tdb_hire(t, "c", "ana", &c), FM_OK);
    assert_int_equal(fm_budget_reserve(t->s, t->company, c, 4, 1, 0, &r, &t->err), FM_EBUDGET);
    assert_int_equal(fm_budget_reserve(t->s, t->company, c, 4, 0, 0, &r, &t->err), FM_OK);
    tdb_free(t);
}

/* Eight processes, each with its own connection, reserve $0.10 fifty times
 * against a $3 budget: exactly thirty reservations may succeed, whatever the
 * interleaving. */
static void concurrent_reservations_never_overspend(void **state)
{
    tdb *t = tdb_new(true);
    fm_id agent;
    assert_int_equal(tdb_hire(t, "busy", "ana", &agent), FM_OK);
    set_budget(t, "busy", 3000000, 0);
    int fds[8][2];
    pid_t pids[8];
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            fm_store *s;
            fm_error err;
            int won = 0;
            if (fm_store_open(t->path, &s, &err) != FM_OK)
                _exit(2);
            for (int k = 0; k < 50; k++) {
                fm_reservation r;
                int rc = fm_budget_reserve(s, t->company, agent, 100 + i, 100000, 0, &r, &err);
                if (rc == FM_OK)
                    won++;
                else if (rc != FM_EBUDGET)
                    _exit(3);
            }
            fm_store_close(s);
            if (write(fds[i][1], &won, sizeof won) != sizeof won)
                _exit(4);
            _exit(0);
        }
        close(fds[i][1]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        int status, won = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(read(fds[i][0], &won, sizeof won), (ssize_t)sizeof won);
        close(fds[i][0]);
        total += won;
    }
    assert_int_equal(total, 30);
    fm_spend *v;
    size_t n;
    assert_int_equal(t->s->ops->ledger_spend(t->s, t->company, 0, &v, &n, &t->err), FM_OK);
    assert_int_equal(v[n - 1].usd_micro, 3000000);
    free(v);
    tdb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prices_and_rounding),
        cmocka_unit_test(prices_from_a_file),
        cmocka_unit_test(reserve_settle_and_refuse),
        cmocka_unit_test(company_and_token_caps),
        cmocka_unit_test(concurrent_reservations_never_overspend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
