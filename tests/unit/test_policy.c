/* governance/policy: grants x autonomy x taint -> allow / ask / deny, and glob patterns. */
#include "firma/policy.h"
#include "helpers.h"

static fm_grant grant(const char *tool, fm_ceiling c, const char *on1, const char *on2)
{
    fm_grant g = {.tool = (char *)tool, .ceiling = c};
    static char *pool[64][2];
    static int used;
    if (on1) {
        char **v = pool[used++ % 64];
        v[0] = (char *)on1;
        v[1] = (char *)on2;
        g.on = v;
        g.n_on = on2 ? 2 : 1;
    }
    return g;
}

typedef struct world {
    fm_agent agent;
    fm_policies company;
    fm_grant grants[8];
} world;

/* A CTO-like agent: reads src, writes src, asks for git, may message in-house. */
static void world_init(world *w, int autonomy)
{
    memset(w, 0, sizeof *w);
    w->grants[0] = grant("read_file", FM_CEIL_ALLOW, "src/**", "docs/*");
    w->grants[1] = grant("write_file", FM_CEIL_ALLOW, "src/**", NULL);
    w->grants[2] = grant("exec", FM_CEIL_ASK, "git *", "make test");
    w->grants[3] = grant("exec", FM_CEIL_DENY, "git push*", NULL);
    w->grants[4] = grant("message", FM_CEIL_ALLOW, "agent:*", "customer:*");
    w->grants[5] = grant("http_fetch", FM_CEIL_ALLOW, "*.python.org", NULL);
    w->grants[6] = grant("mcp:github/any", FM_CEIL_ALLOW, NULL, NULL);
    w->grants[7] = grant("delegate", FM_CEIL_ALLOW, NULL, NULL);
    w->agent.handle = "cto";
    w->agent.grants = w->grants;
    w->agent.n_grants = 8;
    w->agent.autonomy = autonomy;
    w->company.max_autonomy = 2;
    w->company.tainted = FM_CEIL_ASK;
}

static fm_ceiling decide(world *w, const char *tool, const char *res, bool tainted, char *why)
{
    fm_policy_query q = {.agent = &w->agent, .company = &w->company, .tool = tool,
                         .resource = res, .tainted = tainted};
    fm_policy_result r;
    fm_policy_decide(&q, &r);
    if (why)
        memcpy(why, r.why, sizeof r.why);
    return r.decision;
}

static void no_grant_no_tool(void **state)
{
    world w;
    world_init(&w, 2);
    char why[256];
    assert_int_equal(decide(&w, "hire", NULL, false, why), FM_CEIL_DENY);
    assert_string_equal(why, "@cto has no grant for the tool hire");
    assert_int_equal(decide(&w, "read_file", "etc/passwd", false, why), FM_CEIL_DENY);
    assert_string_equal(why, "@cto's grants for read_file do not cover etc/passwd");
    assert_int_equal(decide(&w, "http_fetch", "evil.example.com", false, NULL), FM_CEIL_DENY);
    assert_int_equal(decide(&w, "mcp:jira/create", NULL, false, NULL), FM_CEIL_DENY);
}

static void grants_allow_ask_and_deny_wins(void **state)
{
    world w;
    world_init(&w, 2);
    char why[256];
    assert_int_equal(decide(&w, "read_file", "src/core/a.c", false, NULL), FM_CEIL_ALLOW);
    assert_int_equal(decide(&w, "read_file", "docs/x.md", false, NULL), FM_CEIL_ALLOW);
    assert_int_equal(decide(&w, "read_file", "docs/sub/x.md", false, NULL), FM_CEIL_DENY);
    assert_int_equal(decide(&w, "exec", "git status", false, NULL), FM_CEIL_ASK);
    assert_int_equal(decide(&w, "exec", "git push origin main", false, why), FM_CEIL_DENY);
    assert_string_equal(why, "a grant denies exec on git push origin main");
    assert_int_equal(decide(&w, "exec", "make test", false, NULL), FM_CEIL_ASK);
    assert_int_equal(decide(&w, "exec", "make install", false, NULL), FM_CEIL_DENY);
    assert_int_equal(decide(&w, "http_fetch", "docs.python.org", false, NULL), FM_CEIL_ALLOW);
    assert_int_equal(decide(&w, "mcp:github/create_issue", NULL, false, NULL), FM_CEIL_ALLOW);
}

static void company_policy_forces_asking(void **state)
{
    world w;
    world_init(&w, 2);
    char *ask_for[] = {"write_file"};
    w.company.ask_for = ask_for;
    w.company.n_ask_for = 1;
    char why[256];
    assert_int_equal(decide(&w, "write_file", "src/a.c", false, why), FM_CEIL_ASK);
    assert_string_equal(why, "company policy: write_file always needs approval");
    assert_int_equal(decide(&w, "read_file", "src/a.c", false, NULL), FM_CEIL_ALLOW);
}

static void autonomy_tightens_never_widens(void **state)
{
    world w;
    for (int level = 0; level <= 2; level++) {
        world_init(&w, level);
        fm_ceiling want_write = level == 0 ? FM_CEIL_ASK : FM_CEIL_ALLOW;
        fm_ceiling want_fetch = level == 2 ? FM_CEIL_ALLOW : FM_CEIL_ASK;
        fm_ceiling want_msg = level == 0 ? FM_CEIL_ASK : FM_CEIL_ALLOW;
        assert_int_equal(decide(&w, "write_file", "src/a.c", false, NULL), want_write);
        assert_int_equal(decide(&w, "http_fetch", "docs.python.org", false, NULL), want_fetch);
        assert_int_equal(decide(&w, "message", "agent:ceo", false, NULL), want_msg);
        assert_int_equal(decide(&w, "read_file", "src/a.c", false, NULL), FM_CEIL_ALLOW);
        /* A deny stays a deny at every level. */
        assert_int_equal(decide(&w, "exec", "git push x", false, NULL), FM_CEIL_DENY);
    }
    /* The company's cap lowers an agent's level. */
    world_init(&w, 2);
    w.company.max_autonomy = 1;
    assert_int_equal(decide(&w, "http_fetch", "docs.python.org", false, NULL), FM_CEIL_ASK);
}

static void taint_cannot_drive_privileged_tools(void **state)
{
    world w;
    world_init(&w, 2);
    char why[256];
    /* In-house messages stay allowed; outside recipients and risky tools do not. */
    assert_int_equal(decide(&w, "message", "agent:ceo", true, NULL), FM_CEIL_ALLOW);
    assert_int_equal(decide(&w, "message", "customer:x@y.z", true, why), FM_CEIL_ASK);
    assert_non_null(strstr(why, "content from outside the company"));
    assert_int_equal(decide(&w, "write_file", "src/a.c", true, NULL), FM_CEIL_ALLOW);
    assert_int_equal(decide(&w, "exec", "git status", true, NULL), FM_CEIL_ASK);
    assert_int_equal(decide(&w, "http_fetch", "docs.python.org", true, NULL), FM_CEIL_ASK);
    assert_int_equal(decide(&w, "read_file", "src/a.c", true, NULL), FM_CEIL_ALLOW);
    w.company.tainted = FM_CEIL_DENY;
    assert_int_equal(decide(&w, "message", "customer:x@y.z", true, NULL), FM_CEIL_DENY);
    assert_int_equal(decide(&w, "message", "customer:x@y.z", false, NULL), FM_CEIL_ALLOW);
}

static void hiring_always_asks(void **state)
{
    world w;
    world_init(&w, 2);
    w.grants[7] = grant("hire", FM_CEIL_ALLOW, NULL, NULL);
    assert_int_equal(decide(&w, "hire", NULL, false, NULL), FM_CEIL_ASK);
}

static void patterns(void **state)
{
    assert_true(fm_pattern_match("src/**", "src/a/b/c.c", true));
    assert_true(fm_pattern_match("src/*", "src/a.c", true));
    assert_false(fm_pattern_match("src/*", "src/a/b.c", true));
    assert_true(fm_pattern_match("**/x*", "a/xb/xc", true));
    assert_false(fm_pattern_match("src/?", "src//", true));
    assert_true(fm_pattern_match("git *", "git commit -m 'a/b'", false));
    assert_true(fm_pattern_match("*.example.com", "api.example.com", false));
    assert_false(fm_pattern_match("*.example.com", "example.com.evil.net", false));
    assert_true(fm_pattern_match("customer:*", "customer:x@y.z", false));
    assert_false(fm_pattern_match("make test", "make test; rm -rf /", false));
    assert_true(fm_pattern_match("", "", false));
    assert_false(fm_pattern_match("a", NULL, false));
    /* A pathological pair ends quickly (and denies) rather than hanging. */
    char text[4001];
    memset(text, 'a', 4000);
    text[4000] = '\0';
    assert_false(fm_pattern_match("*a*a*a*a*a*a*a*a*a*a*b", text, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_grant_no_tool),
        cmocka_unit_test(grants_allow_ask_and_deny_wins),
        cmocka_unit_test(company_policy_forces_asking),
        cmocka_unit_test(autonomy_tightens_never_widens),
        cmocka_unit_test(taint_cannot_drive_privileged_tools),
        cmocka_unit_test(hiring_always_asks),
        cmocka_unit_test(patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
