/*
 * fm_spec_read_dir: a company folder -> fm_company_spec.
 *
 * Order of work, which is also the order errors are found in: company.yaml,
 * then the names in agents/ (sorted, so the first bad one reported is the
 * same on every machine), then each agents/<handle>.md in handle order, then
 * the whole-company rules (validate.c). Hidden files in agents/ (".gitkeep")
 * are skipped; anything else not named <handle>.md is an error, so a typo'd
 * file never silently drops an agent.
 */
#include "core/files/internal.h"

#include "firma/errors.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void fm__where_release(fm__where *w)
{
    free(w->member_handle);
    free(w->member_role);
    free(w->goal_owner);
    free(w->agent_manager);
    free(w->agent_autonomy);
    memset(w, 0, sizeof *w);
}

void fm_spec_release(fm_company_spec *s)
{
    if (!s)
        return;
    fm_company_release(&s->company);
    for (size_t i = 0; i < s->n_members; i++)
        fm_member_release(&s->members[i]);
    free(s->members);
    for (size_t i = 0; i < s->n_goals; i++) {
        fm_goal_release(&s->goals[i].goal);
        free(s->goals[i].owner_handle);
    }
    free(s->goals);
    for (size_t i = 0; i < s->n_agents; i++)
        fm__agent_spec_release(&s->agents[i]);
    free(s->agents);
    memset(s, 0, sizeof *s);
}

/* DIR/rel into `b`, with messages naming `rel`. */
static int read_file(const char *dir, const char *rel, fm_buf *b, fm_error *err)
{
    char *path = fm_xasprintf("%s/%s", dir, rel);
    int rc = fm_buf_read_file(b, path, FM__FILE_LIMIT);
    int saved = errno;
    if (rc == FM_ENOTFOUND)
        fm_error_set(err, rc, "%s: not found (is '%s' a company folder?)", path, dir);
    else if (rc == FM_ETOOBIG)
        fm__fail(err, rc, rel, 1, "the file is larger than 1 MiB; company files are small text");
    else if (rc != FM_OK)
        fm__fail(err, rc, rel, 0, "cannot read: %s", strerror(saved));
    free(path);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The visible entries of DIR/agents, sorted; none if there is no agents/. */
static int list_dir(const char *dir, char ***names, size_t *n, fm_error *err)
{
    char *path = fm_xasprintf("%s/agents", dir);
    DIR *d = opendir(path);
    int saved = errno;
    free(path);
    if (!d && saved == ENOENT)
        return FM_OK;
    if (!d)
        return fm__fail(err, saved == ENOTDIR ? FM_EPARSE : FM_EIO, "agents", 0,
                        "cannot read the agents folder: %s", strerror(saved));
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *names = fm_xreallocarray(*names, cap, sizeof **names);
        }
        (*names)[(*n)++] = fm_xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, by_name);
    return FM_OK;
}

/* Turns each "x.md" into the handle "x", refusing anything else. */
static int names_to_handles(const char *dir, char **names, size_t n, fm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        char *full = fm_xasprintf("%s/agents/%s", dir, names[i]);
        struct stat st;
        bool file = stat(full, &st) == 0 && S_ISREG(st.st_mode);
        free(full);
        if (len <= 3 || strcmp(names[i] + len - 3, ".md") != 0 || !file) {
            char rel[300];
            snprintf(rel, sizeof rel, "agents/%s", names[i]);
            return fm__fail(err, FM_EPARSE, rel, 1,
                            "not an agent file (agents/ holds only <handle>.md files)");
        }
        names[i][len - 3] = '\0';
        if (!fm_valid_handle(names[i])) {
            char rel[300];
            snprintf(rel, sizeof rel, "agents/%s.md", names[i]);
            return fm__fail(err, FM_EPARSE, rel, 1,
                            "'%s' is not a valid agent handle (rename the file: a lowercase "
                            "letter, then a-z, 0-9, '_' or '-'; at most 40 characters)",
                            names[i]);
        }
    }
    /* Sort again: "a-b" < "a" as file names ("a-b.md" < "a.md") but not as handles. */
    if (n)
        qsort(names, n, sizeof *names, by_name);
    return FM_OK;
}

static int read_agents(const char *dir, fm_company_spec *s, fm__where *w, fm_error *err)
{
    char **handles = NULL;
    size_t n = 0;
    int rc = list_dir(dir, &handles, &n, err);
    if (rc == FM_OK)
        rc = names_to_handles(dir, handles, n, err);
    if (rc == FM_OK && n) {
        s->agents = fm_xcalloc(n, sizeof *s->agents);
        w->agent_manager = fm_xcalloc(n, sizeof *w->agent_manager);
        w->agent_autonomy = fm_xcalloc(n, sizeof *w->agent_autonomy);
    }
    fm_buf text = FM_BUF_INIT;
    for (size_t i = 0; rc == FM_OK && i < n; i++) {
        char *rel = fm_xasprintf("agents/%s.md", handles[i]);
        fm_buf_reset(&text);
        rc = read_file(dir, rel, &text, err);
        free(rel);
        if (rc == FM_OK)
            rc = fm__read_agent(handles[i], text.ptr, text.len, &s->agents[s->n_agents++],
                                &w->agent_manager[i], &w->agent_autonomy[i], err);
    }
    fm_buf_release(&text);
    free_names(handles, n);
    return rc;
}

int fm_spec_read_dir(const char *dir, fm_company_spec *out, fm_error *err)
{
    memset(out, 0, sizeof *out);
    fm__where w = {0};
    fm_buf text = FM_BUF_INIT;
    int rc = read_file(dir, "company.yaml", &text, err);
    if (rc == FM_OK)
        rc = fm__read_company(text.ptr, text.len, out, &w, err);
    fm_buf_release(&text);
    if (rc == FM_OK)
        rc = read_agents(dir, out, &w, err);
    if (rc == FM_OK)
        rc = fm__spec_check(out, &w, err);
    fm__where_release(&w);
    if (rc != FM_OK)
        fm_spec_release(out);
    return rc;
}
