/*
 * Appending to the audit chain (see audit.h for the hash). Verification and
 * signed checkpoints live in governance/, which needs keys; appending needs
 * none, so every layer that changes state can record it.
 */
#include "firma/audit.h"
#include "firma/base.h"

#include <sodium.h>
#include <string.h>

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (56 - 8 * i));
    crypto_generichash_update(h, b, sizeof b);
}

static void put_str(crypto_generichash_state *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u64(h, n);
    if (n)
        crypto_generichash_update(h, (const unsigned char *)s, n);
}

void fm_audit_hash(const fm_audit_event *e, unsigned char out[FM_HASH_BYTES])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, FM_HASH_BYTES);
    crypto_generichash_update(&h, e->prev, FM_HASH_BYTES);
    put_u64(&h, (uint64_t)e->company_id);
    put_u64(&h, (uint64_t)e->seq);
    put_u64(&h, (uint64_t)e->ts);
    put_str(&h, e->actor);
    put_str(&h, e->action);
    put_str(&h, e->object);
    put_str(&h, e->details ? e->details : "{}");
    crypto_generichash_final(&h, out, FM_HASH_BYTES);
}

int fm_audit_append(fm_store *s, fm_id company, const char *actor, const char *action,
                    const char *object, const char *details, fm_error *err)
{
    fm_audit_event e;
    memset(&e, 0, sizeof e);
    int rc = s->ops->audit_head(s, company, &e.seq, e.prev, err);
    if (rc != FM_OK)
        return rc;
    e.company_id = company;
    e.seq++;
    e.ts = fm_now_us();
    e.actor = (char *)actor;
    e.action = (char *)action;
    e.object = (char *)object;
    e.details = (char *)(details ? details : "{}");
    fm_audit_hash(&e, e.hash);
    return s->ops->audit_insert(s, &e, err);
}
