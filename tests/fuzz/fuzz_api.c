/*
 * libFuzzer target: the API's router and handlers, past authentication. A
 * company with an agent and an owner's token lives in an in-memory
 * database; each input is a request made with that token (or, if the first
 * byte says so, with the agent's token or none): the first byte picks the
 * method and token, the text up to the first newline is the path, the rest
 * the body. Every answer must be a status from 200 to 499 and an error in
 * the one shape; a 500 is a bug found.
 */
#include "http/api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fm_store *store;
static char *owner_token, *agent_token;

static void setup(void)
{
    fm_error err = {0};
    if (fm_store_open(":memory:", &store, &err) != FM_OK)
        abort();
    fm_company_spec spec;
    memset(&spec, 0, sizeof spec);
    fm_company_init(&spec.company);
    spec.company.name = fm_xstrdup("acme");
    spec.members = fm_xcalloc(1, sizeof *spec.members);
    spec.n_members = 1;
    spec.members[0].handle = fm_xstrdup("ana");
    spec.members[0].role = FM_ROLE_OWNER;
    fm_id company;
    if (fm_company_import(store, "fuzz", &spec, NULL, &company, &err) != FM_OK)
        abort();
    fm_spec_release(&spec);
    fm_agent a = {.company_id = company, .handle = fm_xstrdup("ceo"),
                  .title = fm_xstrdup("CEO"), .model = fm_xstrdup("sim"), .autonomy = 1};
    fm_member ana;
    if (fm_agent_hire(store, "fuzz", &a, "ana", &err) != FM_OK ||
        store->ops->member_find(store, company, "ana", &ana, &err) != FM_OK ||
        fm_token_issue_member(store, company, ana.id, NULL, FM_ROLE_OWNER, &owner_token, NULL,
                              &err) != FM_OK ||
        fm_token_issue_agent(store, company, a.id, 7, 3600000000LL, &agent_token, &err) != FM_OK)
        abort();
    fm_member_release(&ana);
    fm_agent_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        setup();
    if (size < 1)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *nl = strchr(text, '\n');
    const char *body = "";
    if (nl) {
        *nl = '\0';
        body = nl + 1;
    }
    fm_api_req rq = {.method = (fm_http_method)(data[0] % FM_HTTP_METHOD_N), .path = text,
                     .body = body, .body_len = strlen(body), .store = store};
    char bearer[128];
    int who = (data[0] >> 2) % 3;
    snprintf(bearer, sizeof bearer, "Bearer %s", who == 1 ? agent_token : owner_token);
    fm_api_res rs = {0};
    fm__api_dispatch(store, &rq, who == 2 ? NULL : bearer, &rs);
    if (rs.status < 200 || rs.status > 499 || !rs.body)
        abort();
    if (rs.status >= 400 && !json_object_get(json_object_get(rs.body, "error"), "message"))
        abort();
    json_decref(rs.body);
    free(text);
    return 0;
}
