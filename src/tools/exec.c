/* Placeholder until the exec tool lands: refuses to start. */
#include "tools/jobs.h"

int fm__exec_start(uv_loop_t *loop, const fm_tool_ctx *ctx, const fm_tool_limits *limits,
                   const char *args_json, fm_tool_done done, void *arg, fm_tool_job **job,
                   fm_error *err)
{
    return fm_error_set(err, FM_EINVAL, "not available yet");
}
