/* The audit log: read (paged by seq, filtered by action prefix and actor)
 * and verified, as `firma log` and `firma audit verify` do. */
#include "http/api.h"

#include <stdio.h>
#include <string.h>

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

typedef struct page {
    json_t *events;
    size_t limit, seen;
    int64_t last_seq;
} page;

static int add_event(const fm_audit_event *e, void *ctx)
{
    page *p = ctx;
    if (++p->seen > p->limit)
        return 0; /* the one past the page: there is a next page */
    fm_buf ts = FM_BUF_INIT;
    fm_format_time(&ts, e->ts);
    json_t *d = e->details ? json_loads(e->details, 0, NULL) : NULL;
    json_array_append_new(p->events,
                          json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o}", "seq", (json_int_t)e->seq,
                                    "ts", ts.ptr ? ts.ptr : "", "actor", e->actor, "action",
                                    e->action, "object", e->object, "details",
                                    d ? d : json_object()));
    fm_buf_release(&ts);
    p->last_seq = e->seq;
    return 0;
}

static void list_audit(fm_api_req *rq, fm_api_res *rs)
{
    int64_t limit, after, before;
    const char *order = fm__api_query(rq, "order");
    if (!fm__api_query_int(rq, rs, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
        !fm__api_query_int(rq, rs, "after", 0, INT64_MAX, 0, &after) ||
        !fm__api_query_int(rq, rs, "before", 0, INT64_MAX, 0, &before))
        return;
    if (order && strcmp(order, "oldest") != 0 && strcmp(order, "newest") != 0) {
        fm__api_error(rs, 422, "invalid", "order", "order %s: want oldest or newest", order);
        return;
    }
    /* Oldest first pages forward by ?after=; newest first back by ?before=. */
    bool newest = order && strcmp(order, "newest") == 0;
    if ((newest && after) || (!newest && before)) {
        fm__api_error(rs, 422, "invalid", newest ? "after" : "before",
                      "order=%s pages by ?%s= (the answer's next)", newest ? "newest" : "oldest",
                      newest ? "before" : "after");
        return;
    }
    fm_audit_filter f = {.company_id = rq->who.company_id, .after_seq = after,
                         .before_seq = before, .newest_first = newest,
                         .actor = fm__api_query(rq, "actor"),
                         .action = fm__api_query(rq, "action"), .limit = (size_t)limit + 1};
    page p = {.events = json_array(), .limit = (size_t)limit};
    fm_error err = {0};
    if (rq->store->ops->audit_scan(rq->store, &f, add_event, &p, &err) != FM_OK) {
        json_decref(p.events);
        fm__api_fail(rs, &err);
        return;
    }
    json_t *next = p.seen > p.limit ? json_sprintf("%lld", (long long)p.last_seq) : json_null();
    fm__api_ok(rs, 200, json_pack("{s:o, s:o}", "events", p.events, "next", next));
}

static void verify_audit(fm_api_req *rq, fm_api_res *rs)
{
    fm_audit_report r = {0};
    fm_error err = {0};
    int rc = fm_audit_verify(rq->store, rq->keys, rq->who.company_id, rq->witness_path, &r, &err);
    if (rc != FM_OK && rc != FM_ETAMPER) {
        fm__api_fail(rs, &err);
        return;
    }
    fm__api_ok(rs, 200, json_pack("{s:b, s:I, s:I, s:b, s:I, s:s}", "ok", rc == FM_OK, "events",
                                  (json_int_t)r.events, "checkpoints", (json_int_t)r.checkpoints,
                                  "signatures_checked", rq->keys != NULL, "first_bad_seq",
                                  (json_int_t)r.bad_seq, "why", r.why));
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/audit", .handler = list_audit,
     .least = FM_ROLE_VIEWER,
     .summary = "Audit events, ?action= (prefix) ?actor= (exact); oldest first paged by "
                "?after=, or ?order=newest paged by ?before= (the answer's next); ?limit="},
    {.method = FM_HTTP_GET, .pattern = "/v1/audit/verify", .handler = verify_audit,
     .least = FM_ROLE_VIEWER, .summary = "Verify the company's audit chain and checkpoints"},
};

const fm_api_resource fm__api_audit = {"audit", routes, sizeof routes / sizeof routes[0]};
