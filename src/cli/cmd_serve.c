/*
 * firma serve: run the companies in the database. One process, one libuv
 * loop; agents wake on work, think with their model, use their tools.
 * SIGINT/SIGTERM stop it cleanly: runs in flight end at their next step and
 * give back the wakes they had not finished, so nothing is lost.
 */
#include "cli/cli.h"
#include "firma/runtime.h"
#include "http/http.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

/* How often --metrics-file is rewritten while serving. */
#define METRICS_EVERY_MS 5000

typedef struct serve {
    fm_cli *c;
    fm_runtime *rt;
    fm_http *http;          /* the API, with --listen */
    fm_keys keys;           /* for the API's audit verify, if there is a key */
    bool have_keys;
    uv_signal_t sigint, sigterm;
    bool done;
    const char *metrics_file; /* NULL: none */
    uv_timer_t metrics_timer;
    bool metrics_failed;      /* said once that the file cannot be written */
    int64_t checkpoint_s;     /* sign the audit heads this often; 0: only at the end */
    uv_timer_t checkpoint_timer;
    bool checkpoint_failed;   /* said once that a checkpoint could not be signed */
} serve;

/* Writes the metrics to sv->metrics_file whole: to PATH.tmp, then renamed
 * over PATH, so a reader (a node exporter's textfile collector, a person
 * with cat) never sees half a file. */
static void write_metrics(serve *sv)
{
    fm_buf b = FM_BUF_INIT;
    fm_runtime_metrics_render(sv->rt, &b);
    char *tmp = fm_xasprintf("%s.tmp", sv->metrics_file);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(b.ptr ? b.ptr : "", 1, b.len, f) == b.len;
    int saved = errno;
    if (f && fclose(f) != 0 && ok)
        ok = false, saved = errno;
    if (ok && rename(tmp, sv->metrics_file) != 0)
        ok = false, saved = errno;
    if (!ok) {
        remove(tmp);
        if (!sv->metrics_failed)
            fprintf(stderr, "firma serve: --metrics-file %s: cannot write: %s\n",
                    sv->metrics_file, strerror(saved));
    }
    sv->metrics_failed = !ok;
    free(tmp);
    fm_buf_release(&b);
}

static void on_metrics_timer(uv_timer_t *t)
{
    write_metrics(t->data);
}

static void checkpoint_all(fm_cli *c, bool *warned);

/* While serving: the runtime's and the API's changes get a signed
 * checkpoint within checkpoint_s, not only when serve stops (a company
 * whose audit head has not moved is skipped). */
static void on_checkpoint_timer(uv_timer_t *t)
{
    serve *sv = t->data;
    checkpoint_all(sv->c, &sv->checkpoint_failed);
}

static void shut(serve *sv)
{
    if (sv->done)
        return;
    sv->done = true;
    fm_http_free(sv->http);
    if (sv->checkpoint_s) {
        uv_timer_stop(&sv->checkpoint_timer);
        uv_close((uv_handle_t *)&sv->checkpoint_timer, NULL);
    }
    sv->http = NULL;
    fm_runtime_stop(sv->rt);
    uv_signal_stop(&sv->sigint);
    uv_signal_stop(&sv->sigterm);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
    if (sv->metrics_file) {
        uv_timer_stop(&sv->metrics_timer);
        uv_close((uv_handle_t *)&sv->metrics_timer, NULL);
    }
}

static void on_signal(uv_signal_t *h, int sig)
{
    fprintf(stderr, "firma serve: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    shut(h->data);
}

static void on_idle(fm_runtime *rt, void *arg)
{
    shut(arg);
}

/* Signs a checkpoint of every company's audit head: on serve's timer and
 * after the runtime stops. */
static void checkpoint_all(fm_cli *c, bool *warned)
{
    fm_keys k;
    fm_company *v = NULL;
    size_t n = 0;
    fm_error err;
    fm_error_clear(&err);
    int rc = cli_keys(c, true, &k);
    if (rc != FM_OK) {
        err = c->err;
    } else {
        char *w = cli_witness_path(c);
        rc = c->store->ops->company_list(c->store, &v, &n, &err);
        for (size_t i = 0; rc == FM_OK && i < n; i++)
            rc = fm_checkpoint_make(c->store, &k, v[i].id, w, &err);
        fm_company_list_free(v, n);
        free(w);
        fm_keys_release(&k);
    }
    /* The changes are committed: a checkpoint that cannot be made is
     * said (once while serving) and tried again next time. */
    if (rc != FM_OK && !*warned)
        fprintf(stderr, "firma serve: warning: the audit checkpoint was not signed: %s\n",
                fm_error_text(&err));
    *warned = rc != FM_OK;
}

static void print_stats(const fm_runtime_stats *st, bool json)
{
    if (json) {
        cli_print_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
                                 "runs_started", st->runs_started, "runs_done", st->runs_done,
                                 "runs_failed", st->runs_failed, "runs_waiting", st->runs_waiting,
                                 "model_calls", st->model_calls, "tool_calls", st->tool_calls,
                                 "tool_denied", st->tool_denied, "tool_held", st->tool_held,
                                 "budget_refused", st->budget_refused, "timer_wakes",
                                 st->timer_wakes, "calls_queued", st->calls_queued,
                                 "calls_in_flight_peak", st->calls_in_flight_peak));
        return;
    }
    if (st->runs_resumed)
        printf("resumed %lld run(s) interrupted by a stop\n", (long long)st->runs_resumed);
    printf("runs: %lld started, %lld done, %lld waiting for approval, %lld stopped\n"
           "model calls: %lld; tool calls: %lld run, %lld refused, %lld held for approval; "
           "budget refusals: %lld\n",
           (long long)st->runs_started, (long long)st->runs_done, (long long)st->runs_waiting,
           (long long)st->runs_failed, (long long)st->model_calls, (long long)st->tool_calls,
           (long long)st->tool_denied, (long long)st->tool_held, (long long)st->budget_refused);
    if (st->timer_wakes)
        printf("timer wakes: %lld (heartbeats and cron schedules)\n", (long long)st->timer_wakes);
    printf("model calls in flight at most: %d; waited for a provider slot: %lld\n",
           st->calls_in_flight_peak, (long long)st->calls_queued);
}

/* A positive count option (--max-runs 8); absent leaves *out as it is. */
static int count_opt(fm_cli *c, cli_args *a, const char *name, int *out)
{
    const char *v = cli_opt(a, name);
    int64_t n;
    if (!v)
        return FM_OK;
    if (fm_parse_i64(v, &n) != FM_OK || n < 1 || n > 100000)
        return fm_error_set(&c->err, FM_EINVAL, "--%s %s: want a whole number from 1 to 100000",
                            name, v);
    *out = (int)n;
    return FM_OK;
}

/* With --listen, the HTTP API on the same loop (docs/api.md). It says
 * where it listens on stderr, port included (--listen 127.0.0.1:0 picks a
 * free one). */
static int start_api(serve *sv, uv_loop_t *loop, cli_args *a, const char *witness)
{
    const char *listen = cli_opt(a, "listen");
    if (!listen) {
        if (cli_flag(a, "allow-remote"))
            return fm_error_set(&sv->c->err, FM_EUSAGE, "--allow-remote needs --listen ADDR:PORT");
        return FM_OK;
    }
    struct sockaddr_storage addr;
    if (fm_http_parse_listen(listen, &addr, &sv->c->err) != FM_OK) {
        sv->c->err.code = FM_EUSAGE; /* a bad option, told as such */
        return FM_EUSAGE;
    }
    fm_error_clear(&sv->c->err);
    sv->have_keys = cli_keys(sv->c, false, &sv->keys) == FM_OK;
    if (!sv->have_keys)
        fprintf(stderr, "firma serve: %s: the API will not set secrets (PUT /v1/secrets/NAME "
                        "is 503) nor check checkpoint signatures\n", fm_error_text(&sv->c->err));
    fm_error_clear(&sv->c->err);
    fm_http_config hc = {.listen = listen, .allow_remote = cli_flag(a, "allow-remote"),
                         .keys = sv->have_keys ? &sv->keys : NULL, .witness_path = witness};
    int rc = fm_http_new(loop, sv->c->store, &hc, &sv->http, &sv->c->err);
    if (rc == FM_OK)
        fprintf(stderr, "firma serve: API on http://%.*s:%d/v1 (GET /v1/openapi.json)\n",
                (int)(strrchr(listen, ':') - listen), listen, fm_http_port(sv->http));
    return rc;
}

static int serve_run(fm_cli *c, cli_args *a)
{
    int rc = cli_open(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    char *ws = fm_xasprintf("%s.workspaces", c->db_path);
    fm_runtime_config cfg = {.workspaces = cli_opt(a, "workspaces") ? cli_opt(a, "workspaces") : ws,
                             .scenario = cli_opt(a, "scenario"),
                             .until_idle = cli_flag(a, "until-idle")};
    int tool_timeout = 0;
    if ((rc = count_opt(c, a, "max-runs", &cfg.max_runs)) != FM_OK ||
        (rc = count_opt(c, a, "max-calls", &cfg.max_calls)) != FM_OK ||
        (rc = count_opt(c, a, "tool-timeout", &tool_timeout)) != FM_OK) {
        free(ws);
        return cli_fail(c, rc);
    }
    cfg.tools.exec_timeout_s = tool_timeout;
    int64_t checkpoint_s = 60;
    const char *cp = cli_opt(a, "checkpoint-every");
    if (cp && (fm_parse_i64(cp, &checkpoint_s) != FM_OK || checkpoint_s < 0 ||
               checkpoint_s > 86400)) {
        free(ws);
        fm_error_set(&c->err, FM_EINVAL, "--checkpoint-every %s: want seconds from 0 to 86400",
                     cp);
        return cli_fail(c, FM_EINVAL);
    }
    const char *prices = cli_opt(a, "prices") ? cli_opt(a, "prices") : getenv("FIRMA_PRICES");
    if (prices && *prices && (rc = fm_prices_load(prices, &c->err)) != FM_OK) {
        free(ws);
        return cli_fail(c, rc);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    serve sv = {.c = c, .metrics_file = cli_opt(a, "metrics-file"),
                .checkpoint_s = checkpoint_s};
    char *witness = cli_witness_path(c);
    bool ran = false;
    fm_runtime_stats st = {0};
    if ((rc = start_api(&sv, &loop, a, witness)) != FM_OK ||
        (rc = fm_runtime_new(&loop, c->store, &cfg, &sv.rt, &c->err)) != FM_OK) {
        fm_http_free(sv.http);
        goto out;
    }
    fm_http_set_runtime(sv.http, sv.rt);
    uv_signal_init(&loop, &sv.sigint);
    uv_signal_init(&loop, &sv.sigterm);
    sv.sigint.data = sv.sigterm.data = &sv;
    uv_signal_start(&sv.sigint, on_signal, SIGINT);
    uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
    if (sv.metrics_file) {
        uv_timer_init(&loop, &sv.metrics_timer);
        sv.metrics_timer.data = &sv;
        uv_timer_start(&sv.metrics_timer, on_metrics_timer, METRICS_EVERY_MS, METRICS_EVERY_MS);
    }
    if (sv.checkpoint_s) {
        uv_timer_init(&loop, &sv.checkpoint_timer);
        sv.checkpoint_timer.data = &sv;
        uv_timer_start(&sv.checkpoint_timer, on_checkpoint_timer,
                       (uint64_t)sv.checkpoint_s * 1000, (uint64_t)sv.checkpoint_s * 1000);
    }
    if ((rc = fm_runtime_start(sv.rt, on_idle, &sv, &c->err)) != FM_OK) {
        shut(&sv);
    } else {
        if (!c->json)
            fprintf(stderr, "firma serve: running %s%s\n", c->db_path,
                    cfg.until_idle ? " until there is nothing left to do" : " (Ctrl-C stops)");
        uv_run(&loop, UV_RUN_DEFAULT);
        st = *fm_runtime_stats_get(sv.rt);
        if (sv.metrics_file) /* the last word: the same moment as the stats printed below */
            write_metrics(&sv);
        ran = true;
    }
    fm_runtime_free(sv.rt);
out:
    uv_run(&loop, UV_RUN_DEFAULT); /* the handles' close callbacks */
    uv_loop_close(&loop);
    if (sv.have_keys)
        fm_keys_release(&sv.keys);
    free(witness);
    free(ws);
    if (!ran)
        return cli_fail(c, rc);
    bool warn_again = false; /* the last word: said even if said before */
    checkpoint_all(c, &warn_again);
    print_stats(&st, c->json);
    return 0;
}

const cli_command cmd_serve = {
    .name = "serve",
    .summary = "run the companies: agents wake, think and act",
    .usage = "usage: firma serve [--scenario FILE] [--until-idle] [--workspaces DIR] "
             "[--max-runs N] [--max-calls N] [--tool-timeout S]\n"
             "                   [--prices FILE] [--metrics-file PATH]\n"
             "                   [--listen ADDR:PORT [--allow-remote]] [--checkpoint-every S]\n\n"
             "Runs every company in the database in one process. Agents wake on their\n"
             "tasks and messages, call their model, and use the tools their grants allow;\n"
             "risky calls wait for approval (firma approvals).\n"
             "  --scenario FILE  what the sim model answers (docs/sim.md)\n"
             "  --until-idle     stop once nothing is pending or running (agents' timers\n"
             "                   do not fire in this mode: a schedule never runs out)\n"
             "  --workspaces DIR where agents' files live (default <db>.workspaces)\n"
             "  --max-runs N     runs in flight at once (default 64)\n"
             "  --max-calls N    model calls in flight per provider (default 32); more wait\n"
             "  --tool-timeout S the most an exec command or a process agent's program may\n"
             "                   run, in seconds (default 300)\n"
             "  --prices FILE    your prices per model, before the built-in ones (JSON:\n"
             "                   {\"openai:gpt-5*\": {\"input\": 1.25, \"output\": 10}}, dollars\n"
             "                   per million tokens); also FIRMA_PRICES\n"
             "  --metrics-file PATH  write the metrics (Prometheus text, docs/metrics.md) to\n"
             "                   PATH every 5 seconds and at exit, replacing it whole\n"
             "  --listen ADDR:PORT  serve the HTTP API there (docs/api.md), e.g.\n"
             "                   127.0.0.1:8420; port 0 picks a free one. Off unless given.\n"
             "  --allow-remote   permit a non-loopback --listen address. The API has no TLS:\n"
             "                   put a TLS proxy in front, or tokens cross the network in clear\n"
             "  --checkpoint-every S  sign a checkpoint of each company's audit head every S\n"
             "                   seconds while serving (default 60; 0: only when serve stops)\n"
             "Real models: set OPENAI_API_KEY (and FIRMA_MODEL_URL for any OpenAI-compatible\n"
             "server) or ANTHROPIC_API_KEY, and name the model in the agent's file.\n",
    .options = "scenario=,until-idle,workspaces=,max-runs=,max-calls=,tool-timeout=,prices=,"
               "metrics-file=,listen=,allow-remote,checkpoint-every=",
    .run = serve_run,
};
