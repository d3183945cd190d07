/*
 * The two file-system operations the writer and the templates need: mkdir -p
 * and replacing a file so that no reader ever sees half of it (write a
 * temporary file beside it, then rename over the old one).
 */
#include "core/files/internal.h"

#include "firma/errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make_one(const char *path, fm_error *err)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return FM_OK;
        return fm_error_set(err, FM_EIO, "%s: exists and is not a folder", path);
    }
    return fm_error_set(err, FM_EIO, "%s: cannot create the folder: %s", path, strerror(errno));
}

int fm__mkdir_p(const char *path, fm_error *err)
{
    char *p = fm_xstrdup(path);
    int rc = FM_OK;
    for (char *q = p + 1; rc == FM_OK && *q; q++) {
        if (*q != '/' || q[-1] == '/')
            continue;
        *q = '\0';
        rc = make_one(p, err);
        *q = '/';
    }
    if (rc == FM_OK)
        rc = make_one(p, err);
    free(p);
    return rc;
}

int fm__write_file(const char *path, const void *data, size_t len, fm_error *err)
{
    char *tmp = fm_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    int saved = errno;
    if (f && fclose(f) != 0 && ok)
        ok = false, saved = errno;
    if (ok && rename(tmp, path) != 0)
        ok = false, saved = errno;
    if (!ok) {
        remove(tmp);
        fm_error_set(err, FM_EIO, "%s: cannot write: %s", path, strerror(saved));
    }
    free(tmp);
    return ok ? FM_OK : FM_EIO;
}
