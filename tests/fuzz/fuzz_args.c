/*
 * libFuzzer target: a model's tool arguments against a tool's schema, and
 * the glob patterns of grants. The first byte picks the tool or the pattern
 * mode; the rest is the model's text.
 */
#include "firma/policy.h"
#include "firma/tools.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n;
    const fm_tool_def *tools = fm_builtin_tools(&n);
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    fm_error err;
    fm_schema_check(tools[data[0] % n].schema_json, text, &err);
    /* The text also serves as a grant pattern against a fixed resource and
     * the reverse, in both matching modes. */
    fm_pattern_match(text, "src/core/store/sqlite.c", data[0] & 1);
    fm_pattern_match("src/**/*.c", text, data[0] & 1);
    free(text);
    return 0;
}
