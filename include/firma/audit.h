/*
 * The audit chain: every state change appends an event whose hash covers the
 * previous event's hash,
 *
 *     h_n = BLAKE2b-256( h_{n-1} || company || seq || ts || actor || action
 *                        || object || details )      (each field length-prefixed)
 *
 * so editing, deleting, inserting or reordering any row breaks the chain at
 * that row. Signed checkpoints (governance/checkpoint.c) cover the tail.
 *
 * fm_audit_append must run inside the store transaction that makes the change
 * it records: the event and the change commit together or not at all.
 */
#ifndef FIRMA_AUDIT_H
#define FIRMA_AUDIT_H

#include "firma/store.h"

/* Computes e->hash from e->prev and the event's fields. */
void fm_audit_hash(const fm_audit_event *e, unsigned char out[FM_HASH_BYTES]);

/* Appends an event to `company`'s chain. `details` is a JSON object text
 * (NULL for "{}"); it is stored as given. */
int fm_audit_append(fm_store *s, fm_id company, const char *actor, const char *action,
                    const char *object, const char *details, fm_error *err);

/* The result of checking a chain. */
typedef struct fm_audit_report {
    int64_t events;          /* events checked */
    int64_t checkpoints;     /* signed checkpoints checked */
    int64_t bad_seq;         /* the first broken event's seq (0 = none) */
    fm_id bad_id;            /* its row id (0 = none) */
    char why[512];           /* what is wrong, for people */
} fm_audit_report;

#endif
