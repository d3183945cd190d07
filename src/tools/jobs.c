/*
 * The tools that run on the loop: which they are, and starting and
 * canceling one (the work is in exec.c and fetch.c).
 */
#include "tools/jobs.h"

#include <string.h>

bool fm_tool_is_async(const char *tool)
{
    const fm_tool_def *d = fm_builtin_tool(tool);
    return d && (d->flags & FM_TOOL_ASYNC);
}

void fm_tool_limits_defaults(fm_tool_limits *l)
{
    if (l->exec_timeout_s <= 0)
        l->exec_timeout_s = 300;
    if (!l->exec_max_output)
        l->exec_max_output = 64 * 1024;
    if (l->exec_mem_bytes <= 0)
        l->exec_mem_bytes = 1LL << 30;
    if (!l->fetch_max_bytes)
        l->fetch_max_bytes = 256 * 1024;
    if (l->fetch_timeout_s <= 0)
        l->fetch_timeout_s = 30;
}

int fm_tool_start(uv_loop_t *loop, const fm_tool_ctx *ctx, const fm_tool_limits *limits,
                  const char *tool, const char *args_json, fm_tool_done done, void *arg,
                  fm_tool_job **job, fm_error *err)
{
    fm_tool_limits l = limits ? *limits : (fm_tool_limits){0};
    fm_tool_limits_defaults(&l);
    *job = NULL;
    if (tool && strcmp(tool, "exec") == 0)
        return fm__exec_start(loop, ctx, &l, args_json, done, arg, job, err);
    if (tool && strcmp(tool, "http_fetch") == 0)
        return fm__fetch_start(loop, ctx, &l, args_json, done, arg, job, err);
    return fm_error_set(err, FM_EINVAL, "%s does not run on the loop", tool ? tool : "(null)");
}

void fm_tool_job_cancel(fm_tool_job *job)
{
    if (job)
        job->cancel(job);
}
