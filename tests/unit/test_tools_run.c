/* tools/run_builtin, tools/workspace, governance/approvals: running the
 * built-in tools, confining the file tools, holding and deciding approvals. */
#include "helpers.h"

#include "firma/tools.h"
#include "tools/workspace.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* acme: ana (owner) <- @ceo <- @cto <- @dev; ids in the fixture. */
typedef struct fixture {
    tdb *t;
    fm_id ceo, cto, dev;
    char *ws;
} fixture;

static fixture *fx_new(void)
{
    fixture *f = fm_xcalloc(1, sizeof *f);
    f->t = tdb_new(true);
    assert_int_equal(tdb_hire(f->t, "ceo", "ana", &f->ceo), FM_OK);
    assert_int_equal(tdb_hire(f->t, "cto", "ceo", &f->cto), FM_OK);
    assert_int_equal(tdb_hire(f->t, "dev", "cto", &f->dev), FM_OK);
    f->ws = fm_xasprintf("%s/ws/dev", f->t->dir);
    return f;
}

static void fx_free(fixture *f)
{
    free(f->ws);
    tdb_free(f->t);
    free(f);
}

static fm_tool_ctx ctx_of(fixture *f, const char *handle, fm_id agent, fm_id task)
{
    fm_tool_ctx c = {.store = f->t->s, .company = f->t->company, .agent = agent, .run = 7,
                     .step = 3, .task = task, .handle = handle, .workspace = f->ws};
    return c;
}

/* Runs a tool that must not fail at the store level; returns the result. */
static fm_tool_result run(const fm_tool_ctx *c, const char *tool, const char *args)
{
    fm_tool_result r;
    fm_error err = {0};
    int rc = fm_tool_run(c, tool, args, &r, &err);
    if (rc != FM_OK)
        fprintf(stderr, "%s failed: %s\n", tool, fm_error_text(&err));
    assert_int_equal(rc, FM_OK);
    assert_non_null(r.text);
    return r;
}

static void expect(const fm_tool_ctx *c, const char *tool, const char *args, bool is_error,
                   const char *text)
{
    fm_tool_result r = run(c, tool, args);
    if (r.is_error != is_error || !strstr(r.text, text))
        fprintf(stderr, "%s %s: got%s \"%s\", wanted \"%s\"\n", tool, args,
                r.is_error ? " error" : "", r.text, text);
    assert_int_equal(r.is_error, is_error);
    assert_non_null(strstr(r.text, text));
    fm_tool_result_release(&r);
}

static fm_id add_task(fixture *f, const char *title, fm_id assignee)
{
    fm_task t;
    memset(&t, 0, sizeof t);
    t.company_id = f->t->company;
    t.title = fm_xstrdup(title);
    t.priority = 2;
    t.assignee = assignee;
    assert_int_equal(fm_task_add(f->t->s, "test", &t, &f->t->err), FM_OK);
    fm_id id = t.id;
    fm_task_release(&t);
    return id;
}

/* How many pending wakes `agent` has of `kind`; *ref gets the last one's ref. */
static size_t wakes(fixture *f, fm_id agent, fm_wake_kind kind, fm_id *ref)
{
    fm_wake *v;
    size_t n, count = 0;
    assert_int_equal(f->t->s->ops->wake_pending(f->t->s, 0, fm_now_us() + 1000000000, 1000, &v,
                                                &n, &f->t->err),
                     FM_OK);
    for (size_t i = 0; i < n; i++)
        if (v[i].agent_id == agent && v[i].kind == kind) {
            count++;
            if (ref)
                *ref = v[i].ref;
        }
    fm_wake_list_free(v, n);
    return count;
}

typedef struct audit_seen {
    size_t n;
    char details[1024];
} audit_seen;

static int on_event(const fm_audit_event *e, void *ctx)
{
    audit_seen *a = ctx;
    a->n++;
    snprintf(a->details, sizeof a->details, "%s", e->details ? e->details : "");
    return 0;
}

static audit_seen audited(fixture *f, const char *actor, const char *action)
{
    audit_seen a = {0};
    fm_audit_filter flt = {.company_id = f->t->company, .actor = actor, .action = action};
    assert_int_equal(f->t->s->ops->audit_scan(f->t->s, &flt, on_event, &a, &f->t->err), FM_OK);
    return a;
}

/* ---- delegate --------------------------------------------------------------------- */

static void delegate_creates_a_child_task_and_wakes_the_assignee(void **state)
{
    fixture *f = fx_new();
    fm_id parent = add_task(f, "Build signup", f->cto);
    fm_tool_ctx c = ctx_of(f, "cto", f->cto, parent);
    c.tainted = true;
    expect(&c, "delegate", "{\"to\":\"@dev\",\"title\":\"Write the API\",\"body\":\"REST\","
                           "\"priority\":1}", false, "Created task #2 for @dev.");
    fm_task t;
    assert_int_equal(f->t->s->ops->task_get(f->t->s, 2, &t, &f->t->err), FM_OK);
    assert_int_equal(t.parent_id, parent);
    assert_int_equal(t.assignee, f->dev);
    assert_int_equal(t.priority, 1);
    assert_string_equal(t.creator, "agent:cto");
    assert_string_equal(t.body, "REST");
    assert_true(t.tainted); /* taint follows data */
    fm_task_release(&t);
    fm_id ref = 0;
    assert_int_equal(wakes(f, f->dev, FM_WAKE_TASK, &ref), 1);
    assert_int_equal(ref, 2);
    assert_int_equal(audited(f, "agent:cto", "task.add").n, 1);
    fx_free(f);
}

static void delegate_to_an_unknown_agent_lists_the_reports(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "cto", f->cto, 0);
    expect(&c, "delegate", "{\"to\":\"devv\",\"title\":\"x\"}", true,
           "No agent @devv in this company; your reports are @dev.");
    fm_tool_ctx d = ctx_of(f, "dev", f->dev, 0);
    expect(&d, "delegate", "{\"to\":\"ghost\",\"title\":\"x\"}", true, "you have no reports");
    /* A fired agent takes no work. */
    assert_int_equal(fm_agent_fire(f->t->s, "test", f->t->company, "dev", &f->t->err), FM_OK);
    expect(&c, "delegate", "{\"to\":\"dev\",\"title\":\"x\"}", true, "No agent @dev");
    /* A goal of no company is the model's mistake, not a failure. */
    expect(&c, "delegate", "{\"to\":\"cto\",\"title\":\"x\",\"goal\":99}", true, "no goal 99");
    fx_free(f);
}

/* ---- message ---------------------------------------------------------------------- */

static void message_to_an_agent_writes_thread_message_and_wake(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "cto", f->cto, 0);
    c.tainted = true;
    expect(&c, "message", "{\"to\":\"agent:dev\",\"text\":\"The customer wrote: please call\"}",
           false, "Sent.");
    fm_id ref = 0;
    assert_int_equal(wakes(f, f->dev, FM_WAKE_MESSAGE, &ref), 1);
    fm_message m;
    assert_int_equal(f->t->s->ops->message_get(f->t->s, ref, &m, &f->t->err), FM_OK);
    assert_string_equal(m.sender, "agent:cto");
    assert_string_equal(m.body, "The customer wrote: please call");
    assert_true(m.tainted);
    fm_message_release(&m);
    audit_seen a = audited(f, "agent:cto", "message.send");
    assert_int_equal(a.n, 1);
    assert_non_null(strstr(a.details, "\"to\":\"agent:dev\""));
    assert_non_null(strstr(a.details, "\"outbound\":false"));
    fx_free(f);
}

static void message_to_members_and_outsiders_is_recorded(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "ceo", f->ceo, 0);
    expect(&c, "message", "{\"to\":\"member:ana\",\"text\":\"Weekly report\"}", false,
           "Recorded for member:ana");
    assert_int_equal(wakes(f, f->cto, FM_WAKE_MESSAGE, NULL), 0);
    expect(&c, "message", "{\"to\":\"customer:bob@example.com\",\"text\":\"Hello\"}", false,
           "Sent.");
    audit_seen a = audited(f, "agent:ceo", "message.send");
    assert_int_equal(a.n, 2);
    assert_non_null(strstr(a.details, "\"outbound\":true"));
    expect(&c, "message", "{\"to\":\"member:zed\",\"text\":\"x\"}", true, "No member zed");
    expect(&c, "message", "{\"to\":\"agent:zed\",\"text\":\"x\"}", true,
           "No agent @zed in this company; your reports are @cto.");
    assert_int_equal(audited(f, "agent:ceo", "message.send").n, 2);
    fx_free(f);
}

/* ---- tasks ------------------------------------------------------------------------ */

static void complete_task_moves_todo_through_doing_to_done(void **state)
{
    fixture *f = fx_new();
    fm_id id = add_task(f, "Write the API", f->dev);
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, id);
    expect(&c, "complete_task", "{\"result\":\"PR #12\"}", false, "Task #1 is done.");
    fm_task t;
    assert_int_equal(f->t->s->ops->task_get(f->t->s, id, &t, &f->t->err), FM_OK);
    assert_int_equal(t.status, FM_TASK_DONE);
    assert_string_equal(t.result, "PR #12");
    fm_task_release(&t);
    assert_int_equal(audited(f, "agent:dev", "task.move").n, 2);
    /* Done is final: the model reads the legal moves. */
    expect(&c, "block_task", "{\"reason\":\"x\"}", true, "cannot move from done to blocked");
    fx_free(f);
}

static void closing_someone_elses_task_is_refused(void **state)
{
    fixture *f = fx_new();
    fm_id id = add_task(f, "Write the API", f->dev);
    fm_tool_ctx c = ctx_of(f, "cto", f->cto, 0);
    expect(&c, "complete_task", "{\"task\":1,\"result\":\"mine now\"}", true,
           "Task #1 is not assigned to you");
    expect(&c, "complete_task", "{\"result\":\"which?\"}", true, "Which task?");
    expect(&c, "complete_task", "{\"task\":42,\"result\":\"x\"}", true, "No task #42");
    fm_task t;
    assert_int_equal(f->t->s->ops->task_get(f->t->s, id, &t, &f->t->err), FM_OK);
    assert_int_equal(t.status, FM_TASK_TODO);
    fm_task_release(&t);
    fx_free(f);
}

static void block_task_records_the_reason(void **state)
{
    fixture *f = fx_new();
    fm_id id = add_task(f, "Deploy", f->dev);
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    expect(&c, "block_task", "{\"task\":1,\"reason\":\"waiting for credentials\"}", false,
           "Task #1 is blocked.");
    fm_task t;
    assert_int_equal(f->t->s->ops->task_get(f->t->s, id, &t, &f->t->err), FM_OK);
    assert_int_equal(t.status, FM_TASK_BLOCKED);
    assert_string_equal(t.result, "waiting for credentials");
    fm_task_release(&t);
    fx_free(f);
}

/* ---- note ------------------------------------------------------------------------- */

static void note_is_kept_and_audited_without_its_text(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    expect(&c, "note", "{\"key\":\"stack\",\"text\":\"we use C17 and a secret plan\"}", false,
           "Noted.");
    expect(&c, "note", "{\"key\":\"stack\",\"text\":\"C17\"}", false, "Noted.");
    char **keys, **texts;
    size_t n;
    assert_int_equal(f->t->s->ops->note_list(f->t->s, f->dev, &keys, &texts, &n, &f->t->err),
                     FM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0], "stack");
    assert_string_equal(texts[0], "C17");
    fm_strv_free(keys, n);
    fm_strv_free(texts, n);
    audit_seen a = audited(f, "agent:dev", "note.put");
    assert_int_equal(a.n, 2);
    assert_null(strstr(a.details, "C17"));
    assert_non_null(strstr(a.details, "\"length\":3"));
    fx_free(f);
}

/* ---- approvals from tools --------------------------------------------------------- */

static fm_approval approval(fixture *f, fm_id id)
{
    fm_approval a;
    assert_int_equal(f->t->s->ops->approval_get(f->t->s, id, &a, &f->t->err), FM_OK);
    return a;
}

static void request_approval_waits_for_the_manager(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    fm_tool_result r = run(&c, "request_approval",
                           "{\"action\":\"spend $40 on a domain\",\"why\":\"launch\"}");
    assert_false(r.is_error);
    assert_int_equal(r.approval, 1);
    assert_string_equal(r.text, "Approval #1 requested.");
    fm_tool_result_release(&r);
    fm_approval a = approval(f, 1);
    assert_string_equal(a.kind, "action");
    assert_string_equal(a.approver, "agent:cto");
    assert_string_equal(a.reason, "launch");
    assert_non_null(strstr(a.args, "spend $40"));
    assert_int_equal(a.status, FM_APPROVAL_PENDING);
    assert_int_equal(a.run_id, 7);
    fm_approval_release(&a);
    assert_int_equal(audited(f, "agent:dev", "approval.request").n, 1);
    fx_free(f);
}

static void ask_manager_messages_and_waits(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    fm_tool_result r = run(&c, "ask_manager", "{\"question\":\"Postgres or SQLite?\"}");
    assert_false(r.is_error);
    assert_int_equal(r.approval, 1);
    assert_string_equal(r.text, "Asked your manager; you will be woken with the answer.");
    fm_tool_result_release(&r);
    fm_approval a = approval(f, 1);
    assert_string_equal(a.kind, "question");
    assert_null(a.tool);
    assert_string_equal(a.args, "{\"question\":\"Postgres or SQLite?\"}");
    assert_string_equal(a.approver, "agent:cto");
    fm_approval_release(&a);
    assert_int_equal(wakes(f, f->cto, FM_WAKE_MESSAGE, NULL), 1);
    /* The CEO's manager is a member: recorded, nobody woken. */
    fm_tool_ctx ceo = ctx_of(f, "ceo", f->ceo, 0);
    r = run(&ceo, "ask_manager", "{\"question\":\"Raise prices?\"}");
    assert_int_equal(r.approval, 2);
    fm_tool_result_release(&r);
    a = approval(f, 2);
    assert_string_equal(a.approver, "member:ana");
    fm_approval_release(&a);
    assert_int_equal(audited(f, "agent:ceo", "message.send").n, 1);
    fx_free(f);
}

/* ---- manager agents decide ------------------------------------------------------- */

/* Gives @cto: decide_approval, and exec on "make *" without asking. */
static void grant_cto(fixture *f)
{
    fm_store *s = f->t->s;
    fm_agent a;
    assert_int_equal(s->ops->agent_get(s, f->cto, &a, &f->t->err), FM_OK);
    a.autonomy = 2;
    for (size_t i = 0; i < a.n_grants; i++)
        fm_grant_release(&a.grants[i]);
    free(a.grants);
    a.grants = fm_xcalloc(2, sizeof *a.grants);
    a.n_grants = 2;
    a.grants[0].tool = fm_xstrdup("decide_approval");
    a.grants[0].ceiling = FM_CEIL_ALLOW;
    a.grants[1].tool = fm_xstrdup("exec");
    a.grants[1].on = fm_xcalloc(1, sizeof *a.grants[1].on);
    a.grants[1].on[0] = fm_xstrdup("make *");
    a.grants[1].n_on = 1;
    a.grants[1].ceiling = FM_CEIL_ALLOW;
    assert_int_equal(fm_agent_update(s, "test", &a, NULL, &f->t->err), FM_OK);
    fm_agent_release(&a);
}

static void manager_agents_decide_within_their_grants(void **state)
{
    fixture *f = fx_new();
    grant_cto(f);
    fm_error *err = &f->t->err;
    fm_tool_ctx dev = ctx_of(f, "dev", f->dev, 0), cto = ctx_of(f, "cto", f->cto, 0);
    fm_id a1, a2, ref = 0;
    assert_int_equal(fm_approval_hold(f->t->s, &dev, "exec", "{\"command\":\"make test\"}",
                                      "exec is risky at autonomy 1", &a1, err), FM_OK);
    /* The CTO is granted decide_approval: woken to decide. */
    assert_int_equal(wakes(f, f->cto, FM_WAKE_APPROVAL, &ref), 1);
    assert_int_equal(ref, a1);
    expect(&cto, "decide_approval", "{\"approval\":1,\"decision\":\"approve\",\"why\":\"tests\"}",
           false, "Approval #1 approved.");
    fm_approval a = approval(f, a1);
    assert_int_equal(a.status, FM_APPROVAL_APPROVED);
    assert_string_equal(a.decided_by, "agent:cto");
    fm_approval_release(&a);
    assert_int_equal(wakes(f, f->dev, FM_WAKE_APPROVAL, NULL), 1);
    /* Beyond its own grants: refused, still pending, to be escalated. */
    assert_int_equal(fm_approval_hold(f->t->s, &dev, "exec", "{\"command\":\"rm -rf /srv\"}",
                                      "risky", &a2, err), FM_OK);
    expect(&cto, "decide_approval", "{\"approval\":2,\"decision\":\"approve\",\"why\":\"sure\"}",
           true, "You may not approve #2: it is beyond your own grants");
    a = approval(f, a2);
    assert_int_equal(a.status, FM_APPROVAL_PENDING);
    fm_approval_release(&a);
    /* Only the approver escalates; the CEO lacks decide_approval, so it is
     * not woken, and the approval waits on it (and on the owner). */
    fm_tool_ctx ceo = ctx_of(f, "ceo", f->ceo, 0);
    expect(&ceo, "decide_approval", "{\"approval\":2,\"decision\":\"escalate\",\"why\":\"x\"}",
           true, "approval #2 waits on agent:cto, not on agent:ceo");
    expect(&cto, "decide_approval",
           "{\"approval\":2,\"decision\":\"escalate\",\"why\":\"not mine to allow\"}", false,
           "Approval #2 is passed to your manager.");
    a = approval(f, a2);
    assert_string_equal(a.approver, "agent:ceo");
    assert_int_equal(a.status, FM_APPROVAL_PENDING);
    fm_approval_release(&a);
    assert_int_equal(wakes(f, f->ceo, FM_WAKE_APPROVAL, NULL), 0);
    audit_seen e = audited(f, "agent:cto", "approval.escalate");
    assert_int_equal(e.n, 1);
    assert_non_null(strstr(e.details, "\"to\":\"agent:ceo\""));
    /* Decided already, or not in the company: clear errors. */
    expect(&cto, "decide_approval", "{\"approval\":1,\"decision\":\"deny\",\"why\":\"no\"}", true,
           "approval #1 was already approved by agent:cto");
    expect(&cto, "decide_approval", "{\"approval\":99,\"decision\":\"deny\",\"why\":\"no\"}", true,
           "There is no approval #99 in your company.");
    fx_free(f);
}

static void a_tainted_request_is_for_a_person(void **state)
{
    fixture *f = fx_new();
    grant_cto(f);
    fm_error *err = &f->t->err;
    fm_run r = {.company_id = f->t->company, .agent_id = f->dev, .status = FM_RUN_RUNNING,
                .tainted = true, .started_at = fm_now_us()};
    assert_int_equal(f->t->s->ops->run_insert(f->t->s, &r, err), FM_OK);
    fm_tool_ctx dev = ctx_of(f, "dev", f->dev, 0), cto = ctx_of(f, "cto", f->cto, 0);
    dev.run = r.id;
    fm_id id;
    assert_int_equal(fm_approval_hold(f->t->s, &dev, "exec", "{\"command\":\"make test\"}",
                                      "tainted", &id, err), FM_OK);
    char args[128];
    snprintf(args, sizeof args, "{\"approval\":%lld,\"decision\":\"approve\",\"why\":\"ok\"}",
             (long long)id);
    /* Within the CTO's grants, but the asking run read outside content. */
    expect(&cto, "decide_approval", args, true, "only a person may approve it");
    snprintf(args, sizeof args, "{\"approval\":%lld,\"decision\":\"deny\",\"why\":\"odd\"}",
             (long long)id);
    expect(&cto, "decide_approval", args, false, "denied");
    fm_approval a = approval(f, id);
    assert_int_equal(a.status, FM_APPROVAL_DENIED);
    fm_approval_release(&a);
    fx_free(f);
}

/* ---- hold and decide -------------------------------------------------------------- */

static void hold_routes_to_the_manager(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    fm_id id;
    assert_int_equal(fm_approval_hold(f->t->s, &c, "exec", "{\"command\":\"make deploy\"}",
                                      "exec is risky at autonomy 1", &id, &f->t->err),
                     FM_OK);
    fm_approval a = approval(f, id);
    assert_string_equal(a.kind, "tool");
    assert_string_equal(a.tool, "exec");
    assert_string_equal(a.approver, "agent:cto");
    assert_int_equal(a.status, FM_APPROVAL_PENDING);
    assert_int_equal(a.step_id, 3);
    fm_approval_release(&a);
    audit_seen s = audited(f, "agent:dev", "approval.request");
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.details, "\"approver\":\"agent:cto\""));
    assert_non_null(strstr(s.details, "\"tool\":\"exec\""));
    /* The CEO's calls go to its member manager. */
    fm_tool_ctx ceo = ctx_of(f, "ceo", f->ceo, 0);
    assert_int_equal(fm_approval_hold(f->t->s, &ceo, "hire", "{}", "hiring", &id, &f->t->err),
                     FM_OK);
    a = approval(f, id);
    assert_string_equal(a.approver, "member:ana");
    fm_approval_release(&a);
    fx_free(f);
}

static void decide_checks_the_route_and_wakes_the_requester(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    fm_id id;
    fm_error *err = &f->t->err;
    assert_int_equal(fm_approval_hold(f->t->s, &c, "exec", "{}", "risky", &id, err), FM_OK);
    /* The requester itself is not on the route. */
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, id, true, "agent:dev", false, NULL, err),
                     FM_EPERM);
    assert_non_null(strstr(err->msg, "agent:dev may not decide approval #1: it is for agent:cto"));
    assert_int_equal(wakes(f, f->dev, FM_WAKE_APPROVAL, NULL), 0);
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, id, true, "agent:cto", false, "ok", err),
                     FM_OK);
    fm_approval a = approval(f, id);
    assert_int_equal(a.status, FM_APPROVAL_APPROVED);
    assert_string_equal(a.decided_by, "agent:cto");
    assert_string_equal(a.why, "ok");
    assert_true(a.decided_at > 0);
    fm_approval_release(&a);
    fm_id ref = 0;
    assert_int_equal(wakes(f, f->dev, FM_WAKE_APPROVAL, &ref), 1);
    assert_int_equal(ref, id);
    assert_int_equal(audited(f, "agent:cto", "approval.decide").n, 1);
    /* Twice is a conflict that says who decided. */
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, id, false, "agent:ceo", false, "no", err),
                     FM_ECONFLICT);
    assert_string_equal(err->msg, "approval #1 was already approved by agent:cto");
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, 99, true, "agent:cto", false, NULL, err),
                     FM_ENOTFOUND);
    fx_free(f);
}

static void above_the_approver_and_owners_may_decide(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    fm_id a1, a2, a3, a4;
    fm_error *err = &f->t->err;
    assert_int_equal(fm_approval_hold(f->t->s, &c, "exec", "{}", "r", &a1, err), FM_OK);
    assert_int_equal(fm_approval_hold(f->t->s, &c, "exec", "{}", "r", &a2, err), FM_OK);
    assert_int_equal(fm_approval_hold(f->t->s, &c, "exec", "{}", "r", &a3, err), FM_OK);
    assert_int_equal(fm_approval_hold(f->t->s, &c, "exec", "{}", "r", &a4, err), FM_OK);
    /* The CEO stands above the CTO. */
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, a1, false, "agent:ceo", false, "no", err),
                     FM_OK);
    /* The owner may decide anything; an operator member may not. */
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, a2, true, "member:ana", false, NULL, err),
                     FM_OK);
    fm_member m;
    memset(&m, 0, sizeof m);
    m.company_id = f->t->company;
    m.handle = fm_xstrdup("olaf");
    m.role = FM_ROLE_OPERATOR;
    assert_int_equal(fm_member_add(f->t->s, "test", &m, err), FM_OK);
    fm_member_release(&m);
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, a3, true, "member:olaf", false, NULL, err),
                     FM_EPERM);
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, a3, true, "member:nobody", false, NULL,
                                        err),
                     FM_EPERM);
    /* An actor string is no proof of being the local operator... */
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, a4, true, "cli:root", false, NULL,
                                        err),
                     FM_EPERM);
    /* ...the caller vouches for it: the person at the terminal holds the database anyway. */
    assert_int_equal(fm_approval_decide(f->t->s, f->t->company, a4, true, "cli:root", true, NULL, err),
                     FM_OK);
    fm_approval a = approval(f, a1);
    assert_int_equal(a.status, FM_APPROVAL_DENIED);
    fm_approval_release(&a);
    assert_int_equal(wakes(f, f->dev, FM_WAKE_APPROVAL, NULL), 3);
    fx_free(f);
}

/* ---- resources and the rest ------------------------------------------------------- */

static void check_resource(const char *tool, const char *args, const char *want)
{
    char *r = fm_tool_resource(tool, args);
    if (want) {
        assert_non_null(r);
        assert_string_equal(r, want);
    } else {
        assert_null(r);
    }
    free(r);
}

static void resource_of_each_tool(void **state)
{
    check_resource("read_file", "{\"path\":\"kb/x.md\"}", "kb/x.md");
    check_resource("write_file", "{\"path\":\"../etc\",\"text\":\"\"}", "../etc");
    check_resource("list_files", "{\"path\":\".\"}", ".");
    check_resource("http_fetch", "{\"url\":\"https://User:pw@Docs.Python.ORG:443/3/x?q=1\"}",
                   "docs.python.org");
    check_resource("http_fetch", "{\"url\":\"http://[::1]:8080/\"}", "::1");
    check_resource("http_fetch", "{\"url\":\"https://example.com\"}", "example.com");
    check_resource("http_fetch", "{\"url\":\"https://a@b@evil.com/\"}", "evil.com");
    check_resource("exec", "{\"command\":\"make test\"}", "make test");
    check_resource("message", "{\"to\":\"customer:bob@x.com\",\"text\":\"hi\"}",
                   "customer:bob@x.com");
    check_resource("delegate", "{\"to\":\"@cto\",\"title\":\"x\"}", "agent:cto");
    check_resource("delegate", "{\"to\":\"cto\",\"title\":\"x\"}", "agent:cto");
    check_resource("note", "{\"key\":\"k\",\"text\":\"t\"}", NULL);
    check_resource("complete_task", "{\"result\":\"r\"}", NULL);
    check_resource("ask_manager", "{\"question\":\"q\"}", NULL);
    check_resource("hire", "{\"handle\":\"h\",\"title\":\"t\",\"instructions\":\"i\"}", NULL);
}

static void tools_on_the_loop_are_not_run_here(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    assert_true(fm_tool_is_async("exec") && fm_tool_is_async("http_fetch"));
    assert_false(fm_tool_is_async("hire") || fm_tool_is_async("note") || fm_tool_is_async(NULL));
    expect(&c, "exec", "{\"command\":\"ls\"}", true,
           "The tool exec runs on the loop: start it with fm_tool_start.");
    expect(&c, "http_fetch", "{\"url\":\"https://x.org\"}", true, "The tool http_fetch runs");
    expect(&c, "launch", "{}", true, "There is no built-in tool 'launch'.");
    fx_free(f);
}

/* hire runs once approved: the new agent reports to the caller, with the
 * caller's model, starter grants and no budget. */
static void hire_adds_a_report_without_budget(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "cto", f->cto, 0);
    expect(&c, "hire", "{\"handle\":\"@qa\",\"title\":\"QA\",\"instructions\":\"Test it\"}",
           false, "Hired @qa (QA), reporting to you, on sim. It has no budget yet");
    fm_agent a;
    assert_int_equal(f->t->s->ops->agent_find(f->t->s, f->t->company, "qa", &a, &f->t->err),
                     FM_OK);
    assert_int_equal(a.manager_agent, f->cto);
    assert_string_equal(a.instructions, "Test it");
    assert_int_equal(a.budget.usd_micro, 0);
    assert_int_equal(a.autonomy, 1);
    bool has_exec = false, has_message = false;
    for (size_t i = 0; i < a.n_grants; i++) {
        has_exec |= strcmp(a.grants[i].tool, "exec") == 0;
        has_message |= strcmp(a.grants[i].tool, "message") == 0 && a.grants[i].n_on == 2;
    }
    assert_false(has_exec);
    assert_true(has_message);
    fm_agent_release(&a);
    assert_int_equal(audited(f, "agent:cto", "agent.hire").n, 1);
    /* A handle taken is a clear error the model can act on. */
    expect(&c, "hire", "{\"handle\":\"dev\",\"title\":\"Dev\",\"instructions\":\"x\"}", true,
           "the handle 'dev' is already taken");
    fx_free(f);
}

/* ---- files ------------------------------------------------------------------------ */

static void write_read_and_list_in_the_workspace(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    expect(&c, "write_file", "{\"path\":\"kb/notes/plan.md\",\"text\":\"# Plan\\n\"}", false,
           "Wrote 7 bytes to kb/notes/plan.md.");
    struct stat st;
    assert_int_equal(stat(f->ws, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    expect(&c, "read_file", "{\"path\":\"kb/notes/plan.md\"}", false, "# Plan\n");
    expect(&c, "write_file", "{\"path\":\"a.txt\",\"text\":\"\"}", false, "Wrote 0 bytes");
    expect(&c, "write_file", "{\"path\":\"./b.txt\",\"text\":\"bb\"}", false, "Wrote 2 bytes");
    fm_tool_result r = run(&c, "list_files", "{\"path\":\".\"}");
    assert_false(r.is_error);
    assert_string_equal(r.text, "a.txt (0 bytes)\nb.txt (2 bytes)\nkb/\nkb/notes/\n"
                                "kb/notes/plan.md (7 bytes)\n");
    fm_tool_result_release(&r);
    r = run(&c, "list_files", "{\"path\":\"kb/notes/\"}");
    assert_string_equal(r.text, "kb/notes/plan.md (7 bytes)\n");
    fm_tool_result_release(&r);
    expect(&c, "read_file", "{\"path\":\"kb/x.md\"}", true, "No file kb/x.md in your workspace");
    expect(&c, "read_file", "{\"path\":\"kb\"}", true, "kb is a folder; use list_files");
    expect(&c, "list_files", "{\"path\":\"a.txt\"}", true, "a.txt is a file, not a folder");
    expect(&c, "list_files", "{\"path\":\"nope\"}", true, "No folder nope in your workspace");
    fx_free(f);
}

static void paths_outside_the_workspace_are_refused(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    static const char *const bad[] = {"../x", "/etc/passwd", "a/../../x", "..", "kb/.."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *args = fm_xasprintf("{\"path\":\"%s\"}", bad[i]);
        char *want = fm_xasprintf("Paths must stay inside your workspace: %s", bad[i]);
        expect(&c, "read_file", args, true, want);
        expect(&c, "list_files", args, true, want);
        free(args);
        args = fm_xasprintf("{\"path\":\"%s\",\"text\":\"x\"}", bad[i]);
        expect(&c, "write_file", args, true, want);
        free(args);
        free(want);
    }
    fx_free(f);
}

static void symlinks_cannot_lead_out(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    expect(&c, "write_file", "{\"path\":\"in.txt\",\"text\":\"inside\"}", false, "Wrote");
    /* A secret next to the workspace, and links to it planted inside. */
    char *secret = fm_xasprintf("%s/secret.txt", f->t->dir);
    FILE *fp = fopen(secret, "w");
    assert_non_null(fp);
    fputs("TOP SECRET", fp);
    fclose(fp);
    char *link = fm_xasprintf("%s/leak", f->ws);
    char *dirlink = fm_xasprintf("%s/up", f->ws);
    char *inlink = fm_xasprintf("%s/alias", f->ws);
    assert_int_equal(symlink(secret, link), 0);
    assert_int_equal(symlink(f->t->dir, dirlink), 0);
    assert_int_equal(symlink("in.txt", inlink), 0);
    expect(&c, "read_file", "{\"path\":\"leak\"}", true,
           "Paths must stay inside your workspace: leak");
    expect(&c, "read_file", "{\"path\":\"up/secret.txt\"}", true,
           "Paths must stay inside your workspace: up/secret.txt");
    expect(&c, "write_file", "{\"path\":\"leak\",\"text\":\"pwned\"}", true,
           "Paths must stay inside your workspace: leak");
    expect(&c, "write_file", "{\"path\":\"up/new.txt\",\"text\":\"pwned\"}", true,
           "Paths must stay inside your workspace: up/new.txt");
    expect(&c, "write_file", "{\"path\":\"up/sub/new.txt\",\"text\":\"pwned\"}", true,
           "Paths must stay inside your workspace");
    expect(&c, "list_files", "{\"path\":\"up\"}", true, "Paths must stay inside your workspace");
    /* A link that stays inside is followed. */
    expect(&c, "read_file", "{\"path\":\"alias\"}", false, "inside");
    /* The secret is untouched and nothing was created outside. */
    fp = fopen(secret, "r");
    char buf[32] = {0};
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "TOP SECRET");
    char *made = fm_xasprintf("%s/new.txt", f->t->dir);
    assert_int_equal(access(made, F_OK), -1);
    free(made);
    made = fm_xasprintf("%s/sub", f->t->dir);
    assert_int_equal(access(made, F_OK), -1);
    free(made);
    /* Listing shows links without following them. */
    fm_tool_result r = run(&c, "list_files", "{\"path\":\".\"}");
    assert_non_null(strstr(r.text, "leak (symlink)\n"));
    assert_null(strstr(r.text, "secret"));
    fm_tool_result_release(&r);
    /* The fallback walk (kernels without openat2) refuses every link. */
    int root = open(f->ws, O_RDONLY | O_DIRECTORY);
    assert_true(root >= 0);
    int fd = fm__ws_open(root, "leak", O_RDONLY, 0, true);
    assert_int_equal(fd, -ELOOP);
    fd = fm__ws_open(root, "up/secret.txt", O_RDONLY, 0, true);
    assert_int_equal(fd, -ELOOP);
    fd = fm__ws_open(root, "in.txt", O_RDONLY, 0, true);
    assert_true(fd >= 0);
    close(fd);
    fd = fm__ws_open(root, ".", O_RDONLY | O_DIRECTORY, 0, true);
    assert_true(fd >= 0);
    close(fd);
    close(root);
    free(secret);
    free(link);
    free(dirlink);
    free(inlink);
    fx_free(f);
}

static void read_file_is_capped(void **state)
{
    fixture *f = fx_new();
    fm_tool_ctx c = ctx_of(f, "dev", f->dev, 0);
    size_t big = FM_WS_READ_MAX + 1000;
    char *text = fm_xmalloc(big + 1);
    memset(text, 'a', big);
    text[FM_WS_READ_MAX - 1] = '\xc3'; /* a two-byte character across the cut */
    text[FM_WS_READ_MAX] = '\xa9';
    text[big] = '\0';
    fm_error err = {0};
    assert_int_equal(fm__ws_write(f->ws, "big.txt", text, big, &err), FM_OK);
    fm_tool_result r = run(&c, "read_file", "{\"path\":\"big.txt\"}");
    assert_false(r.is_error);
    assert_non_null(strstr(r.text, "[cut: big.txt is larger than 256 KiB"));
    assert_int_equal(strcspn(r.text, "\n"), FM_WS_READ_MAX - 1); /* the partial char dropped */
    fm_tool_result_release(&r);
    /* Not text: said, not shown. */
    assert_int_equal(fm__ws_write(f->ws, "bin", "\x00\x01\xff", 3, &err), FM_OK);
    expect(&c, "read_file", "{\"path\":\"bin\"}", true, "bin is not a text file");
    free(text);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delegate_creates_a_child_task_and_wakes_the_assignee),
        cmocka_unit_test(delegate_to_an_unknown_agent_lists_the_reports),
        cmocka_unit_test(message_to_an_agent_writes_thread_message_and_wake),
        cmocka_unit_test(message_to_members_and_outsiders_is_recorded),
        cmocka_unit_test(complete_task_moves_todo_through_doing_to_done),
        cmocka_unit_test(closing_someone_elses_task_is_refused),
        cmocka_unit_test(block_task_records_the_reason),
        cmocka_unit_test(note_is_kept_and_audited_without_its_text),
        cmocka_unit_test(request_approval_waits_for_the_manager),
        cmocka_unit_test(ask_manager_messages_and_waits),
        cmocka_unit_test(hold_routes_to_the_manager),
        cmocka_unit_test(decide_checks_the_route_and_wakes_the_requester),
        cmocka_unit_test(above_the_approver_and_owners_may_decide),
        cmocka_unit_test(resource_of_each_tool),
        cmocka_unit_test(tools_on_the_loop_are_not_run_here),
        cmocka_unit_test(hire_adds_a_report_without_budget),
        cmocka_unit_test(manager_agents_decide_within_their_grants),
        cmocka_unit_test(a_tainted_request_is_for_a_person),
        cmocka_unit_test(write_read_and_list_in_the_workspace),
        cmocka_unit_test(paths_outside_the_workspace_are_refused),
        cmocka_unit_test(symlinks_cannot_lead_out),
        cmocka_unit_test(read_file_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
