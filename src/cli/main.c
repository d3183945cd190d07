/*
 * firma's entry point: global options, then one subcommand from the table.
 * Global options may stand anywhere before "--":
 *   --db PATH  --company NAME  --json  --as MEMBER  --key FILE  --help
 * This file alone owns process-wide state: argv, and malloc's trim threshold.
 */
#include "cli/cli.h"

#include <malloc.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_command *const commands[] = {
    &cmd_init, &cmd_import, &cmd_export, &cmd_org, &cmd_hire, &cmd_fire, &cmd_pause,
    &cmd_resume, &cmd_agent, &cmd_task, &cmd_message, &cmd_goal, &cmd_member, &cmd_budget, &cmd_log,
    &cmd_audit, &cmd_secret, &cmd_company, &cmd_serve, &cmd_bench, &cmd_approvals,
    &cmd_approve, &cmd_deny, &cmd_token,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "firma — run a company whose staff are AI agents\n\n"
               "usage: firma [--db PATH] [--company NAME] [--json] [--as MEMBER] COMMAND ...\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nglobal options:\n"
               "  --db PATH       the database (default ./firma.db, or $FIRMA_DB)\n"
               "  --company NAME  which company, when the database holds several\n"
               "  --json          machine-readable output\n"
               "  --as WHO        act as this member, or as agent @HANDLE (recorded in\n"
               "                  the audit log); default: cli:<your user name>\n"
               "  --key FILE      master key file (default $FIRMA_KEY_FILE or <db>.key)\n"
               "\nexit codes: 0 ok, 1 failure, 2 bad command line, 3 not found,\n"
               "  4 refused by a rule, 5 audit chain broken, 6 invalid input\n"
               "\n'firma COMMAND --help' tells more.\n");
}

/* Takes the global options out of argv (in place); returns the new argc or
 * -1 on a usage error. */
static int take_globals(fm_cli *c, int argc, char **argv, bool *help)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char **dst = NULL;
        if (strcmp(s, "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(s, "--json") == 0) { c->json = true; continue; }
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) { *help = true; continue; }
        if (strcmp(s, "--db") == 0) dst = &c->db_path;
        else if (strcmp(s, "--company") == 0) dst = &c->company_name;
        else if (strcmp(s, "--as") == 0) dst = &c->actor;
        else if (strcmp(s, "--key") == 0) dst = &c->key_file;
        if (!dst) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "firma: option '%s' needs a value\n", s);
            return -1;
        }
        *dst = argv[++i];
    }
    return out;
}

static void default_actor(fm_cli *c)
{
    struct passwd *pw = getpwuid(getuid());
    snprintf(c->actor_buf, sizeof c->actor_buf, "cli:%s", pw ? pw->pw_name : "unknown");
    c->actor = c->actor_buf;
}

/* With --as, the actor must be a member of the company, or with "@handle"
 * one of its agents (for scripts acting on an agent's behalf). */
static int as_actor(fm_cli *c, const char *handle)
{
    if (handle[0] == '@') {
        fm_agent a;
        int rc = cli_agent(c, handle, &a);
        if (rc != FM_OK)
            return fm_error_set(&c->err, rc, "--as %s: no such agent in company '%s'", handle,
                                c->company.name);
        if (a.status == FM_AGENT_FIRED)
            rc = fm_error_set(&c->err, FM_EPERM, "--as %s: that agent has been fired", handle);
        snprintf(c->actor_buf, sizeof c->actor_buf, "agent:%s", a.handle);
        fm_agent_release(&a);
        c->actor = c->actor_buf;
        return rc;
    }
    fm_member m;
    int rc = c->store->ops->member_find(c->store, c->company.id, handle, &m, &c->err);
    if (rc != FM_OK)
        return fm_error_set(&c->err, rc, "--as %s: no such member in company '%s'", handle,
                            c->company.name);
    snprintf(c->actor_buf, sizeof c->actor_buf, "member:%s", m.handle);
    c->actor = c->actor_buf;
    fm_member_release(&m);
    return FM_OK;
}

static int run(fm_cli *c, const cli_command *cmd, int argc, char **argv, bool help)
{
    if (help) {
        printf("%s", cmd->usage);
        return 0;
    }
    cli_args a;
    int rc = cli_parse(cmd->name, cmd->options, argc, argv, &a);
    if (rc)
        return rc;
    if (cmd->needs_company) {
        const char *as = c->actor;
        int frc = cli_open(c);
        if (frc == FM_OK)
            frc = cli_company(c);
        if (frc == FM_OK && as)
            frc = as_actor(c, as);
        if (frc != FM_OK)
            return cli_fail(c, frc);
    }
    if (!c->actor || !c->actor_buf[0])
        default_actor(c);
    return cmd->run(c, &a);
}

int main(int argc, char **argv)
{
    /* SQLite takes and frees a 64 KiB statement journal for many writes;
     * with glibc's default threshold the heap is trimmed and regrown each
     * time (docs/runtime.md, Figures). Keep up to 64 MiB of freed memory. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    fm_cli c;
    memset(&c, 0, sizeof c);
    bool help = false;
    argc = take_globals(&c, argc - 1, argv + 1, &help);
    argv++;
    if (argc < 0)
        return EXIT_USAGE;
    if (!c.db_path)
        c.db_path = getenv("FIRMA_DB");
    if (!c.db_path || !*c.db_path)
        c.db_path = "firma.db";
    if (argc == 0 || strcmp(argv[0], "help") == 0) {
        usage(argc == 0 && !help ? stderr : stdout);
        return argc == 0 && !help ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[0], "--version") == 0 || strcmp(argv[0], "version") == 0) {
        printf("firma 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[0], commands[i]->name) == 0) {
            int rc = run(&c, commands[i], argc - 1, argv + 1, help);
            fm_company_release(&c.company);
            fm_store_close(c.store);
            return rc;
        }
    }
    fprintf(stderr, "firma: unknown command '%s' (see firma --help)\n", argv[0]);
    return EXIT_USAGE;
}
