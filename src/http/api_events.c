/* GET /v1/events: the company's live events (firma/events.h) as Server-Sent
 * Events. The handler checks the caller and where to start; server.c
 * streams. */
#include "http/api.h"

#include "firma/events.h"

#include <string.h>

/* Where a stream starts: Last-Event-ID (a reconnecting client), else
 * ?after=CURSOR, else now (the stream's head: only what happens next). */
static void get_events(fm_api_req *rq, fm_api_res *rs)
{
    const char *from = fm__api_header(rq, "Last-Event-ID");
    const char *field = "Last-Event-ID";
    if (!from || !*from) {
        from = fm__api_query(rq, "after");
        field = "after";
    }
    fm_error err;
    fm_error_clear(&err);
    char cursor[FM_EVENT_CURSOR_MAX];
    if (from && *from) {
        fm_event *v;
        size_t n;
        if (fm_events_since(rq->store, rq->who.company_id, from, 1, &v, &n, cursor, &err) !=
            FM_OK) {
            fm__api_error(rs, 422, "invalid", field, "%s: %s", field, err.msg);
            return;
        }
        fm_event_list_free(v, n);
        snprintf(cursor, sizeof cursor, "%s", from);
    } else if (fm_events_head(rq->store, rq->who.company_id, cursor, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    rs->status = 200;
    rs->stream.on = true;
    rs->stream.company = rq->who.company_id;
    snprintf(rs->stream.cursor, sizeof rs->stream.cursor, "%s", cursor);
    /* An agent token hears only about its own agent. */
    if (fm__api_is_agent(rq)) {
        fm_agent a;
        if (rq->store->ops->agent_get(rq->store, rq->who.agent_id, &a, &err) != FM_OK) {
            fm__api_fail(rs, &err);
            rs->stream.on = false;
            return;
        }
        snprintf(rs->stream.agent, sizeof rs->stream.agent, "%s", a.handle);
        fm_agent_release(&a);
    }
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/events", .handler = get_events,
     .least = FM_ROLE_VIEWER, .agents = true,
     .summary = "Live events as Server-Sent Events (text/event-stream): task, message, "
                "run.step, approval.requested, approval.decided, budget.alert, agent.paused, "
                "...; resumable with Last-Event-ID or ?after=CURSOR"},
};

const fm_api_resource fm__api_events = {"events", routes, sizeof routes / sizeof routes[0]};
