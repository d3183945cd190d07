/* firma member: the humans of a company and their channel identities. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static int member_add(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("member", "want: member add HANDLE [--name NAME] [--role ROLE] "
                                         "[--channel KIND:ID]...");
    fm_member m;
    memset(&m, 0, sizeof m);
    m.company_id = c->company.id;
    m.handle = fm_xstrdup(a->pos[1]);
    m.name = fm_xstrdup(cli_opt(a, "name"));
    m.role = FM_ROLE_VIEWER;
    int rc = FM_OK, role, it = 0;
    const char *v;
    if ((v = cli_opt(a, "role")) && fm_role_parse(v, &role) == FM_OK)
        m.role = (fm_role)role;
    else if (v)
        rc = fm_error_set(&c->err, FM_EINVAL, "--role %s: want one of %s", v, fm_role_words());
    while (rc == FM_OK && (v = cli_opt_next(a, "channel", &it))) {
        const char *colon = strchr(v, ':');
        if (!colon || colon == v || !colon[1]) {
            rc = fm_error_set(&c->err, FM_EINVAL, "--channel %s: want KIND:ID, e.g. "
                                                  "telegram:123456", v);
            break;
        }
        m.identities = fm_xreallocarray(m.identities, m.n_identities + 1, sizeof *m.identities);
        m.identities[m.n_identities].channel = fm_xstrndup(v, (size_t)(colon - v));
        m.identities[m.n_identities++].ident = fm_xstrdup(colon + 1);
    }
    if (rc == FM_OK)
        rc = fm_member_add(c->store, c->actor, &m, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc == FM_OK)
        printf("member %s added as %s\n", m.handle, fm_role_name(m.role));
    fm_member_release(&m);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

static int member_list(fm_cli *c)
{
    fm_member *v;
    size_t n;
    int rc = c->store->ops->member_list(c->store, c->company.id, &v, &n, &c->err);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *ids = json_object();
        for (size_t k = 0; k < v[i].n_identities; k++)
            json_object_set_new(ids, v[i].identities[k].channel,
                                json_string(v[i].identities[k].ident));
        if (c->json) {
            json_array_append_new(arr, json_pack("{s:s, s:s?, s:s, s:o}", "handle", v[i].handle,
                                                 "name", v[i].name, "role",
                                                 fm_role_name(v[i].role), "channels", ids));
            continue;
        }
        printf("%-16s %-9s %s", v[i].handle, fm_role_name(v[i].role), v[i].name ? v[i].name : "");
        for (size_t k = 0; k < v[i].n_identities; k++)
            printf("%s%s:%s", k ? ", " : "  ", v[i].identities[k].channel,
                   v[i].identities[k].ident);
        printf("\n");
        json_decref(ids);
    }
    if (c->json)
        cli_print_json(arr);
    else
        json_decref(arr);
    fm_member_list_free(v, n);
    return 0;
}

static int member_rm(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 2)
        return cli_usage_error("member", "want: member rm HANDLE");
    int rc = fm_member_rm(c->store, c->actor, c->company.id, a->pos[1], &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("member %s removed\n", a->pos[1]);
    return 0;
}

static int member_run(fm_cli *c, cli_args *a)
{
    const char *sub = a->n_pos ? a->pos[0] : "list";
    if (strcmp(sub, "add") == 0)
        return member_add(c, a);
    if (strcmp(sub, "list") == 0)
        return member_list(c);
    if (strcmp(sub, "rm") == 0)
        return member_rm(c, a);
    return cli_usage_error("member", "unknown subcommand '%s' (see firma member --help)", sub);
}

const cli_command cmd_member = {
    .name = "member",
    .summary = "add, list and remove the people",
    .usage = "usage: firma member list\n"
             "       firma member add HANDLE [--name NAME] [--role owner|admin|operator|viewer]\n"
             "                        [--channel telegram:ID] [--channel email:ADDR] ...\n"
             "       firma member rm HANDLE\n\n"
             "A company has exactly one owner, the root of its org chart.\n",
    .options = "name=,role=,channel=*",
    .run = member_run,
    .needs_company = true,
};
