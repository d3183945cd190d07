/* tools/: argument checking against schemas, and the built-in definitions. */
#include "firma/model.h"
#include "firma/tools.h"
#include "helpers.h"

#include <jansson.h>

static int chk(const char *tool, const char *args, fm_error *err)
{
    const fm_tool_def *t = fm_builtin_tool(tool);
    assert_non_null(t);
    fm_error_clear(err);
    return fm_schema_check(t->schema_json, args, err);
}

static void good_arguments_pass(void **state)
{
    fm_error err;
    assert_int_equal(chk("delegate", "{\"to\":\"cto\",\"title\":\"Ship it\",\"priority\":1}", &err),
                     FM_OK);
    assert_int_equal(chk("complete_task", "{\"result\":\"done\"}", &err), FM_OK);
    assert_int_equal(chk("write_file", "{\"path\":\"a.md\",\"text\":\"\"}", &err), FM_OK);
}

static void bad_arguments_say_what_is_wrong(void **state)
{
    const struct { const char *tool, *args, *want; } cases[] = {
        {"delegate", "{\"title\":\"x\"}", "arguments: missing required argument 'to'"},
        {"delegate", "{\"to\":\"cto\",\"title\":\"x\",\"priority\":\"high\"}",
         "argument 'priority': expected an integer, got a string"},
        {"delegate", "{\"to\":\"cto\",\"title\":\"x\",\"priority\":9}",
         "argument 'priority': must be from 0 to 3"},
        {"delegate", "{\"to\":\"cto\",\"title\":\"x\",\"cc\":\"ceo\"}",
         "arguments: unknown argument 'cc'"},
        {"delegate", "{\"to\":\"\",\"title\":\"x\"}", "argument 'to': must not be empty"},
        {"delegate", "[1,2]", "arguments: expected an object, got a list"},
        {"delegate", "{\"to\":\"cto\",", "arguments: not valid JSON at character"},
        {"delegate", "{\"to\":\"a\",\"to\":\"b\",\"title\":\"x\"}", "arguments: not valid JSON"},
        {"message", "{\"to\":\"agent:cto\",\"text\":null}",
         "argument 'text': expected a string, got null"},
        {"exec", "{\"command\":\"ls\",\"timeout_s\":1.5}",
         "argument 'timeout_s': expected an integer, got a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fm_error err;
        int rc = chk(cases[i].tool, cases[i].args, &err);
        if (rc != FM_EINVAL || strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu (%s): rc %d, '%s', wanted '%s'", i, cases[i].args, rc, err.msg,
                     cases[i].want);
    }
    fm_error err;
    assert_int_equal(chk("delegate", NULL, &err), FM_EINVAL);
    char *big = fm_xmalloc(FM_TOOL_ARGS_MAX + 64);
    memset(big, ' ', FM_TOOL_ARGS_MAX + 63);
    big[FM_TOOL_ARGS_MAX + 63] = '\0';
    assert_int_equal(chk("delegate", big, &err), FM_ETOOBIG);
    free(big);
    /* Empty argument text means "no arguments", which delegate does not accept. */
    assert_int_equal(chk("delegate", "", &err), FM_EINVAL);
}

static void every_builtin_is_a_known_tool_with_a_valid_schema(void **state)
{
    size_t n;
    const fm_tool_def *t = fm_builtin_tools(&n);
    assert_int_equal(n, 14);
    for (size_t i = 0; i < n; i++) {
        assert_true(fm_tool_known(t[i].name));
        assert_true(strlen(t[i].description) > 20);
        json_error_t je;
        json_t *s = json_loads(t[i].schema_json, 0, &je);
        if (!s)
            fail_msg("%s: schema is not JSON: %s", t[i].name, je.text);
        assert_string_equal(json_string_value(json_object_get(s, "type")), "object");
        json_decref(s);
    }
    assert_null(fm_builtin_tool("launch_missiles"));
}

/* A crash mid-call runs an idempotent tool again: never one with effects
 * outside (a command, a request, a message, a hire). */
static void tool_flags_are_where_recovery_needs_them(void **state)
{
    static const char *const once[] = {"exec", "http_fetch", "message", "delegate", "hire",
                                       "ask_manager", "request_approval", "decide_approval"};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
        assert_false(fm_builtin_tool(once[i])->flags & FM_TOOL_IDEMPOTENT);
    assert_true(fm_builtin_tool("read_file")->flags & FM_TOOL_IDEMPOTENT);
    assert_true(fm_builtin_tool("write_file")->flags & FM_TOOL_IDEMPOTENT);
    assert_int_equal(fm_builtin_tool("exec")->flags, FM_TOOL_ASYNC);
    assert_int_equal(fm_builtin_tool("http_fetch")->flags, FM_TOOL_ASYNC);
    assert_false(fm_tool_is_async("note") || fm_tool_is_async("nope") || fm_tool_is_async(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_arguments_pass),
        cmocka_unit_test(bad_arguments_say_what_is_wrong),
        cmocka_unit_test(every_builtin_is_a_known_tool_with_a_valid_schema),
        cmocka_unit_test(tool_flags_are_where_recovery_needs_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
