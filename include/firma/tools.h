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

/* The most argument text a tool call may carry. */
#define FM_TOOL_ARGS_MAX (64 * 1024)

/* FM_OK, or FM_EINVAL with err saying which argument and why
 * ("argument 'priority': expected an integer from 0 to 3, got \"high\""). */
int fm_schema_check(const char *schema_json, const char *args_json, fm_error *err);

/* The built-in tools' definitions (DESIGN.md section 3), in a fixed order so
 * the tool list in a prompt is byte-identical across wakes. */
const fm_tool_def *fm_builtin_tools(size_t *n);
const fm_tool_def *fm_builtin_tool(const char *name);

#endif
