/*
 * Verifying the audit chain, and signing checkpoints of its head.
 *
 * Verification walks a company's events in row order and checks, for each:
 * its seq is the previous seq + 1 (a deleted, inserted or moved row shows
 * here), its prev equals the previous event's hash, and its hash is the hash
 * of its own fields (an edited row shows here). A rewrite of the whole chain
 * from some row onwards passes those checks, which is why checkpoints exist:
 * each signs the hash at a seq with a key the database does not hold. The
 * newest checkpoint is also written to a witness file, so cutting the tail
 * off the chain together with its checkpoint rows is noticed too.
 *
 * Witness file: one line per company, "<company> <seq> <ts> <hash hex> <sig hex>".
 */
#include "firma/base.h"
#include "firma/governance.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void checkpoint_message(const fm_checkpoint *c, unsigned char msg[64])
{
    memset(msg, 0, 64);
    memcpy(msg, "firma-ckpt", 10);
    for (int i = 0; i < 8; i++) {
        msg[10 + i] = (unsigned char)((uint64_t)c->company_id >> (56 - 8 * i));
        msg[18 + i] = (unsigned char)((uint64_t)c->seq >> (56 - 8 * i));
    }
    /* ts is informative and not signed: a checkpoint's meaning is the hash at seq. */
    memcpy(msg + 26, c->hash, FM_HASH_BYTES);
}

static bool checkpoint_valid(const fm_keys *k, const fm_checkpoint *c)
{
    unsigned char msg[64];
    checkpoint_message(c, msg);
    return crypto_sign_verify_detached(c->sig, msg, 58, k->sign_pk) == 0;
}

/* ---- the witness file ------------------------------------------------------- */

static int witness_read(const char *path, fm_id company, fm_checkpoint *out, bool *found)
{
    *found = false;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return FM_OK;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        long long co, seq, ts;
        char hh[80], sh[160];
        if (sscanf(line, "%lld %lld %lld %79s %159s", &co, &seq, &ts, hh, sh) != 5 ||
            co != company)
            continue;
        out->company_id = co;
        out->seq = seq;
        out->ts = ts;
        size_t n1 = 0, n2 = 0;
        if (sodium_hex2bin(out->hash, FM_HASH_BYTES, hh, strlen(hh), NULL, &n1, NULL) != 0 ||
            sodium_hex2bin(out->sig, 64, sh, strlen(sh), NULL, &n2, NULL) != 0 ||
            n1 != FM_HASH_BYTES || n2 != 64)
            memset(out->sig, 0, 64); /* fails verification, reported as forged */
        *found = true;
    }
    fclose(f);
    return FM_OK;
}

/* Rewrites the witness with this company's line replaced; other companies'
 * lines are kept. Written to a temp file and renamed so a crash leaves either
 * the old or the new witness. */
static int witness_write(const char *path, const fm_checkpoint *c, fm_error *err)
{
    fm_buf out = FM_BUF_INIT;
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        long long co;
        if (sscanf(line, "%lld", &co) == 1 && co != c->company_id)
            fm_buf_adds(&out, line);
    }
    if (f)
        fclose(f);
    char hh[FM_HASH_BYTES * 2 + 1], sh[129];
    sodium_bin2hex(hh, sizeof hh, c->hash, FM_HASH_BYTES);
    sodium_bin2hex(sh, sizeof sh, c->sig, 64);
    fm_buf_addf(&out, "%lld %lld %lld %s %s\n", (long long)c->company_id, (long long)c->seq,
                (long long)c->ts, hh, sh);
    char *tmp = fm_xasprintf("%s.tmp", path);
    f = fopen(tmp, "w");
    int ok = f && fwrite(out.ptr, 1, out.len, f) == out.len;
    ok = f && fclose(f) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    int rc = ok ? FM_OK : fm_error_set(err, FM_EIO, "%s: cannot write audit witness: %s", path,
                                       strerror(errno));
    if (!ok)
        unlink(tmp);
    free(tmp);
    fm_buf_release(&out);
    return rc;
}

int fm_checkpoint_make(fm_store *s, const fm_keys *k, fm_id company, const char *witness_path,
                       fm_error *err)
{
    fm_checkpoint c = {.company_id = company, .ts = fm_now_us()};
    int rc = s->ops->audit_head(s, company, &c.seq, c.hash, err);
    if (rc != FM_OK || c.seq == 0)
        return rc;
    fm_checkpoint last;
    if (s->ops->checkpoint_last(s, company, &last, NULL) == FM_OK && last.seq == c.seq)
        return FM_OK; /* nothing new since the last one */
    unsigned char msg[64];
    checkpoint_message(&c, msg);
    crypto_sign_detached(c.sig, NULL, msg, 58, k->sign_sk);
    rc = s->ops->checkpoint_insert(s, &c, err);
    if (rc == FM_OK && witness_path)
        rc = witness_write(witness_path, &c, err);
    return rc;
}

/* ---- verification ---------------------------------------------------------- */

typedef struct verify_state {
    fm_audit_report *r;
    int64_t expect_seq;
    unsigned char prev[FM_HASH_BYTES];
    fm_checkpoint *cps;       /* sorted by seq */
    size_t n_cps, next_cp;
    bool sigs_ok;             /* checkpoints' signatures can be checked */
} verify_state;

static int broken(verify_state *v, const fm_audit_event *e, const char *why)
{
    v->r->bad_seq = e->seq;
    v->r->bad_id = e->id;
    snprintf(v->r->why, sizeof v->r->why, "event #%lld (row %lld, %s %s): %s",
             (long long)e->seq, (long long)e->id, e->action ? e->action : "?",
             e->object ? e->object : "?", why);
    return FM_ETAMPER;
}

static int check_event(const fm_audit_event *e, void *ctx)
{
    verify_state *v = ctx;
    if (e->seq != v->expect_seq) {
        char why[160];
        snprintf(why, sizeof why,
                 "sequence number %lld where %lld was expected: an event was deleted, inserted "
                 "or reordered before it", (long long)e->seq, (long long)v->expect_seq);
        return broken(v, e, why);
    }
    if (memcmp(e->prev, v->prev, FM_HASH_BYTES) != 0)
        return broken(v, e, "does not link to the event before it: an earlier event was "
                            "changed, deleted or inserted");
    unsigned char h[FM_HASH_BYTES];
    fm_audit_hash(e, h);
    if (memcmp(h, e->hash, FM_HASH_BYTES) != 0)
        return broken(v, e, "its contents do not match its hash: the event was edited");
    while (v->next_cp < v->n_cps && v->cps[v->next_cp].seq == e->seq) {
        if (memcmp(v->cps[v->next_cp].hash, e->hash, FM_HASH_BYTES) != 0)
            return broken(v, e, "differs from the signed checkpoint at this event: the chain "
                                "was rewritten from here or earlier");
        v->next_cp++;
        v->r->checkpoints++;
    }
    memcpy(v->prev, e->hash, FM_HASH_BYTES);
    v->expect_seq++;
    v->r->events++;
    return 0;
}

/* Loads the database's checkpoints plus the witness's and rejects any whose
 * signature does not verify. */
static int load_checkpoints(fm_store *s, const fm_keys *k, fm_id company, const char *witness,
                            verify_state *v, fm_error *err)
{
    int rc = s->ops->checkpoint_list(s, company, &v->cps, &v->n_cps, err);
    if (rc != FM_OK)
        return rc;
    fm_checkpoint w;
    bool found;
    witness_read(witness, company, &w, &found);
    if (found) {
        v->cps = fm_xreallocarray(v->cps, v->n_cps + 1, sizeof *v->cps);
        size_t i = v->n_cps++;
        while (i > 0 && v->cps[i - 1].seq > w.seq) {
            v->cps[i] = v->cps[i - 1];
            i--;
        }
        v->cps[i] = w;
    }
    for (size_t i = 0; k && i < v->n_cps; i++) {
        if (!checkpoint_valid(k, &v->cps[i])) {
            v->r->bad_seq = v->cps[i].seq;
            snprintf(v->r->why, sizeof v->r->why,
                     "the checkpoint at event #%lld has a bad signature: it was forged or "
                     "altered, or the key is not this database's", (long long)v->cps[i].seq);
            return FM_ETAMPER;
        }
    }
    return FM_OK;
}

int fm_audit_verify(fm_store *s, const fm_keys *k, fm_id company, const char *witness_path,
                    fm_audit_report *report, fm_error *err)
{
    memset(report, 0, sizeof *report);
    verify_state v = {.r = report, .expect_seq = 1, .sigs_ok = k != NULL};
    int rc = load_checkpoints(s, k, company, witness_path, &v, err);
    fm_audit_filter f = {.company_id = company};
    if (rc == FM_OK)
        rc = s->ops->audit_scan(s, &f, check_event, &v, err);
    if (rc == FM_OK && v.next_cp < v.n_cps) {
        report->bad_seq = v.expect_seq;
        snprintf(report->why, sizeof report->why,
                 "the chain ends at event #%lld but a signed checkpoint covers event #%lld: "
                 "events were deleted from the end", (long long)(v.expect_seq - 1),
                 (long long)v.cps[v.n_cps - 1].seq);
        rc = FM_ETAMPER;
    }
    free(v.cps);
    if (rc == FM_ETAMPER)
        fm_error_set(err, FM_ETAMPER, "audit chain broken at %s", report->why);
    return rc;
}
