/*
 * Company files (src/core/files/): the example company parses to the values
 * written in it; read(write(s)) == s and write(read(write(s))) gives the
 * same bytes, for the example and for a spec full of awkward strings; every
 * case of the broken corpus (tests/data/broken/<case>/, expectations in
 * tests/data/broken/EXPECTED) fails with its exact message and code; the
 * embedded templates write and read back.
 *
 * The source tree is $FIRMA_SRC, else found from this binary's path
 * (build/<mode>/tests/test_files) or from __FILE__.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/files/internal.h"
#include "firma/base.h"
#include "firma/errors.h"
#include "firma/files.h"

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------- */

static bool is_source_tree(const char *root)
{
    char *p = fm_xasprintf("%s/tests/data/broken/EXPECTED", root);
    bool ok = access(p, R_OK) == 0;
    free(p);
    return ok;
}

/* The source tree's root; the caller frees it. */
static char *source_root(void)
{
    const char *env = getenv("FIRMA_SRC");
    if (env && *env)
        return fm_xstrdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 4; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = '\0';
            if (is_source_tree(exe))
                return fm_xstrdup(exe);
        }
    }
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s", __FILE__);
    char *unit = strstr(file, "tests/unit/");
    if (unit)
        *unit = '\0';
    return fm_xstrdup(unit && file[0] ? file : ".");
}

static char *src_path(const char *rel)
{
    char *root = source_root();
    char *p = fm_xasprintf("%s/%s", root, rel);
    free(root);
    return p;
}

static char *temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = fm_xasprintf("%s/firma-files-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(t));
    return t;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static void put_file(const char *dir, const char *rel, const char *text)
{
    char *p = fm_xasprintf("%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    assert_int_equal(fm__mkdir_p(p, NULL), FM_OK);
    *slash = '/';
    assert_int_equal(fm__write_file(p, text, strlen(text), NULL), FM_OK);
    free(p);
}

static char *slurp(const char *dir, const char *rel)
{
    char *p = fm_xasprintf("%s/%s", dir, rel);
    fm_buf b = FM_BUF_INIT;
    int rc = fm_buf_read_file(&b, p, FM__FILE_LIMIT);
    if (rc != FM_OK)
        fail_msg("cannot read %s", p);
    free(p);
    return fm_buf_detach(&b);
}

static void read_ok(const char *dir, fm_company_spec *s)
{
    fm_error err = {0};
    int rc = fm_spec_read_dir(dir, s, &err);
    if (rc != FM_OK)
        fail_msg("reading %s: %s", dir, fm_error_text(&err));
}

static void write_ok(const fm_company_spec *s, const char *dir)
{
    fm_error err = {0};
    int rc = fm_spec_write_dir(s, dir, &err);
    if (rc != FM_OK)
        fail_msg("writing %s: %s", dir, fm_error_text(&err));
}

static void same_str(const char *what, const char *a, const char *b)
{
    if (!a && !b)
        return;
    if (!a || !b || strcmp(a, b) != 0)
        fail_msg("%s differs: [%s] vs [%s]", what, a ? a : "(null)", b ? b : "(null)");
}

static void same_budget(const fm_budget *a, const fm_budget *b)
{
    assert_int_equal(a->usd_micro, b->usd_micro);
    assert_int_equal(a->tokens, b->tokens);
    assert_int_equal(a->period, b->period);
}

static void same_strv(const char *what, char **a, size_t na, char **b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        same_str(what, a[i], b[i]);
}

static void same_company(const fm_company *a, const fm_company *b)
{
    same_str("company name", a->name, b->name);
    same_str("company title", a->title, b->title);
    same_str("mission", a->mission, b->mission);
    same_budget(&a->budget, &b->budget);
    assert_int_equal(a->policies.max_autonomy, b->policies.max_autonomy);
    assert_int_equal(a->policies.tainted, b->policies.tainted);
    same_strv("ask_for", a->policies.ask_for, a->policies.n_ask_for, b->policies.ask_for,
              b->policies.n_ask_for);
}

static void same_member(const fm_member *a, const fm_member *b)
{
    same_str("member handle", a->handle, b->handle);
    same_str("member name", a->name, b->name);
    assert_int_equal(a->role, b->role);
    assert_int_equal(a->n_identities, b->n_identities);
    for (size_t i = 0; i < a->n_identities; i++) {
        same_str("channel", a->identities[i].channel, b->identities[i].channel);
        same_str("ident", a->identities[i].ident, b->identities[i].ident);
    }
}

static void same_goal(const fm_goal_spec *a, const fm_goal_spec *b)
{
    same_str("goal title", a->goal.title, b->goal.title);
    same_str("goal description", a->goal.description, b->goal.description);
    same_str("goal owner", a->owner_handle, b->owner_handle);
    assert_int_equal(a->goal.status, b->goal.status);
    assert_int_equal(a->parent, b->parent);
}

static void same_agent(const fm_agent_spec *x, const fm_agent_spec *y)
{
    const fm_agent *a = &x->agent, *b = &y->agent;
    same_str("agent handle", a->handle, b->handle);
    same_str("agent title", a->title, b->title);
    same_str("manager", x->manager_handle, y->manager_handle);
    assert_int_equal(a->kind, b->kind);
    same_str("model", a->model, b->model);
    same_str("command", a->command, b->command);
    assert_int_equal(a->autonomy, b->autonomy);
    assert_int_equal(a->status, b->status);
    same_budget(&a->budget, &b->budget);
    assert_int_equal(a->schedule.heartbeat_s, b->schedule.heartbeat_s);
    same_str("cron", a->schedule.cron, b->schedule.cron);
    same_str("instructions", a->instructions, b->instructions);
    assert_int_equal(a->n_grants, b->n_grants);
    for (size_t i = 0; i < a->n_grants; i++) {
        same_str("grant tool", a->grants[i].tool, b->grants[i].tool);
        same_strv("grant on", a->grants[i].on, a->grants[i].n_on, b->grants[i].on,
                  b->grants[i].n_on);
        assert_int_equal(a->grants[i].ceiling, b->grants[i].ceiling);
    }
}

static void same_spec(const fm_company_spec *a, const fm_company_spec *b)
{
    same_company(&a->company, &b->company);
    assert_int_equal(a->n_members, b->n_members);
    for (size_t i = 0; i < a->n_members; i++)
        same_member(&a->members[i], &b->members[i]);
    assert_int_equal(a->n_goals, b->n_goals);
    for (size_t i = 0; i < a->n_goals; i++)
        same_goal(&a->goals[i], &b->goals[i]);
    assert_int_equal(a->n_agents, b->n_agents);
    for (size_t i = 0; i < a->n_agents; i++)
        same_agent(&a->agents[i], &b->agents[i]);
}

/* The files of a written company, to compare two writes byte for byte. */
static void same_files(const char *d1, const char *d2, const fm_company_spec *s)
{
    const char *rels[64];
    size_t n = 0;
    rels[n++] = "company.yaml";
    char *owned[64];
    for (size_t i = 0; i < s->n_agents && n < 64; i++)
        rels[n++] = owned[i] = fm_xasprintf("agents/%s.md", s->agents[i].agent.handle);
    for (size_t i = 0; i < n; i++) {
        char *a = slurp(d1, rels[i]), *b = slurp(d2, rels[i]);
        if (strcmp(a, b) != 0)
            fail_msg("%s differs between writes:\n%s\n---- vs ----\n%s", rels[i], a, b);
        free(a);
        free(b);
    }
    for (size_t i = 0; i + 1 < n; i++)
        free(owned[i]);
}

/* read(write(s)) == s and write(read(write(s))) is byte-identical. */
static void round_trip(const fm_company_spec *s)
{
    char *d1 = temp_dir(), *d2 = temp_dir();
    write_ok(s, d1);
    fm_company_spec back;
    read_ok(d1, &back);
    same_spec(s, &back);
    write_ok(&back, d2);
    same_files(d1, d2, s);
    fm_spec_release(&back);
    remove_tree(d1);
    remove_tree(d2);
}

static const fm_agent_spec *agent_named(const fm_company_spec *s, const char *h)
{
    for (size_t i = 0; i < s->n_agents; i++)
        if (strcmp(s->agents[i].agent.handle, h) == 0)
            return &s->agents[i];
    fail_msg("no agent %s", h);
    return NULL;
}

/* ---- the example company --------------------------------------------------------- */

static void example_company(void **state)
{
    (void)state;
    char *dir = src_path("examples/solo-startup");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_string_equal(s.company.name, "solo-startup");
    assert_string_equal(s.company.title, "Pingwell");
    assert_non_null(strstr(s.company.mission, "uptime monitor"));
    assert_int_equal(s.company.mission[strlen(s.company.mission) - 1], '\n');
    assert_int_equal(s.company.budget.usd_micro, 300000000);
    assert_int_equal(s.company.budget.period, FM_PERIOD_MONTH);
    assert_int_equal(s.company.policies.max_autonomy, 2);
    assert_int_equal(s.company.policies.n_ask_for, 2);
    assert_string_equal(s.company.policies.ask_for[0], "exec");
    assert_string_equal(s.company.policies.ask_for[1], "hire");
    assert_int_equal(s.company.policies.tainted, FM_CEIL_ASK);
    fm_spec_release(&s);
    free(dir);
}

static void example_members_and_goals(void **state)
{
    (void)state;
    char *dir = src_path("examples/solo-startup");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_int_equal(s.n_members, 1);
    assert_string_equal(s.members[0].handle, "ana");
    assert_string_equal(s.members[0].name, "Ana Ruiz");
    assert_int_equal(s.members[0].role, FM_ROLE_OWNER);
    assert_int_equal(s.members[0].n_identities, 2);
    assert_string_equal(s.members[0].identities[0].channel, "telegram");
    assert_string_equal(s.members[0].identities[0].ident, "123456789");
    assert_string_equal(s.members[0].identities[1].channel, "email");
    assert_string_equal(s.members[0].identities[1].ident, "ana@example.com");
    assert_true(s.n_goals >= 8);
    assert_int_equal(s.goals[0].parent, -1);
    assert_string_equal(s.goals[0].owner_handle, "ceo");
    assert_int_equal(s.goals[1].parent, 0);
    for (size_t i = 0; i < s.n_goals; i++) {
        assert_true(s.goals[i].parent < (int)i);
        if (strcmp(s.goals[i].goal.title, "Certificate expiry alerts") == 0)
            assert_int_equal(s.goals[i].goal.status, FM_GOAL_ACHIEVED);
    }
    fm_spec_release(&s);
    free(dir);
}

static void example_agents(void **state)
{
    (void)state;
    char *dir = src_path("examples/solo-startup");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_int_equal(s.n_agents, 4);
    const char *order[] = {"ceo", "cto", "marketing", "support"};
    int64_t total = 0;
    for (size_t i = 0; i < 4; i++) {
        const fm_agent *a = &s.agents[i].agent;
        assert_string_equal(a->handle, order[i]);
        assert_string_equal(s.agents[i].manager_handle, i == 0 ? "ana" : "ceo");
        assert_string_equal(a->model, "sim");
        assert_int_equal(a->kind, FM_AGENT_LLM);
        assert_int_equal(a->status, FM_AGENT_ACTIVE);
        assert_true(a->n_grants >= 5);
        assert_true(strlen(a->instructions) > 600);
        assert_true(strstr(a->instructions, "\n\n") != NULL); /* several paragraphs */
        total += a->budget.usd_micro;
    }
    assert_true(total > 0 && total < s.company.budget.usd_micro);
    const fm_agent *ceo = &agent_named(&s, "ceo")->agent;
    assert_int_equal(ceo->autonomy, 2);
    assert_int_equal(ceo->schedule.heartbeat_s, 4 * 3600);
    assert_int_equal(ceo->budget.usd_micro, 80000000);
    assert_int_equal(ceo->budget.tokens, 4000000);
    assert_string_equal(ceo->grants[ceo->n_grants - 1].tool, "hire");
    assert_int_equal(ceo->grants[ceo->n_grants - 1].ceiling, FM_CEIL_ASK);
    assert_memory_equal(ceo->instructions, "You are the CEO", 15);
    const fm_agent *cto = &agent_named(&s, "cto")->agent;
    assert_int_equal(cto->autonomy, 1);
    bool exec_ask = false;
    for (size_t i = 0; i < cto->n_grants; i++)
        if (strcmp(cto->grants[i].tool, "exec") == 0)
            exec_ask = cto->grants[i].ceiling == FM_CEIL_ASK && cto->grants[i].n_on == 2 &&
                       strcmp(cto->grants[i].on[0], "git *") == 0;
    assert_true(exec_ask);
    const fm_agent *support = &agent_named(&s, "support")->agent;
    assert_string_equal(support->schedule.cron, "*/30 8-18 * * 1-5");
    assert_string_equal(support->grants[0].on[0], "customer:*");
    assert_int_equal(support->autonomy, 1);
    fm_spec_release(&s);
    free(dir);
}

static void example_round_trip(void **state)
{
    (void)state;
    char *dir = src_path("examples/solo-startup");
    fm_company_spec s;
    read_ok(dir, &s);
    round_trip(&s);
    fm_spec_release(&s);
    free(dir);
}

/* ---- awkward strings ----------------------------------------------------------------- */

#define LONG "The quick brown fox jumps over the lazy dog while the company keeps running."
#define PARA LONG " " LONG
#define LONG_WORD "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
static const char *const awkward[] = {
    "", "yes", "No", "null", "~", "123", "0x1F", "1e3", "-5", "3.14", "true",
    "a: b", "a #b", "#hash", "  leading spaces", "trailing space ", "tab\there",
    "quote \" inside", "back\\slash", "'single'", "- dash", "[x]", "{y}", "*star", "&amp",
    "!tag", "%pct", "@at", "`tick", "a,b", "ends with colon:", "ünïcödé ✓ 日本", "é",
    "line\nbreak", "ends with newline\n", "two newlines\n\n", "\nstarts with newline",
    "a\n  indented\nb\n", "blank line\n\nin the middle", "spaces only line\n   \nx",
    "ctrl\x01char", "del\x7f", "nel\xc2\x85x", "ls\xe2\x80\xa8x", "bom\xef\xbb\xbfx", "|",
    ">", "---", "...", "? q", "x\r\ny", "tabs\n\tindented\n", "mcp:server/tool", "https://x.y/z?a=b",
    PARA "\n", PARA "\n\n" PARA, PARA "\n\n\n" PARA "\n\n", PARA "  double  spaces  " PARA "\nx",
    "short\n" PARA " " PARA, PARA " \n" PARA, "nobreakpoint" LONG_WORD "\n" LONG_WORD " z\n",
    NULL,
};

static char *dup_or_null(const char *s)
{
    return s ? fm_xstrdup(s) : NULL;
}

static char **strv(size_t n, const char *const *v)
{
    char **out = fm_xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = fm_xstrdup(v[i]);
    return out;
}

static void awkward_company(fm_company_spec *s, size_t n)
{
    memset(s, 0, sizeof *s);
    fm_company_init(&s->company);
    s->company.name = fm_xstrdup("yes");
    s->company.title = fm_xstrdup(awkward[0]);
    s->company.mission = fm_xstrdup("Mission: \"make\" #1\nsecond line\n\n");
    s->company.budget = (fm_budget){1, 7, FM_PERIOD_TOTAL};
    s->company.policies.max_autonomy = 1;
    s->company.policies.tainted = FM_CEIL_DENY;
    const char *tools[] = {"exec", "mcp:github/create_issue", "hire"};
    s->company.policies.ask_for = strv(3, tools);
    s->company.policies.n_ask_for = 3;
    s->n_members = 2;
    s->members = fm_xcalloc(2, sizeof *s->members);
    s->members[0].handle = fm_xstrdup("on");
    s->members[0].role = FM_ROLE_OWNER;
    s->members[1].handle = fm_xstrdup("bob");
    s->members[1].name = fm_xstrdup("Bob \"the\" Builder: #2");
    s->members[1].role = FM_ROLE_VIEWER;
    s->members[1].identities = fm_xcalloc(n, sizeof(fm_identity));
    s->members[1].n_identities = n;
    for (size_t i = 0; i < n; i++) {
        s->members[1].identities[i].channel = fm_xasprintf("c%zu", i);
        s->members[1].identities[i].ident = fm_xstrdup(awkward[i]);
    }
}

static void awkward_goals(fm_company_spec *s, size_t n)
{
    s->n_goals = n;
    s->goals = fm_xcalloc(n, sizeof *s->goals);
    for (size_t i = 0; i < n; i++) {
        fm_goal_spec *g = &s->goals[i];
        /* Depth-first order: a top goal, its child, the child's sibling ... */
        g->parent = i % 3 == 0 ? -1 : i % 3 == 1 ? (int)i - 1 : s->goals[i - 1].parent;
        g->goal.title = awkward[i][0] ? fm_xstrdup(awkward[i]) : fm_xstrdup("t");
        g->goal.description = i % 3 ? fm_xstrdup(awkward[n - 1 - i]) : NULL;
        g->goal.status = (fm_goal_status)(i % 3);
        g->owner_handle = i % 2 ? fm_xstrdup("no") : NULL;
    }
}

static void awkward_agents(fm_company_spec *s, size_t n)
{
    s->n_agents = 2;
    s->agents = fm_xcalloc(2, sizeof *s->agents);
    fm_agent *a = &s->agents[0].agent;
    a->handle = fm_xstrdup("no");
    s->agents[0].manager_handle = fm_xstrdup("on");
    a->title = fm_xstrdup("  CEO: \"chief\" # one");
    a->model = fm_xstrdup("openai:gpt-4o-mini");
    a->autonomy = 0;
    a->status = FM_AGENT_PAUSED;
    a->budget = (fm_budget){40123456, 2000000, FM_PERIOD_WEEK};
    a->schedule = (fm_schedule){5400, fm_xstrdup("*/15 0-23/2 1,15 1-12 0-7")};
    a->instructions = fm_xstrdup("  Indented first line\n---\nnot a delimiter\n\n# heading  \n");
    a->n_grants = 2;
    a->grants = fm_xcalloc(2, sizeof *a->grants);
    /* Patterns may not be empty: skip awkward[0], "". */
    a->grants[0] = (fm_grant){fm_xstrdup("exec"), strv(n - 1, awkward + 1), n - 1, FM_CEIL_ASK};
    a->grants[1] = (fm_grant){fm_xstrdup("mcp:fs/read"), NULL, 0, FM_CEIL_DENY};
    fm_agent *b = &s->agents[1].agent;
    b->handle = fm_xstrdup("worker");
    s->agents[1].manager_handle = fm_xstrdup("no");
    b->title = fm_xstrdup("Worker\nwith a two-line title");
    b->kind = FM_AGENT_PROCESS;
    b->command = fm_xstrdup("./bin/worker --flag \"x y\" # not a comment");
    b->autonomy = 1;
}

static void awkward_round_trip(void **state)
{
    (void)state;
    size_t n = 0;
    while (awkward[n])
        n++;
    fm_company_spec s;
    awkward_company(&s, n);
    awkward_goals(&s, n);
    awkward_agents(&s, n);
    fm_error err = {0};
    if (fm_spec_validate(&s, &err) != FM_OK)
        fail_msg("awkward spec invalid: %s", fm_error_text(&err));
    round_trip(&s);
    fm_spec_release(&s);
}

/* Each awkward string as a company's mission, alone, through files. */
static void awkward_scalars_one_by_one(void **state)
{
    (void)state;
    for (size_t i = 0; awkward[i]; i++) {
        fm_company_spec s;
        awkward_company(&s, 0);
        free(s.company.mission);
        s.company.mission = fm_xstrdup(awkward[i]);
        free(s.members[1].name);
        s.members[1].name = fm_xstrdup(awkward[i]);
        round_trip(&s);
        fm_spec_release(&s);
    }
}

/* ---- the canonical form ------------------------------------------------------------ */

static void emitted(const char *s, bool flow, const char *want)
{
    fm_buf b = FM_BUF_INIT;
    if (flow)
        fm__emit_flow_text(&b, s);
    else
        fm__emit_text(&b, s, 0);
    if (strcmp(b.ptr, want) != 0)
        fail_msg("emit [%s]: got [%s], want [%s]", s, b.ptr, want);
    fm_buf_release(&b);
}

static void canonical_scalars(void **state)
{
    (void)state;
    emitted("Ana Ruiz", false, "Ana Ruiz\n");
    emitted("openai:gpt-4o-mini", false, "openai:gpt-4o-mini\n");
    emitted("123456789", false, "\"123456789\"\n");
    emitted("yes", false, "\"yes\"\n");
    emitted("", false, "\"\"\n");
    emitted("a: b", false, "\"a: b\"\n");
    emitted("x #y", false, "\"x #y\"\n");
    emitted("say \"hi\"\\", false, "\"say \\\"hi\\\"\\\\\"\n");
    emitted("one\ntwo\n", false, "|\n  one\n  two\n");
    emitted("one\ntwo", false, "|-\n  one\n  two\n");
    emitted("one\ntwo\n\n", false, "|+\n  one\n  two\n\n");
    emitted(" lead\nx", false, "\" lead\\nx\"\n");
    emitted("a\x01", false, "\"a\\x01\"\n");
    emitted("short\n" LONG " " LONG "\n", false, ">\n  short\n\n  " LONG "\n  " LONG "\n");
    emitted(LONG " \nx", false, "|-\n  " LONG " \n  x\n"); /* a trailing blank: no folding */
    emitted("git *", true, "\"git *\"");
    emitted("a, b", true, "\"a, b\"");
    emitted("ana@example.com", true, "ana@example.com");
}

static void canonical_files(void **state)
{
    (void)state;
    char *dir = temp_dir();
    put_file(dir, "company.yaml",
             "name: acme\npolicies: {max_autonomy: 2, tainted: ask}\n"
             "members: [{handle: ana, role: owner}]\n");
    put_file(dir, "agents/ceo.md",
             "---\ntitle: CEO\nmanager: ana\nkind: llm\nautonomy: 1\nstatus: active\n"
             "schedule: {heartbeat: 90m}\ngrants: []\n---\n\n\n  Body\n\n\n");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_string_equal(s.agents[0].agent.instructions, "  Body\n");
    write_ok(&s, dir);
    char *company = slurp(dir, "company.yaml"), *ceo = slurp(dir, "agents/ceo.md");
    assert_string_equal(company, "name: acme\nbudget: {usd: 0}\nmembers:\n"
                                 "  - handle: ana\n    role: owner\n");
    assert_string_equal(ceo, "---\ntitle: CEO\nmanager: ana\nmodel: sim\nbudget: {usd: 0}\n"
                             "schedule: {heartbeat: 1h30m}\n---\n\n  Body\n");
    free(company);
    free(ceo);
    fm_spec_release(&s);
    remove_tree(dir);
}

static void defaults_and_hidden_files(void **state)
{
    (void)state;
    char *dir = temp_dir();
    put_file(dir, "company.yaml", "name: acme\nmembers:\n  - handle: ana\n    role: owner\n");
    put_file(dir, "agents/.gitkeep", "");
    put_file(dir, "agents/ops.md", "---\ntitle: Ops\nmanager: ana\n---\n");
    put_file(dir, "README.md", "not part of the company\n");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_int_equal(s.n_agents, 1);
    const fm_agent *a = &s.agents[0].agent;
    assert_int_equal(a->kind, FM_AGENT_LLM);
    assert_string_equal(a->model, "sim");
    assert_int_equal(a->autonomy, 1);
    assert_int_equal(a->budget.usd_micro, 0);
    assert_int_equal(a->budget.period, FM_PERIOD_MONTH);
    assert_null(a->instructions);
    assert_null(a->command);
    assert_int_equal(s.company.policies.max_autonomy, 2);
    assert_int_equal(s.company.policies.tainted, FM_CEIL_ASK);
    fm_spec_release(&s);
    remove_tree(dir);
}

static void no_agents_folder(void **state)
{
    (void)state;
    char *dir = temp_dir();
    put_file(dir, "company.yaml", "name: acme\nmembers:\n  - handle: ana\n    role: owner\n");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_int_equal(s.n_agents, 0);
    assert_null(s.agents);
    fm_spec_release(&s);
    remove_tree(dir);
}

/* Handles sort as handles, not as file names ("a-b.md" < "a.md"). */
static void agents_sorted_by_handle(void **state)
{
    (void)state;
    char *dir = temp_dir();
    put_file(dir, "company.yaml", "name: acme\nmembers:\n  - handle: ana\n    role: owner\n");
    put_file(dir, "agents/a-b.md", "---\ntitle: AB\nmanager: a\n---\n");
    put_file(dir, "agents/a.md", "---\ntitle: A\nmanager: ana\n---\n");
    put_file(dir, "agents/b_c.md", "---\ntitle: BC\nmanager: a-b\n---\n");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_int_equal(s.n_agents, 3);
    assert_string_equal(s.agents[0].agent.handle, "a");
    assert_string_equal(s.agents[1].agent.handle, "a-b");
    assert_string_equal(s.agents[2].agent.handle, "b_c");
    assert_string_equal(s.agents[2].manager_handle, "a-b");
    fm_spec_release(&s);
    remove_tree(dir);
}

/* ---- the broken corpus ------------------------------------------------------------- */

static void replace_all(fm_buf *out, const char *s, const char *from, const char *to)
{
    const char *p;
    while ((p = strstr(s, from))) {
        fm_buf_add(out, s, (size_t)(p - s));
        fm_buf_adds(out, to);
        s = p + strlen(from);
    }
    fm_buf_adds(out, s);
}

/* One "case<TAB>CODE<TAB>message" line of EXPECTED; returns failures. */
static int check_case(const char *root, char *line)
{
    char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (!tab2) {
        print_error("EXPECTED: bad line '%s'\n", line);
        return 1;
    }
    *tab1 = *tab2 = '\0';
    char *dir = fm_xasprintf("%s/%s", root, line);
    fm_buf want = FM_BUF_INIT;
    replace_all(&want, tab2 + 1, "<DIR>", dir);
    fm_company_spec s;
    fm_error err = {0};
    int rc = fm_spec_read_dir(dir, &s, &err);
    int bad = strcmp(fm_errname(rc), tab1 + 1) != 0 || strcmp(err.msg, want.ptr) != 0;
    if (bad)
        print_error("case %s:\n  got  %s %s\n  want %s %s\n", line, fm_errname(rc), err.msg,
                    tab1 + 1, want.ptr);
    if (rc == FM_OK)
        fm_spec_release(&s);
    fm_buf_release(&want);
    free(dir);
    return bad;
}

static bool listed(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void broken_corpus(void **state)
{
    (void)state;
    char *root = src_path("tests/data/broken");
    char *expected = slurp(root, "EXPECTED");
    char *names[256];
    size_t n = 0;
    int failures = 0;
    for (char *line = expected, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!*line || *line == '#')
            continue;
        assert_true(n < 256);
        names[n++] = line;
        failures += check_case(root, line); /* cuts the line at the first tab */
    }
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strcmp(e->d_name, "EXPECTED") != 0 &&
            !listed(names, n, e->d_name)) {
            print_error("case %s has no line in EXPECTED\n", e->d_name);
            failures++;
        }
    closedir(d);
    assert_true(n >= 25);
    assert_int_equal(failures, 0);
    free(expected);
    free(root);
}

static void too_big(void **state)
{
    (void)state;
    char *dir = temp_dir();
    fm_buf big = FM_BUF_INIT;
    fm_buf_adds(&big, "name: acme\nmission: |\n");
    while (big.len <= FM__FILE_LIMIT)
        fm_buf_adds(&big, "  all work and no play makes a dull company\n");
    put_file(dir, "company.yaml", big.ptr);
    fm_company_spec s;
    fm_error err = {0};
    assert_int_equal(fm_spec_read_dir(dir, &s, &err), FM_ETOOBIG);
    assert_string_equal(err.msg,
                        "company.yaml:1: the file is larger than 1 MiB; company files are small text");
    put_file(dir, "company.yaml", "name: acme\nmembers:\n  - handle: ana\n    role: owner\n");
    fm_buf_reset(&big);
    fm_buf_adds(&big, "---\ntitle: Big\nmanager: ana\n---\n");
    while (big.len <= FM__FILE_LIMIT)
        fm_buf_adds(&big, "Say it again, and again, and again.\n");
    put_file(dir, "agents/big.md", big.ptr);
    assert_int_equal(fm_spec_read_dir(dir, &s, &err), FM_ETOOBIG);
    assert_string_equal(err.msg,
                        "agents/big.md:1: the file is larger than 1 MiB; company files are small text");
    fm_buf_release(&big);
    remove_tree(dir);
}

/* libfyaml must never print: its diagnostics become our messages. */
static void yaml_errors_are_silent(void **state)
{
    (void)state;
    char *dir = src_path("tests/data/broken/yaml-syntax");
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    fm_company_spec s;
    fm_error err = {0};
    int rc = fm_spec_read_dir(dir, &s, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fseek(tmp, 0, SEEK_END);
    long printed = ftell(tmp);
    fclose(tmp);
    assert_int_equal(rc, FM_EPARSE);
    assert_int_equal(printed, 0);
    assert_non_null(strstr(err.msg, "company.yaml:"));
    free(dir);
}

/* ---- validation of specs built in code --------------------------------------------- */

static void code_spec(fm_company_spec *s, const char *a_manager, const char *b_manager)
{
    memset(s, 0, sizeof *s);
    fm_company_init(&s->company);
    s->company.name = fm_xstrdup("acme");
    s->n_members = 1;
    s->members = fm_xcalloc(1, sizeof *s->members);
    s->members[0].handle = fm_xstrdup("ana");
    s->members[0].role = FM_ROLE_OWNER;
    s->n_agents = 2;
    s->agents = fm_xcalloc(2, sizeof *s->agents);
    const char *handles[] = {"a", "b"}, *managers[] = {a_manager, b_manager};
    for (size_t i = 0; i < 2; i++) {
        s->agents[i].agent.handle = fm_xstrdup(handles[i]);
        s->agents[i].agent.title = fm_xstrdup(handles[i]);
        s->agents[i].agent.model = fm_xstrdup("sim");
        s->agents[i].agent.autonomy = 1;
        s->agents[i].manager_handle = dup_or_null(managers[i]);
    }
}

static void validate_code_specs(void **state)
{
    (void)state;
    fm_company_spec s;
    fm_error err = {0};
    code_spec(&s, "ana", "a");
    assert_int_equal(fm_spec_validate(&s, &err), FM_OK);
    fm_spec_release(&s);
    code_spec(&s, "b", "a");
    assert_int_equal(fm_spec_validate(&s, &err), FM_EORG);
    assert_string_equal(err.msg, "agents/a.md: reporting cycle: a -> b -> a");
    fm_spec_release(&s);
    code_spec(&s, "ana", NULL);
    assert_int_equal(fm_spec_validate(&s, &err), FM_EORG);
    assert_string_equal(err.msg, "agents/b.md: missing key 'manager' in agent");
    fm_spec_release(&s);
    code_spec(&s, "ana", "a");
    s.agents[1].agent.command = fm_xstrdup("./x");
    assert_int_equal(fm_spec_validate(&s, &err), FM_EPARSE);
    fm_spec_release(&s);
    code_spec(&s, "ana", "a");
    s.n_goals = 3;
    s.goals = fm_xcalloc(3, sizeof *s.goals);
    const int parents[] = {-1, -1, 0}; /* goal 3 under goal 1, after goal 2: not depth-first */
    for (size_t i = 0; i < 3; i++) {
        s.goals[i].goal.title = fm_xstrdup("g");
        s.goals[i].parent = parents[i];
    }
    assert_int_equal(fm_spec_validate(&s, &err), FM_EPARSE);
    assert_non_null(strstr(err.msg, "goal 3 is out of order"));
    s.goals[2].parent = 1;
    s.goals[1].owner_handle = fm_xstrdup("ana");
    assert_int_equal(fm_spec_validate(&s, &err), FM_EORG);
    assert_string_equal(err.msg, "company.yaml: goal owner 'ana' is not an agent of this company");
    fm_spec_release(&s);
    code_spec(&s, "ana", "a");
    s.members[0].role = FM_ROLE_ADMIN;
    assert_int_equal(fm_spec_validate(&s, &err), FM_EORG);
    assert_string_equal(err.msg,
                        "company.yaml: no member has role owner (a company has exactly one owner)");
    fm_spec_release(&s);
}

static void write_refuses_bad_handles(void **state)
{
    (void)state;
    fm_company_spec s;
    code_spec(&s, "ana", "a");
    free(s.agents[1].agent.handle);
    s.agents[1].agent.handle = fm_xstrdup("../escape");
    char *dir = temp_dir();
    fm_error err = {0};
    assert_int_equal(fm_spec_write_dir(&s, dir, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "../escape"));
    fm_spec_release(&s);
    remove_tree(dir);
}

/* Fired agents are not written; the rest of the folder is created. */
static void write_skips_fired(void **state)
{
    (void)state;
    fm_company_spec s;
    code_spec(&s, "ana", "ana");
    s.agents[1].agent.status = FM_AGENT_FIRED;
    char *dir = temp_dir();
    char *nested = fm_xasprintf("%s/x/y", dir);
    write_ok(&s, nested);
    fm_company_spec back;
    read_ok(nested, &back);
    assert_int_equal(back.n_agents, 1);
    assert_string_equal(back.agents[0].agent.handle, "a");
    fm_spec_release(&back);
    fm_spec_release(&s);
    free(nested);
    remove_tree(dir);
}

/* fm_spec_files gives, in memory, exactly the files fm_spec_write_dir writes
 * (the API's export answers with them), and stops at its callback's error. */
typedef struct seen_files {
    const char *dir;
    size_t n, stop_at;
    char paths[8][64];
} seen_files;

static int seen_one(void *ctx, const char *path, const char *text, size_t len, fm_error *err)
{
    seen_files *f = ctx;
    if (f->n == f->stop_at)
        return fm_error_set(err, FM_EIO, "stop at %s", path);
    assert_true(f->n < 8);
    snprintf(f->paths[f->n++], sizeof f->paths[0], "%s", path);
    char *on_disk = slurp(f->dir, path);
    assert_int_equal(strlen(on_disk), len);
    assert_memory_equal(on_disk, text, len);
    free(on_disk);
    return FM_OK;
}

static void files_in_memory_are_the_written_ones(void **state)
{
    (void)state;
    fm_company_spec s;
    code_spec(&s, "ana", "ana");
    s.agents[0].agent.status = FM_AGENT_FIRED;
    char *dir = temp_dir();
    write_ok(&s, dir);
    seen_files f = {.dir = dir, .stop_at = 99};
    fm_error err = {0};
    assert_int_equal(fm_spec_files(&s, seen_one, &f, &err), FM_OK);
    assert_int_equal(f.n, 2); /* company.yaml and the agent not fired */
    assert_string_equal(f.paths[0], "company.yaml");
    char *want = fm_xasprintf("agents/%s.md", s.agents[1].agent.handle);
    assert_string_equal(f.paths[1], want);
    free(want);
    seen_files stop = {.dir = dir, .stop_at = 1};
    assert_int_equal(fm_spec_files(&s, seen_one, &stop, &err), FM_EIO);
    assert_int_equal(stop.n, 1);
    fm_spec_release(&s);
    remove_tree(dir);
}

/* ---- templates ---------------------------------------------------------------------- */

#include "base/embedded.h"

static void template_names_match_table(void **state)
{
    (void)state;
    fm_buf names = FM_BUF_INIT;
    for (const struct fm__embedded *e = fm__templates; e->tmpl; e++)
        if (e == fm__templates || strcmp(e[-1].tmpl, e->tmpl) != 0)
            fm_buf_addf(&names, "%s%s", names.len ? "\n" : "", e->tmpl);
    /* embed.sh keeps argument order; the names list is alphabetical. */
    assert_non_null(strstr(fm_template_names(), "minimal"));
    assert_non_null(strstr(fm_template_names(), "solo-startup"));
    assert_string_equal(names.ptr, "solo-startup\nminimal");
    fm_buf_release(&names);
}

static void template_writes(const char *name, const char *company_name)
{
    char *dir = temp_dir();
    char *target = fm_xasprintf("%s/new/co", dir);
    fm_error err = {0};
    if (fm_template_write(name, target, &err) != FM_OK)
        fail_msg("template %s: %s", name, fm_error_text(&err));
    fm_company_spec s;
    read_ok(target, &s);
    assert_string_equal(s.company.name, company_name);
    assert_true(s.n_agents >= 1);
    assert_int_equal(fm_template_write(name, target, &err), FM_EEXIST);
    assert_non_null(strstr(err.msg, "company.yaml already exists"));
    fm_spec_release(&s);
    free(target);
    remove_tree(dir);
}

static void templates(void **state)
{
    (void)state;
    template_writes("solo-startup", "solo-startup");
    template_writes("minimal", "my-company");
    /* The embedded example is the example on disk. */
    char *dir = temp_dir();
    assert_int_equal(fm_template_write("solo-startup", dir, NULL), FM_OK);
    char *root = src_path("examples/solo-startup");
    char *a = slurp(dir, "agents/support.md"), *b = slurp(root, "agents/support.md");
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(root);
    fm_error err = {0};
    assert_int_equal(fm_template_write("enterprise", dir, &err), FM_ENOTFOUND);
    assert_string_equal(err.msg, "unknown template 'enterprise' (known: minimal, solo-startup)");
    remove_tree(dir);
}

static void minimal_template_shape(void **state)
{
    (void)state;
    char *dir = src_path("templates/minimal");
    fm_company_spec s;
    read_ok(dir, &s);
    assert_int_equal(s.n_members, 1);
    assert_int_equal(s.members[0].role, FM_ROLE_OWNER);
    assert_int_equal(s.n_agents, 1);
    assert_string_equal(s.agents[0].agent.handle, "ceo");
    assert_string_equal(s.agents[0].agent.model, "sim");
    assert_true(s.agents[0].agent.n_grants >= 3);
    assert_int_equal(s.n_goals, 1);
    assert_string_equal(s.goals[0].owner_handle, "ceo");
    round_trip(&s);
    fm_spec_release(&s);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_company),
        cmocka_unit_test(example_members_and_goals),
        cmocka_unit_test(example_agents),
        cmocka_unit_test(example_round_trip),
        cmocka_unit_test(awkward_round_trip),
        cmocka_unit_test(awkward_scalars_one_by_one),
        cmocka_unit_test(canonical_scalars),
        cmocka_unit_test(canonical_files),
        cmocka_unit_test(defaults_and_hidden_files),
        cmocka_unit_test(no_agents_folder),
        cmocka_unit_test(agents_sorted_by_handle),
        cmocka_unit_test(broken_corpus),
        cmocka_unit_test(too_big),
        cmocka_unit_test(yaml_errors_are_silent),
        cmocka_unit_test(validate_code_specs),
        cmocka_unit_test(write_refuses_bad_handles),
        cmocka_unit_test(write_skips_fired),
        cmocka_unit_test(files_in_memory_are_the_written_ones),
        cmocka_unit_test(template_names_match_table),
        cmocka_unit_test(templates),
        cmocka_unit_test(minimal_template_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
