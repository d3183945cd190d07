/* Companies: the ones a token reaches, and a company's export. A token
 * belongs to one company, so the list is always that one; the route is
 * there so a client written for several companies asks the same way.
 *
 * The export is the folder `firma export` writes, file by file, as text
 * (fm_spec_files gives the same bytes fm_spec_write_dir writes): a client
 * turns it back into the folder by writing each file under its path. */
#include "http/api.h"

static void list_companies(fm_api_req *rq, fm_api_res *rs)
{
    fm_company c;
    fm_error err = {0};
    if (rq->store->ops->company_get(rq->store, rq->who.company_id, &c, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    fm__api_ok(rs, 200, json_pack("{s:[{s:I, s:s, s:s?}]}", "companies", "id", (json_int_t)c.id,
                                  "name", c.name, "title", c.title));
    fm_company_release(&c);
}

/* fm_spec_files' callback: each file into the "files" object. */
static int add_file(void *ctx, const char *path, const char *text, size_t len, fm_error *err)
{
    json_t *v = json_stringn(text, len);
    if (!v)
        return fm_error_set(err, FM_EINVAL, "%s is not UTF-8 text", path);
    json_object_set_new(ctx, path, v);
    return FM_OK;
}

static void export_company(fm_api_req *rq, fm_api_res *rs)
{
    fm_company_spec spec;
    fm_error err = {0};
    if (fm_company_export(rq->store, rq->who.company_id, &spec, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    json_t *files = json_object();
    if (fm_spec_files(&spec, add_file, files, &err) == FM_OK)
        fm__api_ok(rs, 200, json_pack("{s:s, s:o}", "company", spec.company.name, "files",
                                      files));
    else {
        /* The store holds what the files cannot: a bug, not bad input. */
        json_decref(files);
        fm__api_error(rs, 500, "internal", NULL, "the company cannot be exported: %s", err.msg);
    }
    fm_spec_release(&spec);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/companies", .handler = list_companies,
     .least = FM_ROLE_VIEWER,
     .summary = "The companies this token reaches: its own (a token belongs to one company)"},
    {.method = FM_HTTP_GET, .pattern = "/v1/company/export", .handler = export_company,
     .least = FM_ROLE_ADMIN,
     .summary = "The company as `firma export` writes it: {\"company\", \"files\": {path: text}}"},
};

const fm_api_resource fm__api_companies = {"companies", routes, sizeof routes / sizeof routes[0]};
