/*
 * Process agents: the owner's own program, run once per run.
 *
 *   take wakes ──> write the process step ──> spawn (sandbox, limits)
 *                                                   │ exits
 *        DONE/WAITING <── each action: grant? schema? policy? ── stdout lines
 *
 * The program gets the wakes as one JSON object on stdin and its identity in
 * its environment (FIRMA_RUN, FIRMA_AGENT, FIRMA_COMPANY, and FIRMA_TOKEN, a
 * token for this agent and run only that is revoked when the program ends). It answers with
 * JSON lines on stdout, one action each: {"action": TOOL, ...its arguments}.
 * Every action goes through the checks a model's tool call does — granted,
 * schema, policy with the run's taint — and is written as a tool step before
 * it runs, so a process cannot do more than a model agent with the same
 * grants. A program that fails (non-zero exit, killed at its time limit)
 * acts on nothing: the run fails with its stderr, and the task is blocked.
 *
 * It runs under bubblewrap like exec (src/tools/child.c): its workspace
 * read-write at /workspace, the system read-only, with the network (a process
 * agent may call its own services), and exec's time, output and memory
 * limits.
 *
 * Recovery: the process step keeps the program's output. A crash after the
 * program exited goes on with the actions not yet written; a crash while it
 * ran runs it again with "redelivered": true on stdin, so the program can
 * tell (it may have acted outside firma the first time).
 */
#include "runtime/run_int.h"

#include "firma/base.h"
#include "firma/policy.h"
#include "tools/child.h"
#include "tools/workspace.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Held by the child's callback: the runtime may be freed before the child's
 * done runs (then `r` is NULL and the result is dropped). */
typedef struct proc {
    run *r;
    fm_step step;
} proc;

/* ---- the wakes as JSON ---------------------------------------------------------- */

static json_t *task_json(fm_store *s, fm_id id)
{
    fm_task t;
    if (s->ops->task_get(s, id, &t, NULL) != FM_OK)
        return json_pack("{s:I}", "id", (json_int_t)id);
    json_t *o = json_pack("{s:I, s:s, s:s?, s:s, s:i, s:s?, s:b}", "id", (json_int_t)t.id,
                          "title", t.title, "body", t.body, "status",
                          fm_task_status_name(t.status), "priority", t.priority, "creator",
                          t.creator, "outside", t.tainted);
    fm_task_release(&t);
    return o;
}

static json_t *message_json(fm_store *s, fm_id id)
{
    fm_message m;
    if (s->ops->message_get(s, id, &m, NULL) != FM_OK)
        return json_pack("{s:I}", "id", (json_int_t)id);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:b}", "id", (json_int_t)m.id, "thread",
                          (json_int_t)m.thread_id, "from", m.sender, "text", m.body, "outside",
                          m.tainted);
    fm_message_release(&m);
    return o;
}

static json_t *approval_json(fm_store *s, fm_id id)
{
    fm_approval a;
    if (s->ops->approval_get(s, id, &a, NULL) != FM_OK)
        return json_pack("{s:I}", "id", (json_int_t)id);
    json_t *o = json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:s?}", "id", (json_int_t)a.id, "kind",
                          a.kind, "tool", a.tool, "status", fm_approval_status_name(a.status),
                          "decided_by", a.decided_by, "why", a.why);
    /* What the held action did when it ran, as the step recorded it. */
    fm_step *v = NULL;
    size_t n = 0;
    if (a.step_id && s->ops->step_list(s, a.run_id, &v, &n, NULL) == FM_OK)
        for (size_t i = 0; i < n; i++)
            if (v[i].id == a.step_id && v[i].response)
                json_object_set_new(o, "outcome", json_string(v[i].response));
    fm_step_list_free(v, n);
    fm_approval_release(&a);
    return o;
}

/* {"run", "agent", "company", "redelivered", "wakes": [{kind, task|message|approval}]} */
static char *wake_json(run *r, bool redelivered)
{
    fm_store *s = r->rt->store;
    fm_wake *w = NULL;
    size_t n = 0;
    json_t *wakes = json_array();
    if (s->ops->wake_of_run(s, r->id, &w, &n, NULL) == FM_OK) {
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_pack("{s:s}", "kind", fm_wake_kind_name(w[i].kind));
            if (w[i].kind == FM_WAKE_TASK)
                json_object_set_new(o, "task", task_json(s, w[i].ref));
            else if (w[i].kind == FM_WAKE_MESSAGE)
                json_object_set_new(o, "message", message_json(s, w[i].ref));
            else if (w[i].kind == FM_WAKE_APPROVAL)
                json_object_set_new(o, "approval", approval_json(s, w[i].ref));
            json_array_append_new(wakes, o);
        }
    }
    fm_wake_list_free(w, n);
    json_t *o = json_pack("{s:I, s:s, s:s, s:b, s:o}", "run", (json_int_t)r->id, "agent",
                          r->agent_rec.handle, "company", r->company_rec.name, "redelivered",
                          redelivered, "wakes", wakes);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* ---- the actions ------------------------------------------------------------------ */

/* Runs the actions of the program's output from number r->call_i on. A held
 * action makes the run wait; the actions after it are not run (as with a
 * model's calls after a held one), and the program hears of them when it is
 * woken with the decision. */
static void run_actions(run *r, const char *out)
{
    fm_id held = 0;
    size_t line_no = 0, bad = 0;
    const char *p = out ? out : "";
    while (*p) {
        size_t len = strcspn(p, "\n");
        char *line = fm_xstrndup(p, len);
        p += len + (p[len] == '\n');
        if (!line[strspn(line, " \t\r")]) {
            free(line);
            continue;
        }
        if (line_no++ < r->call_i) { /* written before a crash: done or settled */
            free(line);
            continue;
        }
        json_error_t je;
        json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &je);
        const char *name = json_string_value(json_object_get(o, "action"));
        json_t *args = json_deep_copy(o);
        json_object_del(args, "action");
        char *args_json = args ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char id[32];
        snprintf(id, sizeof id, "line-%zu", line_no);
        fm_tool_call c = {.id = id, .name = (char *)(name ? name : "(none)"),
                          .args_json = args_json ? args_json : "{}"};
        /* The action commits with its step: a crash leaves neither, and the
         * resumed run takes the action up again. */
        fm_store *s = r->rt->store;
        fm_error terr;
        bool tx = s->ops->begin(s, &terr) == FM_OK;
        fm_step st;
        fm__step_start_call(r, &c, &st);
        char *text = NULL;
        bool is_error = false;
        fm_id approval = 0;
        call_outcome how = CALL_DONE;
        if (!json_is_object(o)) {
            text = fm_xasprintf("Output line %zu is not a JSON object (%s); each line must be "
                                "{\"action\": TOOL, ...arguments}.", line_no, je.text);
            bad++;
        } else if (!name) {
            text = fm_xasprintf("Output line %zu has no \"action\".", line_no);
            bad++;
        } else if (held) {
            text = fm_xasprintf("Not run: an earlier action is waiting for approval #%lld.",
                                (long long)held);
        } else if (fm_tool_is_async(name)) {
            text = fm_xasprintf("%s is for model agents: a process runs its own commands.",
                                name);
            bad++;
        } else {
            how = fm__run_call(r, &c, &st, &text, &is_error, &approval);
            if (how == CALL_HELD || how == CALL_WAITS)
                held = approval;
        }
        fm__step_settle_call(r, &st, how, text);
        if (tx)
            fm_store_end(s, FM_OK, &terr);
        free(text);
        free(args_json);
        json_decref(args);
        json_decref(o);
        free(line);
        r->call_i++;
    }
    if (held) {
        char *why = fm_xasprintf("waiting for approval #%lld", (long long)held);
        fm__run_end(r, FM_RUN_WAITING, why);
        free(why);
    } else if (bad) {
        char *why = fm_xasprintf("the program's output had %zu line(s) that were not actions it "
                                 "may take (see the run's steps)", bad);
        fm__run_end(r, FM_RUN_DONE, why);
        free(why);
    } else {
        fm__run_end(r, FM_RUN_DONE, "the program ran");
    }
}

/* ---- running the program ------------------------------------------------------------ */

/* The last `max` bytes of what a program wrote to stderr, as text: as exec
 * shows output, what is not UTF-8 (or NUL) becomes U+FFFD. */
static char *tail(const fm_buf *b, size_t max)
{
    if (!b->ptr || !b->len)
        return fm_xstrdup("");
    size_t from = b->len > max ? b->len - max : 0;
    while (from < b->len && ((unsigned char)b->ptr[from] & 0xC0) == 0x80)
        from++; /* start on a character */
    fm_buf t = FM_BUF_INIT;
    fm_buf_add_utf8(&t, b->ptr + from, b->len - from);
    return fm_buf_detach(&t);
}

static bool still_active(run *r)
{
    fm_agent now;
    if (r->rt->store->ops->agent_get(r->rt->store, r->agent, &now, NULL) != FM_OK)
        return false;
    bool active = now.status == FM_AGENT_ACTIVE;
    fm_agent_release(&now);
    return active;
}

static void on_exit_(void *arg, fm_child_result *res)
{
    proc *pc = arg;
    run *r = pc->r;
    if (!r) { /* the runtime was freed first */
        free(pc);
        return;
    }
    r->child = NULL;
    r->proc = NULL;
    r->rt->stats.tool_calls++;
    fm_token_revoke_run(r->rt->store, r->id, NULL);
    const char *out = res->out.ptr ? res->out.ptr : "";
    size_t out_len = res->out.ptr ? res->out.len : 0;
    bool text = strlen(out) == out_len && fm_utf8_valid(out, out_len, NULL);
    bool ok = !res->timed_out && !res->killed && !res->sandbox_failed &&
              res->term_signal == 0 && res->exit_code == 0;
    char *err_tail = tail(&res->err, 2000);
    /* "act": whether its actions are to be taken, decided once, here; a
     * resumed run reads it rather than deciding again from part of it. */
    json_t *o = json_pack("{s:b, s:i, s:i, s:b, s:s, s:s, s:b}", "act", ok && text, "exit_code",
                          res->exit_code, "signal", res->term_signal, "timed_out",
                          res->timed_out, "stdout", text ? out : "", "stderr", err_tail,
                          "stdout_cut", res->out_cut);
    char *resp = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    fm__step_finish(r, &pc->step, resp);
    free(resp);
    free(pc);
    if (r->rt->stopping && res->killed) {
        free(err_tail);
        fm__run_stop(r, "stopped: firma is shutting down (its wakes are kept)");
        return;
    }
    if (!ok) {
        char *why;
        if (res->timed_out)
            why = fm_xasprintf("the program ran longer than %lld s and was killed",
                               (long long)r->rt->cfg.tools.exec_timeout_s);
        else if (res->sandbox_failed)
            why = fm_xasprintf("the program could not start in its sandbox: %s", err_tail);
        else if (res->term_signal)
            why = fm_xasprintf("the program was killed by signal %d: %s", res->term_signal,
                               err_tail);
        else
            why = fm_xasprintf("the program exited with status %d: %s", res->exit_code,
                               err_tail);
        fm__run_end(r, FM_RUN_FAILED, why);
        free(why);
    } else if (!text) {
        fm__run_end(r, FM_RUN_FAILED, "the program's output is not UTF-8 text");
    } else if (!still_active(r)) {
        /* The kill switch acts between the program and its actions. */
        fm__run_stop(r, "stopped: the agent was paused while its program ran; none of its "
                        "actions were taken (its wakes wait for it)");
    } else {
        r->call_i = 0;
        run_actions(r, out);
    }
    free(err_tail);
}

static void spawn(run *r, bool redelivered)
{
    fm_error err;
    fm_error_clear(&err);
    char *input = wake_json(r, redelivered);
    proc *pc = fm_xcalloc(1, sizeof *pc);
    pc->r = r;
    pc->step = (fm_step){.kind = FM_STEP_PROCESS, .status = FM_STEP_STARTED,
                         .tool = "process", .request = input, .started_at = fm_now_us()};
    fm__step_write(r, &pc->step);
    pc->step.request = NULL;
    pc->step.tool = NULL;
    /* The workspace (absolute: the runtime resolved its folder) is the
     * sandbox's /workspace; made here if missing, or the run fails saying
     * why. */
    char *ws = fm_xstrdup(r->workspace);
    int made = fm__ws_make(ws, &err);
    char e_run[48], e_company[48];
    char *e_agent = fm_xasprintf("FIRMA_AGENT=%s", r->agent_rec.handle);
    snprintf(e_run, sizeof e_run, "FIRMA_RUN=%lld", (long long)r->id);
    snprintf(e_company, sizeof e_company, "FIRMA_COMPANY=%lld", (long long)r->company);
    /* A token for this run only, to call firma's API while it runs; it
     * expires on its own and is revoked when the program ends. */
    const fm_tool_limits *l = &r->rt->cfg.tools;
    char *token = NULL, *e_token = NULL;
    fm_token_revoke_run(r->rt->store, r->id, NULL); /* an earlier attempt's */
    if (fm_token_issue_agent(r->rt->store, r->company, r->agent, r->id,
                             (l->exec_timeout_s + 60) * 1000000, &token, &err) == FM_OK) {
        e_token = fm_xasprintf("FIRMA_TOKEN=%s", token);
        sodium_memzero(token, strlen(token));
        free(token);
    }
    const char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace",
                         "LANG=C.UTF-8", e_run, e_agent, e_company, e_token, NULL};
    const char *argv[] = {"/bin/sh", "-c", r->agent_rec.command, NULL};
    fm_child_spec spec = {.argv = argv, .env = env, .stdin_data = input,
                          .stdin_len = strlen(input), .max_output = l->exec_max_output,
                          .timeout_ms = l->exec_timeout_s * 1000, .mem_bytes = l->exec_mem_bytes,
                          .sandbox_dir = ws, .sandbox_network = true};
    int rc = made != FM_OK ? made
                           : fm__child_start(r->rt->loop, &spec, on_exit_, pc, &r->child, &err);
    free(input);
    free(ws);
    free(e_agent);
    if (e_token) {
        sodium_memzero(e_token, strlen(e_token));
        free(e_token);
    }
    if (rc != FM_OK) {
        fm_token_revoke_run(r->rt->store, r->id, NULL);
        fm__step_finish(r, &pc->step, err.msg);
        free(pc);
        char *why = fm_xasprintf("the program could not start: %s", err.msg);
        fm__run_end(r, FM_RUN_FAILED, why);
        free(why);
        return;
    }
    r->proc = pc;
}

void fm__process_start(run *r)
{
    spawn(r, false);
}

void fm__process_resume(run *r, fm_step *v, size_t n)
{
    size_t p = n;
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == FM_STEP_PROCESS)
            p = i;
    if (n)
        r->seq = v[n - 1].seq;
    if (p == n) {
        spawn(r, false);
        return;
    }
    if (v[p].status != FM_STEP_FINISHED) {
        /* It ran when firma stopped: whatever it did outside is unknown. */
        if (v[p].status == FM_STEP_STARTED)
            fm__mark_unknown(r, &v[p]);
        spawn(r, true);
        return;
    }
    /* It had exited: go on with the actions not yet written. An action
     * interrupted midway is of unknown outcome (never run twice); a held one
     * stays held. */
    json_t *o = json_loads(v[p].response ? v[p].response : "{}", 0, NULL);
    bool ok = json_is_true(json_object_get(o, "act"));
    bool held = false;
    for (size_t i = p + 1; i < n; i++) {
        if (v[i].status == FM_STEP_STARTED && v[i].response)
            held = true;
        else if (v[i].status == FM_STEP_STARTED)
            fm__mark_unknown(r, &v[i]);
    }
    r->call_i = n - p - 1;
    if (!ok)
        fm__run_end(r, FM_RUN_FAILED, "the program had failed before firma stopped");
    else if (held)
        fm__run_end(r, FM_RUN_WAITING, "waiting for approval (resumed after a stop)");
    else
        run_actions(r, json_string_value(json_object_get(o, "stdout")));
    json_decref(o);
}

void fm__process_kill(run *r)
{
    if (r->child)
        fm__child_kill(r->child);
}

void fm__process_orphan(run *r)
{
    if (r->proc && r->child) {
        ((proc *)r->proc)->r = NULL;
        fm__child_kill(r->child);
    }
    r->child = NULL;
    r->proc = NULL;
}
