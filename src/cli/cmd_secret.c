/* firma secret: set, list, rm. Values go in, never out. */
#include "cli/cli.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads the value from stdin (so it stays out of shell history and ps),
 * dropping one trailing newline. */
static int read_value(fm_cli *c, fm_buf *b)
{
    char chunk[4096];
    ssize_t n;
    while ((n = read(0, chunk, sizeof chunk)) > 0) {
        if (b->len + (size_t)n > 64 * 1024)
            return fm_error_set(&c->err, FM_ETOOBIG, "secret value over 64 KiB");
        fm_buf_add(b, chunk, (size_t)n);
    }
    sodium_memzero(chunk, sizeof chunk);
    if (n < 0)
        return fm_error_set(&c->err, FM_EIO, "cannot read the value from standard input");
    if (b->len && b->ptr[b->len - 1] == '\n')
        b->ptr[--b->len] = '\0';
    if (!b->len)
        return fm_error_set(&c->err, FM_EINVAL, "empty secret value: pipe it in, e.g. "
                                                "printf %%s \"$KEY\" | firma secret set NAME");
    return FM_OK;
}

static int secret_set(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("secret", "want: secret set NAME < value");
    fm_keys k;
    fm_buf v = FM_BUF_INIT;
    int rc = read_value(c, &v);
    if (rc == FM_OK)
        rc = cli_keys(c, true, &k);
    if (rc == FM_OK) {
        rc = fm_secret_set(c->store, &k, c->company.id, c->actor, a->pos[1],
                           (unsigned char *)v.ptr, v.len, &c->err);
        fm_keys_release(&k);
    }
    if (v.ptr)
        sodium_memzero(v.ptr, v.cap);
    fm_buf_release(&v);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("secret %s stored (encrypted)\n", a->pos[1]);
    return 0;
}

static int secret_list(fm_cli *c)
{
    char **names;
    int64_t *at;
    size_t n;
    int rc = c->store->ops->secret_list(c->store, c->company.id, &names, &at, &n, &c->err);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        fm_buf t = FM_BUF_INIT;
        fm_format_time(&t, at[i]);
        if (c->json)
            json_array_append_new(arr, json_pack("{s:s, s:s}", "name", names[i], "updated",
                                                 t.ptr));
        else
            printf("%-32s updated %s\n", names[i], t.ptr);
        fm_buf_release(&t);
    }
    if (c->json)
        cli_print_json(arr);
    else
        json_decref(arr);
    fm_strv_free(names, n);
    free(at);
    return 0;
}

static int secret_rm(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("secret", "want: secret rm NAME");
    int rc = fm_secret_rm(c->store, c->company.id, c->actor, a->pos[1], &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("secret %s removed\n", a->pos[1]);
    return 0;
}

static int secret_run(fm_cli *c, cli_args *a)
{
    const char *sub = a->n_pos ? a->pos[0] : "list";
    if (strcmp(sub, "set") == 0)
        return secret_set(c, a);
    if (strcmp(sub, "list") == 0)
        return secret_list(c);
    if (strcmp(sub, "rm") == 0)
        return secret_rm(c, a);
    return cli_usage_error("secret", "unknown subcommand '%s' (see firma secret --help)", sub);
}

const cli_command cmd_secret = {
    .name = "secret",
    .summary = "store API keys and passwords, encrypted",
    .usage = "usage: firma secret set NAME     (the value on standard input)\n"
             "       firma secret list\n"
             "       firma secret rm NAME\n\n"
             "Values are read from standard input, encrypted with the master key, and never\n"
             "printed. Agents refer to them as {{secret:NAME}}. Names: A-Z, 0-9, _.\n"
             "Example: printf %s \"$STRIPE_KEY\" | firma secret set STRIPE_KEY\n",
    .options = "",
    .run = secret_run,
    .needs_company = true,
};
