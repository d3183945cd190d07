/* core/events: the audit chain and run steps of a company as one stream,
 * in time order, resumable from any cursor. */
#include "firma/events.h"
#include "helpers.h"

static void add_step(tdb *t, fm_id run, int seq, const char *tool)
{
    usleep(1000);
    fm_step st = {.run_id = run, .seq = seq, .kind = tool ? FM_STEP_TOOL : FM_STEP_MODEL,
                  .status = FM_STEP_FINISHED, .tool = (char *)tool, .tokens_in = 10 * seq,
                  .started_at = fm_now_us(), .ended_at = fm_now_us()};
    assert_int_equal(t->s->ops->step_insert(t->s, &st, &t->err), FM_OK);
    usleep(1000);
}

/* acme: @ceo hired, a run with 2 steps, a task, a pause, a third step; and
 * a second company whose events must not show. */
static fm_id setup(tdb *t)
{
    fm_id ceo;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    fm_run r = {.company_id = t->company, .agent_id = ceo, .status = FM_RUN_RUNNING,
                .started_at = fm_now_us()};
    assert_int_equal(t->s->ops->run_insert(t->s, &r, &t->err), FM_OK);
    add_step(t, r.id, 1, NULL);
    add_step(t, r.id, 2, "note");
    fm_task task = {.company_id = t->company, .title = fm_xstrdup("Ship it"), .assignee = ceo,
                    .priority = 2};
    assert_int_equal(fm_task_add(t->s, "member:ana", &task, &t->err), FM_OK);
    fm_task_release(&task);
    usleep(1000);
    size_t n;
    assert_int_equal(fm_agent_set_status(t->s, "member:ana", t->company, "ceo", false,
                                         FM_AGENT_PAUSED, &n, &t->err), FM_OK);
    add_step(t, r.id, 3, "complete_task");
    /* Another company, with a run and a step of its own. */
    fm_company other;
    fm_company_init(&other);
    other.name = fm_xstrdup("other");
    assert_int_equal(t->s->ops->company_insert(t->s, &other, &t->err), FM_OK);
    fm_run r2 = {.company_id = other.id, .agent_id = ceo, .status = FM_RUN_RUNNING,
                 .started_at = fm_now_us()};
    assert_int_equal(t->s->ops->run_insert(t->s, &r2, &t->err), FM_OK);
    add_step(t, r2.id, 1, NULL);
    fm_company_release(&other);
    return r.id;
}

static void events_merge_in_time_order(void **state)
{
    tdb *t = tdb_new(true);
    setup(t);
    fm_event *v;
    size_t n;
    char next[FM_EVENT_CURSOR_MAX];
    assert_int_equal(fm_events_since(t->s, t->company, NULL, 0, &v, &n, next, &t->err), FM_OK);
    /* The fixture's own audit events come first (company, member), then ours. */
    const char *want[] = {"agent", "run.step", "run.step", "task", "agent.paused", "run.step"};
    size_t first = n - 6;
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(v[first + i].type, want[i]);
    for (size_t i = 1; i < n; i++) {
        assert_true(v[i].ts >= v[i - 1].ts);
        assert_string_not_equal(v[i].cursor, v[i - 1].cursor);
    }
    assert_string_equal(v[n - 1].cursor, next);
    /* The steps carry what the feed shows, and who: not request or response. */
    json_t *st = v[first + 2].data;
    assert_string_equal(json_string_value(json_object_get(st, "tool")), "note");
    assert_string_equal(json_string_value(json_object_get(st, "agent")), "ceo");
    assert_int_equal(json_integer_value(json_object_get(st, "tokens_in")), 20);
    assert_null(json_object_get(st, "request"));
    assert_string_equal(v[first + 2].agent, "ceo");
    /* The audit events carry the change. */
    assert_string_equal(json_string_value(json_object_get(v[first + 4].data, "action")),
                        "agent.pause");
    assert_string_equal(v[first + 4].agent, "ceo");
    /* The other company's step is not here: 3 steps of ours. */
    size_t steps = 0;
    for (size_t i = 0; i < n; i++)
        steps += strcmp(v[i].type, "run.step") == 0;
    assert_int_equal(steps, 3);
    fm_event_list_free(v, n);
    tdb_free(t);
}

static void a_cursor_resumes_exactly(void **state)
{
    tdb *t = tdb_new(true);
    setup(t);
    fm_event *all, *v;
    size_t n_all, n;
    char next[FM_EVENT_CURSOR_MAX], cur[FM_EVENT_CURSOR_MAX] = "";
    assert_int_equal(fm_events_since(t->s, t->company, NULL, 0, &all, &n_all, next, &t->err),
                     FM_OK);
    /* Paging two at a time gives the same events, none twice, none lost. */
    size_t seen = 0;
    for (int rounds = 0; rounds < 100; rounds++) {
        assert_int_equal(fm_events_since(t->s, t->company, cur, 2, &v, &n, next, &t->err),
                         FM_OK);
        for (size_t i = 0; i < n; i++, seen++) {
            assert_true(seen < n_all);
            assert_string_equal(v[i].type, all[seen].type);
            assert_string_equal(v[i].cursor, all[seen].cursor);
        }
        fm_event_list_free(v, n);
        if (n == 0)
            break;
        snprintf(cur, sizeof cur, "%s", next);
    }
    assert_int_equal(seen, n_all);
    /* From the middle. */
    assert_int_equal(fm_events_since(t->s, t->company, all[n_all - 3].cursor, 0, &v, &n, next,
                                     &t->err),
                     FM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].type, all[n_all - 2].type);
    fm_event_list_free(v, n);
    /* The head: nothing after it, until something happens. */
    char head[FM_EVENT_CURSOR_MAX];
    assert_int_equal(fm_events_head(t->s, t->company, head, &t->err), FM_OK);
    assert_string_not_equal(head, "a0.s0");
    assert_int_equal(fm_events_since(t->s, t->company, head, 0, &v, &n, next, &t->err), FM_OK);
    assert_int_equal(n, 0);
    assert_string_equal(next, head);
    size_t k;
    assert_int_equal(fm_agent_set_status(t->s, "member:ana", t->company, "ceo", false,
                                         FM_AGENT_ACTIVE, &k, &t->err), FM_OK);
    assert_int_equal(fm_events_since(t->s, t->company, head, 0, &v, &n, next, &t->err), FM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].type, "agent");
    fm_event_list_free(v, n);
    /* Not a cursor. */
    assert_int_equal(fm_events_since(t->s, t->company, "42", 0, &v, &n, next, &t->err),
                     FM_EINVAL);
    assert_int_equal(fm_events_since(t->s, t->company, "a1.s2x", 0, &v, &n, next, &t->err),
                     FM_EINVAL);
    fm_event_list_free(all, n_all);
    tdb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_merge_in_time_order),
        cmocka_unit_test(a_cursor_resumes_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
