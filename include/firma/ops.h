/*
 * Operations: every change to a company goes through one of these. Each runs
 * in one store transaction that also appends the audit event(s) recording
 * it, so a change and its record commit together or not at all. `actor` says
 * who acts ("member:ana", "agent:ceo", "cli:root"); it is recorded verbatim.
 *
 * Rules enforced here, whatever the caller (CLI, API, runtime):
 *  - the org chart is one tree under the company's owner: every agent has a
 *    manager (an agent or a member) of its own company, with no cycles;
 *  - handles are unique across a company's agents and members;
 *  - a task moves only along the status machine (fm_task_transition_ok).
 */
#ifndef FIRMA_OPS_H
#define FIRMA_OPS_H

#include "firma/files.h"
#include "firma/store.h"

/* ---- org chart ------------------------------------------------------------ */
/* Finds `handle` among the company's agents, then members. Exactly one of the
 * ids is set on success. */
int fm_org_resolve(fm_store *s, fm_id company, const char *handle, fm_id *agent, fm_id *member,
                   fm_error *err);
/* Checks that agent `self` (0 for a new one) may report to the given manager:
 * exactly one of manager_agent/manager_member set, same company, manager not
 * fired, and no cycle. */
int fm_org_check_manager(fm_store *s, fm_id company, fm_id self, const char *self_handle,
                         fm_id manager_agent, fm_id manager_member, fm_error *err);

/* ---- companies -------------------------------------------------------------- */
/* Creates a company from a validated spec (as fm_spec_read_dir gives), under
 * `as_name` if not NULL. FM_EEXIST if the name is taken. */
int fm_company_import(fm_store *s, const char *actor, const fm_company_spec *spec,
                      const char *as_name, fm_id *id_out, fm_error *err);
/* Reads a company back into a spec (fired agents left out). */
int fm_company_export(fm_store *s, fm_id company, fm_company_spec *out, fm_error *err);

/* ---- members ----------------------------------------------------------------- */
/* Adds a member; the handle must be free among agents and members, and a
 * second owner is FM_EORG (the org chart has one root). Sets m->id. */
int fm_member_add(fm_store *s, const char *actor, fm_member *m, fm_error *err);
/* Removes a member, and revokes their API tokens with them (in the same
 * transaction). The owner, and a member agents still report to, cannot be
 * removed (FM_EORG). */
int fm_member_rm(fm_store *s, const char *actor, fm_id company, const char *handle,
                 fm_error *err);

/* ---- agents ------------------------------------------------------------------- */
/* Hires `a` (company_id, handle, title, kind ... set) reporting to the agent
 * or member `manager`. Sets a->id and the manager ids. */
int fm_agent_hire(fm_store *s, const char *actor, fm_agent *a, const char *manager,
                  fm_error *err);
/* Fires an agent; its reports move to its manager and the goals it owned to
 * its manager agent, if any (each move audited). */
int fm_agent_fire(fm_store *s, const char *actor, fm_id company, const char *handle,
                  fm_error *err);
/* Pauses or resumes one agent, or with `team` the agent and everyone under
 * it, or with handle NULL the whole company. *count gets how many changed. */
int fm_agent_set_status(fm_store *s, const char *actor, fm_id company, const char *handle,
                        bool team, fm_agent_status to, size_t *count, fm_error *err);
/* Changes what an agent is: `a` is the edited agent as read from the store
 * (id set); `manager` a new manager handle or NULL to keep. The audit event
 * lists the fields that changed. */
int fm_agent_update(fm_store *s, const char *actor, fm_agent *a, const char *manager,
                    fm_error *err);

/* ---- goals -------------------------------------------------------------------- */
int fm_goal_add(fm_store *s, const char *actor, fm_goal *g, fm_error *err);
int fm_goal_set_status(fm_store *s, const char *actor, fm_id company, fm_id goal,
                       fm_goal_status to, fm_error *err);

/* ---- tasks --------------------------------------------------------------------- */
/* Adds a task (status todo unless set); assignee, parent and goal, when set,
 * must belong to the same company. An assignee gets a wake (same transaction). */
int fm_task_add(fm_store *s, const char *actor, fm_task *t, fm_error *err);
/* Assigns to an agent (0 unassigns), who gets a wake. A fired agent cannot
 * take work. */
int fm_task_assign(fm_store *s, const char *actor, fm_id company, fm_id task, fm_id agent,
                   fm_error *err);
/* Moves along the status machine; `result` (may be NULL) is kept on the task.
 * An illegal move is FM_ETRANSITION naming the moves that are legal. */
int fm_task_move(fm_store *s, const char *actor, fm_id company, fm_id task, fm_task_status to,
                 const char *result, fm_error *err);
/* Checkout lease: one run holds a task at a time (FM_ECONFLICT otherwise);
 * fm_task_checkin gives it back. */
int fm_task_checkout(fm_store *s, const char *actor, fm_id company, fm_id task, fm_id run,
                     int64_t lease_us, fm_error *err);
int fm_task_checkin(fm_store *s, const char *actor, fm_id company, fm_id task, fm_id run,
                    fm_error *err);

/* Comments on a task from `actor`: a message in the task's thread (made
 * with the first comment), and a wake for its assignee unless the assignee
 * wrote it. Audited task.comment; text from outside is tainted. */
int fm_task_comment(fm_store *s, const char *actor, fm_id company, fm_id task, const char *text,
                    fm_id *message_id, fm_error *err);

/* ---- messages ----------------------------------------------------------------- */
/* Whether an actor writes from inside the company: an agent, a member, or the
 * operator at the terminal ("cli:..."). Anything else is outside: tainted. */
bool fm_actor_inside(const char *actor);

/* Delivers a message to an agent from `from` (an actor string: "member:ana",
 * "agent:ceo", or someone outside such as "customer:x@y.z", "email:..."): a new
 * thread, the message, and a wake for the agent, in one transaction. Text from
 * anyone who is not an agent or member is marked tainted. */
int fm_message_deliver(fm_store *s, const char *actor, fm_id company, fm_id to_agent,
                       const char *from, const char *text, fm_id *message_id, fm_error *err);

/* ---- timers ------------------------------------------------------------------- */
/* Fires the agents' timers due by `now`, earliest first, at most `limit` (0 =
 * all), in one transaction: each gives its agent a timer wake (unless one is
 * still not done) and moves on to its schedule's next time after `now`
 * (store.h, timer_fire). *fired counts the timers taken (so *fired == limit
 * means more may be due), *woke the wakes written. Not audited: a timer is
 * no one's action; the run it causes is recorded. */
int fm_timers_fire(fm_store *s, int64_t now, size_t limit, size_t *fired, size_t *woke,
                   fm_error *err);

#endif
