/*
 * Governance: the keys, the audit chain's verification and signed
 * checkpoints, and secrets encrypted at rest.
 *
 * One 32-byte master key per installation comes from FIRMA_MASTER_KEY (64 hex
 * digits) or from a key file (FIRMA_KEY_FILE, else "<database>.key"), created
 * with mode 0600 on first use. Sub-keys are derived from it with
 * crypto_kdf: one for sealing secrets, one Ed25519 seed for checkpoints. The
 * database never holds the key, so a copy of the database alone reveals no
 * secret and cannot forge a checkpoint.
 */
#ifndef FIRMA_GOVERNANCE_H
#define FIRMA_GOVERNANCE_H

#include "firma/audit.h"
#include "firma/store.h"

typedef struct fm_keys {
    unsigned char seal[32];      /* AEAD key for secrets */
    unsigned char sign_pk[32];   /* Ed25519 checkpoint key */
    unsigned char sign_sk[64];
    char source[512];            /* "FIRMA_MASTER_KEY" or the key file's path */
} fm_keys;

/* Loads the master key. `key_file` may be NULL (then FIRMA_KEY_FILE, then
 * "<db_path>.key"). With `create`, a missing key file is made (0600). A key
 * file readable by group or others is refused. */
int fm_keys_load(const char *key_file, const char *db_path, bool create, fm_keys *out,
                 fm_error *err);
/* Wipes the key material. */
void fm_keys_release(fm_keys *k);

/* ---- secrets --------------------------------------------------------------
 * Names: [A-Z_][A-Z0-9_]{0,63}. Values: up to 64 KiB, never printed or logged.
 * Each value is sealed with XChaCha20-Poly1305, bound to its company and name
 * (moving a sealed value to another name or company makes it unreadable). */
bool fm_secret_name_ok(const char *name);
int fm_secret_set(fm_store *s, const fm_keys *k, fm_id company, const char *actor,
                  const char *name, const unsigned char *value, size_t len, fm_error *err);
/* The caller frees *value with fm_secret_wipe. */
int fm_secret_get(fm_store *s, const fm_keys *k, fm_id company, const char *name,
                  unsigned char **value, size_t *len, fm_error *err);
void fm_secret_wipe(unsigned char *value, size_t len);
int fm_secret_rm(fm_store *s, fm_id company, const char *actor, const char *name, fm_error *err);

/* ---- audit verification and checkpoints ------------------------------------
 * A checkpoint signs (company, seq, ts, hash of event seq). It is stored in the
 * database and, as the newest one per company, in a witness file outside it
 * (the CLI uses "<database>.audit-head"), so deleting the tail of the chain
 * together with its checkpoint rows is still detected. Keep a copy of the
 * witness elsewhere (or let the runtime send it off-machine) to guard
 * against someone who can rewrite both files. */
int fm_checkpoint_make(fm_store *s, const fm_keys *k, fm_id company, const char *witness_path,
                       fm_error *err);
/* Checks `company`'s chain from its first event. `k` may be NULL (then
 * signatures are not checked, and the report says so). `witness_path` may be
 * NULL or missing. Returns FM_OK, FM_ETAMPER (with the report saying the first
 * broken event), or a store error. */
int fm_audit_verify(fm_store *s, const fm_keys *k, fm_id company, const char *witness_path,
                    fm_audit_report *report, fm_error *err);

/* ---- tokens ------------------------------------------------------------------
 * "fma_" + 32 random bytes in base64url, shown once and stored as a hash. */

/* A token for agent `agent`'s run `run`, valid for ttl_us: *secret (heap) is
 * the only copy of its text. */
int fm_token_issue_agent(fm_store *s, fm_id company, fm_id agent, fm_id run, int64_t ttl_us,
                         char **secret, fm_error *err);
/* A token for member `member` of `company` (for the HTTP API), labelled
 * `name` (may be NULL, at most 64 bytes) and acting at most as `role_cap`
 * (FM_ROLE_OWNER: as the member's role). *secret (heap) is the only copy of
 * its text; *id (may be NULL) gets its id. Never expires; revoke it. */
int fm_token_issue_member(fm_store *s, fm_id company, fm_id member, const char *name,
                          fm_role role_cap, char **secret, fm_id *id, fm_error *err);
/* fm_token_issue_member and its audit event (token.create on "member:HANDLE",
 * details: the token's id, name and the role it acts with now; never its
 * text) in one transaction: what `firma token create` and POST /v1/tokens
 * do. Who may make a token for whom is the caller's to decide. */
int fm_token_create(fm_store *s, const char *actor, fm_id company, const fm_member *m,
                    const char *name, fm_role role_cap, char **secret, fm_id *id, fm_error *err);
/* Revokes member token `id` of `company` and audits it (token.revoke on
 * "token:ID"), in one transaction. FM_ENOTFOUND if the company has no such
 * member token; revoking a revoked one keeps its first time. */
int fm_token_revoke(fm_store *s, const char *actor, fm_id company, fm_id id, fm_error *err);
/* The role a member token acts with: the member's, or its cap if lower. */
fm_role fm_token_role(fm_role member_role, const fm_token *t);
/* The token `secret` names, if it is valid now: FM_EPERM for an unknown,
 * expired or revoked one. */
int fm_token_check(fm_store *s, const char *secret, fm_token *out, fm_error *err);
/* Revokes the tokens of a run (its program has ended). */
int fm_token_revoke_run(fm_store *s, fm_id run, fm_error *err);

/* ---- budgets ----------------------------------------------------------------
 * Budgets stop spending before it happens. Before a model call the runtime
 * reserves its worst case (prompt tokens + max output tokens at the model's
 * price) against the agent's and the company's remaining budget, in one
 * IMMEDIATE transaction, so concurrent reservations cannot overspend; after
 * the call it settles to the real usage. Reservations count as spent until
 * settled, and settling releases them. */

/* The start (microseconds, UTC) of the budget period containing `now`:
 * midnight for day, Monday midnight for week, the 1st for month, 0 for total. */
int64_t fm_period_start(fm_period p, int64_t now_us);

/* Prices in micro-dollars per million tokens. */
typedef struct fm_price {
    const char *model;         /* "openai:gpt-4o-mini", "sim", or a prefix ending in '*' */
    int64_t input, cached, output;
} fm_price;
/* Finds the price for `model` (exact, then the longest '*' prefix). Unknown
 * models are FM_ENOTFOUND: an unpriced model cannot be budgeted, so it is
 * not called. */
int fm_price_lookup(const char *model, fm_price *out, fm_error *err);
/* Loads the owner's prices from a JSON file, looked at before the built-in
 * list (exact names, then the longest '*' prefix, within each):
 *   {"openai:gpt-5*": {"input": 1.25, "cached": 0.125, "output": 10}}
 * in dollars per million tokens ("cached" defaults to "input"). Replaces any
 * prices loaded before; on error (which says file, line or model) nothing
 * changes. Process-wide: `firma serve --prices FILE` or FIRMA_PRICES. */
int fm_prices_load(const char *path, fm_error *err);
void fm_prices_reset(void);
/* Cost of a call, rounded up to the micro-dollar. `cached` is part of `input`. */
int64_t fm_price_cost(const fm_price *p, int64_t input, int64_t cached, int64_t output);

typedef struct fm_reservation {
    fm_id company_id, agent_id, run_id;
    int64_t usd_micro;
    int64_t tokens;
} fm_reservation;

/* Reserves `usd_micro` and `tokens` for agent `agent`, or refuses with
 * FM_EBUDGET saying whose budget would be exceeded, by how much, and what has
 * been spent this period. A refusal is audited (budget.refused). */
int fm_budget_reserve(fm_store *s, fm_id company, fm_id agent, fm_id run, int64_t usd_micro,
                      int64_t tokens, fm_reservation *out, fm_error *err);
/* Settles what run `run` left reserved when a crash cut it off: its model
 * call may have been billed, and nothing says how much, so the reservation
 * (the worst case) is charged (kind "charge", model "unknown: interrupted")
 * and released, and budget.orphan is audited. *usd gets the amount (0: none
 * was open). */
int fm_budget_settle_orphan(fm_store *s, fm_id company, fm_id agent, fm_id run, int64_t *usd,
                            fm_error *err);
/* Replaces the reservation with the real cost. */
int fm_budget_settle(fm_store *s, const fm_reservation *r, const char *model, int64_t usd_micro,
                     int64_t input, int64_t cached, int64_t output, fm_error *err);

#endif
