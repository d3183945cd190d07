/* Spending over time: per agent per UTC day (for charts), and the ledger
 * itself, row by row. An agent's token sees only its own agent's. */
#include "http/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DAY_US 86400000000LL
#define DAYS_DEFAULT 30
#define DAYS_MAX 366
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

/* "2026-11-23" for a day number (days since 1970-01-01, UTC). */
static json_t *day_json(int64_t day)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    char text[16];
    gmtime_r(&t, &tm);
    strftime(text, sizeof text, "%Y-%m-%d", &tm);
    return json_string(text);
}

/* ?agent=HANDLE as an id (0 when absent), narrowed for an agent's token to
 * its own agent (asking for another is 403). False with rs set. */
static bool agent_filter(fm_api_req *rq, fm_api_res *rs, fm_id *out)
{
    const char *h = fm__api_query(rq, "agent");
    *out = 0;
    if (h) {
        fm_agent a;
        if (!fm__api_agent(rq, rs, h, &a))
            return false;
        *out = a.id;
        fm_agent_release(&a);
    }
    if (fm__api_is_agent(rq)) {
        if (*out && *out != rq->who.agent_id) {
            fm__api_error(rs, 403, "forbidden", "agent",
                          "an agent's token sees only its own spending");
            return false;
        }
        *out = rq->who.agent_id;
    }
    return true;
}

/* An array of the n figures v, or of n zeros when v is NULL. */
static json_t *figures(const int64_t *v, int64_t n)
{
    json_t *a = json_array();
    for (int64_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v ? v[i] : 0));
    return a;
}

/* Series aligned with "days" (oldest first, ending today): the company's
 * (everything spent, by agents or not) and each agent's that spent. The
 * store has one row per agent per day, so an agent's figure for a day is
 * set once; only the company's are sums. */
static void spend_daily(fm_api_req *rq, fm_api_res *rs)
{
    int64_t days;
    fm_id agent;
    if (!fm__api_query_int(rq, rs, "days", 1, DAYS_MAX, DAYS_DEFAULT, &days) ||
        !agent_filter(rq, rs, &agent))
        return;
    int64_t today = fm_now_us() / DAY_US, first = today - days + 1;
    fm_spend_day *d = NULL;
    size_t nd = 0;
    fm_error err = {0};
    if (rq->store->ops->spend_daily(rq->store, rq->who.company_id, agent, first * DAY_US, &d, &nd,
                                    &err) != FM_OK) {
        free(d);
        fm__api_fail(rs, &err);
        return;
    }
    int64_t *usd = fm_xcalloc((size_t)days, sizeof *usd);
    int64_t *tok = fm_xcalloc((size_t)days, sizeof *tok);
    json_t *labels = json_array(), *order = json_array(), *by_agent = json_object();
    for (int64_t i = 0; i < days; i++)
        json_array_append_new(labels, day_json(first + i));
    for (size_t i = 0; i < nd; i++) {
        int64_t k = d[i].day - first;
        if (k < 0 || k >= days) /* a clock set back: a day past today */
            continue;
        usd[k] += d[i].usd_micro;
        tok[k] += d[i].tokens;
        if (!d[i].agent_id)
            continue;
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)d[i].agent_id);
        json_t *series = json_object_get(by_agent, id);
        if (!series) {
            series = json_pack("{s:s, s:o, s:o}", "agent", fm__api_name(rq, d[i].agent_id),
                               "usd_micro", figures(NULL, days), "tokens", figures(NULL, days));
            json_object_set_new(by_agent, id, series);
            json_array_append(order, series);
        }
        json_array_set_new(json_object_get(series, "usd_micro"), (size_t)k,
                           json_integer(d[i].usd_micro));
        json_array_set_new(json_object_get(series, "tokens"), (size_t)k, json_integer(d[i].tokens));
    }
    /* For one agent's, the company's series would be only its own. */
    json_t *company = agent ? json_null()
                            : json_pack("{s:o, s:o}", "usd_micro", figures(usd, days), "tokens",
                                        figures(tok, days));
    fm__api_ok(rs, 200, json_pack("{s:o, s:o, s:o}", "days", labels, "company", company,
                                  "agents", order));
    json_decref(by_agent);
    free(usd);
    free(tok);
    free(d);
}

static void list_ledger(fm_api_req *rq, fm_api_res *rs)
{
    int64_t limit, before;
    fm_id agent;
    if (!fm__api_query_int(rq, rs, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
        !fm__api_query_int(rq, rs, "before", 0, INT64_MAX, 0, &before) ||
        !agent_filter(rq, rs, &agent))
        return;
    fm_ledger_row *r = NULL;
    size_t n = 0;
    fm_error err = {0};
    if (rq->store->ops->ledger_list(rq->store, rq->who.company_id, agent, before,
                                    (size_t)limit + 1, &r, &n, &err) != FM_OK) {
        fm_ledger_list_free(r, n);
        fm__api_fail(rs, &err);
        return;
    }
    bool more = n > (size_t)limit;
    size_t shown = more ? (size_t)limit : n;
    json_t *arr = json_array();
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(
            arr, json_pack("{s:I, s:s?, s:I, s:s, s:I, s:I, s:I, s:I, s:s?, s:I}", "id",
                           (json_int_t)r[i].id, "agent",
                           fm__api_name(rq, r[i].agent_id), "run",
                           (json_int_t)r[i].run_id, "kind", r[i].kind, "usd_micro",
                           (json_int_t)r[i].usd_micro, "tokens_in", (json_int_t)r[i].tokens_in,
                           "tokens_cached", (json_int_t)r[i].tokens_cached, "tokens_out",
                           (json_int_t)r[i].tokens_out, "model", r[i].model, "at_us",
                           (json_int_t)r[i].created_at));
    json_t *next = more ? json_sprintf("%lld", (long long)r[shown - 1].id) : json_null();
    fm__api_ok(rs, 200, json_pack("{s:o, s:o}", "entries", arr, "next", next));
    fm_ledger_list_free(r, n);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/spend/daily", .handler = spend_daily,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "Spending per UTC day for the last ?days= (1-366, default 30): the company's "
                "and each agent's that spent, aligned with days; ?agent= for one agent"},
    {.method = FM_HTTP_GET, .pattern = "/v1/ledger", .handler = list_ledger,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "The spending ledger, newest first, paged by ?limit= and ?before= (the "
                "answer's next); ?agent= for one agent"},
};

const fm_api_resource fm__api_spend = {"spend", routes, sizeof routes / sizeof routes[0]};
