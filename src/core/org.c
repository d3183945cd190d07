/*
 * The org chart's rules: one tree under the company's owner. A cycle check
 * walks up from the proposed manager; the walk is bounded by the number of
 * agents so a damaged database cannot make it loop.
 */
#include "firma/base.h"
#include "firma/ops.h"

#include <string.h>

int fm_org_resolve(fm_store *s, fm_id company, const char *handle, fm_id *agent, fm_id *member,
                   fm_error *err)
{
    *agent = *member = 0;
    if (handle && handle[0] == '@')
        handle++;
    fm_agent a;
    int rc = s->ops->agent_find(s, company, handle, &a, NULL);
    if (rc == FM_OK) {
        *agent = a.id;
        fm_agent_release(&a);
        return FM_OK;
    }
    fm_member m;
    rc = s->ops->member_find(s, company, handle, &m, NULL);
    if (rc == FM_OK) {
        *member = m.id;
        fm_member_release(&m);
        return FM_OK;
    }
    return fm_error_set(err, FM_ENOTFOUND, "'%s' is neither an agent nor a member of this company",
                        handle ? handle : "");
}

static int check_member_manager(fm_store *s, fm_id company, fm_id member, fm_error *err)
{
    fm_member m;
    int rc = s->ops->member_get(s, member, &m, err);
    if (rc != FM_OK)
        return rc == FM_ENOTFOUND ? fm_error_set(err, FM_EORG, "manager member %lld does not exist",
                                                 (long long)member)
                                  : rc;
    if (m.company_id != company)
        rc = fm_error_set(err, FM_EORG, "manager '%s' is a member of another company", m.handle);
    fm_member_release(&m);
    return rc;
}

/* Walks up from `start`; a cycle exists if the walk meets `self`. The path
 * walked goes into the message so a person can see the loop. */
static int check_agent_chain(fm_store *s, fm_id company, fm_id self, const char *self_handle,
                             fm_id start, fm_error *err)
{
    fm_buf path = FM_BUF_INIT;
    fm_buf_addf(&path, "%s", self_handle);
    fm_id cur = start;
    int rc = FM_OK;
    for (int steps = 0; cur && rc == FM_OK; steps++) {
        fm_agent a;
        if ((rc = s->ops->agent_get(s, cur, &a, err)) != FM_OK) {
            if (rc == FM_ENOTFOUND)
                rc = fm_error_set(err, FM_EORG, "manager agent %lld does not exist",
                                  (long long)cur);
            break;
        }
        fm_buf_addf(&path, " -> %s", a.handle);
        if (a.company_id != company)
            rc = fm_error_set(err, FM_EORG, "manager '%s' is an agent of another company",
                              a.handle);
        else if (steps == 0 && a.status == FM_AGENT_FIRED)
            rc = fm_error_set(err, FM_EORG, "manager '%s' has been fired", a.handle);
        else if (a.id == self)
            rc = fm_error_set(err, FM_EORG, "reporting cycle: %s", path.ptr);
        else if (steps > 1000000)
            rc = fm_error_set(err, FM_EORG, "reporting chain too long: %s", path.ptr);
        cur = a.manager_agent;
        fm_agent_release(&a);
    }
    fm_buf_release(&path);
    return rc;
}

int fm_org_check_manager(fm_store *s, fm_id company, fm_id self, const char *self_handle,
                         fm_id manager_agent, fm_id manager_member, fm_error *err)
{
    if (!manager_agent == !manager_member)
        return fm_error_set(err, FM_EORG,
                            "agent '%s' needs exactly one manager, an agent or a member: the "
                            "org chart has a single root, the company's owner",
                            self_handle);
    if (manager_member)
        return check_member_manager(s, company, manager_member, err);
    if (self && manager_agent == self)
        return fm_error_set(err, FM_EORG, "reporting cycle: %s -> %s", self_handle, self_handle);
    return check_agent_chain(s, company, self ? self : -1, self_handle, manager_agent, err);
}
