/* Approvals, for the tools that create them (src/tools/run_builtin.c). */
#ifndef FIRMA_APPROVALS_INT_H
#define FIRMA_APPROVALS_INT_H

#include "firma/tools.h"

/* Who decides for `agent`: "agent:HANDLE" when its manager is an agent (whose
 * id goes to *manager_agent), else "member:HANDLE" (*manager_agent 0). Heap
 * string in *approver; the caller frees it. */
int fm__approval_route(fm_store *s, fm_id company, fm_id agent, char **approver,
                       fm_id *manager_agent, fm_error *err);

/* Inside the caller's transaction: inserts a pending approval of `kind`
 * ("tool", "question", "action") for ctx's agent, routed to its manager, and
 * audits approval.request. `tool`, `args_json` and `reason` may be NULL. */
int fm__approval_request(fm_store *s, const fm_tool_ctx *ctx, const char *kind, const char *tool,
                         const char *args_json, const char *reason, fm_id *id, fm_error *err);

#endif
