/* Internals of the tools that run on the loop (tools.h, fm_tool_start):
 * each kind of job starts with this header, so fm_tool_job_cancel can reach
 * its own cancel. */
#ifndef FIRMA_TOOLS_JOBS_H
#define FIRMA_TOOLS_JOBS_H

#include "firma/tools.h"

struct fm_tool_job {
    void (*cancel)(fm_tool_job *job); /* runs `done` before it returns */
};

/* Same contract as fm_tool_start, for one tool each; `limits` has its
 * defaults filled in. */
int fm__exec_start(uv_loop_t *loop, const fm_tool_ctx *ctx, const fm_tool_limits *limits,
                   const char *args_json, fm_tool_done done, void *arg, fm_tool_job **job,
                   fm_error *err);
int fm__fetch_start(uv_loop_t *loop, const fm_tool_ctx *ctx, const fm_tool_limits *limits,
                    const char *args_json, fm_tool_done done, void *arg, fm_tool_job **job,
                    fm_error *err);

#endif
