/* firma log (the audit tail) and firma audit verify. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static void print_event(const fm_audit_event *e, json_t *arr)
{
    fm_buf t = FM_BUF_INIT;
    fm_format_time(&t, e->ts);
    if (arr) {
        json_t *details = json_loads(e->details, 0, NULL);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "seq",
                                             (json_int_t)e->seq, "time", t.ptr, "actor", e->actor,
                                             "action", e->action, "object", e->object, "details",
                                             details ? details : json_object()));
    } else {
        printf("%6lld  %s  %-16s %-16s %-18s %s\n", (long long)e->seq, t.ptr, e->actor,
               e->action, e->object, e->details);
    }
    fm_buf_release(&t);
}

static int log_run(fm_cli *c, cli_args *a)
{
    fm_audit_filter f = {.company_id = c->company.id, .limit = 50, .newest_first = true};
    f.actor = cli_opt(a, "actor");
    f.action = cli_opt(a, "action");
    f.object = cli_opt(a, "object");
    const char *v;
    int64_t n;
    if ((v = cli_opt(a, "limit"))) {
        if (fm_parse_i64(v, &n) != FM_OK || n < 0)
            return cli_usage_error("log", "--limit %s: want a number (0 for all)", v);
        f.limit = (size_t)n;
    }
    if ((v = cli_opt(a, "since"))) {
        if (fm_parse_i64(v, &n) != FM_OK || n < 0)
            return cli_usage_error("log", "--since %s: want an event number", v);
        f.after_seq = n;
    }
    fm_audit_event *ev; /* newest first, printed oldest first */
    size_t n_ev;
    int rc = fm_store_audit_list(c->store, &f, &ev, &n_ev, &c->err);
    json_t *arr = c->json ? json_array() : NULL;
    for (size_t i = n_ev; i-- > 0;)
        print_event(&ev[i], arr);
    fm_audit_event_list_free(ev, n_ev);
    if (arr)
        cli_print_json(arr);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

const cli_command cmd_log = {
    .name = "log",
    .summary = "read the audit log",
    .usage = "usage: firma log [--limit N] [--actor ACTOR] [--action PREFIX] [--object OBJ]\n"
             "                 [--since SEQ] [--json]\n\n"
             "The newest events (50 unless --limit; 0 for all), oldest first: sequence,\n"
             "time, who, what, on what, details. --action task. matches every task event.\n",
    .options = "limit=,actor=,action=,object=,since=",
    .run = log_run,
    .needs_company = true,
};

static int verify_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 1 || strcmp(a->pos[0], "verify") != 0)
        return cli_usage_error("audit", "want: audit verify");
    fm_keys k;
    bool have_key = cli_keys(c, false, &k) == FM_OK;
    char *w = cli_witness_path(c);
    fm_audit_report r;
    fm_error_clear(&c->err);
    int rc = fm_audit_verify(c->store, have_key ? &k : NULL, c->company.id, w, &r, &c->err);
    free(w);
    fm_keys_release(&k);
    if (c->json) {
        cli_print_json(json_pack("{s:b, s:I, s:I, s:b, s:I, s:s}", "ok", rc == FM_OK, "events",
                                 (json_int_t)r.events, "checkpoints", (json_int_t)r.checkpoints,
                                 "signatures_checked", have_key, "first_bad_seq",
                                 (json_int_t)r.bad_seq, "why", r.why));
    } else if (rc == FM_OK) {
        printf("audit chain of '%s' is intact: %lld events, %lld signed checkpoint(s) matched%s\n",
               c->company.name, (long long)r.events, (long long)r.checkpoints,
               have_key ? "" : " (no key: signatures not checked)");
    } else if (rc == FM_ETAMPER) {
        printf("AUDIT CHAIN BROKEN in '%s' at %s\n", c->company.name, r.why);
    }
    if (rc == FM_ETAMPER)
        return EXIT_TAMPER;
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

const cli_command cmd_audit = {
    .name = "audit",
    .summary = "verify the tamper-evident audit chain",
    .usage = "usage: firma audit verify [--json]\n\n"
             "Checks every event's hash link and the signed checkpoints. Exit 0 when the\n"
             "chain is intact, 5 when an event was edited, deleted, inserted or reordered,\n"
             "or the tail was cut off; the report names the first broken event.\n",
    .options = "",
    .run = verify_run,
    .needs_company = true,
};
