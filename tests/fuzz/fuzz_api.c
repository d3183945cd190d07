/*
 * libFuzzer target: the API's router and handlers, past authentication. A
 * company with an agent and an owner's token lives in an in-memory
 * database; each input is a request made with that token (or, if the first
 * byte says so, with the agent's token or none): the first byte picks the
 * method and token, the text up to the first newline is the path, the rest
 * the body. Every answer must be a status from 200 to 499 and an error in
 * the one shape; a 500 is a bug found. The server has a master key (so
 * PUT /v1/secrets/{name} seals rather than answering 503), and an owner's
 * token the input revoked (DELETE /v1/tokens/{id}) is replaced, so one
 * input cannot lock the rest out.
 */
#include "http/api.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fm_store *store;
static char *owner_token, *agent_token;
static fm_id company, owner;
static fm_keys keys;

/* A fresh owner's token if the last one was revoked. */
static void owner_token_check(void)
{
    fm_token t;
    fm_error err = {0};
    if (fm_token_check(store, owner_token, &t, &err) == FM_OK)
        return;
    free(owner_token);
    owner_token = NULL;
    if (fm_token_issue_member(store, company, owner, NULL, FM_ROLE_OWNER, &owner_token, NULL,
                              &err) != FM_OK)
        abort();
}

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
    owner = ana.id;
    fm_member_release(&ana);
    fm_agent_release(&a);
    if (sodium_init() < 0)
        abort();
    randombytes_buf(keys.seal, sizeof keys.seal);
    crypto_sign_keypair(keys.sign_pk, keys.sign_sk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        setup();
    owner_token_check();
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
                     .body = body, .body_len = strlen(body), .store = store,
                     .keys = &keys};
    char bearer[128];
    int who = (data[0] >> 2) % 3;
    snprintf(bearer, sizeof bearer, "Bearer %s", who == 1 ? agent_token : owner_token);
    fm_api_res rs = {0};
    fm__api_dispatch(store, &rq, who == 2 ? NULL : bearer, &rs);
    /* An event stream (/v1/events) and /metrics answer with no JSON body;
     * /metrics is 503 here, where no runtime runs. */
    const char *code = json_string_value(json_object_get(json_object_get(rs.body, "error"),
                                                         "code"));
    bool no_runtime = rs.status == 503 && code && strcmp(code, "unavailable") == 0;
    if (rs.status < 200 || (rs.status > 499 && !no_runtime) ||
        !(rs.body || rs.text || rs.stream.on))
        abort();
    if (rs.status >= 400 && !json_object_get(json_object_get(rs.body, "error"), "message"))
        abort();
    json_decref(rs.body);
    free(rs.text);
    free(text);
    return 0;
}
