/*
 * Company files: a company as a folder a person can read and keep in git.
 *
 *   DIR/company.yaml        name, title, mission, budget, policies, members, goals
 *   DIR/agents/<handle>.md  YAML front matter between '---' lines; the body is
 *                           the agent's instructions
 *
 * fm_spec_read_dir parses and validates a folder into an fm_company_spec with
 * no store involved; fm_spec_write_dir writes one back. Writing is
 * deterministic: export then export gives identical bytes, and read(write(s))
 * equals s. docs/company-files.md is the reference for the format.
 */
#ifndef FIRMA_FILES_H
#define FIRMA_FILES_H

#include "firma/errors.h"
#include "firma/model.h"

typedef struct fm_goal_spec {
    fm_goal goal;        /* ids unset; goal.parent_id unused */
    int parent;          /* index into spec->goals of the parent, -1 = top-level */
    char *owner_handle;  /* agent handle or NULL */
} fm_goal_spec;

typedef struct fm_agent_spec {
    fm_agent agent;       /* ids unset; agent.handle from the file name */
    char *manager_handle; /* an agent's or a member's handle (never NULL after read) */
} fm_agent_spec;

typedef struct fm_company_spec {
    fm_company company;
    fm_member *members;   /* in file order */
    size_t n_members;
    fm_goal_spec *goals;  /* depth-first file order: a parent comes before its children */
    size_t n_goals;
    fm_agent_spec *agents; /* sorted by handle */
    size_t n_agents;
} fm_company_spec;

void fm_spec_release(fm_company_spec *s);

/* Reads DIR. Every error names the file and line and what is wrong, e.g.
 * "agents/cto.md:4: manager 'ceo2' is neither an agent nor a member of this
 * company". Returns FM_OK, FM_ENOTFOUND (no DIR/company.yaml), FM_EPARSE (bad
 * YAML or a bad value), FM_EORG (reporting lines are not one tree) or
 * FM_ETOOBIG (a file over 1 MiB). On error `out` holds nothing to release. */
int fm_spec_read_dir(const char *dir, fm_company_spec *out, fm_error *err);

/* Checks the rules that need the whole company: unique handles across agents
 * and members, exactly one owner member, every manager resolvable, no cycles,
 * goal owners are agents, ask_for names known tools. fm_spec_read_dir calls it;
 * it is exported for specs built in code. Errors name the file and line where
 * known. */
int fm_spec_validate(const fm_company_spec *s, fm_error *err);

/* Writes `s` into DIR (created if missing; existing company.yaml and
 * agents/<handle>.md for these agents are replaced; other files are left). */
int fm_spec_write_dir(const fm_company_spec *s, const char *dir, fm_error *err);

/* The folder's files in memory, as fm_spec_write_dir writes them:
 * company.yaml, then agents/<handle>.md by handle (fired agents left out).
 * `each` gets each file's path inside the folder and its text (borrowed for
 * the call); a status other than FM_OK from it stops the walk and is
 * returned. FM_EINVAL, before any call, for an agent handle that is not a
 * valid one (it would name a file outside agents/). */
typedef int (*fm_spec_file_fn)(void *ctx, const char *path, const char *text, size_t len,
                               fm_error *err);
int fm_spec_files(const fm_company_spec *s, fm_spec_file_fn each, void *ctx, fm_error *err);

/* Starter companies compiled into the binary ("solo-startup", "minimal").
 * fm_template_write refuses a DIR that already has a company.yaml (FM_EEXIST). */
const char *fm_template_names(void); /* "minimal, solo-startup" */
int fm_template_write(const char *name, const char *dir, fm_error *err);

#endif
