/*
 * Running the built-in tools (tools.h, second half): one static function per
 * tool, listed in one table. Arguments have passed fm_schema_check and the
 * policy before a tool runs, so a tool checks only what the schema cannot:
 * that the agent, task or path named exists and is the caller's to touch.
 *
 * A failure the model can act on is an FM_OK result with is_error set and a
 * sentence for the model; only a store or system failure returns an error.
 * Every change goes through ops.h or, for messages and approvals, through
 * one transaction here that also appends its audit event, with actor
 * "agent:HANDLE". Taint follows data: a message or task written by a tainted
 * run is marked tainted.
 */
#include "core/ops_int.h"
#include "firma/base.h"
#include "firma/tools.h"
#include "governance/approvals_int.h"
#include "tools/workspace.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define SUBJECT_MAX 60 /* bytes of a message that become its thread's subject */

typedef int (*tool_fn)(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                       fm_error *err);

/* ---- helpers ---------------------------------------------------------------------- */

static int reply(fm_tool_result *out, bool is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reply(fm_tool_result *out, bool is_error, const char *fmt, ...)
{
    fm_buf b = FM_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    fm_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    free(out->text);
    out->text = fm_buf_detach(&b);
    out->is_error = is_error;
    return FM_OK;
}

/* Errors a model can read and recover from become an is_error result; the
 * rest (store, I/O, memory) are returned. */
static int model_error(fm_tool_result *out, int rc, fm_error *err)
{
    switch (rc) {
    case FM_OK:
        return FM_OK;
    case FM_ENOTFOUND: case FM_EINVAL: case FM_ETRANSITION: case FM_EORG: case FM_EPERM:
    case FM_ECONFLICT: case FM_EEXIST: case FM_ETOOBIG:
        reply(out, true, "%s", fm_error_text(err));
        fm_error_clear(err);
        return FM_OK;
    default:
        return rc;
    }
}

static const char *str_arg(json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

static fm_id int_arg(json_t *args, const char *key, fm_id dflt)
{
    json_t *v = json_object_get(args, key);
    return json_is_integer(v) ? (fm_id)json_integer_value(v) : dflt;
}

static char *actor_of(const fm_tool_ctx *ctx)
{
    return fm_xasprintf("agent:%s", ctx->handle);
}

/* The first line of `text`, at most SUBJECT_MAX bytes, cut on a character
 * boundary. */
static char *subject_of(const char *text)
{
    size_t n = strcspn(text, "\n");
    if (n > SUBJECT_MAX) {
        n = SUBJECT_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    return fm_xstrndup(text, n);
}

/* "@a, @b" — the caller's direct reports, or NULL when it has none. */
static int reports_of(const fm_tool_ctx *ctx, char **list, fm_error *err)
{
    fm_agent *v;
    size_t n;
    *list = NULL;
    int rc = ctx->store->ops->agent_reports(ctx->store, ctx->agent, &v, &n, err);
    fm_buf b = FM_BUF_INIT;
    for (size_t i = 0; rc == FM_OK && i < n; i++)
        fm_buf_addf(&b, "%s@%s", b.len ? ", " : "", v[i].handle);
    if (rc == FM_OK && b.len)
        *list = fm_buf_detach(&b);
    fm_buf_release(&b);
    fm_agent_list_free(v, rc == FM_OK ? n : 0);
    return rc;
}

/* ---- delegate --------------------------------------------------------------------- */

static int unknown_agent(const fm_tool_ctx *ctx, const char *to, fm_tool_result *out,
                         fm_error *err)
{
    char *reports;
    int rc = reports_of(ctx, &reports, err);
    if (rc == FM_OK && reports)
        reply(out, true, "No agent @%s in this company; your reports are %s.", to, reports);
    else if (rc == FM_OK)
        reply(out, true, "No agent @%s in this company; you have no reports.", to);
    free(reports);
    return rc;
}

/* Finds a working (not fired) agent of ctx's company by handle ("@" allowed).
 * *found is false (and nothing is set) when there is none. */
static int find_agent(const fm_tool_ctx *ctx, const char *handle, fm_agent *a, bool *found,
                      fm_error *err)
{
    if (handle[0] == '@')
        handle++;
    int rc = ctx->store->ops->agent_find(ctx->store, ctx->company, handle, a, err);
    *found = rc == FM_OK && a->status != FM_AGENT_FIRED;
    if (rc == FM_OK && !*found)
        fm_agent_release(a);
    if (rc == FM_ENOTFOUND) {
        fm_error_clear(err);
        rc = FM_OK;
    }
    return rc;
}

static int run_delegate(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                        fm_error *err)
{
    const char *to = str_arg(args, "to");
    to += to[0] == '@';
    fm_agent a;
    bool found;
    int rc = find_agent(ctx, to, &a, &found, err);
    if (rc != FM_OK || !found)
        return rc != FM_OK ? rc : unknown_agent(ctx, to, out, err);
    fm_task t;
    memset(&t, 0, sizeof t);
    t.company_id = ctx->company;
    t.parent_id = ctx->task;
    t.goal_id = int_arg(args, "goal", 0);
    t.title = fm_xstrdup(str_arg(args, "title"));
    t.body = fm_xstrdup(str_arg(args, "body"));
    t.priority = (int)int_arg(args, "priority", 2);
    t.creator = actor_of(ctx);
    t.assignee = a.id;
    t.tainted = ctx->tainted;
    rc = fm_task_add(ctx->store, t.creator, &t, err);
    if (rc == FM_OK)
        reply(out, false, "Created task #%lld for @%s.", (long long)t.id, a.handle);
    fm_task_release(&t);
    fm_agent_release(&a);
    return model_error(out, rc, err);
}

/* ---- message ---------------------------------------------------------------------- */

typedef struct recipient {
    const char *to;    /* as given: "agent:cto", "member:ana", "customer:x@y" */
    fm_id agent;       /* an agent to wake, or 0 */
    bool member;
    bool outbound;     /* not agent: or member: */
} recipient;

/* Inside a transaction: a thread, the message from ctx's agent, a wake for
 * an agent recipient and the audit event. */
static int send_in_tx(const fm_tool_ctx *ctx, const recipient *r, const char *text,
                      fm_id *msg_id, fm_error *err)
{
    fm_store *s = ctx->store;
    char *subject = subject_of(text);
    fm_message m;
    memset(&m, 0, sizeof m);
    m.company_id = ctx->company;
    m.sender = actor_of(ctx);
    m.body = fm_xstrdup(text);
    m.tainted = ctx->tainted;
    int rc = s->ops->thread_insert(s, ctx->company, subject, ctx->task, &m.thread_id, err);
    if (rc == FM_OK)
        rc = s->ops->message_insert(s, &m, err);
    if (rc == FM_OK)
        rc = fm__wake(s, ctx->company, r->agent, FM_WAKE_MESSAGE, m.id, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("message:%lld", (long long)m.id);
        rc = fm__audit(s, ctx->company, m.sender, "message.send", obj,
                       fm__details("{s:s, s:I, s:I, s:b, s:b}", "to", r->to, "thread",
                                   (json_int_t)m.thread_id, "length", (json_int_t)strlen(text),
                                   "tainted", m.tainted, "outbound", r->outbound),
                       err);
        free(obj);
    }
    *msg_id = m.id;
    fm_message_release(&m);
    free(subject);
    return rc;
}

/* Resolves "agent:X" / "member:X"; anything else is outbound. *known is false
 * for an agent or member who is not in the company. */
static int resolve_recipient(const fm_tool_ctx *ctx, const char *to, recipient *r, bool *known,
                             fm_error *err)
{
    memset(r, 0, sizeof *r);
    r->to = to;
    *known = true;
    if (strncmp(to, "agent:", 6) == 0) {
        fm_agent a;
        int rc = find_agent(ctx, to + 6, &a, known, err);
        if (rc == FM_OK && *known) {
            r->agent = a.id;
            fm_agent_release(&a);
        }
        return rc;
    }
    if (strncmp(to, "member:", 7) == 0) {
        fm_member m;
        int rc = ctx->store->ops->member_find(ctx->store, ctx->company, to + 7, &m, err);
        r->member = true;
        if (rc == FM_OK)
            fm_member_release(&m);
        *known = rc == FM_OK;
        if (rc == FM_ENOTFOUND) {
            fm_error_clear(err);
            rc = FM_OK;
        }
        return rc;
    }
    r->outbound = true;
    return FM_OK;
}

static int run_message(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out, fm_error *err)
{
    const char *to = str_arg(args, "to"), *text = str_arg(args, "text");
    recipient r;
    bool known;
    int rc = resolve_recipient(ctx, to, &r, &known, err);
    if (rc != FM_OK)
        return rc;
    if (!known && r.member)
        return reply(out, true, "No member %s in this company.", to + 7);
    if (!known)
        return unknown_agent(ctx, to + 6 + (to[6] == '@'), out, err);
    fm_id msg;
    rc = ctx->store->ops->begin(ctx->store, err);
    if (rc == FM_OK)
        rc = send_in_tx(ctx, &r, text, &msg, err);
    rc = fm_store_end(ctx->store, rc, err);
    if (rc == FM_OK && r.member)
        reply(out, false, "Recorded for %s; they will read it in firma (chat channels are not "
                          "connected yet).", to);
    else if (rc == FM_OK)
        reply(out, false, "Sent.");
    return rc;
}

/* ---- ask_manager, request_approval ------------------------------------------------ */

static int run_ask_manager(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                           fm_error *err)
{
    const char *question = str_arg(args, "question");
    fm_store *s = ctx->store;
    char *approver = NULL;
    recipient r;
    memset(&r, 0, sizeof r);
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = fm__approval_route(s, ctx->company, ctx->agent, &approver, &r.agent, err);
    fm_id msg, id = 0;
    if (rc == FM_OK) {
        r.to = approver;
        r.member = r.agent == 0;
        rc = send_in_tx(ctx, &r, question, &msg, err);
    }
    char *q = NULL;
    if (rc == FM_OK) {
        json_t *j = json_pack("{s:s}", "question", question);
        q = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        rc = fm__approval_request(s, ctx, "question", NULL, q, NULL, &id, err);
    }
    free(q);
    free(approver);
    rc = fm_store_end(s, rc, err);
    if (rc == FM_OK) {
        out->approval = id;
        reply(out, false, "Asked your manager; you will be woken with the answer.");
    }
    return model_error(out, rc, err);
}

static int run_request_approval(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                                fm_error *err)
{
    char *a = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
    fm_id id = 0;
    int rc = ctx->store->ops->begin(ctx->store, err);
    if (rc == FM_OK)
        rc = fm__approval_request(ctx->store, ctx, "action", NULL, a, str_arg(args, "why"), &id,
                                  err);
    rc = fm_store_end(ctx->store, rc, err);
    free(a);
    if (rc == FM_OK) {
        out->approval = id;
        reply(out, false, "Approval #%lld requested.", (long long)id);
    }
    return model_error(out, rc, err);
}

/* ---- hire -------------------------------------------------------------------------- */

/* The tools a hired agent starts with: working with its manager and peers.
 * Anything more (files, exec, the web, spending) a person grants later. */
static const char *const starter_tools[] = {"message", "ask_manager", "request_approval",
                                            "complete_task", "block_task", "note"};

/* Runs only once approved (policy always holds hire). The new agent reports
 * to the caller, thinks with the caller's model, acts at autonomy 1 and has
 * no budget: a person gives it one. */
static int run_hire(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out, fm_error *err)
{
    fm_store *s = ctx->store;
    fm_agent me, a;
    int rc = s->ops->agent_get(s, ctx->agent, &me, err);
    if (rc != FM_OK)
        return rc;
    memset(&a, 0, sizeof a);
    const char *handle = str_arg(args, "handle");
    a.company_id = ctx->company;
    a.handle = fm_xstrdup(handle + (handle[0] == '@'));
    a.title = fm_xstrdup(str_arg(args, "title"));
    a.instructions = fm_xstrdup(str_arg(args, "instructions"));
    a.kind = FM_AGENT_LLM;
    a.model = fm_xstrdup(me.model);
    a.autonomy = 1;
    a.budget.period = FM_PERIOD_MONTH;
    size_t n = sizeof starter_tools / sizeof starter_tools[0];
    a.grants = fm_xcalloc(n, sizeof *a.grants);
    for (size_t i = 0; i < n; i++) {
        a.grants[i].tool = fm_xstrdup(starter_tools[i]);
        a.grants[i].ceiling = FM_CEIL_ALLOW;
        if (strcmp(starter_tools[i], "message") == 0) {
            a.grants[i].on = fm_xcalloc(2, sizeof *a.grants[i].on);
            a.grants[i].on[a.grants[i].n_on++] = fm_xstrdup("agent:*");
            a.grants[i].on[a.grants[i].n_on++] = fm_xstrdup("member:*");
        }
    }
    a.n_grants = n;
    char *actor = actor_of(ctx);
    rc = fm_agent_hire(s, actor, &a, me.handle, err);
    free(actor);
    if (rc == FM_OK)
        reply(out, false, "Hired @%s (%s), reporting to you, on %s. It has no budget yet: a "
                          "person gives it one before it can work.", a.handle, a.title, a.model);
    fm_agent_release(&a);
    fm_agent_release(&me);
    return model_error(out, rc, err);
}

/* ---- decide_approval ---------------------------------------------------------------- */

static int run_decide_approval(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                               fm_error *err)
{
    fm_store *s = ctx->store;
    fm_id id = int_arg(args, "approval", 0);
    const char *decision = str_arg(args, "decision"), *why = str_arg(args, "why");
    char *actor = actor_of(ctx);
    fm_approval a;
    fm_agent me;
    fm_company c;
    int rc = s->ops->approval_get(s, id, &a, err);
    if (rc == FM_OK && a.company_id != ctx->company) {
        fm_approval_release(&a);
        rc = FM_ENOTFOUND;
    }
    if (rc == FM_ENOTFOUND) {
        free(actor);
        return reply(out, true, "There is no approval #%lld in your company.", (long long)id);
    }
    if (rc != FM_OK) {
        free(actor);
        return rc;
    }
    if (strcmp(decision, "escalate") == 0) {
        rc = fm_approval_escalate(s, ctx->company, id, actor, why, err);
        if (rc == FM_OK)
            reply(out, false, "Approval #%lld is passed to your manager.", (long long)id);
    } else if (strcmp(decision, "deny") == 0) {
        rc = fm_approval_decide(s, ctx->company, id, false, actor, false, why, err);
        if (rc == FM_OK)
            reply(out, false, "Approval #%lld denied; the agent who asked is told why.",
                  (long long)id);
    } else if ((rc = s->ops->agent_get(s, ctx->agent, &me, err)) == FM_OK) {
        if ((rc = s->ops->company_get(s, ctx->company, &c, err)) == FM_OK) {
            char why_not[320];
            if (fm_approval_agent_may_approve(s, &me, &c.policies, &a, why_not,
                                              sizeof why_not) != FM_OK)
                rc = fm_error_set(err, FM_EPERM, "You may not approve #%lld: %s.",
                                  (long long)id, why_not);
            else
                rc = fm_approval_decide(s, ctx->company, id, true, actor, false, why, err);
            if (rc == FM_OK)
                reply(out, false, "Approval #%lld approved.", (long long)id);
            fm_company_release(&c);
        }
        fm_agent_release(&me);
    }
    fm_approval_release(&a);
    free(actor);
    return model_error(out, rc, err);
}

/* ---- complete_task, block_task ---------------------------------------------------- */

/* The task a call is about (its "task" argument, else the run's), checked to
 * be the caller's. *ok false means `out` already says why not. */
static int own_task(const fm_tool_ctx *ctx, json_t *args, fm_task *t, bool *ok,
                    fm_tool_result *out, fm_error *err)
{
    fm_id id = int_arg(args, "task", ctx->task);
    *ok = false;
    if (!id)
        return reply(out, true, "Which task? You were not woken for one; pass its number as "
                                "\"task\".");
    int rc = ctx->store->ops->task_get(ctx->store, id, t, err);
    if (rc == FM_ENOTFOUND || (rc == FM_OK && t->company_id != ctx->company)) {
        if (rc == FM_OK)
            fm_task_release(t);
        fm_error_clear(err);
        return reply(out, true, "No task #%lld in this company.", (long long)id);
    }
    if (rc != FM_OK)
        return rc;
    if (t->assignee != ctx->agent) {
        reply(out, true, "Task #%lld is not assigned to you; only its assignee can close it.",
              (long long)id);
        fm_task_release(t);
        return FM_OK;
    }
    *ok = true;
    return FM_OK;
}

static int close_task(const fm_tool_ctx *ctx, json_t *args, fm_task_status to, const char *text,
                      fm_tool_result *out, fm_error *err)
{
    fm_task t;
    bool ok;
    int rc = own_task(ctx, args, &t, &ok, out, err);
    if (rc != FM_OK || !ok)
        return rc;
    char *actor = actor_of(ctx);
    /* todo -> done is not a legal move; the agent did the work, so pass
     * through doing, as a person would. */
    if (to == FM_TASK_DONE && t.status == FM_TASK_TODO)
        rc = fm_task_move(ctx->store, actor, ctx->company, t.id, FM_TASK_DOING, NULL, err);
    if (rc == FM_OK)
        rc = fm_task_move(ctx->store, actor, ctx->company, t.id, to, text, err);
    if (rc == FM_OK)
        reply(out, false, "Task #%lld is %s.", (long long)t.id, fm_task_status_name(to));
    free(actor);
    fm_task_release(&t);
    return model_error(out, rc, err);
}

static int run_complete_task(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                             fm_error *err)
{
    return close_task(ctx, args, FM_TASK_DONE, str_arg(args, "result"), out, err);
}

static int run_block_task(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                          fm_error *err)
{
    return close_task(ctx, args, FM_TASK_BLOCKED, str_arg(args, "reason"), out, err);
}

/* ---- note ------------------------------------------------------------------------- */

static int run_note(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out, fm_error *err)
{
    const char *key = str_arg(args, "key"), *text = str_arg(args, "text");
    fm_store *s = ctx->store;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->note_put(s, ctx->agent, key, text, err);
    if (rc == FM_OK) {
        char *actor = actor_of(ctx);
        /* The note's text stays out of the audit log: only its key and size. */
        rc = fm__audit(s, ctx->company, actor, "note.put", actor,
                       fm__details("{s:s, s:I}", "key", key, "length", (json_int_t)strlen(text)),
                       err);
        free(actor);
    }
    rc = fm_store_end(s, rc, err);
    if (rc == FM_OK)
        reply(out, false, "Noted.");
    return rc;
}

/* ---- files ------------------------------------------------------------------------ */

static int run_read_file(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                         fm_error *err)
{
    const char *path = str_arg(args, "path");
    fm_buf b = FM_BUF_INIT;
    bool cut = false;
    int rc = fm__ws_read(ctx->workspace, path, &b, &cut, err);
    if (rc == FM_OK && cut)
        fm_buf_addf(&b, "\n[cut: %s is larger than %d KiB; this is its beginning]", path,
                    FM_WS_READ_MAX / 1024);
    if (rc == FM_OK) {
        fm_buf_adds(&b, "");
        free(out->text);
        out->text = fm_buf_detach(&b);
    }
    fm_buf_release(&b);
    return model_error(out, rc == FM_EIO ? FM_EINVAL : rc, err);
}

static int run_write_file(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                          fm_error *err)
{
    const char *path = str_arg(args, "path");
    json_t *text = json_object_get(args, "text");
    size_t len = json_string_length(text);
    int rc = fm__ws_write(ctx->workspace, path, json_string_value(text), len, err);
    if (rc == FM_OK)
        reply(out, false, "Wrote %zu bytes to %s.", len, path);
    return model_error(out, rc == FM_EIO ? FM_EINVAL : rc, err);
}

static int run_list_files(const fm_tool_ctx *ctx, json_t *args, fm_tool_result *out,
                          fm_error *err)
{
    fm_buf b = FM_BUF_INIT;
    int rc = fm__ws_list(ctx->workspace, str_arg(args, "path"), &b, err);
    if (rc == FM_OK) {
        free(out->text);
        out->text = fm_buf_detach(&b);
    }
    fm_buf_release(&b);
    return model_error(out, rc == FM_EIO ? FM_EINVAL : rc, err);
}

/* ---- dispatch --------------------------------------------------------------------- */

static const struct {
    const char *name;
    tool_fn run;
} tools[] = {
    {"delegate", run_delegate},
    {"message", run_message},
    {"ask_manager", run_ask_manager},
    {"request_approval", run_request_approval},
    {"complete_task", run_complete_task},
    {"block_task", run_block_task},
    {"note", run_note},
    {"read_file", run_read_file},
    {"write_file", run_write_file},
    {"list_files", run_list_files},
    /* exec and http_fetch run on the loop: fm_tool_start (jobs.c). */
    {"exec", NULL},
    {"http_fetch", NULL},
    {"hire", run_hire},
    {"decide_approval", run_decide_approval},
};

void fm_tool_result_release(fm_tool_result *r)
{
    if (!r)
        return;
    free(r->text);
    memset(r, 0, sizeof *r);
}

int fm_tool_run(const fm_tool_ctx *ctx, const char *tool, const char *args_json,
                fm_tool_result *out, fm_error *err)
{
    memset(out, 0, sizeof *out);
    size_t i = 0, n = sizeof tools / sizeof tools[0];
    while (tool && i < n && strcmp(tools[i].name, tool) != 0)
        i++;
    if (!tool || i == n)
        return reply(out, true, "There is no built-in tool '%s'.", tool ? tool : "");
    if (!tools[i].run)
        return reply(out, true, "The tool %s runs on the loop: start it with fm_tool_start.",
                     tool);
    json_t *args = json_loads(args_json ? args_json : "{}", JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        return reply(out, true, "The arguments of %s must be a JSON object.", tool);
    }
    int rc = tools[i].run(ctx, args, out, err);
    json_decref(args);
    if (rc != FM_OK) {
        free(out->text);
        out->text = fm_xasprintf("The tool %s failed: %s", tool, fm_error_text(err));
        out->is_error = true;
    } else if (!out->text) {
        out->text = fm_xstrdup("");
    }
    return rc;
}

/* ---- resources -------------------------------------------------------------------- */

/* The host of a URL: lowercase, without userinfo, port or brackets. NULL if
 * there is none. */
static char *url_host(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    while (at) { /* the last '@' ends the userinfo */
        n -= (size_t)(at + 1 - p);
        p = at + 1;
        at = memchr(p, '@', n);
    }
    size_t hn;
    if (n && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return NULL;
        p++;
        hn = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', n);
        hn = colon ? (size_t)(colon - p) : n;
    }
    if (!hn)
        return NULL;
    char *h = fm_xstrndup(p, hn);
    for (char *c = h; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return h;
}

char *fm_tool_resource(const char *tool, const char *args_json)
{
    if (!tool || !args_json)
        return NULL;
    json_t *args = json_loads(args_json, 0, NULL);
    char *r = NULL;
    const char *v;
    if (strcmp(tool, "read_file") == 0 || strcmp(tool, "write_file") == 0 ||
        strcmp(tool, "list_files") == 0)
        r = fm_xstrdup(str_arg(args, "path"));
    else if (strcmp(tool, "http_fetch") == 0 && (v = str_arg(args, "url")))
        r = url_host(v);
    else if (strcmp(tool, "exec") == 0)
        r = fm_xstrdup(str_arg(args, "command"));
    else if (strcmp(tool, "message") == 0)
        r = fm_xstrdup(str_arg(args, "to"));
    else if (strcmp(tool, "delegate") == 0 && (v = str_arg(args, "to")))
        r = fm_xasprintf("agent:%s", v + (v[0] == '@'));
    json_decref(args);
    return r;
}
