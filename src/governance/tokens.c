/*
 * Bearer tokens. A token is 32 random bytes, shown once as "fma_" + base64url
 * and stored only as its BLAKE2b-256 hash, so the database never holds one a
 * reader could use. Agent tokens are scoped to one agent and one run and
 * expire on their own; the runtime also revokes them when the run's program
 * ends. A member token acts with its member's role as it is when used (so
 * changing a member's role changes what their tokens may do), capped by the
 * token's own role if it has one.
 */
#include "firma/base.h"
#include "firma/governance.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_PREFIX "fma_"
#define TOKEN_BYTES 32

static void hash_of(const char *secret, unsigned char out[FM_HASH_BYTES])
{
    crypto_generichash(out, FM_HASH_BYTES, (const unsigned char *)secret, strlen(secret), NULL,
                       0);
}

/* Stores `t` under a fresh secret; *secret (heap) is its only copy. */
static int issue(fm_store *s, fm_token *t, char **secret, fm_error *err)
{
    unsigned char raw[TOKEN_BYTES];
    char b64[sodium_base64_ENCODED_LEN(TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    char *text = fm_xasprintf(TOKEN_PREFIX "%s", b64);
    sodium_memzero(b64, sizeof b64);
    hash_of(text, t->hash);
    int rc = s->ops->token_insert(s, t, err);
    if (rc != FM_OK) {
        sodium_memzero(text, strlen(text));
        free(text);
        return rc;
    }
    *secret = text;
    return FM_OK;
}

int fm_token_issue_agent(fm_store *s, fm_id company, fm_id agent, fm_id run, int64_t ttl_us,
                         char **secret, fm_error *err)
{
    int64_t now = fm_now_us();
    fm_token t = {.company_id = company, .kind = FM_TOKEN_AGENT, .agent_id = agent,
                  .run_id = run, .created_at = now, .expires_at = now + ttl_us};
    return issue(s, &t, secret, err);
}

int fm_token_issue_member(fm_store *s, fm_id company, fm_id member, const char *name,
                          fm_role role_cap, char **secret, fm_id *id, fm_error *err)
{
    fm_token t = {.company_id = company, .kind = FM_TOKEN_MEMBER, .member_id = member,
                  .created_at = fm_now_us(), .role_cap = role_cap};
    if (name && strlen(name) >= sizeof t.name)
        return fm_error_set(err, FM_EINVAL, "a token's name is at most %zu bytes",
                            sizeof t.name - 1);
    if (name)
        memcpy(t.name, name, strlen(name) + 1);
    int rc = issue(s, &t, secret, err);
    if (rc == FM_OK && id)
        *id = t.id;
    return rc;
}

int fm_token_create(fm_store *s, const char *actor, fm_id company, const fm_member *m,
                    const char *name, fm_role role_cap, char **secret, fm_id *id, fm_error *err)
{
    char *text = NULL;
    fm_id tid = 0;
    int rc = s->ops->begin(s, err);
    if (rc != FM_OK)
        return rc;
    rc = fm_token_issue_member(s, company, m->id, name, role_cap, &text, &tid, err);
    if (rc == FM_OK) {
        fm_role acts = fm_token_role(m->role, &(fm_token){.role_cap = role_cap});
        json_t *d = json_pack("{s:I, s:s?, s:s}", "token", (json_int_t)tid, "name", name, "role",
                              fm_role_name(acts));
        char *details = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char *object = fm_xasprintf("member:%s", m->handle);
        json_decref(d);
        rc = fm_audit_append(s, company, actor, "token.create", object, details, err);
        free(object);
        free(details);
    }
    rc = fm_store_end(s, rc, err);
    if (rc != FM_OK) {
        if (text) {
            sodium_memzero(text, strlen(text));
            free(text);
        }
        return rc;
    }
    *secret = text;
    if (id)
        *id = tid;
    return FM_OK;
}

int fm_token_revoke(fm_store *s, const char *actor, fm_id company, fm_id id, fm_error *err)
{
    int rc = s->ops->begin(s, err);
    if (rc != FM_OK)
        return rc;
    rc = s->ops->token_revoke(s, company, id, fm_now_us(), err);
    if (rc == FM_OK) {
        char *object = fm_xasprintf("token:%lld", (long long)id);
        rc = fm_audit_append(s, company, actor, "token.revoke", object, NULL, err);
        free(object);
    }
    return fm_store_end(s, rc, err);
}

fm_role fm_token_role(fm_role member_role, const fm_token *t)
{
    /* Roles are ordered owner (0) .. viewer: the larger may do less. */
    return t->role_cap > member_role ? t->role_cap : member_role;
}

int fm_token_check(fm_store *s, const char *secret, fm_token *out, fm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!secret || strncmp(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
        return fm_error_set(err, FM_EPERM, "not a firma token");
    unsigned char h[FM_HASH_BYTES];
    hash_of(secret, h);
    int rc = s->ops->token_find(s, h, out, err);
    if (rc == FM_ENOTFOUND)
        return fm_error_set(err, FM_EPERM, "unknown token");
    if (rc != FM_OK)
        return rc;
    int64_t now = fm_now_us();
    if (out->revoked_at)
        return fm_error_set(err, FM_EPERM, "the token was revoked");
    if (out->expires_at && now >= out->expires_at)
        return fm_error_set(err, FM_EPERM, "the token has expired");
    return FM_OK;
}

int fm_token_revoke_run(fm_store *s, fm_id run, fm_error *err)
{
    return s->ops->token_revoke_run(s, run, fm_now_us(), err);
}
