/*
 * Starter companies compiled into the binary. The build runs scripts/embed.sh
 * over examples/solo-startup and templates/minimal, which generates
 * fm__templates[]: one entry per file, {template, relative path, bytes},
 * ending with a NULL template. fm_template_write copies one template's files
 * into a folder that is not yet a company.
 */
#include "core/files/internal.h"

#include "firma/errors.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/embedded.h"

const char *fm_template_names(void)
{
    /* Kept in step with the Makefile's embed.sh arguments; test_files
     * checks it against fm__templates[]. */
    return "minimal, solo-startup";
}

static bool known(const char *name)
{
    for (const struct fm__embedded *e = fm__templates; e->tmpl; e++)
        if (strcmp(e->tmpl, name) == 0)
            return true;
    return false;
}

/* DIR/rel, creating the folders on the way. */
static int write_one(const char *dir, const struct fm__embedded *e, fm_error *err)
{
    char *path = fm_xasprintf("%s/%s", dir, e->path);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    int rc = fm__mkdir_p(path, err);
    *slash = '/';
    if (rc == FM_OK)
        rc = fm__write_file(path, e->data, e->len, err);
    free(path);
    return rc;
}

int fm_template_write(const char *name, const char *dir, fm_error *err)
{
    if (!name || !known(name))
        return fm_error_set(err, FM_ENOTFOUND, "unknown template '%s' (known: %s)",
                            name ? name : "", fm_template_names());
    char *company = fm_xasprintf("%s/company.yaml", dir);
    struct stat st;
    bool exists = stat(company, &st) == 0;
    free(company);
    if (exists)
        return fm_error_set(err, FM_EEXIST,
                            "%s/company.yaml already exists; not overwriting a company", dir);
    int rc = fm__mkdir_p(dir, err);
    for (const struct fm__embedded *e = fm__templates; rc == FM_OK && e->tmpl; e++)
        if (strcmp(e->tmpl, name) == 0)
            rc = write_one(dir, e, err);
    return rc;
}
