/*
 * Approvals: a held tool call, a question or a requested action, routed up
 * the org chart, and its decision.
 *
 *   pending --fm_approval_decide(approve)--> approved
 *           --fm_approval_decide(deny)-----> denied
 *   (expired is set by the runtime's timers, not here)
 *
 * Route: an approval goes to the requesting agent's manager (its
 * `approver`). It may be decided by the approver, by any agent above the
 * approver in the chain, or by a member whose role is owner or admin. The
 * local operator at a terminal may decide too: whoever holds the database
 * file can change it anyway. The caller says when that is the case
 * (`local_operator`); no actor string is taken as proof of it, so an API
 * cannot be talked into it by a name (docs/policy.md).
 *
 * Invariants: a decision, its wake for the waiting agent and its audit event
 * commit together; a decided approval is never decided again.
 */
#include "core/ops_int.h"
#include "firma/base.h"
#include "governance/approvals_int.h"

#include "firma/policy.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN_MAX 256 /* the org chart has no cycles; this only bounds a corrupt one */

int fm__approval_route(fm_store *s, fm_id company, fm_id agent, char **approver,
                       fm_id *manager_agent, fm_error *err)
{
    fm_agent a, m;
    fm_member mm;
    *approver = NULL;
    int rc = fm__agent_of(s, company, agent, false, &a, err);
    if (rc != FM_OK)
        return rc;
    if (a.manager_agent && (rc = s->ops->agent_get(s, a.manager_agent, &m, err)) == FM_OK) {
        *approver = fm_xasprintf("agent:%s", m.handle);
        fm_agent_release(&m);
    } else if (!a.manager_agent && a.manager_member &&
               (rc = s->ops->member_get(s, a.manager_member, &mm, err)) == FM_OK) {
        *approver = fm_xasprintf("member:%s", mm.handle);
        fm_member_release(&mm);
    } else if (rc == FM_OK) {
        rc = fm_error_set(err, FM_EORG, "agent '%s' has no manager to ask", a.handle);
    }
    if (manager_agent)
        *manager_agent = a.manager_agent;
    fm_agent_release(&a);
    return rc;
}

/* Whether `a` holds a grant of decide_approval that is not a deny. */
static bool decides(const fm_agent *a)
{
    for (size_t i = 0; i < a->n_grants; i++)
        if (strcmp(a->grants[i].tool, "decide_approval") == 0 &&
            a->grants[i].ceiling != FM_CEIL_DENY)
            return true;
    return false;
}

/* An approval now waits on `approver`: an agent granted decide_approval is
 * woken to decide it; anyone else (a member, an agent without the grant)
 * finds it in their inbox. In the caller's transaction. */
static int notify_approver(fm_store *s, fm_id company, const char *approver, fm_id approval,
                           fm_error *err)
{
    fm_agent a;
    if (!approver || strncmp(approver, "agent:", 6) != 0 ||
        s->ops->agent_find(s, company, approver + 6, &a, NULL) != FM_OK)
        return FM_OK;
    int rc = FM_OK;
    if (decides(&a) && a.status == FM_AGENT_ACTIVE)
        rc = fm__wake(s, company, a.id, FM_WAKE_APPROVAL, approval, err);
    fm_agent_release(&a);
    return rc;
}

int fm__approval_request(fm_store *s, const fm_tool_ctx *ctx, const char *kind, const char *tool,
                         const char *args_json, const char *reason, fm_id *id, fm_error *err)
{
    fm_approval a;
    memset(&a, 0, sizeof a);
    int rc = fm__approval_route(s, ctx->company, ctx->agent, &a.approver, NULL, err);
    if (rc != FM_OK)
        return rc;
    a.company_id = ctx->company;
    a.agent_id = ctx->agent;
    a.run_id = ctx->run;
    a.step_id = ctx->step;
    a.kind = fm_xstrdup(kind);
    a.tool = fm_xstrdup(tool);
    a.args = fm_xstrdup(args_json);
    a.reason = fm_xstrdup(reason);
    a.status = FM_APPROVAL_PENDING;
    rc = s->ops->approval_insert(s, &a, err);
    if (rc == FM_OK) {
        char *actor = fm_xasprintf("agent:%s", ctx->handle);
        char *obj = fm_xasprintf("approval:%lld", (long long)a.id);
        rc = fm__audit(s, ctx->company, actor, "approval.request", obj,
                       fm__details("{s:s, s:s?, s:s?, s:s, s:I}", "kind", kind, "tool", tool,
                                   "reason", reason, "approver", a.approver, "run",
                                   (json_int_t)ctx->run),
                       err);
        free(obj);
        free(actor);
    }
    if (rc == FM_OK)
        rc = notify_approver(s, ctx->company, a.approver, a.id, err);
    *id = a.id;
    fm_approval_release(&a);
    return rc;
}

int fm_approval_hold(fm_store *s, const fm_tool_ctx *ctx, const char *tool, const char *args_json,
                     const char *reason, fm_id *id, fm_error *err)
{
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = fm__approval_request(s, ctx, "tool", tool, args_json, reason, id, err);
    return fm_store_end(s, rc, err);
}

/* ---- deciding --------------------------------------------------------------------- */

/* Whether agent `handle` stands above the agent named by `approver_handle`. */
static bool agent_above(fm_store *s, fm_id company, const char *approver_handle,
                        const char *handle)
{
    fm_agent a;
    if (s->ops->agent_find(s, company, approver_handle, &a, NULL) != FM_OK)
        return false;
    bool found = false;
    for (int i = 0; i < CHAIN_MAX && !found && a.manager_agent; i++) {
        fm_id up = a.manager_agent;
        fm_agent_release(&a);
        if (s->ops->agent_get(s, up, &a, NULL) != FM_OK)
            return false;
        found = strcmp(a.handle, handle) == 0 && a.status != FM_AGENT_FIRED;
    }
    fm_agent_release(&a);
    return found;
}

static bool member_may_decide(fm_store *s, fm_id company, const char *handle)
{
    fm_member m;
    if (s->ops->member_find(s, company, handle, &m, NULL) != FM_OK)
        return false;
    bool ok = m.role == FM_ROLE_OWNER || m.role == FM_ROLE_ADMIN;
    fm_member_release(&m);
    return ok;
}

static int check_route(fm_store *s, const fm_approval *a, const char *actor,
                       bool local_operator, fm_error *err)
{
    const char *approver = a->approver ? a->approver : "";
    bool ok = false;
    if (local_operator || strcmp(actor, approver) == 0)
        ok = true;
    else if (strncmp(actor, "member:", 7) == 0)
        ok = member_may_decide(s, a->company_id, actor + 7);
    else if (strncmp(actor, "agent:", 6) == 0 && strncmp(approver, "agent:", 6) == 0)
        ok = agent_above(s, a->company_id, approver + 6, actor + 6);
    if (ok)
        return FM_OK;
    return fm_error_set(err, FM_EPERM,
                        "%s may not decide approval #%lld: it is for %s, anyone above %s in the "
                        "org chart, or an owner or admin member",
                        actor, (long long)a->id, approver, approver);
}

/* Approval `id` of `company`, still pending, in *out; else FM_ENOTFOUND,
 * or FM_ECONFLICT saying who decided it already (*out is then released). */
static int pending_approval(fm_store *s, fm_id company, fm_id id, fm_approval *out,
                            fm_error *err)
{
    int rc = s->ops->approval_get(s, id, out, err);
    if (rc == FM_OK && out->company_id != company) {
        fm_approval_release(out);
        rc = FM_ENOTFOUND;
    }
    if (rc == FM_ENOTFOUND)
        return fm_error_set(err, FM_ENOTFOUND, "no approval #%lld in this company",
                            (long long)id);
    if (rc != FM_OK || out->status == FM_APPROVAL_PENDING)
        return rc;
    rc = fm_error_set(err, FM_ECONFLICT, "approval #%lld was already %s by %s", (long long)id,
                      fm_approval_status_name(out->status),
                      out->decided_by ? out->decided_by : "the system");
    fm_approval_release(out);
    return rc;
}

int fm_approval_decide(fm_store *s, fm_id company, fm_id approval, bool approve,
                       const char *actor, bool local_operator, const char *why, fm_error *err)
{
    fm_approval a;
    if (!actor || !*actor)
        return fm_error_set(err, FM_EINVAL, "a decision needs an actor");
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = pending_approval(s, company, approval, &a, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    rc = check_route(s, &a, actor, local_operator, err);
    if (rc == FM_OK) {
        a.status = approve ? FM_APPROVAL_APPROVED : FM_APPROVAL_DENIED;
        free(a.decided_by);
        a.decided_by = fm_xstrdup(actor);
        free(a.why);
        a.why = fm_xstrdup(why);
        a.decided_at = fm_now_us();
        rc = s->ops->approval_update(s, &a, err);
    }
    if (rc == FM_OK)
        rc = fm__wake(s, company, a.agent_id, FM_WAKE_APPROVAL, approval, err);
    if (rc == FM_OK) {
        char *obj = fm_xasprintf("approval:%lld", (long long)approval);
        rc = fm__audit(s, company, actor, "approval.decide", obj,
                       fm__details("{s:s, s:s?, s:s?, s:s?, s:I}", "decision",
                                   fm_approval_status_name(a.status), "why", why, "kind", a.kind,
                                   "tool", a.tool, "agent", (json_int_t)a.agent_id),
                       err);
        free(obj);
    }
    fm_approval_release(&a);
    return fm_store_end(s, rc, err);
}

/* ---- decisions by agents ------------------------------------------------------------ */

/* Whether the run that asked read outside content. */
static bool asked_tainted(fm_store *s, const fm_approval *a)
{
    fm_run r;
    if (!a->run_id || s->ops->run_get(s, a->run_id, &r, NULL) != FM_OK)
        return false;
    bool t = r.tainted;
    fm_run_release(&r);
    return t;
}

int fm_approval_agent_may_approve(fm_store *s, const fm_agent *agent, const fm_policies *pol,
                                  const fm_approval *a, char *why, size_t why_len)
{
    if (strcmp(a->kind, "budget") == 0 || (a->tool && strcmp(a->tool, "budget") == 0)) {
        snprintf(why, why_len, "money is for a person to give: escalate it");
        return FM_EPERM;
    }
    if (asked_tainted(s, a)) {
        snprintf(why, why_len, "the run that asked had read content from outside the company, so "
                 "only a person may approve it: escalate it");
        return FM_EPERM;
    }
    if (strcmp(a->kind, "tool") != 0 || !a->tool)
        return FM_OK; /* a question or a requested action: the manager's call */
    char *res = fm_tool_resource(a->tool, a->args);
    fm_policy_query q = {.agent = agent, .company = pol, .tool = a->tool, .resource = res};
    fm_policy_result r;
    fm_policy_decide(&q, &r);
    free(res);
    if (r.decision == FM_CEIL_ALLOW)
        return FM_OK;
    snprintf(why, why_len, "it is beyond your own grants (%s): escalate it", r.why);
    return FM_EPERM;
}

int fm_approval_escalate(fm_store *s, fm_id company, fm_id approval, const char *actor,
                         const char *why, fm_error *err)
{
    fm_approval a;
    int rc = s->ops->begin(s, err);
    if (rc == FM_OK)
        rc = pending_approval(s, company, approval, &a, err);
    if (rc != FM_OK)
        return fm_store_end(s, rc, err);
    if (!a.approver || strcmp(actor, a.approver) != 0)
        rc = fm_error_set(err, FM_EPERM, "approval #%lld waits on %s, not on %s",
                          (long long)approval, a.approver ? a.approver : "nobody", actor);
    if (rc == FM_OK && strncmp(a.approver, "agent:", 6) != 0)
        rc = fm_error_set(err, FM_EPERM, "approval #%lld is with a person already",
                          (long long)approval);
    fm_agent me;
    char *next = NULL;
    if (rc == FM_OK && (rc = s->ops->agent_find(s, company, a.approver + 6, &me, err)) == FM_OK) {
        rc = fm__approval_route(s, company, me.id, &next, NULL, err);
        fm_agent_release(&me);
    }
    if (rc == FM_OK) {
        char *from = a.approver;
        a.approver = next;
        next = NULL;
        rc = s->ops->approval_update(s, &a, err);
        if (rc == FM_OK)
            rc = notify_approver(s, company, a.approver, approval, err);
        char *obj = fm_xasprintf("approval:%lld", (long long)approval);
        if (rc == FM_OK)
            rc = fm__audit(s, company, actor, "approval.escalate", obj,
                           fm__details("{s:s, s:s, s:s?}", "from", from, "to", a.approver, "why",
                                       why),
                           err);
        free(obj);
        free(from);
    }
    free(next);
    fm_approval_release(&a);
    return fm_store_end(s, rc, err);
}
