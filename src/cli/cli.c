/* Helpers shared by the subcommands: option parsing, opening the store,
 * resolving the company, errors and exit codes, checkpoints. */
#include "cli/cli.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Looks `name` up in the spec "a=,b,c=*": returns 0 unknown, 1 flag,
 * 2 takes a value, 3 takes a value and may repeat. */
static bool opt_is(const cli_args *a, int i, const char *name)
{
    return strlen(name) == a->opt[i].len && strncmp(a->opt[i].name, name, a->opt[i].len) == 0;
}

static int spec_kind(const char *spec, const char *name, size_t len)
{
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        size_t base = strcspn(p, "=,");
        if (base == len && strncmp(p, name, len) == 0)
            return base == n ? 1 : (n > base + 1 && p[base + 1] == '*') ? 3 : 2;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int cli_parse(const char *cmd, const char *spec, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    bool dashdash = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (dashdash || s[0] != '-' || s[1] != '-' || s[2] == '\0') {
            if (!dashdash && strcmp(s, "--") == 0) {
                dashdash = true;
                continue;
            }
            if (a->n_pos == (int)(sizeof a->pos / sizeof a->pos[0]))
                return cli_usage_error(cmd, "too many arguments");
            a->pos[a->n_pos++] = s;
            continue;
        }
        const char *name = s + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int kind = spec_kind(spec, name, len);
        if (!kind)
            return cli_usage_error(cmd, "unknown option '--%.*s' (see firma %s --help)", (int)len,
                                   name, cmd);
        const char *value = NULL;
        if (kind >= 2) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return cli_usage_error(cmd, "option '--%.*s' needs a value", (int)len, name);
        } else if (eq) {
            return cli_usage_error(cmd, "option '--%.*s' takes no value", (int)len, name);
        }
        if (a->n_opt == CLI_MAX_OPTS)
            return cli_usage_error(cmd, "too many options");
        a->opt[a->n_opt].name = name;
        a->opt[a->n_opt].len = len;
        a->opt[a->n_opt++].value = value ? value : "";
    }
    return 0;
}

const char *cli_opt(const cli_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->n_opt; i++)
        if (opt_is(a, i, name))
            v = a->opt[i].value;
    return v;
}

bool cli_flag(const cli_args *a, const char *name)
{
    return cli_opt(a, name) != NULL;
}

const char *cli_opt_next(const cli_args *a, const char *name, int *i)
{
    for (; *i < a->n_opt; (*i)++) {
        if (opt_is(a, *i, name))
            return a->opt[(*i)++].value;
    }
    return NULL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "firma %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_exit_code(int code)
{
    switch (code) {
    case FM_OK:
        return 0;
    case FM_EUSAGE:
        return EXIT_USAGE;
    case FM_ENOTFOUND:
        return EXIT_NOTFOUND;
    case FM_ECONFLICT: case FM_ETRANSITION: case FM_EORG: case FM_EEXIST: case FM_EPERM:
        return EXIT_REFUSED;
    case FM_ETAMPER:
        return EXIT_TAMPER;
    case FM_EPARSE: case FM_EINVAL: case FM_ETOOBIG:
        return EXIT_INVALID;
    default:
        return EXIT_FAIL;
    }
}

int cli_fail(fm_cli *c, int code)
{
    if (c->json) {
        json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", fm_errname(code), "message",
                              c->err.msg[0] ? c->err.msg : fm_strerror(code));
        char *s = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "%s\n", s ? s : "{}");
        free(s);
        json_decref(j);
    } else {
        fprintf(stderr, "firma: %s\n", c->err.msg[0] ? c->err.msg : fm_strerror(code));
    }
    return cli_exit_code(code);
}

int cli_open(fm_cli *c)
{
    if (c->store)
        return FM_OK;
    return fm_store_open(c->db_path, &c->store, &c->err);
}

int cli_company(fm_cli *c)
{
    if (c->company.id)
        return FM_OK;
    if (c->company_name)
        return c->store->ops->company_find(c->store, c->company_name, &c->company, &c->err);
    fm_company *v;
    size_t n;
    int rc = c->store->ops->company_list(c->store, &v, &n, &c->err);
    if (rc != FM_OK)
        return rc;
    if (n == 1) {
        c->company = v[0];
        memset(&v[0], 0, sizeof v[0]);
    } else if (n == 0) {
        rc = fm_error_set(&c->err, FM_ENOTFOUND,
                          "%s has no company yet: create one with 'firma init DIR' and "
                          "'firma import DIR'", c->db_path);
    } else {
        fm_buf names = FM_BUF_INIT;
        for (size_t i = 0; i < n; i++)
            fm_buf_addf(&names, "%s%s", i ? ", " : "", v[i].name);
        rc = fm_error_set(&c->err, FM_EUSAGE, "%s holds several companies (%s): say which with "
                                              "--company NAME", c->db_path, names.ptr);
        fm_buf_release(&names);
    }
    fm_company_list_free(v, n);
    return rc;
}

char *cli_witness_path(const fm_cli *c)
{
    /* One witness per database: a key file may serve several databases. */
    return fm_xasprintf("%s.audit-head", c->db_path);
}

int cli_keys(fm_cli *c, bool create, fm_keys *k)
{
    return fm_keys_load(c->key_file, c->db_path, create, k, &c->err);
}

int cli_checkpoint(fm_cli *c)
{
    fm_keys k;
    fm_error err;
    fm_error_clear(&err);
    int rc = fm_keys_load(c->key_file, c->db_path, true, &k, &err);
    if (rc == FM_OK) {
        char *w = cli_witness_path(c);
        rc = fm_checkpoint_make(c->store, &k, c->company.id, w, &err);
        free(w);
        fm_keys_release(&k);
    }
    /* The change itself is committed by now: failing here would invite a
     * retry that does it twice. Say what is missing and carry on; the next
     * change signs a checkpoint covering this one too. */
    if (rc != FM_OK)
        fprintf(stderr, "firma: warning: the change was saved, but its audit checkpoint was "
                        "not: %s\n", fm_error_text(&err));
    return FM_OK;
}

int cli_agent(fm_cli *c, const char *handle, fm_agent *out)
{
    if (handle && handle[0] == '@')
        handle++;
    return c->store->ops->agent_find(c->store, c->company.id, handle, out, &c->err);
}

int cli_id(fm_cli *c, const char *text, const char *what, fm_id *id)
{
    if (text && text[0] == '#')
        text++;
    int64_t v;
    if (fm_parse_i64(text, &v) != FM_OK || v <= 0)
        return fm_error_set(&c->err, FM_EUSAGE, "'%s' is not a %s number", text ? text : "",
                            what);
    *id = v;
    return FM_OK;
}

void cli_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
    json_decref(j);
}

const char *cli_handle_of(const fm_agent *v, size_t n, fm_id id)
{
    for (size_t i = 0; id && i < n; i++)
        if (v[i].id == id)
            return v[i].handle;
    return NULL;
}
