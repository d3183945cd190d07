/* Releasing the neutral response shapes of llm.h (every provider's output). */
#include "firma/llm.h"

#include <stdlib.h>
#include <string.h>

void fm_tool_call_release(fm_tool_call *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->name);
    free(c->args_json);
    memset(c, 0, sizeof *c);
}

void fm_llm_response_release(fm_llm_response *r)
{
    if (!r)
        return;
    free(r->text);
    for (size_t i = 0; i < r->n_calls; i++)
        fm_tool_call_release(&r->calls[i]);
    free(r->calls);
    memset(r, 0, sizeof *r);
}
