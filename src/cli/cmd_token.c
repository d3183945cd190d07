/*
 * firma token: bearer tokens for members, for the HTTP API (docs/api.md).
 * A token is shown once, when it is made; the database keeps only its hash,
 * so a lost token is revoked and replaced, never recovered. Making and
 * revoking one are audited (token.create, token.revoke); the token's text
 * never is.
 */
#include "cli/cli.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int token_create(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("token", "want: token create MEMBER [--name TEXT] [--role ROLE]");
    int cap = FM_ROLE_OWNER;
    const char *v = cli_opt(a, "role"), *name = cli_opt(a, "name");
    if (v && fm_role_parse(v, &cap) != FM_OK)
        return cli_usage_error("token", "--role %s: want one of %s", v, fm_role_words());
    fm_member m;
    int rc = c->store->ops->member_find(c->store, c->company.id, a->pos[1], &m, &c->err);
    if (rc == FM_ENOTFOUND)
        rc = fm_error_set(&c->err, FM_ENOTFOUND, "no member '%s' in %s (firma member list)",
                          a->pos[1], c->company.name);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    char *secret = NULL;
    fm_id id = 0;
    rc = fm_token_create(c->store, c->actor, c->company.id, &m, name, (fm_role)cap, &secret, &id,
                         &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc == FM_OK && c->json)
        cli_print_json(json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "token", secret,
                                 "member", m.handle));
    else if (rc == FM_OK)
        printf("%s\ntoken %lld for %s; it is shown only this once: keep it somewhere safe\n",
               secret, (long long)id, m.handle);
    if (secret) {
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    fm_member_release(&m);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

static const char *member_handle(const fm_member *v, size_t n, fm_id id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return v[i].handle;
    return "?";
}

static int token_list(fm_cli *c)
{
    fm_token *t = NULL;
    fm_member *m = NULL;
    size_t n = 0, nm = 0;
    int rc = c->store->ops->token_list(c->store, c->company.id, &t, &n, &c->err);
    if (rc == FM_OK)
        rc = c->store->ops->member_list(c->store, c->company.id, &m, &nm, &c->err);
    if (rc != FM_OK) {
        free(t);
        return cli_fail(c, rc);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *who = member_handle(m, nm, t[i].member_id);
        const char *cap = t[i].role_cap != FM_ROLE_OWNER ? fm_role_name(t[i].role_cap) : NULL;
        if (c->json) {
            json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s?, s:I, s:b}", "id",
                                                 (json_int_t)t[i].id, "member", who, "name",
                                                 t[i].name, "role_cap", cap, "created_at",
                                                 (json_int_t)t[i].created_at, "revoked",
                                                 t[i].revoked_at != 0));
            continue;
        }
        printf("%-5lld %-16s %-9s %-8s %s\n", (long long)t[i].id, who, cap ? cap : "-",
               t[i].revoked_at ? "revoked" : "active", t[i].name);
    }
    if (c->json)
        cli_print_json(arr);
    else
        json_decref(arr);
    free(t);
    fm_member_list_free(m, nm);
    return 0;
}

static int token_revoke(fm_cli *c, cli_args *a)
{
    fm_id id;
    if (a->n_pos != 2)
        return cli_usage_error("token", "want: token revoke ID");
    int rc = cli_id(c, a->pos[1], "token", &id);
    if (rc == FM_OK)
        rc = fm_token_revoke(c->store, c->actor, c->company.id, id, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("token %lld revoked\n", (long long)id);
    return 0;
}

static int token_run(fm_cli *c, cli_args *a)
{
    const char *sub = a->n_pos ? a->pos[0] : "list";
    if (strcmp(sub, "create") == 0)
        return token_create(c, a);
    if (strcmp(sub, "list") == 0)
        return token_list(c);
    if (strcmp(sub, "revoke") == 0)
        return token_revoke(c, a);
    return cli_usage_error("token", "unknown subcommand '%s' (see firma token --help)", sub);
}

const cli_command cmd_token = {
    .name = "token",
    .summary = "make, list and revoke members' API tokens",
    .usage = "usage: firma token create MEMBER [--name TEXT] [--role ROLE]\n"
             "       firma token list\n"
             "       firma token revoke ID\n\n"
             "A token lets a program act through the HTTP API (firma serve --listen) as the\n"
             "member it belongs to, with the member's role (owner, admin, operator, viewer),\n"
             "or at most --role if that is lower. It is printed once; only its hash is kept.\n",
    .options = "name=,role=",
    .run = token_run,
    .needs_company = true,
};
