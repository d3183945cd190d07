/*
 * Tools: what an agent can do, described for the model (name, description,
 * JSON Schema of the arguments) and checked before anything runs.
 *
 * fm_schema_check validates a model's arguments against a tool's schema. It
 * understands the subset firma's schemas use: type (object, string, integer,
 * number, boolean, array), properties, required, additionalProperties: false,
 * enum, minLength/maxLength, minimum/maximum, items. Anything a model sends
 * that does not fit is refused with a message the model can act on, before
 * policy is even asked.
 */
#ifndef FIRMA_TOOLS_H
#define FIRMA_TOOLS_H

#include "firma/errors.h"
#include "firma/llm.h"
#include "firma/store.h"

#include <uv.h>

/* The most argument text a tool call may carry. */
#define FM_TOOL_ARGS_MAX (64 * 1024)

/* FM_OK, or FM_EINVAL with err saying which argument and why
 * ("argument 'priority': expected an integer from 0 to 3, got \"high\""). */
int fm_schema_check(const char *schema_json, const char *args_json, fm_error *err);

/* fm_tool_def.flags of a built-in tool. */
enum {
    FM_TOOL_ASYNC = 1 << 0,      /* it runs on the loop: fm_tool_start, not fm_tool_run */
    FM_TOOL_IDEMPOTENT = 1 << 1, /* a second run does no harm: a call a crash cut off is run
                                  * again rather than reported of unknown outcome */
};

/* The built-in tools' definitions (DESIGN.md section 3), in a fixed order so
 * the tool list in a prompt is byte-identical across wakes. */
const fm_tool_def *fm_builtin_tools(size_t *n);
const fm_tool_def *fm_builtin_tool(const char *name);

/* ---- running the built-in tools ------------------------------------------------ */

/* Who is calling and on behalf of what. */
typedef struct fm_tool_ctx {
    fm_store *store;
    fm_id company, agent, run, step;
    fm_id task;              /* the task the run is about, or 0 */
    const char *handle;      /* the agent's handle, without @ */
    const char *workspace;   /* absolute path of the agent's own folder (created on demand) */
    bool tainted;            /* the run's context holds outside content */
} fm_tool_ctx;

typedef struct fm_tool_result {
    char *text;              /* what the model reads next (never NULL after a run) */
    bool is_error;           /* the call failed in a way the model should read and recover from */
    fm_id approval;          /* non-zero: the run must wait for this approval (ask_manager,
                                request_approval) */
    bool tainted;            /* the result brings outside content (http_fetch) */
} fm_tool_result;
void fm_tool_result_release(fm_tool_result *r);

/* The resource a call touches, for the policy: the path (file tools), host
 * (http_fetch), command (exec) or recipient ("agent:cto", "member:ana",
 * "customer:..."; delegate's "to" becomes "agent:TO"). NULL when the tool has
 * none. Heap string; the caller frees it. `args_json` passed fm_schema_check. */
char *fm_tool_resource(const char *tool, const char *args_json);

/* Runs a built-in tool whose arguments passed fm_schema_check and whose call
 * the policy allowed. Failures the model can act on (no such agent, a path
 * outside the workspace, an illegal task move) are FM_OK with is_error set;
 * only store/system failures return an error. Each state change goes through
 * ops.h (so it is audited with actor "agent:HANDLE"). */
int fm_tool_run(const fm_tool_ctx *ctx, const char *tool, const char *args_json,
                fm_tool_result *out, fm_error *err);

/* ---- tools that take time: exec and http_fetch run on the loop --------------- */

/* Limits of the tools that run on the loop; zero fields take the defaults. */
typedef struct fm_tool_limits {
    int64_t exec_timeout_s;   /* the most a command may ask for; default 300 */
    size_t exec_max_output;   /* bytes of stdout and of stderr kept each; default 64 KiB */
    int64_t exec_mem_bytes;   /* address space of the command; default 1 GiB */
    size_t fetch_max_bytes;   /* response body kept; default 256 KiB */
    int64_t fetch_timeout_s;  /* whole request; default 30 */
} fm_tool_limits;

/* Fills the zero fields of `l` with the defaults above. The runtime applies
 * them to its own copy, which process agents use too. */
void fm_tool_limits_defaults(fm_tool_limits *l);

/* True for the tools that must be started with fm_tool_start (they wait on
 * a child process or the network: FM_TOOL_ASYNC); the others run with
 * fm_tool_run. False for a name that is no built-in. */
bool fm_tool_is_async(const char *tool);

typedef struct fm_tool_job fm_tool_job;
/* Runs exactly once on the loop thread, also after fm_tool_job_cancel (then
 * with is_error and a text saying it was canceled). `res` is the callee's
 * during the call only: take res->text by setting it to NULL. The job is
 * freed after the callback returns. */
typedef void (*fm_tool_done)(void *arg, fm_tool_result *res);

/* Starts exec or http_fetch, whose arguments passed fm_schema_check and whose
 * call the policy allowed. exec runs `sh -c COMMAND` under bubblewrap: the
 * agent's workspace is the only writable folder (also its cwd), the system
 * folders are read-only, there is no network, and time, output and memory are
 * capped. http_fetch GETs the URL (http or https only; redirects are not
 * followed but reported, so the next host goes through policy too), keeps at
 * most fetch_max_bytes and marks the result tainted. On error nothing started
 * and `done` never runs. `ctx` is copied. */
int fm_tool_start(uv_loop_t *loop, const fm_tool_ctx *ctx, const fm_tool_limits *limits,
                  const char *tool, const char *args_json, fm_tool_done done, void *arg,
                  fm_tool_job **job, fm_error *err);
/* Stops a job (the child is killed, the request canceled); `done` runs
 * before this returns. NULL is a no-op. */
void fm_tool_job_cancel(fm_tool_job *job);

/* Holds a call for a decision: creates an approval (kind "tool", the tool and
 * its arguments, the policy's reason) routed to the agent's manager — an
 * agent manager decides within its own grants, a member decides the rest —
 * and audits approval.request. Sets *id. */
int fm_approval_hold(fm_store *s, const fm_tool_ctx *ctx, const char *tool, const char *args_json,
                     const char *reason, fm_id *id, fm_error *err);

/* Decides a pending approval: approved or denied by `actor` ("member:ana",
 * "agent:ceo"), with `why` (may be NULL), audits approval.decide and wakes the
 * waiting agent (wake kind approval, ref = the approval) in the same
 * transaction. FM_ECONFLICT if it was already decided; FM_EPERM if `actor` is
 * not on the approval's route (the approver, anyone above it, or an owner/admin
 * member). `local_operator` is the person at the terminal running the CLI
 * without --as, who holds the database file anyway and may decide any
 * approval; the caller says so, since an actor string is never proof of it. */
int fm_approval_decide(fm_store *s, fm_id company, fm_id approval, bool approve,
                       const char *actor, bool local_operator, const char *why, fm_error *err);

/* Whether agent `agent` (the approver, with its company's policies) may
 * approve `a` itself: FM_OK, or FM_EPERM with why saying what to do. An agent
 * approves only within its own grants: the held call must be one its own
 * policy allows without asking; budget approvals and requests from a run that
 * read outside content are for a person. Denying is always the approver's. */
int fm_approval_agent_may_approve(fm_store *s, const fm_agent *agent, const fm_policies *pol,
                                  const fm_approval *a, char *why, size_t why_len);

/* Passes a pending approval from the agent `actor` (its approver) up to that
 * agent's own manager, waking it if it is an agent granted decide_approval;
 * audits approval.escalate. */
int fm_approval_escalate(fm_store *s, fm_id company, fm_id approval, const char *actor,
                         const char *why, fm_error *err);

#endif
