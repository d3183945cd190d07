/*
 * Secrets sealed at rest. The stored blob is nonce || ciphertext+tag; the
 * associated data binds it to "company-id/name", so a blob copied onto another
 * name or company fails to open instead of leaking under the wrong name.
 */
#include "firma/base.h"
#include "firma/governance.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRET (64 * 1024)
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

bool fm_secret_name_ok(const char *name)
{
    if (!name || !((*name >= 'A' && *name <= 'Z') || *name == '_'))
        return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return n <= 64;
}

static void bind_ad(fm_buf *ad, fm_id company, const char *name)
{
    fm_buf_addf(ad, "%lld/%s", (long long)company, name);
}

int fm_secret_set(fm_store *s, const fm_keys *k, fm_id company, const char *actor,
                  const char *name, const unsigned char *value, size_t len, fm_error *err)
{
    if (!fm_secret_name_ok(name))
        return fm_error_set(err, FM_EINVAL,
                            "secret name '%s' is not valid: use A-Z, 0-9 and _ (at most 64, "
                            "not starting with a digit)", name);
    if (len > MAX_SECRET)
        return fm_error_set(err, FM_ETOOBIG, "secret '%s' is %zu bytes; the limit is %d", name,
                            len, MAX_SECRET);
    size_t blob_len = NONCE + len + TAG;
    unsigned char *blob = fm_xmalloc(blob_len);
    randombytes_buf(blob, NONCE);
    fm_buf ad = FM_BUF_INIT;
    bind_ad(&ad, company, name);
    unsigned long long clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(blob + NONCE, &clen, value, len,
                                               (unsigned char *)ad.ptr, ad.len, NULL, blob, k->seal);
    fm_buf_release(&ad);
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->secret_put(s, company, name, blob, blob_len, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("secret:%s", name);
        rc = fm_audit_append(s, company, actor, "secret.set", obj, NULL, err);
        free(obj);
    }
    free(blob);
    return fm_store_end(s, rc, err);
}

int fm_secret_get(fm_store *s, const fm_keys *k, fm_id company, const char *name,
                  unsigned char **value, size_t *len, fm_error *err)
{
    unsigned char *blob;
    size_t blob_len;
    int rc = s->ops->secret_get(s, company, name, &blob, &blob_len, err);
    if (rc != FM_OK)
        return rc;
    if (blob_len < NONCE + TAG) {
        free(blob);
        return fm_error_set(err, FM_ECRYPTO, "secret '%s' is damaged", name);
    }
    unsigned char *out = sodium_malloc(blob_len - NONCE - TAG + 1);
    fm_buf ad = FM_BUF_INIT;
    bind_ad(&ad, company, name);
    unsigned long long mlen;
    int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, blob + NONCE,
                                                         blob_len - NONCE, (unsigned char *)ad.ptr,
                                                         ad.len, blob, k->seal);
    fm_buf_release(&ad);
    free(blob);
    if (bad) {
        sodium_free(out);
        return fm_error_set(err, FM_ECRYPTO,
                            "secret '%s' cannot be opened: wrong master key or altered data",
                            name);
    }
    out[mlen] = '\0';
    *value = out;
    *len = (size_t)mlen;
    return FM_OK;
}

void fm_secret_wipe(unsigned char *value, size_t len)
{
    (void)len;
    if (value)
        sodium_free(value); /* sodium_free zeroes the region first */
}

int fm_secret_rm(fm_store *s, fm_id company, const char *actor, const char *name, fm_error *err)
{
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = s->ops->secret_delete(s, company, name, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("secret:%s", name);
        rc = fm_audit_append(s, company, actor, "secret.rm", obj, NULL, err);
        free(obj);
    }
    return fm_store_end(s, rc, err);
}
