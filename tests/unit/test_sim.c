/* llm/sim: the scripted provider: script choice, turns, usage, errors, shutdown. */
#include "firma/sim.h"
#include "helpers.h"

static const char scenario[] =
    "# a small scenario\n"
    "agents:\n"
    "  ceo:\n"
    "    - on: task\n"
    "      match: customers\n"
    "      turns:\n"
    "        - say: Splitting this.\n"
    "          call:\n"
    "            - delegate: {to: cto, title: Ship Slack alerts, priority: 1}\n"
    "            - delegate: {to: marketing, title: Write the post}\n"
    "        - say: Delegated.\n"
    "    - on: task\n"
    "      turns:\n"
    "        - call: [{complete_task: {result: done}}]\n"
    "    - on: message\n"
    "      turns:\n"
    "        - say: Noted.\n"
    "    - on: timer\n"
    "      match: heartbeat\n"
    "      turns:\n"
    "        - call: [{note: {key: checked, text: all quiet}}]\n";

typedef struct got {
    int calls;
    int status;
    fm_llm_response resp;
} got;

static void on_done(void *ctx, int status, fm_llm_response *resp, const fm_error *err)
{
    got *g = ctx;
    g->calls++;
    g->status = status;
    if (resp) {
        g->resp = *resp; /* move it out: the provider frees only the shell */
        memset(resp, 0, sizeof *resp);
    }
}

static char *write_scenario(const char *dir, const char *text)
{
    char *path = fm_xasprintf("%s/scenario.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

typedef struct fx {
    char dir[64];
    uv_loop_t loop;
    fm_provider *p;
} fx;

static int setup(void **state)
{
    fx *f = fm_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/firma-sim-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    uv_loop_init(&f->loop);
    char *path = write_scenario(f->dir, scenario);
    fm_error err;
    assert_int_equal(fm_sim_new(&f->loop, path, &f->p, &err), FM_OK);
    free(path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->p)
        f->p->ops->free(f->p);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    tdb_rmdir(f->dir);
    free(f);
    return 0;
}

static got ask(fx *f, const char *agent, const char *kind, fm_chat_msg *msgs, size_t n)
{
    fm_llm_request req = {.model = "sim", .system = "You are a test.", .msgs = msgs,
                          .n_msgs = n, .max_tokens = 1000, .agent = agent, .wake_kind = kind};
    got g = {0};
    fm_error err;
    assert_int_equal(f->p->ops->call(f->p, &req, on_done, &g, &err), FM_OK);
    assert_int_equal(g.calls, 0); /* never answered from inside call() */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g.calls, 1);
    return g;
}

static void turns_follow_the_script(void **state)
{
    fx *f = *state;
    fm_chat_msg msgs[3] = {
        {.role = FM_MSG_USER, .text = "Task #1: reach 100 paying customers"}};
    got g = ask(f, "ceo", "task", msgs, 1);
    assert_int_equal(g.status, FM_OK);
    assert_string_equal(g.resp.text, "Splitting this.");
    assert_int_equal(g.resp.n_calls, 2);
    assert_string_equal(g.resp.calls[0].name, "delegate");
    assert_string_equal(g.resp.calls[0].args_json,
                        "{\"to\":\"cto\",\"title\":\"Ship Slack alerts\",\"priority\":1}");
    assert_string_equal(g.resp.calls[1].id, "sim_0_1");
    assert_int_equal(g.resp.stop, FM_STOP_TOOL_USE);
    assert_true(g.resp.usage.input > 5);
    assert_true(g.resp.usage.output > 5);
    /* The second turn comes once the conversation holds the first answer. */
    msgs[1] = (fm_chat_msg){.role = FM_MSG_ASSISTANT, .calls = g.resp.calls, .n_calls = 2};
    msgs[2] = (fm_chat_msg){.role = FM_MSG_TOOL, .text = "ok", .tool_call_id = "sim_0_0"};
    got g2 = ask(f, "ceo", "task", msgs, 3);
    assert_string_equal(g2.resp.text, "Delegated.");
    assert_int_equal(g2.resp.n_calls, 0);
    assert_int_equal(g2.resp.stop, FM_STOP_END);
    fm_llm_response_release(&g.resp);
    fm_llm_response_release(&g2.resp);
}

static void match_and_kind_choose_the_script(void **state)
{
    fx *f = *state;
    fm_chat_msg m = {.role = FM_MSG_USER, .text = "Task #2: tidy the office"};
    got g = ask(f, "ceo", "task", &m, 1);
    assert_int_equal(g.resp.n_calls, 1);
    assert_string_equal(g.resp.calls[0].name, "complete_task");
    assert_string_equal(g.resp.calls[0].args_json, "{\"result\":\"done\"}");
    fm_llm_response_release(&g.resp);
    got g2 = ask(f, "ceo", "message", &m, 1);
    assert_string_equal(g2.resp.text, "Noted.");
    fm_llm_response_release(&g2.resp);
    got g3 = ask(f, "nobody", "task", &m, 1);
    assert_string_equal(g3.resp.text, "(sim: nothing more is scripted for @nobody on a task wake)");
    assert_int_equal(g3.resp.stop, FM_STOP_END);
    fm_llm_response_release(&g3.resp);
}

static void a_timer_wake_has_scripts_of_its_own(void **state)
{
    fx *f = *state;
    /* The text a heartbeat run starts with (runtime/context.c). */
    fm_chat_msg m = {.role = FM_MSG_USER,
                     .text = "What woke you:\n- Your scheduled check-in (heartbeat, every 4h). "
                             "Nothing new came with it: look at your open work"};
    got g = ask(f, "ceo", "timer", &m, 1);
    assert_int_equal(g.status, FM_OK);
    assert_int_equal(g.resp.n_calls, 1);
    assert_string_equal(g.resp.calls[0].name, "note");
    assert_string_equal(g.resp.calls[0].args_json, "{\"key\":\"checked\",\"text\":\"all quiet\"}");
    fm_llm_response_release(&g.resp);
    /* The match is on the text: a cron check-in is another script. */
    m.text = "What woke you:\n- Your scheduled check-in (cron '0 9 * * 1-5').";
    got g2 = ask(f, "ceo", "timer", &m, 1);
    assert_string_equal(g2.resp.text, "(sim: nothing more is scripted for @ceo on a timer wake)");
    fm_llm_response_release(&g2.resp);
}

static void shutdown_cancels_pending_calls_once(void **state)
{
    fx *f = *state;
    fm_chat_msg m = {.role = FM_MSG_USER, .text = "hello"};
    fm_llm_request req = {.model = "sim", .msgs = &m, .n_msgs = 1, .max_tokens = 10,
                          .agent = "ceo", .wake_kind = "message"};
    got a = {0}, b = {0};
    fm_error err;
    assert_int_equal(f->p->ops->call(f->p, &req, on_done, &a, &err), FM_OK);
    assert_int_equal(f->p->ops->call(f->p, &req, on_done, &b, &err), FM_OK);
    f->p->ops->free(f->p);
    f->p = NULL;
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, FM_ECANCELED);
    assert_int_equal(b.calls, 1);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(a.calls, 1); /* still once */
}

static void bad_scenarios_say_where(void **state)
{
    fx *f = *state;
    const struct { const char *text, *want; } cases[] = {
        {"agents:\n  ceo: [\n", "scenario.yaml:"},
        {"people: {}\n", "needs an 'agents' mapping"},
        {"agents:\n  ceo:\n    - on: lunch\n      turns: []\n", "agents.ceo[0].on must be one of"},
        {"agents:\n  ceo:\n    - on: task\n      turns:\n        - call: [delegate]\n",
         "agents.ceo[0].turns[0].call[0] must be one 'tool: {arguments}' mapping"},
        {"agents:\n  ceo: {on: task}\n", "agents.ceo must be a list of scripts"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = write_scenario(f->dir, cases[i].text);
        fm_provider *p = NULL;
        fm_error err;
        fm_error_clear(&err);
        assert_int_equal(fm_sim_new(&f->loop, path, &p, &err), FM_EPARSE);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
        assert_null(p);
        free(path);
    }
    fm_provider *p = NULL;
    fm_error err;
    assert_int_equal(fm_sim_new(&f->loop, "/nonexistent/s.yaml", &p, &err), FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/s.yaml"));
}

/* The example company's scenario loads, and its CEO delegates three tasks. */
static void the_example_scenario_loads(void **state)
{
    fx *f = *state;
    const char *src = getenv("FIRMA_SRC");
    char *path = fm_xasprintf("%s/examples/solo-startup/scenario.yaml", src ? src : ".");
    fm_provider *p = NULL;
    fm_error err;
    fm_error_clear(&err);
    if (fm_sim_new(&f->loop, path, &p, &err) != FM_OK)
        fail_msg("%s", err.msg);
    free(path);
    f->p->ops->free(f->p);
    f->p = p;
    fm_chat_msg m = {.role = FM_MSG_USER, .text = "Task #1: Reach 100 paying customers"};
    got g = ask(f, "ceo", "task", &m, 1);
    assert_int_equal(g.resp.n_calls, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(g.resp.calls[i].name, "delegate");
    fm_llm_response_release(&g.resp);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(turns_follow_the_script),
        T(match_and_kind_choose_the_script),
        T(a_timer_wake_has_scripts_of_its_own),
        T(shutdown_cancels_pending_calls_once),
        T(bad_scenarios_say_where),
        T(the_example_scenario_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
