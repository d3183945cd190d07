/*
 * firma bench process: how fast process agents wake, against what the
 * machine can do at all. Three figures, each for N short programs:
 *
 *   spawn      posix_spawn of /bin/true and waitpid, one after another: the
 *              machine's raw process-spawn rate
 *   sandboxed  the program a process agent runs (sh -c 'echo ACTION') in the
 *              same sandbox and limits (src/tools/child.c), P at a time, with
 *              no firma around it: what the sandbox costs
 *   firma      P process agents working N tasks under the runtime: each task
 *              a run (wakes taken, the program run with the wakes on stdin,
 *              its complete_task action checked and done, every step
 *              written), P runs at a time
 *
 * It prints the rates and firma's as a share of the sandboxed one. Nothing
 * asserts a time.
 */
#include "cli/bench.h"
#include "tools/child.h"

#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ACTION "{\"action\":\"complete_task\",\"result\":\"ok\"}"

static double raw_spawn_rate(int n)
{
    uint64_t t0 = fm_mono_ns();
    int done = 0;
    for (int i = 0; i < n; i++) {
        pid_t pid;
        char *argv[] = {"/bin/true", NULL};
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0)
            break;
        int st;
        waitpid(pid, &st, 0);
        done++;
    }
    double secs = (double)(fm_mono_ns() - t0) / 1e9;
    return secs > 0 ? done / secs : 0;
}

typedef struct sandboxed {
    uv_loop_t *loop;
    const char *ws;
    int left, running, done, failed;
} sandboxed;

static void start_one(sandboxed *s);

static void one_done(void *arg, fm_child_result *res)
{
    sandboxed *s = arg;
    s->running--;
    if (res->exit_code == 0 && !res->sandbox_failed && res->out.ptr &&
        strstr(res->out.ptr, "complete_task"))
        s->done++;
    else
        s->failed++;
    if (s->left > 0)
        start_one(s);
}

static void start_one(sandboxed *s)
{
    const char *argv[] = {"/bin/sh", "-c", "echo '" ACTION "'", NULL};
    const char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace", "LANG=C.UTF-8",
                         NULL};
    const char *input = "{\"wakes\":[]}";
    fm_child_spec spec = {.argv = argv, .env = env, .stdin_data = input,
                          .stdin_len = strlen(input), .timeout_ms = 60000,
                          .mem_bytes = 1LL << 30, .sandbox_dir = s->ws,
                          .sandbox_network = true};
    fm_child *ch;
    fm_error err;
    s->left--;
    if (fm__child_start(s->loop, &spec, one_done, s, &ch, &err) == FM_OK)
        s->running++;
    else
        s->failed++;
}

static double sandboxed_rate(const char *ws, int n, int p, int *failed)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sandboxed s = {.loop = &loop, .ws = ws, .left = n};
    uint64_t t0 = fm_mono_ns();
    for (int i = 0; i < p && s.left > 0; i++)
        start_one(&s);
    uv_run(&loop, UV_RUN_DEFAULT);
    double secs = (double)(fm_mono_ns() - t0) / 1e9;
    uv_loop_close(&loop);
    *failed = s.failed;
    return secs > 0 ? s.done / secs : 0;
}

static void runtime_idle(fm_runtime *rt, void *arg)
{
    fm_runtime_stop(rt);
    *(bool *)arg = true;
}

static int firma_rate(fm_cli *c, const char *ws, int n, int p, double *rate,
                      fm_runtime_stats *st)
{
    int rc = fm__bench_company(c);
    for (int i = 1; rc == FM_OK && i <= p; i++) {
        fm_agent a;
        memset(&a, 0, sizeof a);
        a.company_id = c->company.id;
        a.handle = fm_xasprintf("p%d", i);
        a.title = fm_xstrdup("Process");
        a.kind = FM_AGENT_PROCESS;
        a.command = fm_xstrdup("echo '" ACTION "'");
        a.autonomy = 1;
        a.grants = fm_xcalloc(1, sizeof *a.grants);
        a.n_grants = 1;
        a.grants[0] = (fm_grant){.tool = fm_xstrdup("complete_task"), .ceiling = FM_CEIL_ALLOW};
        rc = fm_agent_hire(c->store, "bench", &a, "owner", &c->err);
        fm_agent_release(&a);
    }
    for (int i = 0; rc == FM_OK && i < n; i++) {
        fm_task t = {.company_id = c->company.id, .title = fm_xasprintf("job %d", i),
                     .assignee = 1 + i % p, .priority = 2};
        rc = fm_task_add(c->store, "bench", &t, &c->err);
        fm_task_release(&t);
    }
    if (rc != FM_OK)
        return rc;
    uv_loop_t loop;
    uv_loop_init(&loop);
    fm_runtime *rt = NULL;
    fm_runtime_config cfg = {.workspaces = ws, .until_idle = true, .poll_ms = 5, .max_runs = p};
    bool idle = false;
    uint64_t t0 = fm_mono_ns();
    rc = fm_runtime_new(&loop, c->store, &cfg, &rt, &c->err);
    if (rc == FM_OK && (rc = fm_runtime_start(rt, runtime_idle, &idle, &c->err)) == FM_OK)
        while (!idle && uv_run(&loop, UV_RUN_ONCE))
            ;
    double secs = (double)(fm_mono_ns() - t0) / 1e9;
    if (rt) {
        *st = *fm_runtime_stats_get(rt);
        fm_runtime_free(rt);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    *rate = secs > 0 ? st->runs_done / secs : 0;
    return rc;
}

int fm__bench_process_cmd(fm_cli *c, cli_args *a)
{
    int64_t p = 8, n = 400;
    const char *v;
    if ((v = cli_opt(a, "agents")) && (fm_parse_i64(v, &p) != FM_OK || p < 1 || p > 256))
        return cli_usage_error("bench", "--agents %s: want 1 to 256", v);
    if ((v = cli_opt(a, "tasks")) && (fm_parse_i64(v, &n) != FM_OK || n < 1 || n > 100000))
        return cli_usage_error("bench", "--tasks %s: want 1 to 100000", v);
    fm_bench_scratch sc;
    if (fm__bench_scratch_make(c, &sc) != FM_OK)
        return cli_fail(c, c->err.code);
    const char *ws = sc.workspaces;
    char *raw_ws = fm_xasprintf("%s/raw", sc.dir);
    mkdir(ws, 0700);
    mkdir(raw_ws, 0700);
    double spawn = raw_spawn_rate((int)n);
    int failed = 0;
    double boxed = sandboxed_rate(raw_ws, (int)n, (int)p, &failed);
    double firma = 0;
    fm_runtime_stats st = {0};
    int rc = cli_open(c);
    if (rc == FM_OK)
        rc = firma_rate(c, ws, (int)n, (int)p, &firma, &st);
    if (rc == FM_OK) {
        printf("firma bench process (%lld short programs; a process agent's runs %lld at a "
               "time)\n", (long long)n, (long long)p);
        printf("  spawn:      %8.0f processes/s (posix_spawn of /bin/true, one after another: "
               "the machine's raw rate)\n", spawn);
        printf("  sandboxed:  %8.0f programs/s (sh -c 'echo ACTION' under bubblewrap and "
               "prlimit, %lld at a time, no firma; %d failed)\n", boxed, (long long)p, failed);
        printf("  firma:      %8.0f process-agent runs/s (%lld done, %lld failed: wakes taken, "
               "program run in the sandbox, its action checked, every step written)\n", firma,
               (long long)st.runs_done, (long long)st.runs_failed);
        printf("  firma / sandboxed: %.0f%%;  firma / raw spawn: %.0f%%\n",
               boxed > 0 ? 100 * firma / boxed : 0, spawn > 0 ? 100 * firma / spawn : 0);
    }
    fm__bench_scratch_remove(c, &sc);
    free(raw_ws);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}
