/*
 * Members' API tokens: list, make and revoke, as `firma token` does, through
 * fm_token_create and fm_token_revoke (audited; never the token's text). A
 * token's text is in the answer that makes it, once; no answer holds a
 * token's hash.
 *
 * Any member may list, make and revoke their own tokens; an admin (or the
 * owner) also anyone's in the company. A token never acts above the one
 * that made it:
 *  - its role cap is at most the caller's role (the token's own, capped),
 *    and is the caller's role when none is asked for, so a token an admin
 *    makes for an operator stays below admin if the operator is promoted;
 *  - it is not made for a member whose role is above the caller's (it would
 *    act, and be audited, as them).
 */
#include "http/api.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* An admin (or the owner) reaches every member's tokens; others their own. */
static bool reaches_all(const fm_api_req *rq)
{
    return rq->who.role <= FM_ROLE_ADMIN;
}

static const char *handle_of(const fm_member *m, size_t n, fm_id id)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].id == id)
            return m[i].handle;
    return "?";
}

static json_t *token_json(const fm_token *t, const char *member)
{
    return json_pack("{s:I, s:s, s:s?, s:s?, s:I, s:b, s:I}", "id", (json_int_t)t->id, "member",
                     member, "name", t->name[0] ? t->name : NULL, "role_cap",
                     t->role_cap != FM_ROLE_OWNER ? fm_role_name(t->role_cap) : NULL,
                     "created_us", (json_int_t)t->created_at, "revoked", t->revoked_at != 0,
                     "revoked_us", (json_int_t)t->revoked_at);
}

static void list_tokens(fm_api_req *rq, fm_api_res *rs)
{
    fm_store *s = rq->store;
    fm_token *t = NULL;
    fm_member *m = NULL;
    size_t n = 0, nm = 0;
    fm_error err = {0};
    if (s->ops->token_list(s, rq->who.company_id, &t, &n, &err) != FM_OK ||
        s->ops->member_list(s, rq->who.company_id, &m, &nm, &err) != FM_OK) {
        free(t);
        fm__api_fail(rs, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (reaches_all(rq) || t[i].member_id == rq->who.member_id)
            json_array_append_new(arr, token_json(&t[i], handle_of(m, nm, t[i].member_id)));
    fm__api_ok(rs, 200, json_pack("{s:o}", "tokens", arr));
    free(t);
    fm_member_list_free(m, nm);
}

static const fm_api_field create_fields[] = {
    {"member", FM_API_STRING, false}, {"name", FM_API_STRING_OR_NULL, false},
    {"role", FM_API_STRING, false},   {NULL},
};

/* The member the body names (the caller when it names none), if the caller
 * may make them a token: false with rs set if not. */
static bool token_member(fm_api_req *rq, fm_api_res *rs, const char *handle, fm_member *out)
{
    fm_error err = {0};
    int rc = handle ? rq->store->ops->member_find(rq->store, rq->who.company_id, handle, out, &err)
                    : rq->store->ops->member_get(rq->store, rq->who.member_id, out, &err);
    if (rc == FM_ENOTFOUND) {
        fm__api_error(rs, 404, "not_found", "member", "no member '%s' in this company",
                      handle ? handle : "(the caller)");
        return false;
    }
    if (rc != FM_OK) {
        fm__api_fail(rs, &err);
        return false;
    }
    const char *why = NULL;
    if (out->id != rq->who.member_id && !reaches_all(rq))
        why = "only an admin or the owner makes tokens for another member";
    else if (out->id != rq->who.member_id && out->role < rq->who.role)
        why = "a token for a member whose role is above the caller's would act as them";
    if (why) {
        fm__api_error(rs, 403, "forbidden", "member", "%s (this token acts as %s)", why,
                      fm_role_name(rq->who.role));
        fm_member_release(out);
        return false;
    }
    return true;
}

static void create_token(fm_api_req *rq, fm_api_res *rs)
{
    json_t *b = fm__api_body(rq, rs, create_fields);
    if (!b)
        return;
    const char *role = json_string_value(json_object_get(b, "role"));
    const char *name = json_string_value(json_object_get(b, "name"));
    int cap = rq->who.role;
    fm_member m;
    fm_error err = {0};
    char *secret = NULL;
    fm_id id = 0;
    if (role && fm_role_parse(role, &cap) != FM_OK)
        fm__api_error(rs, 422, "invalid", "role", "role %s: want one of %s", role,
                      fm_role_words());
    else if (cap < (int)rq->who.role)
        fm__api_error(rs, 403, "forbidden", "role", "this token acts as %s: it cannot make one "
                      "that acts as %s", fm_role_name(rq->who.role), fm_role_name(cap));
    else if (token_member(rq, rs, json_string_value(json_object_get(b, "member")), &m)) {
        if (fm_token_create(rq->store, rq->who.actor, rq->who.company_id, &m, name, (fm_role)cap,
                            &secret, &id, &err) == FM_OK)
            fm__api_ok(rs, 201, json_pack("{s:I, s:s, s:s, s:s?, s:s}", "id", (json_int_t)id,
                                          "token", secret, "member", m.handle, "name", name,
                                          "role", fm_role_name(fm_token_role(
                                              m.role, &(fm_token){.role_cap = cap}))));
        else
            fm__api_fail(rs, &err);
        fm_member_release(&m);
    }
    if (secret) {
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    json_decref(b);
}

static void revoke_token(fm_api_req *rq, fm_api_res *rs)
{
    fm_id id;
    fm_token *t = NULL;
    size_t n = 0;
    fm_error err = {0};
    if (!fm__api_id(rs, rq->params[0], "token", &id))
        return;
    if (rq->store->ops->token_list(rq->store, rq->who.company_id, &t, &n, &err) != FM_OK) {
        fm__api_fail(rs, &err);
        return;
    }
    const fm_token *found = NULL;
    for (size_t i = 0; i < n && !found; i++)
        if (t[i].id == id)
            found = &t[i];
    if (!found)
        fm__api_error(rs, 404, "not_found", NULL, "no token %lld in this company",
                      (long long)id);
    else if (found->member_id != rq->who.member_id && !reaches_all(rq))
        fm__api_error(rs, 403, "forbidden", NULL, "token %lld is another member's: only an "
                      "admin or the owner revokes it", (long long)id);
    else if (found->revoked_at)
        fm__api_error(rs, 409, "conflict", NULL, "token %lld is already revoked",
                      (long long)id);
    else if (fm_token_revoke(rq->store, rq->who.actor, rq->who.company_id, id, &err) != FM_OK)
        fm__api_fail(rs, &err);
    else
        fm__api_ok(rs, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
    free(t);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/v1/tokens", .handler = list_tokens,
     .least = FM_ROLE_VIEWER, .own = true,
     .summary = "Members' API tokens (never their text or hash): an admin's all, others' their "
                "own"},
    {.method = FM_HTTP_POST, .pattern = "/v1/tokens", .handler = create_token,
     .least = FM_ROLE_VIEWER, .own = true,
     .summary = "Make a token ({\"member\", \"name\", \"role\"}), never above the caller's role; "
                "201 with its text, shown this once"},
    {.method = FM_HTTP_DELETE, .pattern = "/v1/tokens/{id}", .handler = revoke_token,
     .least = FM_ROLE_VIEWER, .own = true,
     .summary = "Revoke a token: one's own, or as an admin anyone's"},
};

const fm_api_resource fm__api_tokens = {"tokens", routes, sizeof routes / sizeof routes[0]};
