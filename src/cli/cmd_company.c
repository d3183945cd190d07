/* firma init, import, export, company: companies as folders of files. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static int init_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 1)
        return cli_usage_error("init", "say which folder: firma init DIR [--template NAME]");
    const char *tmpl = cli_opt(a, "template");
    int rc = fm_template_write(tmpl ? tmpl : "solo-startup", a->pos[0], &c->err);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("wrote a starter company to %s (template %s)\n"
           "next: edit %s/company.yaml and %s/agents/*.md, then run\n"
           "  firma import %s\n",
           a->pos[0], tmpl ? tmpl : "solo-startup", a->pos[0], a->pos[0], a->pos[0]);
    return 0;
}

const cli_command cmd_init = {
    .name = "init",
    .summary = "write a starter company folder",
    .usage = "usage: firma init DIR [--template NAME]\n\n"
             "Writes a starter company (company.yaml and agents/*.md) into DIR, which must\n"
             "not already hold a company.yaml. Templates: solo-startup (default), minimal.\n",
    .options = "template=",
    .run = init_run,
};

static int import_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 1)
        return cli_usage_error("import", "say which folder: firma import DIR");
    fm_company_spec spec;
    int rc = fm_spec_read_dir(a->pos[0], &spec, &c->err);
    if (rc != FM_OK) {
        /* Whatever is wrong in the files, org rules included, is bad input. */
        cli_fail(c, rc);
        return rc == FM_ENOTFOUND ? EXIT_NOTFOUND : rc == FM_EIO ? EXIT_FAIL : EXIT_INVALID;
    }
    fm_id id = 0;
    rc = cli_open(c);
    if (rc == FM_OK)
        rc = fm_company_import(c->store, c->actor, &spec, cli_opt(a, "name"), &id, &c->err);
    if (rc == FM_OK)
        rc = c->store->ops->company_get(c->store, id, &c->company, &c->err);
    if (rc == FM_OK)
        rc = cli_checkpoint(c);
    if (rc == FM_OK && c->json) {
        cli_print_json(json_pack("{s:I, s:s, s:I, s:I, s:I}", "id", (json_int_t)id, "name",
                                 c->company.name, "members", (json_int_t)spec.n_members,
                                 "agents", (json_int_t)spec.n_agents, "goals",
                                 (json_int_t)spec.n_goals));
    } else if (rc == FM_OK) {
        printf("imported company '%s' into %s: %zu member(s), %zu agent(s), %zu goal(s)\n",
               c->company.name, c->db_path, spec.n_members, spec.n_agents, spec.n_goals);
    }
    fm_spec_release(&spec);
    return rc == FM_OK ? 0 : cli_fail(c, rc);
}

const cli_command cmd_import = {
    .name = "import",
    .summary = "create a company from a folder",
    .usage = "usage: firma import DIR [--name NAME]\n\n"
             "Reads DIR/company.yaml and DIR/agents/*.md, checks them whole (every error\n"
             "names file and line), and creates the company in the database in one\n"
             "transaction. --name imports it under another name.\n",
    .options = "name=",
    .run = import_run,
};

static int export_run(fm_cli *c, cli_args *a)
{
    if (a->n_pos != 1)
        return cli_usage_error("export", "say which folder: firma export DIR");
    fm_company_spec spec;
    int rc = fm_company_export(c->store, c->company.id, &spec, &c->err);
    if (rc == FM_OK) {
        rc = fm_spec_write_dir(&spec, a->pos[0], &c->err);
        fm_spec_release(&spec);
    }
    if (rc != FM_OK)
        return cli_fail(c, rc);
    printf("exported company '%s' to %s\n", c->company.name, a->pos[0]);
    return 0;
}

const cli_command cmd_export = {
    .name = "export",
    .summary = "write a company back to a folder",
    .usage = "usage: firma export DIR\n\n"
             "Writes the company as company.yaml and agents/<handle>.md. Exporting twice\n"
             "gives identical files; importing an export gives the same company. Tasks,\n"
             "messages, secrets and the audit log stay in the database.\n",
    .options = "",
    .run = export_run,
    .needs_company = true,
};

static int company_run(fm_cli *c, cli_args *a)
{
    int rc = cli_open(c);
    fm_company *v = NULL;
    size_t n = 0;
    if (rc == FM_OK)
        rc = c->store->ops->company_list(c->store, &v, &n, &c->err);
    if (rc != FM_OK)
        return cli_fail(c, rc);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (c->json) {
            json_array_append_new(arr, json_pack("{s:I, s:s, s:s?, s:I}", "id",
                                                 (json_int_t)v[i].id, "name", v[i].name,
                                                 "title", v[i].title, "budget_usd_micro",
                                                 (json_int_t)v[i].budget.usd_micro));
            continue;
        }
        fm_buf b = FM_BUF_INIT;
        fm_format_usd(&b, v[i].budget.usd_micro);
        printf("%-20s %-30s $%s/%s\n", v[i].name, v[i].title ? v[i].title : "", b.ptr,
               fm_period_name(v[i].budget.period));
        fm_buf_release(&b);
    }
    if (c->json)
        cli_print_json(arr);
    else
        json_decref(arr);
    fm_company_list_free(v, n);
    return 0;
}

const cli_command cmd_company = {
    .name = "company",
    .summary = "list the companies in the database",
    .usage = "usage: firma company [list]\n\nLists the companies this database holds.\n",
    .options = "",
    .run = company_run,
};
