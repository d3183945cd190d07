/*
 * The exec tool: `sh -c COMMAND` under bubblewrap (child.c) with the agent's
 * workspace at /workspace, no network, and time, memory and output capped;
 * then what happened, told to the model in bounded, valid UTF-8.
 *
 * A job ends one of two ways, and `done` runs once either way:
 *
 *   fm__exec_start ──> running ──on_child_done──> done(result), job freed
 *                         │
 *                       cancel ──> done("canceled") at once; the child is
 *                                  killed, and on_child_done frees the job
 */
#include "tools/child.h"
#include "tools/jobs.h"
#include "tools/workspace.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_S 60

typedef struct exec_job {
    fm_tool_job base; /* first: fm_tool_job_cancel reaches cancel() through it */
    fm_child *child;
    fm_tool_done done;
    void *arg;
    int64_t timeout_s, mem_bytes;
    bool reported;    /* `done` has run */
} exec_job;

/* ---- the text for the model ------------------------------------------------------ */

static void add_section(fm_buf *b, const char *name, const fm_buf *out, size_t total)
{
    if (total == 0) {
        fm_buf_addf(b, "--- %s (empty) ---\n", name);
        return;
    }
    fm_buf_addf(b, "--- %s ---\n", name);
    size_t kept = out->len;
    if (kept < total)
        kept = fm_utf8_whole(out->ptr, kept);
    fm_buf_add_utf8(b, out->ptr, kept);
    if (kept && out->ptr[kept - 1] != '\n')
        fm_buf_addc(b, '\n');
    if (kept < total)
        fm_buf_addf(b, "[cut: %zu more bytes]\n", total - kept);
}

static void add_status(fm_buf *b, const exec_job *j, const fm_child_result *r)
{
    if (r->timed_out) {
        fm_buf_addf(b, "killed after %lld s (time limit)\n", (long long)j->timeout_s);
        return;
    }
    if (r->term_signal) { /* bwrap itself was killed, from outside */
        const char *name = sigabbrev_np(r->term_signal);
        fm_buf_addf(b, "killed by signal %d (SIG%s)\n", r->term_signal, name ? name : "?");
        return;
    }
    fm_buf_addf(b, "exit code %d", r->exit_code);
    /* Inside the sandbox a command killed by a signal reads as 128+N. */
    const char *name = r->exit_code > 128 ? sigabbrev_np(r->exit_code - 128) : NULL;
    if (name)
        fm_buf_addf(b, " (128+%d: likely killed by SIG%s)", r->exit_code - 128, name);
    if (r->exit_code != 0)
        fm_buf_addf(b, "; limits: %lld MiB of memory, %lld s", (long long)(j->mem_bytes >> 20),
                    (long long)j->timeout_s);
    fm_buf_addc(b, '\n');
}

static char *result_text(const exec_job *j, const fm_child_result *r, bool *is_error)
{
    fm_buf b = FM_BUF_INIT;
    *is_error = r->sandbox_failed;
    if (r->sandbox_failed) {
        fm_buf_adds(&b, "The sandbox could not start the command: ");
        size_t n = r->err.len;
        while (n && (r->err.ptr[n - 1] == '\n' || r->err.ptr[n - 1] == ' '))
            n--;
        if (n)
            fm_buf_add_utf8(&b, r->err.ptr, n);
        else
            fm_buf_addf(&b, "bubblewrap ended with exit code %d", r->exit_code);
        return fm_buf_detach(&b);
    }
    add_status(&b, j, r);
    add_section(&b, "stdout", &r->out, r->out_total);
    add_section(&b, "stderr", &r->err, r->err_total);
    return fm_buf_detach(&b);
}

/* ---- the job ------------------------------------------------------------------------ */

static void on_child_done(void *arg, fm_child_result *r)
{
    exec_job *j = arg;
    if (!j->reported) {
        j->reported = true;
        fm_tool_result res = {0};
        res.text = result_text(j, r, &res.is_error);
        j->done(j->arg, &res);
        fm_tool_result_release(&res);
    }
    free(j);
}

static void cancel(fm_tool_job *job)
{
    exec_job *j = (exec_job *)job;
    if (j->reported)
        return;
    j->reported = true;
    fm__child_kill(j->child);
    fm_tool_result res = {
        .text = fm_xstrdup("canceled: the command was killed before it finished"),
        .is_error = true,
    };
    j->done(j->arg, &res);
    fm_tool_result_release(&res);
}

int fm__exec_start(uv_loop_t *loop, const fm_tool_ctx *ctx, const fm_tool_limits *limits,
                   const char *args_json, fm_tool_done done, void *arg, fm_tool_job **job,
                   fm_error *err)
{
    *job = NULL;
    json_t *args = json_loads(args_json ? args_json : "", 0, NULL);
    json_t *cmd = json_object_get(args, "command");
    json_t *t = json_object_get(args, "timeout_s");
    if (!json_is_string(cmd) || strlen(json_string_value(cmd)) != json_string_length(cmd)) {
        json_decref(args);
        return fm_error_set(err, FM_EINVAL, "exec: 'command' must be a string without NUL");
    }
    int64_t timeout = json_is_integer(t) && json_integer_value(t) > 0 ? json_integer_value(t)
                                                                       : DEFAULT_TIMEOUT_S;
    if (timeout > limits->exec_timeout_s)
        timeout = limits->exec_timeout_s;
    int rc = fm__ws_make(ctx->workspace, err);
    if (rc != FM_OK) {
        json_decref(args);
        return rc;
    }
    const char *argv[] = {"/bin/sh", "-c", json_string_value(cmd), NULL};
    static const char *const env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace",
                                      "LANG=C.UTF-8", NULL};
    fm_child_spec sp = {
        .argv = argv,
        .env = env,
        .max_output = limits->exec_max_output,
        .timeout_ms = timeout * 1000,
        .mem_bytes = limits->exec_mem_bytes,
        .sandbox_dir = ctx->workspace,
        .sandbox_network = false,
    };
    exec_job *j = fm_xcalloc(1, sizeof *j);
    j->base.cancel = cancel;
    j->done = done;
    j->arg = arg;
    j->timeout_s = timeout;
    j->mem_bytes = limits->exec_mem_bytes;
    rc = fm__child_start(loop, &sp, on_child_done, j, &j->child, err);
    json_decref(args);
    if (rc != FM_OK) {
        free(j);
        return rc;
    }
    *job = &j->base;
    return FM_OK;
}
