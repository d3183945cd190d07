/*
 * Live events (events.h): the audit chain and run steps of a company, merged
 * by time, after a cursor "a<seq>.s<step id>".
 */
#include "firma/base.h"
#include "firma/events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_cursor(const char *c, int64_t *seq, int64_t *step)
{
    *seq = *step = 0;
    if (!c || !*c)
        return true;
    char tail;
    long long a, b;
    if (sscanf(c, "a%lld.s%lld%c", &a, &b, &tail) != 2 || a < 0 || b < 0)
        return false;
    *seq = a;
    *step = b;
    return true;
}

static void cursor_of(char out[FM_EVENT_CURSOR_MAX], int64_t seq, int64_t step)
{
    snprintf(out, FM_EVENT_CURSOR_MAX, "a%lld.s%lld", (long long)seq, (long long)step);
}

static const char *type_of(const char *action)
{
    static const struct {
        const char *prefix, *type;
    } map[] = {
        {"task.", "task"},
        {"message.", "message"},
        {"approval.request", "approval.requested"},
        {"approval.decide", "approval.decided"},
        {"approval.escalate", "approval.escalated"},
        {"budget.", "budget.alert"},
        {"agent.pause", "agent.paused"},
        {"agent.", "agent"},
    };
    for (size_t i = 0; action && i < sizeof map / sizeof map[0]; i++)
        if (strncmp(action, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].type;
    return "audit";
}

/* "agent:cto" -> "cto" into out, if s names an agent. */
static bool agent_of(const char *s, char *out, size_t len)
{
    if (!s || strncmp(s, "agent:", 6) != 0)
        return false;
    snprintf(out, len, "%s", s + 6);
    return true;
}

static void from_audit(const fm_audit_event *e, fm_event *ev)
{
    json_t *details = e->details ? json_loads(e->details, 0, NULL) : NULL;
    ev->type = type_of(e->action);
    ev->ts = e->ts;
    ev->data = json_pack("{s:I, s:I, s:s, s:s, s:s?, s:o}", "seq", (json_int_t)e->seq, "ts",
                         (json_int_t)e->ts, "actor", e->actor, "action", e->action, "object",
                         e->object, "details", details ? details : json_object());
    if (!agent_of(e->object, ev->agent, sizeof ev->agent))
        agent_of(e->actor, ev->agent, sizeof ev->agent);
}

static void from_step(const fm_step_event *se, fm_event *ev)
{
    const fm_step *st = &se->step;
    snprintf(ev->agent, sizeof ev->agent, "%s", se->agent);
    ev->type = "run.step";
    ev->ts = st->started_at;
    ev->data = json_pack("{s:I, s:I, s:i, s:s, s:s, s:s?, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                         "step", (json_int_t)st->id, "run", (json_int_t)st->run_id, "seq",
                         st->seq, "kind", fm_step_kind_name(st->kind), "status",
                         fm_step_status_name(st->status), "tool", st->tool, "agent", ev->agent,
                         "prompt_bytes", (json_int_t)st->prompt_bytes, "tokens_in",
                         (json_int_t)st->tokens_in, "tokens_cached",
                         (json_int_t)st->tokens_cached, "tokens_out",
                         (json_int_t)st->tokens_out, "usd_micro", (json_int_t)st->usd_micro,
                         "started_at", (json_int_t)st->started_at, "ended_at",
                         (json_int_t)st->ended_at);
}

int fm_events_since(fm_store *s, fm_id company, const char *cursor, size_t limit,
                    fm_event **out, size_t *n, char next[FM_EVENT_CURSOR_MAX], fm_error *err)
{
    int64_t seq, step;
    *out = NULL;
    *n = 0;
    if (!parse_cursor(cursor, &seq, &step))
        return fm_error_set(err, FM_EINVAL, "'%s' is not an event cursor (want a<N>.s<N>)",
                            cursor);
    if (!limit)
        limit = 1000;
    fm_audit_event *au;
    size_t na;
    fm_audit_filter f = {.company_id = company, .after_seq = seq, .limit = limit};
    int rc = fm_store_audit_list(s, &f, &au, &na, err);
    fm_step_event *sv = NULL;
    size_t ns = 0;
    if (rc == FM_OK)
        rc = s->ops->step_feed(s, company, step, limit, &sv, &ns, err);
    size_t most = na + ns < limit ? na + ns : limit;
    fm_event *v = fm_xcalloc(most + 1, sizeof *v);
    size_t k = 0, i = 0, j = 0;
    /* Merge by time; a source that filled its limit may have more after it,
     * so the merge stops where the other source would have to pass it. */
    while (rc == FM_OK && k < limit && (i < na || j < ns)) {
        bool take_audit = j == ns || (i < na && au[i].ts <= sv[j].step.started_at);
        if (take_audit) {
            from_audit(&au[i], &v[k]);
            seq = au[i++].seq;
        } else {
            from_step(&sv[j], &v[k]);
            step = sv[j++].step.id;
        }
        cursor_of(v[k].cursor, seq, step);
        k++;
        if ((i == na && na == limit) || (j == ns && ns == limit))
            break;
    }
    cursor_of(next, seq, step);
    fm_audit_event_list_free(au, na);
    fm_step_event_list_free(sv, ns);
    if (rc != FM_OK) {
        fm_event_list_free(v, k);
        return rc;
    }
    if (k == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *n = k;
    return FM_OK;
}

int fm_events_head(fm_store *s, fm_id company, char cursor[FM_EVENT_CURSOR_MAX], fm_error *err)
{
    fm_audit_event *au;
    size_t na;
    fm_audit_filter f = {.company_id = company, .limit = 1, .newest_first = true};
    int rc = fm_store_audit_list(s, &f, &au, &na, err);
    int64_t seq = na ? au[0].seq : 0, step = 0;
    fm_audit_event_list_free(au, na);
    /* Any company's newest step will do: the feed takes a company's steps
     * after it, and none of them can come before it. */
    fm_id last = 0;
    if (rc == FM_OK)
        rc = s->ops->step_last_id(s, &last, err);
    step = last;
    cursor_of(cursor, seq, step);
    return rc;
}

void fm_event_list_free(fm_event *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        json_decref(v[i].data);
    free(v);
}
