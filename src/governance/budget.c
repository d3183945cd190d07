/*
 * Budget periods, the price table, and reservations that stop spending
 * before it happens (see governance.h). Money is integer micro-dollars
 * throughout; costs round up, so a budget is never exceeded by rounding.
 */
#include "core/ops_int.h"
#include "firma/base.h"
#include "firma/governance.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t fm_period_start(fm_period p, int64_t now_us)
{
    const int64_t day = 86400LL * 1000000;
    int64_t today = now_us - now_us % day;
    switch (p) {
    case FM_PERIOD_DAY:
        return today;
    case FM_PERIOD_WEEK: {
        int64_t days = today / day;           /* 1970-01-01 was a Thursday */
        int64_t since_monday = (days + 3) % 7;
        return today - since_monday * day;
    }
    case FM_PERIOD_MONTH: {
        time_t t = (time_t)(now_us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        return today - (int64_t)(tm.tm_mday - 1) * day;
    }
    default:
        return 0;
    }
}

/* List prices, micro-dollars per million tokens (input, cached input,
 * output). `sim` is priced like a small model so that budgets, reservations
 * and the example's "marketing hits its budget" behave as they would for
 * real; its spend is marked sim in the ledger's model column. */
static const fm_price prices[] = {
    {"sim", 1000000, 100000, 4000000},
    {"openai:gpt-4o-mini*", 150000, 75000, 600000},
    {"openai:gpt-4o*", 2500000, 1250000, 10000000},
    {"openai:gpt-4.1-mini*", 400000, 100000, 1600000},
    {"openai:gpt-4.1*", 2000000, 500000, 8000000},
    {"openai:o4-mini*", 1100000, 275000, 4400000},
    {"anthropic:claude-haiku*", 1000000, 100000, 5000000},
    {"anthropic:claude-sonnet*", 3000000, 300000, 15000000},
    {"anthropic:claude-opus*", 15000000, 1500000, 75000000},
    {"local:*", 0, 0, 0},
};

/* The owner's own prices (fm_prices_load), looked at before the list. */
static fm_price *own;
static size_t n_own;

/* The entry for `model` in v: exact, else the longest '*' prefix. */
static const fm_price *match(const fm_price *v, size_t n_v, const char *model)
{
    const fm_price *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; model && i < n_v; i++) {
        const char *m = v[i].model;
        size_t n = strlen(m);
        if (strcmp(m, model) == 0)
            return &v[i];
        if (n && m[n - 1] == '*' && strncmp(m, model, n - 1) == 0 && n - 1 >= best_len) {
            best = &v[i];
            best_len = n - 1;
        }
    }
    return best;
}

void fm_prices_reset(void)
{
    for (size_t i = 0; i < n_own; i++)
        free((char *)own[i].model);
    free(own);
    own = NULL;
    n_own = 0;
}

/* A price per million tokens in dollars ("2.5" or 2.5) as micro-dollars. */
static bool usd_per_mtok(json_t *v, int64_t *out)
{
    char buf[64];
    if (json_is_string(v))
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    else if (json_is_number(v))
        snprintf(buf, sizeof buf, "%.6f", json_number_value(v));
    else
        return false;
    return fm_parse_usd(buf, out) == FM_OK && *out >= 0;
}

int fm_prices_load(const char *path, fm_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fm_error_set(err, FM_EPARSE, "%s:%d: %s", path, je.line, je.text);
    int rc = FM_OK;
    if (!json_is_object(root) || json_object_size(root) == 0)
        rc = fm_error_set(err, FM_EPARSE, "%s: want an object of models, like "
                          "{\"openai:gpt-5*\": {\"input\": 1.25, \"cached\": 0.125, "
                          "\"output\": 10}} (dollars per million tokens)", path);
    fm_price *v = fm_xcalloc(json_object_size(root) + 1, sizeof *v);
    size_t n = 0;
    const char *model;
    json_t *p;
    json_object_foreach(root, model, p) {
        if (rc != FM_OK)
            break;
        int64_t in = 0, cached = 0, outp = 0;
        json_t *c = json_object_get(p, "cached");
        if (!json_is_object(p) || !usd_per_mtok(json_object_get(p, "input"), &in) ||
            !usd_per_mtok(json_object_get(p, "output"), &outp) ||
            (c && !usd_per_mtok(c, &cached)) || json_object_size(p) != 2u + (c != NULL)) {
            rc = fm_error_set(err, FM_EPARSE, "%s: model '%s': want {\"input\": USD, "
                              "\"output\": USD} and optionally \"cached\", each a price per "
                              "million tokens of 0 or more", path, model);
            break;
        }
        v[n++] = (fm_price){fm_xstrdup(model), in, c ? cached : in, outp};
    }
    json_decref(root);
    if (rc != FM_OK) {
        for (size_t i = 0; i < n; i++)
            free((char *)v[i].model);
        free(v);
        return rc;
    }
    fm_prices_reset();
    own = v;
    n_own = n;
    return FM_OK;
}

int fm_price_lookup(const char *model, fm_price *out, fm_error *err)
{
    const fm_price *best = match(own, n_own, model);
    if (!best)
        best = match(prices, sizeof prices / sizeof prices[0], model);
    if (!best)
        return fm_error_set(err, FM_ENOTFOUND,
                            "no price known for model '%s': an unpriced model cannot be "
                            "budgeted, so firma will not call it (use local:NAME for a free "
                            "local model)", model ? model : "");
    *out = *best;
    return FM_OK;
}

static int64_t per_million(int64_t tokens, int64_t price)
{
    /* Round up: 1 token at $0.15/Mtok costs 1 micro-dollar, not 0. */
    __int128 v = (__int128)tokens * price;
    return (int64_t)((v + 999999) / 1000000);
}

int64_t fm_price_cost(const fm_price *p, int64_t input, int64_t cached, int64_t output)
{
    if (cached > input)
        cached = input;
    return per_million(input - cached, p->input) + per_million(cached, p->cached) +
           per_million(output, p->output);
}

static const char *period_phrase(fm_period p)
{
    static const char *const words[] = {"today", "this week", "this month", "in total"};
    return (unsigned)p < FM_PERIOD_N ? words[p] : "";
}

/* Checks one cap; on refusal fills `err` and returns FM_EBUDGET. */
static int check_cap(const char *whose, const fm_budget *b, int64_t spent, int64_t tokens_spent,
                     int64_t usd, int64_t tokens, fm_error *err)
{
    if (spent + usd > b->usd_micro) {
        fm_buf m = FM_BUF_INIT;
        fm_buf_addf(&m, "%s budget would be exceeded: $", whose);
        fm_format_usd(&m, spent);
        fm_buf_adds(&m, " of $");
        fm_format_usd(&m, b->usd_micro);
        fm_buf_addf(&m, " spent %s, and this call may cost up to $", period_phrase(b->period));
        fm_format_usd(&m, usd);
        fm_error_set(err, FM_EBUDGET, "%s", m.ptr);
        fm_buf_release(&m);
        return FM_EBUDGET;
    }
    if (b->tokens && tokens_spent + tokens > b->tokens)
        return fm_error_set(err, FM_EBUDGET,
                            "%s token budget would be exceeded: %lld of %lld tokens used %s, "
                            "and this call may use up to %lld", whose, (long long)tokens_spent,
                            (long long)b->tokens, period_phrase(b->period), (long long)tokens);
    return FM_OK;
}

static int check_budgets(fm_store *s, const fm_company *c, const fm_agent *a, int64_t usd,
                         int64_t tokens, fm_error *err)
{
    int64_t now = fm_now_us(), spent, spent_tokens;
    int rc = s->ops->spend_of(s, c->id, a->id, fm_period_start(a->budget.period, now), &spent,
                              &spent_tokens, err);
    if (rc == FM_OK) {
        char whose[64];
        snprintf(whose, sizeof whose, "@%s's", a->handle);
        rc = check_cap(whose, &a->budget, spent, spent_tokens, usd, tokens, err);
    }
    if (rc == FM_OK)
        rc = s->ops->spend_of(s, c->id, 0, fm_period_start(c->budget.period, now), &spent,
                              &spent_tokens, err);
    if (rc == FM_OK)
        rc = check_cap("the company's", &c->budget, spent, spent_tokens, usd, tokens, err);
    return rc;
}

/* Records a refusal in its own transaction, after the reserving one rolled back. */
static void audit_refusal(fm_store *s, fm_id company, const fm_agent *a, int64_t usd,
                          const char *why)
{
    if (s->ops->begin(s, NULL) != FM_OK)
        return;
    char *obj = fm_xasprintf("agent:%s", a->handle);
    int rc = fm__audit(s, company, "system", "budget.refused", obj,
                       fm__details("{s:I, s:s}", "usd_micro", (json_int_t)usd, "why", why), NULL);
    free(obj);
    fm_store_end(s, rc, NULL);
}

int fm_budget_reserve(fm_store *s, fm_id company, fm_id agent, fm_id run, int64_t usd_micro,
                      int64_t tokens, fm_reservation *out, fm_error *err)
{
    fm_company c;
    fm_agent a;
    memset(&c, 0, sizeof c);
    memset(&a, 0, sizeof a);
    memset(out, 0, sizeof *out);
    int rc = s->ops->begin(s, err);
    if (rc != FM_OK || (rc = s->ops->company_get(s, company, &c, err)) != FM_OK)
        return fm_store_end(s, rc, err);
    if ((rc = fm__agent_of(s, company, agent, true, &a, err)) != FM_OK) {
        fm_company_release(&c);
        return fm_store_end(s, rc, err);
    }
    rc = check_budgets(s, &c, &a, usd_micro, tokens, err);
    if (rc == FM_OK) {
        fm_ledger_entry e = {.company_id = company, .agent_id = agent, .run_id = run,
                             .kind = "reserve", .usd_micro = usd_micro, .tokens_in = tokens};
        rc = s->ops->ledger_insert(s, &e, err);
    }
    rc = fm_store_end(s, rc, err);
    if (rc == FM_EBUDGET)
        audit_refusal(s, company, &a, usd_micro, err ? err->msg : "over budget");
    if (rc == FM_OK)
        *out = (fm_reservation){company, agent, run, usd_micro, tokens};
    fm_agent_release(&a);
    fm_company_release(&c);
    return rc;
}

int fm_budget_settle(fm_store *s, const fm_reservation *r, const char *model, int64_t usd_micro,
                     int64_t input, int64_t cached, int64_t output, fm_error *err)
{
    fm_ledger_entry release = {.company_id = r->company_id, .agent_id = r->agent_id,
                               .run_id = r->run_id, .kind = "release",
                               .usd_micro = -r->usd_micro, .tokens_in = -r->tokens};
    fm_ledger_entry charge = {.company_id = r->company_id, .agent_id = r->agent_id,
                              .run_id = r->run_id, .kind = "charge", .usd_micro = usd_micro,
                              .tokens_in = input, .tokens_cached = cached, .tokens_out = output,
                              .model = model};
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->ledger_insert(s, &release, err);
    if (rc == FM_OK)
        rc = s->ops->ledger_insert(s, &charge, err);
    return fm_store_end(s, rc, err);
}

int fm_budget_settle_orphan(fm_store *s, fm_id company, fm_id agent, fm_id run, int64_t *usd,
                            fm_error *err)
{
    int64_t open_usd = 0, open_tokens = 0;
    *usd = 0;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->ledger_open(s, run, &open_usd, &open_tokens, err);
    if (rc != FM_OK || (open_usd == 0 && open_tokens == 0))
        return fm_store_end(s, rc, err);
    fm_ledger_entry release = {.company_id = company, .agent_id = agent, .run_id = run,
                               .kind = "release", .usd_micro = -open_usd,
                               .tokens_in = -open_tokens};
    fm_ledger_entry charge = {.company_id = company, .agent_id = agent, .run_id = run,
                              .kind = "charge", .usd_micro = open_usd, .tokens_in = open_tokens,
                              .model = "unknown: interrupted"};
    rc = s->ops->ledger_insert(s, &release, err);
    if (rc == FM_OK)
        rc = s->ops->ledger_insert(s, &charge, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("run:%lld", (long long)run);
        rc = fm__audit(s, company, "system", "budget.orphan", obj,
                       fm__details("{s:I, s:s}", "usd_micro", (json_int_t)open_usd, "why",
                                   "a model call was cut off by a stop; its worst case is "
                                   "charged, as its real cost is unknown"),
                       err);
        free(obj);
    }
    rc = fm_store_end(s, rc, err);
    if (rc == FM_OK)
        *usd = open_usd;
    return rc;
}
