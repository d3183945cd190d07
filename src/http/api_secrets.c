/*
 * Secrets: names in, values in, only names out, as `firma secret` does,
 * through fm_secret_set and fm_secret_rm (sealed with the master key,
 * audited by name only).
 *
 * A value appears in no answer, error, log or audit event: the body is
 * parsed without quoting it in errors (fm__api_body_secret), every message
 * here names the secret and never its value, and the parsed copy is wiped
 * once sealed (server.c wipes the request body itself). Setting needs the
 * server's master key (rq->keys): without one it is 503, no_master_key.
 */
#include "http/api.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void list_secrets(fm_api_req *rq, fm_api_res *rs)
{
    char **names = NULL;
    int64_t *at = NULL;
    size_t n = 0;
    fm_error err = {0};
    if (rq->store->ops->secret_list(rq->store, rq->who.company_id, &names, &at, &n, &err) !=
        FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I}", "name", names[i], "updated_us",
                                             (json_int_t)at[i]));
    fm__api_ok(rs, 200, json_pack("{s:o}", "secrets", arr));
    fm_strv_free(names, n);
    free(at);
}

/* Whether the company has a secret `name` (so setting it replaces it):
 * one read by name. What it reads is the sealed blob, never a value. */
static int secret_exists(fm_api_req *rq, const char *name, bool *out, fm_error *err)
{
    unsigned char *blob = NULL;
    size_t len = 0;
    int rc = rq->store->ops->secret_get(rq->store, rq->who.company_id, name, &blob, &len, err);
    free(blob);
    *out = rc == FM_OK;
    if (rc == FM_ENOTFOUND) {
        fm_error_clear(err);
        rc = FM_OK;
    }
    return rc;
}

static const fm_api_field put_fields[] = {{"value", FM_API_STRING, true}, {NULL}};

/* Seals the body's value under the path's name: 201 if new, 200 if it
 * replaced one; the answer names it and no more. */
static void put_secret(fm_api_req *rq, fm_api_res *rs)
{
    const char *name = rq->params[0];
    if (!rq->keys) {
        fm__api_error(rs, 503, "no_master_key", NULL, "this server has no master key, so it "
                      "cannot seal a secret: run firma serve with its key file (FIRMA_KEY_FILE, "
                      "or DATABASE.key) or FIRMA_MASTER_KEY set");
        return;
    }
    json_t *b = fm__api_body_secret(rq, rs, put_fields);
    if (!b)
        return;
    json_t *v = json_object_get(b, "value");
    size_t len = json_string_length(v);
    bool existed = false;
    fm_error err = {0};
    if (!len)
        fm__api_error(rs, 422, "invalid", "value", "value: must not be empty");
    else if (secret_exists(rq, name, &existed, &err) != FM_OK ||
             fm_secret_set(rq->store, rq->keys, rq->who.company_id, rq->who.actor, name,
                           (const unsigned char *)json_string_value(v), len, &err) != FM_OK)
        fm__api_fail(rs, &err);
    else
        fm__api_ok(rs, existed ? 200 : 201, json_pack("{s:s, s:b}", "name", name, "replaced",
                                                      existed));
    /* jansson owns the string; nothing reads it after this. */
    sodium_memzero((char *)json_string_value(v), len);
    json_decref(b);
}

static void remove_secret(fm_api_req *rq, fm_api_res *rs)
{
    fm_error err = {0};
    if (fm_secret_rm(rq->store, rq->who.company_id, rq->who.actor, rq->params[0], &err) != FM_OK)
        fm__api_fail(rs, &err);
    else
        fm__api_ok(rs, 200, json_pack("{s:s, s:b}", "name", rq->params[0], "removed", 1));
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/secrets", .handler = list_secrets,
     .least = FM_ROLE_ADMIN, .summary = "The company's secrets: names and when each was set"},
    {.method = FM_HTTP_PUT, .pattern = "/v1/secrets/{name}", .handler = put_secret,
     .least = FM_ROLE_ADMIN,
     .summary = "Set a secret ({\"value\": ...}, up to 64 KiB), sealed with the master key; "
                "the value is never shown"},
    {.method = FM_HTTP_DELETE, .pattern = "/v1/secrets/{name}", .handler = remove_secret,
     .least = FM_ROLE_ADMIN, .summary = "Remove a secret"},
};

const fm_api_resource fm__api_secrets = {"secrets", routes, sizeof routes / sizeof routes[0]};
