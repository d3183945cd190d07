/*
 * The command line: shared state and helpers for the subcommands. Each
 * subcommand lives in its own cmd_*.c and is listed in main.c's table.
 */
#ifndef FIRMA_CLI_H
#define FIRMA_CLI_H

#include "firma/base.h"
#include "firma/governance.h"
#include "firma/ops.h"

#include <jansson.h>
#include <stdio.h>

/* Exit codes (docs/cli.md). */
enum {
    EXIT_OK_ = 0,
    EXIT_FAIL = 1,      /* database, I/O, anything else */
    EXIT_USAGE = 2,     /* bad command line */
    EXIT_NOTFOUND = 3,  /* no such company, agent, task ... */
    EXIT_REFUSED = 4,   /* refused by a rule: illegal move, org rule, conflict, exists */
    EXIT_TAMPER = 5,    /* audit verification failed */
    EXIT_INVALID = 6,   /* invalid input: a bad company file or value */
};

/* Parsed options of one command. `spec` lists what a command accepts:
 * "title=" takes a value, "json" is a flag, "grant=*" may repeat. */
#define CLI_MAX_OPTS 32
typedef struct cli_args {
    const char *pos[16];
    int n_pos;
    struct { const char *name; size_t len; const char *value; } opt[CLI_MAX_OPTS];
    int n_opt;
} cli_args;

typedef struct fm_cli {
    const char *db_path;
    const char *company_name;
    const char *key_file;
    const char *actor;
    bool json;
    fm_store *store;
    fm_company company;   /* set by cli_company() */
    fm_error err;
    char actor_buf[128];
} fm_cli;

typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage;    /* full help text */
    const char *options;  /* the option spec for cli_parse */
    int (*run)(fm_cli *c, cli_args *a);
    bool needs_company;   /* open the store and resolve the company first */
} cli_command;

/* Parses argv against `spec`; on error prints it and returns EXIT_USAGE. */
int cli_parse(const char *cmd, const char *spec, int argc, char **argv, cli_args *a);
const char *cli_opt(const cli_args *a, const char *name);   /* last value, or NULL */
bool cli_flag(const cli_args *a, const char *name);
/* Iterates a repeatable option: *i starts at 0. */
const char *cli_opt_next(const cli_args *a, const char *name, int *i);

/* Opens the database (creating it if needed). */
int cli_open(fm_cli *c);
/* Resolves --company, or the only company in the database. */
int cli_company(fm_cli *c);
/* Prints c->err (or `code`'s text) as "firma: ..." and returns the exit code. */
int cli_fail(fm_cli *c, int code);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_exit_code(int fm_code);
/* After a successful change: sign a checkpoint of the company's audit head
 * and update the witness file. A failure here is only warned about (the
 * change is already committed), so this always returns FM_OK. */
int cli_checkpoint(fm_cli *c);
/* The witness file path for this database (heap string). */
char *cli_witness_path(const fm_cli *c);
/* The master key; created on first use when `create`. */
int cli_keys(fm_cli *c, bool create, fm_keys *k);

/* Resolving names to ids within the company. */
int cli_agent(fm_cli *c, const char *handle, fm_agent *out);
/* A positive number, optionally written "#12"; `what` names it in errors. */
int cli_id(fm_cli *c, const char *text, const char *what, fm_id *id);

/* Output helpers. */
void cli_print_json(json_t *j);   /* prints and consumes j */
const char *cli_handle_of(const fm_agent *v, size_t n, fm_id id);

/* Renders the org chart (text or JSON) into `out`; used by org and bench. */
int fm__org_render(fm_cli *c, fm_buf *out, bool json);

/* The commands (one file each). */
extern const cli_command cmd_init, cmd_import, cmd_export, cmd_org, cmd_hire, cmd_fire,
    cmd_pause, cmd_resume, cmd_agent, cmd_task, cmd_message, cmd_goal, cmd_member, cmd_log, cmd_audit,
    cmd_secret, cmd_company, cmd_budget, cmd_serve, cmd_bench, cmd_approvals, cmd_approve,
    cmd_deny, cmd_token;

#endif
