/* Internals shared by the operation files (ops_*.c, import.c). */
#ifndef FIRMA_OPS_INT_H
#define FIRMA_OPS_INT_H

#include "firma/audit.h"
#include "firma/ops.h"

/* An audit details object from a jansson pack format ("{s:s, s:I}"); the
 * caller frees it. Keys come out sorted, compact. */
char *fm__details(const char *fmt, ...);
/* fm_audit_append with a details pack format; "" object prefix-free. */
int fm__audit(fm_store *s, fm_id company, const char *actor, const char *action,
              const char *object, char *details_owned, fm_error *err);
/* A company-scoped agent check: `id` is an agent of `company` (and not fired
 * if `working`). */
int fm__agent_of(fm_store *s, fm_id company, fm_id id, bool working, fm_agent *out,
                 fm_error *err);

/* Records a wake for `agent` in the current transaction (no-op for agent 0). */
int fm__wake(fm_store *s, fm_id company, fm_id agent, fm_wake_kind kind, fm_id ref,
             fm_error *err);

#endif
