/*
 * The built-in tools as the model sees them. Descriptions are written for a
 * model: what the tool does, when to use it, what happens next. The order and
 * the text are fixed, so the tools section of a prompt is byte-identical for
 * every wake of every agent with the same grants (provider prefix caches hit).
 * Running them is the runtime's job (src/runtime/), after fm_schema_check and
 * the policy.
 */
#include "firma/tools.h"

#include <string.h>

#define OBJ(props, req) \
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props "}," \
    "\"required\":[" req "]}"
#define STR(name, max) "\"" name "\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":" #max "}"
#define INT(name, lo, hi) \
    "\"" name "\":{\"type\":\"integer\",\"minimum\":" #lo ",\"maximum\":" #hi "}"

/* flags: exec and http_fetch run on the loop (fm_tool_start); the tools
 * whose second run does no harm (reading, noting, writing the same bytes,
 * finishing a task: a second finish is refused, not repeated) are run
 * again when a crash cut them off. */
static const fm_tool_def builtins[] = {
    {.name = "delegate",
     .description =
         "Create a task for one of your reports or peers (by handle, without @) and hand it "
         "over. They are woken to work on it; you are told when it is done or blocked.",
     .schema_json = OBJ(STR("to", 40) "," STR("title", 200) "," STR("body", 20000) ","
                        INT("priority", 0, 3) "," INT("goal", 1, 9223372036854775807),
                        "\"to\",\"title\"")},
    {.name = "message",
     .description =
         "Send a message to an agent (agent:HANDLE), a member (member:HANDLE) or, if granted, "
         "someone outside the company. Use it to inform or to answer; use delegate to give work.",
     .schema_json = OBJ(STR("to", 200) "," STR("text", 20000), "\"to\",\"text\"")},
    {.name = "ask_manager",
     .description =
         "Ask your manager a question and stop until they answer. Use it when you are unsure "
         "what is wanted or a decision is above you.",
     .schema_json = OBJ(STR("question", 4000), "\"question\"")},
    {.name = "request_approval",
     .description =
         "Ask for approval before doing something that needs it (spending, publishing, anything "
         "irreversible). You are woken with the decision.",
     .schema_json = OBJ(STR("action", 2000) "," STR("why", 4000), "\"action\",\"why\"")},
    {.name = "complete_task",
     .description =
         "Mark a task done with its result (what you did, where it is). Without a task number, "
         "the task you were woken for.",
     .schema_json = OBJ(INT("task", 1, 9223372036854775807) "," STR("result", 20000),
                        "\"result\""),
     .flags = FM_TOOL_IDEMPOTENT},
    {.name = "block_task",
     .description =
         "Mark a task blocked and say what it is waiting for. Without a task number, the task "
         "you were woken for.",
     .schema_json = OBJ(INT("task", 1, 9223372036854775807) "," STR("reason", 4000),
                        "\"reason\""),
     .flags = FM_TOOL_IDEMPOTENT},
    {.name = "note",
     .description =
         "Remember something for your next wakes under a short key (replaces an earlier note "
         "with the same key). Your notes are shown to you each time you wake.",
     .schema_json = OBJ(STR("key", 64) "," STR("text", 8000), "\"key\",\"text\""),
     .flags = FM_TOOL_IDEMPOTENT},
    {.name = "read_file",
     .description = "Read a file from your workspace (a relative path).",
     .schema_json = OBJ(STR("path", 1024), "\"path\""),
     .flags = FM_TOOL_IDEMPOTENT},
    {.name = "write_file",
     .description = "Write a file in your workspace (a relative path), replacing it.",
     .schema_json = OBJ(STR("path", 1024) ","
                        "\"text\":{\"type\":\"string\",\"maxLength\":1048576}",
                        "\"path\",\"text\""),
     .flags = FM_TOOL_IDEMPOTENT},
    {.name = "list_files",
     .description = "List the files under a folder of your workspace ('.' for all).",
     .schema_json = OBJ(STR("path", 1024), "\"path\""),
     .flags = FM_TOOL_IDEMPOTENT},
    {.name = "exec",
     .description =
         "Run a command in your workspace, in a sandbox without network unless granted. Returns "
         "its exit status and output.",
     .schema_json = OBJ(STR("command", 8000) "," INT("timeout_s", 1, 3600), "\"command\""),
     .flags = FM_TOOL_ASYNC},
    {.name = "http_fetch",
     .description =
         "Fetch a web page or API (GET) from an allowed host. The content is marked as "
         "coming from outside the company.",
     .schema_json = OBJ(STR("url", 4000), "\"url\""),
     .flags = FM_TOOL_ASYNC},
    {.name = "hire",
     .description =
         "Propose a new agent: handle, title and what it should do. Always needs approval.",
     .schema_json = OBJ(STR("handle", 40) "," STR("title", 200) "," STR("instructions", 20000),
                        "\"handle\",\"title\",\"instructions\"")},
    {.name = "decide_approval",
     .description =
         "Decide an approval one of your reports is waiting for: approve (only what your own "
         "grants allow you to do), deny, or escalate it to your manager. Say why.",
     .schema_json = OBJ(INT("approval", 1, 9223372036854775807) ","
                        "\"decision\":{\"type\":\"string\","
                        "\"enum\":[\"approve\",\"deny\",\"escalate\"]},"
                        STR("why", 4000), "\"approval\",\"decision\",\"why\"")},
};

const fm_tool_def *fm_builtin_tools(size_t *n)
{
    *n = sizeof builtins / sizeof builtins[0];
    return builtins;
}

const fm_tool_def *fm_builtin_tool(const char *name)
{
    for (size_t i = 0; name && i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}
