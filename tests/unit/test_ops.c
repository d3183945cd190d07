/* core/ops: the org chart's rules, the task status machine, fire/pause, import/export,
 * agents' timers. */
#include "helpers.h"

static fm_agent get(tdb *t, const char *h)
{
    fm_agent a;
    assert_int_equal(t->s->ops->agent_find(t->s, t->company, h, &a, &t->err), FM_OK);
    return a;
}

static void hire_builds_the_tree(void **state)
{
    tdb *t = tdb_new(true);
    fm_id ceo, cto;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    assert_int_equal(tdb_hire(t, "cto", "@ceo", &cto), FM_OK);
    fm_agent a = get(t, "cto");
    assert_int_equal(a.manager_agent, ceo);
    assert_int_equal(a.manager_member, 0);
    fm_agent_release(&a);
    a = get(t, "ceo");
    assert_int_equal(a.manager_member, 1);
    fm_agent_release(&a);
    tdb_free(t);
}

static void org_rules_refuse_bad_managers(void **state)
{
    tdb *t = tdb_new(true);
    assert_int_equal(tdb_hire(t, "ceo", "ana", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "cto", "ceo", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "dev", "cto", NULL), FM_OK);
    /* Unknown manager. */
    assert_int_equal(tdb_hire(t, "x", "ceo2", NULL), FM_EORG);
    assert_string_equal(t->err.msg, "manager 'ceo2' is neither an agent nor a member of this company");
    /* No manager: a second root. */
    fm_agent a;
    memset(&a, 0, sizeof a);
    a.company_id = t->company;
    a.handle = fm_xstrdup("root2");
    a.title = fm_xstrdup("Rogue");
    assert_int_equal(fm_agent_hire(t->s, "test", &a, NULL, &t->err), FM_EORG);
    assert_non_null(strstr(t->err.msg, "single root"));
    fm_agent_release(&a);
    /* A cycle: ceo under dev, who is under cto, who is under ceo. */
    a = get(t, "ceo");
    assert_int_equal(fm_agent_update(t->s, "test", &a, "dev", &t->err), FM_EORG);
    assert_string_equal(t->err.msg, "reporting cycle: ceo -> dev -> cto -> ceo");
    /* Self-management is a cycle too. */
    assert_int_equal(fm_agent_update(t->s, "test", &a, "ceo", &t->err), FM_EORG);
    assert_non_null(strstr(t->err.msg, "reporting cycle: ceo -> ceo"));
    fm_agent_release(&a);
    /* A handle taken by a member. */
    assert_int_equal(tdb_hire(t, "ana", "ceo", NULL), FM_EEXIST);
    assert_non_null(strstr(t->err.msg, "taken by member ana"));
    tdb_free(t);
}

static void manager_in_another_company_is_refused(void **state)
{
    tdb *t = tdb_new(true);
    fm_id ceo;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    fm_company other;
    fm_company_init(&other);
    other.name = fm_xstrdup("other");
    assert_int_equal(t->s->ops->company_insert(t->s, &other, &t->err), FM_OK);
    fm_member m;
    memset(&m, 0, sizeof m);
    m.company_id = other.id;
    m.handle = fm_xstrdup("olga");
    m.role = FM_ROLE_OWNER;
    assert_int_equal(fm_member_add(t->s, "test", &m, &t->err), FM_OK);
    /* Handles cannot reach across companies, so ask with ids, as an API would. */
    assert_int_equal(fm_org_check_manager(t->s, other.id, 0, "spy", ceo, 0, &t->err), FM_EORG);
    assert_string_equal(t->err.msg, "manager 'ceo' is an agent of another company");
    assert_int_equal(fm_org_check_manager(t->s, t->company, 0, "spy", 0, m.id, &t->err), FM_EORG);
    assert_string_equal(t->err.msg, "manager 'olga' is a member of another company");
    assert_int_equal(fm_org_check_manager(t->s, t->company, 0, "spy", ceo, m.id, &t->err), FM_EORG);
    fm_member_release(&m);
    fm_company_release(&other);
    tdb_free(t);
}

static void a_company_has_one_owner(void **state)
{
    tdb *t = tdb_new(true);
    fm_member m;
    memset(&m, 0, sizeof m);
    m.company_id = t->company;
    m.handle = fm_xstrdup("bob");
    m.role = FM_ROLE_OWNER;
    assert_int_equal(fm_member_add(t->s, "test", &m, &t->err), FM_EORG);
    assert_non_null(strstr(t->err.msg, "already has an owner"));
    m.role = FM_ROLE_ADMIN;
    assert_int_equal(fm_member_add(t->s, "test", &m, &t->err), FM_OK);
    fm_member_release(&m);
    assert_int_equal(fm_member_rm(t->s, "test", t->company, "ana", &t->err), FM_EORG);
    assert_int_equal(tdb_hire(t, "ceo", "bob", NULL), FM_OK);
    assert_int_equal(fm_member_rm(t->s, "test", t->company, "bob", &t->err), FM_EORG);
    assert_non_null(strstr(t->err.msg, "agents still report to 'bob'"));
    tdb_free(t);
}

static fm_id add_task(tdb *t, fm_id assignee)
{
    fm_task task;
    memset(&task, 0, sizeof task);
    task.company_id = t->company;
    task.title = fm_xstrdup("Write the launch post");
    task.assignee = assignee;
    task.priority = 1;
    assert_int_equal(fm_task_add(t->s, "test", &task, &t->err), FM_OK);
    assert_int_equal(task.status, FM_TASK_TODO);
    fm_id id = task.id;
    fm_task_release(&task);
    return id;
}

/* Every (from, to) pair: legal ones move, the rest are refused and leave the
 * task where it was. */
static void status_machine_allows_only_legal_moves(void **state)
{
    static const char *legal[] = {"todo>doing", "todo>blocked", "todo>cancelled",
                                  "doing>todo", "doing>blocked", "doing>review", "doing>done",
                                  "doing>cancelled", "blocked>todo", "blocked>doing",
                                  "blocked>cancelled", "review>doing", "review>done",
                                  "review>cancelled", "cancelled>todo"};
    tdb *t = tdb_new(true);
    /* Paths from todo to reach each starting status. */
    static const int path[FM_TASK_STATUS_N][3] = {
        [FM_TASK_TODO] = {-1}, [FM_TASK_DOING] = {FM_TASK_DOING, -1},
        [FM_TASK_BLOCKED] = {FM_TASK_BLOCKED, -1},
        [FM_TASK_REVIEW] = {FM_TASK_DOING, FM_TASK_REVIEW, -1},
        [FM_TASK_DONE] = {FM_TASK_DOING, FM_TASK_DONE, -1},
        [FM_TASK_CANCELLED] = {FM_TASK_CANCELLED, -1}};
    size_t n_legal = 0;
    for (int from = 0; from < FM_TASK_STATUS_N; from++) {
        for (int to = 0; to < FM_TASK_STATUS_N; to++) {
            fm_id id = add_task(t, 0);
            for (int k = 0; path[from][k] >= 0 && k < 3; k++)
                assert_int_equal(fm_task_move(t->s, "test", t->company, id, path[from][k], NULL,
                                              &t->err), FM_OK);
            char pair[32];
            snprintf(pair, sizeof pair, "%s>%s", fm_task_status_name(from),
                     fm_task_status_name(to));
            bool want = false;
            for (size_t i = 0; i < sizeof legal / sizeof legal[0]; i++)
                want = want || strcmp(legal[i], pair) == 0;
            n_legal += want;
            int rc = fm_task_move(t->s, "test", t->company, id, to, NULL, &t->err);
            assert_int_equal(rc, want ? FM_OK : FM_ETRANSITION);
            fm_task got;
            assert_int_equal(t->s->ops->task_get(t->s, id, &got, &t->err), FM_OK);
            assert_int_equal(got.status, want ? to : from);
            fm_task_release(&got);
        }
    }
    assert_int_equal(n_legal, sizeof legal / sizeof legal[0]);
    tdb_free(t);
}

static void illegal_move_says_what_is_legal(void **state)
{
    tdb *t = tdb_new(true);
    fm_id id = add_task(t, 0);
    assert_int_equal(fm_task_move(t->s, "test", t->company, id, FM_TASK_DONE, NULL, &t->err),
                     FM_ETRANSITION);
    char want[160];
    snprintf(want, sizeof want, "task %lld cannot move from todo to done (from todo it can go to: "
                                "doing, blocked, cancelled)", (long long)id);
    assert_string_equal(t->err.msg, want);
    tdb_free(t);
}

static void tasks_stay_inside_their_company(void **state)
{
    tdb *t = tdb_new(true);
    fm_id ceo;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    fm_id id = add_task(t, ceo);
    assert_int_equal(fm_task_move(t->s, "test", t->company + 1, id, FM_TASK_DOING, NULL, &t->err),
                     FM_ENOTFOUND);
    assert_int_equal(fm_task_assign(t->s, "test", t->company, id, 999, &t->err), FM_ENOTFOUND);
    assert_int_equal(fm_agent_fire(t->s, "test", t->company, "ceo", &t->err), FM_OK);
    assert_int_equal(fm_task_assign(t->s, "test", t->company, id, ceo, &t->err), FM_EINVAL);
    assert_non_null(strstr(t->err.msg, "has been fired"));
    tdb_free(t);
}

/* A long title names the comment thread cut at 60 bytes, but never inside a
 * character: the subject stays valid UTF-8, so the API can show it. */
static void a_comment_thread_subject_cuts_the_title_between_characters(void **state)
{
    tdb *t = tdb_new(true);
    fm_task task;
    memset(&task, 0, sizeof task);
    task.company_id = t->company;
    /* "x" then 2-byte characters: byte 60 falls inside one. */
    fm_buf b = FM_BUF_INIT;
    fm_buf_addf(&b, "x");
    for (int i = 0; i < 40; i++)
        fm_buf_addf(&b, "\xc3\xa9");
    task.title = fm_buf_detach(&b);
    assert_int_equal(fm_task_add(t->s, "test", &task, &t->err), FM_OK);
    assert_int_equal(fm_task_comment(t->s, "member:ana", t->company, task.id, "hi", NULL, &t->err),
                     FM_OK);
    fm_id th;
    fm_thread one;
    assert_int_equal(t->s->ops->thread_of_task(t->s, t->company, task.id, &th, &t->err), FM_OK);
    assert_int_equal(t->s->ops->thread_get(t->s, th, &one, &t->err), FM_OK);
    assert_true(fm_utf8_valid(one.subject, strlen(one.subject), NULL));
    char *want = fm_xasprintf("task %lld: %.59s", (long long)task.id, task.title);
    assert_string_equal(one.subject, want);
    free(want);
    fm_thread_release(&one);
    fm_task_release(&task);
    tdb_free(t);
}

static void firing_moves_reports_up(void **state)
{
    tdb *t = tdb_new(true);
    fm_id ceo;
    assert_int_equal(tdb_hire(t, "ceo", "ana", &ceo), FM_OK);
    assert_int_equal(tdb_hire(t, "cto", "ceo", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "dev1", "cto", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "dev2", "cto", NULL), FM_OK);
    assert_int_equal(fm_agent_fire(t->s, "test", t->company, "cto", &t->err), FM_OK);
    fm_agent a = get(t, "dev2");
    assert_int_equal(a.manager_agent, ceo);
    fm_agent_release(&a);
    a = get(t, "cto");
    assert_int_equal(a.status, FM_AGENT_FIRED);
    fm_agent_release(&a);
    assert_int_equal(fm_agent_fire(t->s, "test", t->company, "cto", &t->err), FM_EINVAL);
    /* The CEO now reports to ana; firing it moves dev1 under ana. */
    assert_int_equal(fm_agent_fire(t->s, "test", t->company, "ceo", &t->err), FM_OK);
    a = get(t, "dev1");
    assert_int_equal(a.manager_agent, 0);
    assert_int_equal(a.manager_member, 1);
    fm_agent_release(&a);
    tdb_free(t);
}

static void pause_team_reaches_the_whole_subtree(void **state)
{
    tdb *t = tdb_new(true);
    assert_int_equal(tdb_hire(t, "ceo", "ana", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "cto", "ceo", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "dev", "cto", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "intern", "dev", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "cmo", "ceo", NULL), FM_OK);
    size_t n;
    assert_int_equal(fm_agent_set_status(t->s, "test", t->company, "cto", true, FM_AGENT_PAUSED,
                                         &n, &t->err), FM_OK);
    assert_int_equal(n, 3);
    const char *paused[] = {"cto", "dev", "intern"}, *active[] = {"ceo", "cmo"};
    for (int i = 0; i < 3; i++) {
        fm_agent a = get(t, paused[i]);
        assert_int_equal(a.status, FM_AGENT_PAUSED);
        fm_agent_release(&a);
    }
    for (int i = 0; i < 2; i++) {
        fm_agent a = get(t, active[i]);
        assert_int_equal(a.status, FM_AGENT_ACTIVE);
        fm_agent_release(&a);
    }
    assert_int_equal(fm_agent_set_status(t->s, "test", t->company, NULL, false, FM_AGENT_ACTIVE,
                                         &n, &t->err), FM_OK);
    assert_int_equal(n, 3);
    assert_int_equal(fm_agent_set_status(t->s, "test", t->company, NULL, false, FM_AGENT_PAUSED,
                                         &n, &t->err), FM_OK);
    assert_int_equal(n, 5);
    tdb_free(t);
}

static void every_change_is_audited_with_its_actor(void **state)
{
    tdb *t = tdb_new(true);
    int64_t before, after;
    unsigned char h[FM_HASH_BYTES];
    t->s->ops->audit_head(t->s, t->company, &before, h, &t->err);
    assert_int_equal(tdb_hire(t, "ceo", "ana", NULL), FM_OK);
    fm_id id = add_task(t, 0);
    assert_int_equal(fm_task_move(t->s, "member:ana", t->company, id, FM_TASK_DOING, "x",
                                  &t->err), FM_OK);
    t->s->ops->audit_head(t->s, t->company, &after, h, &t->err);
    assert_int_equal(after, before + 3);
    tdb_free(t);
}

static void export_then_import_gives_the_same_company(void **state)
{
    tdb *t = tdb_new(true);
    assert_int_equal(tdb_hire(t, "ceo", "ana", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "cto", "ceo", NULL), FM_OK);
    assert_int_equal(tdb_hire(t, "gone", "ceo", NULL), FM_OK);
    assert_int_equal(fm_agent_fire(t->s, "test", t->company, "gone", &t->err), FM_OK);
    fm_goal g;
    memset(&g, 0, sizeof g);
    g.company_id = t->company;
    g.title = fm_xstrdup("Grow");
    assert_int_equal(fm_goal_add(t->s, "test", &g, &t->err), FM_OK);
    fm_goal sub = {.company_id = t->company, .parent_id = g.id, .title = fm_xstrdup("Sub")};
    assert_int_equal(fm_goal_add(t->s, "test", &sub, &t->err), FM_OK);
    fm_company_spec spec, again;
    assert_int_equal(fm_company_export(t->s, t->company, &spec, &t->err), FM_OK);
    assert_int_equal(spec.n_agents, 2); /* the fired agent is left out */
    assert_string_equal(spec.agents[0].agent.handle, "ceo");
    assert_string_equal(spec.agents[0].manager_handle, "ana");
    assert_string_equal(spec.agents[1].manager_handle, "ceo");
    assert_int_equal(spec.n_goals, 2);
    assert_int_equal(spec.goals[1].parent, 0);
    fm_id copy;
    assert_int_equal(fm_company_import(t->s, "test", &spec, "acme2", &copy, &t->err), FM_OK);
    assert_int_equal(fm_company_export(t->s, copy, &again, &t->err), FM_OK);
    assert_string_equal(again.company.name, "acme2");
    assert_int_equal(again.n_agents, spec.n_agents);
    for (size_t i = 0; i < spec.n_agents; i++) {
        assert_string_equal(again.agents[i].agent.handle, spec.agents[i].agent.handle);
        assert_string_equal(again.agents[i].manager_handle, spec.agents[i].manager_handle);
        assert_int_equal(again.agents[i].agent.budget.usd_micro,
                         spec.agents[i].agent.budget.usd_micro);
    }
    assert_int_equal(again.n_goals, 2);
    /* An agent under an agent is written twice by import; it keeps its times. */
    fm_agent imported;
    assert_int_equal(t->s->ops->agent_find(t->s, copy, "cto", &imported, &t->err), FM_OK);
    assert_true(imported.created_at > 0);
    assert_true(imported.updated_at >= imported.created_at);
    fm_agent_release(&imported);
    assert_int_equal(fm_company_import(t->s, "test", &spec, NULL, &copy, &t->err), FM_EEXIST);
    fm_spec_release(&spec);
    fm_spec_release(&again);
    fm_goal_release(&g);
    fm_goal_release(&sub);
    tdb_free(t);
}

/* ---- timers ------------------------------------------------------------------------ */

static int64_t timer_of(tdb *t, const char *handle)
{
    fm_agent a = get(t, handle);
    int64_t next = a.next_timer_at;
    fm_agent_release(&a);
    return next;
}

static void hire_edit_pause_resume_and_fire_keep_the_timer(void **state)
{
    tdb *t = tdb_new(true);
    assert_int_equal(tdb_hire(t, "ceo", "ana", NULL), FM_OK);
    assert_int_equal(timer_of(t, "ceo"), 0); /* no schedule, no timer */
    fm_agent a;
    memset(&a, 0, sizeof a);
    a.company_id = t->company;
    a.handle = fm_xstrdup("ops");
    a.title = fm_xstrdup("Operations");
    a.schedule.heartbeat_s = 3600;
    int64_t t0 = fm_now_us();
    assert_int_equal(fm_agent_hire(t->s, "test", &a, "ceo", &t->err), FM_OK);
    fm_agent_release(&a);
    int64_t hired = timer_of(t, "ops");
    assert_true(hired >= t0 + 3600LL * 1000000 && hired <= fm_now_us() + 3600LL * 1000000);
    /* An edit that is not about the schedule keeps it. */
    a = get(t, "ops");
    free(a.title);
    a.title = fm_xstrdup("Ops");
    assert_int_equal(fm_agent_update(t->s, "test", &a, NULL, &t->err), FM_OK);
    assert_int_equal(timer_of(t, "ops"), hired);
    /* A cron line makes it the earlier of the two; removing both clears it. */
    a.schedule.cron = fm_xstrdup("* * * * *");
    t0 = fm_now_us();
    assert_int_equal(fm_agent_update(t->s, "test", &a, NULL, &t->err), FM_OK);
    int64_t minutely = timer_of(t, "ops");
    assert_true(minutely > t0 && minutely <= t0 + 60LL * 1000000);
    assert_int_equal(minutely % 60000000, 0);
    free(a.schedule.cron);
    a.schedule.cron = NULL;
    a.schedule.heartbeat_s = 0;
    assert_int_equal(fm_agent_update(t->s, "test", &a, NULL, &t->err), FM_OK);
    assert_int_equal(timer_of(t, "ops"), 0);
    a.schedule.heartbeat_s = 60;
    assert_int_equal(fm_agent_update(t->s, "test", &a, NULL, &t->err), FM_OK);
    fm_agent_release(&a);
    assert_true(timer_of(t, "ops") > 0);
    /* Pausing the team clears it; resuming re-arms it from then. */
    size_t n;
    assert_int_equal(fm_agent_set_status(t->s, "test", t->company, "ceo", true, FM_AGENT_PAUSED,
                                         &n, &t->err), FM_OK);
    assert_int_equal(timer_of(t, "ops"), 0);
    t0 = fm_now_us();
    assert_int_equal(fm_agent_set_status(t->s, "test", t->company, "ops", false, FM_AGENT_ACTIVE,
                                         &n, &t->err), FM_OK);
    assert_true(timer_of(t, "ops") >= t0 + 60LL * 1000000);
    /* Firing clears it for good. */
    assert_int_equal(fm_agent_fire(t->s, "test", t->company, "ops", &t->err), FM_OK);
    assert_int_equal(timer_of(t, "ops"), 0);
    tdb_free(t);
}

static void an_imported_company_has_its_timers(void **state)
{
    tdb *t = tdb_new(false);
    const char *src = getenv("FIRMA_SRC");
    char *dir = fm_xasprintf("%s/examples/solo-startup", src ? src : ".");
    fm_company_spec spec;
    assert_int_equal(fm_spec_read_dir(dir, &spec, &t->err), FM_OK);
    int64_t t0 = fm_now_us();
    assert_int_equal(fm_company_import(t->s, "test", &spec, NULL, &t->company, &t->err), FM_OK);
    fm_spec_release(&spec);
    free(dir);
    /* ceo: heartbeat 4h; cto: cron "0 9 * * 1-5" (reports to the ceo: written twice). */
    int64_t ceo = timer_of(t, "ceo"), cto = timer_of(t, "cto");
    assert_true(ceo >= t0 + 4 * 3600LL * 1000000 && ceo <= fm_now_us() + 4 * 3600LL * 1000000);
    assert_true(cto > t0 && cto <= t0 + 4 * 86400LL * 1000000);
    assert_int_equal(cto % (86400LL * 1000000), 9 * 3600LL * 1000000);
    tdb_free(t);
}

static void due_timers_fire_in_batches(void **state)
{
    tdb *t = tdb_new(true);
    assert_int_equal(tdb_hire(t, "ceo", "ana", NULL), FM_OK);
    for (int i = 0; i < 5; i++) {
        fm_agent a;
        memset(&a, 0, sizeof a);
        a.company_id = t->company;
        a.handle = fm_xasprintf("w%d", i);
        a.title = fm_xstrdup("Worker");
        a.schedule.heartbeat_s = 60 + i; /* w0 is due first */
        assert_int_equal(fm_agent_hire(t->s, "test", &a, "ceo", &t->err), FM_OK);
        fm_agent_release(&a);
    }
    int64_t seq0, seq1;
    unsigned char h[FM_HASH_BYTES];
    t->s->ops->audit_head(t->s, t->company, &seq0, h, &t->err);
    size_t fired, woke;
    int64_t now = fm_now_us();
    assert_int_equal(fm_timers_fire(t->s, now, 0, &fired, &woke, &t->err), FM_OK);
    assert_int_equal(fired, 0); /* none due yet */
    now += 120LL * 1000000;
    assert_int_equal(fm_timers_fire(t->s, now, 3, &fired, &woke, &t->err), FM_OK);
    assert_int_equal(fired, 3);
    assert_int_equal(woke, 3);
    assert_true(timer_of(t, "w0") > now && timer_of(t, "w2") > now);
    assert_true(timer_of(t, "w3") < now); /* beyond the batch: still due */
    assert_int_equal(fm_timers_fire(t->s, now, 3, &fired, &woke, &t->err), FM_OK);
    assert_int_equal(fired, 2);
    fm_wake *v;
    size_t n;
    assert_int_equal(t->s->ops->wake_ready(t->s, now, 0, &v, &n, &t->err), FM_OK);
    assert_int_equal(n, 5); /* one wake each, ready to run */
    fm_wake_list_free(v, n);
    t->s->ops->audit_head(t->s, t->company, &seq1, h, &t->err);
    assert_int_equal(seq1, seq0); /* timers are no one's action: not audited */
    tdb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hire_builds_the_tree),
        cmocka_unit_test(org_rules_refuse_bad_managers),
        cmocka_unit_test(manager_in_another_company_is_refused),
        cmocka_unit_test(a_company_has_one_owner),
        cmocka_unit_test(status_machine_allows_only_legal_moves),
        cmocka_unit_test(illegal_move_says_what_is_legal),
        cmocka_unit_test(tasks_stay_inside_their_company),
        cmocka_unit_test(a_comment_thread_subject_cuts_the_title_between_characters),
        cmocka_unit_test(firing_moves_reports_up),
        cmocka_unit_test(pause_team_reaches_the_whole_subtree),
        cmocka_unit_test(every_change_is_audited_with_its_actor),
        cmocka_unit_test(export_then_import_gives_the_same_company),
        cmocka_unit_test(hire_edit_pause_resume_and_fire_keep_the_timer),
        cmocka_unit_test(an_imported_company_has_its_timers),
        cmocka_unit_test(due_timers_fire_in_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
