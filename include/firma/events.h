/*
 * Live events: what changed in a company, in order, resumable from a cursor.
 * The API's /v1/events streams them as Server-Sent Events; anything else that
 * tails a company can use them too.
 *
 * They are read from the store, not kept in memory, so they survive a restart
 * and every process sharing the database sees the same stream. Two sources,
 * merged by time:
 *   - the audit chain: every change (tasks, messages, approvals, agents,
 *     budgets), as "task", "message", "approval.requested",
 *     "approval.decided", "approval.escalated", "budget.alert",
 *     "agent.paused", "agent" or "audit";
 *   - run steps, as "run.step" (the step as written: kind, status, tool,
 *     tokens, cost; not its request or response).
 * A cursor names a place in both: "a<audit seq>.s<step id>". Each event
 * carries the cursor just after it (SSE's id; a client's Last-Event-ID).
 */
#ifndef FIRMA_EVENTS_H
#define FIRMA_EVENTS_H

#include "firma/store.h"

#include <jansson.h>

#define FM_EVENT_CURSOR_MAX 48

typedef struct fm_event {
    char cursor[FM_EVENT_CURSOR_MAX]; /* resume after this event */
    const char *type;                 /* a static string */
    json_t *data;                     /* owned */
    char agent[48];                   /* the agent it concerns ("" if none): the one that
                                         acted, or the one acted on; for scope checks */
    int64_t ts;
} fm_event;

/* The events after `cursor` (NULL or "": from the start), at most `limit`;
 * *next gets the cursor to pass next time (the last event's, or `cursor`
 * itself when there is none); *out is NULL when there are none. FM_EINVAL
 * for a cursor that is not one. */
int fm_events_since(fm_store *s, fm_id company, const char *cursor, size_t limit,
                    fm_event **out, size_t *n, char next[FM_EVENT_CURSOR_MAX], fm_error *err);
/* The cursor of the stream's end now: a new subscriber starts there. */
int fm_events_head(fm_store *s, fm_id company, char cursor[FM_EVENT_CURSOR_MAX], fm_error *err);
void fm_event_list_free(fm_event *v, size_t n);

#endif
