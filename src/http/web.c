/*
 * The dashboard's files (docs/dashboard.md), embedded at build time from
 * dashboard/ by scripts/embed.sh into fm__web_files. `/` is index.html and
 * `/ui/NAME` is dashboard/NAME; nothing else is served from here, and a
 * name is looked up exactly in the table, so no path reaches the disk.
 *
 * These need no token: they hold no data. The page asks the API for
 * everything it shows, with the token the person types in. Each answer
 * carries a Content-Security-Policy that lets the page load and talk only
 * to this origin (no inline scripts, no other hosts).
 */
#include "http/web.h"

#include <string.h>

#include "base/embedded.h"

static const char ui_prefix[] = "/ui/";

static const char *type_of(const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

bool fm__web_find(const char *path, fm_web_file *out)
{
    const char *name;
    if (strcmp(path, "/") == 0)
        name = "index.html";
    else if (strncmp(path, ui_prefix, sizeof ui_prefix - 1) == 0)
        name = path + sizeof ui_prefix - 1;
    else
        return false;
    for (const struct fm__embedded *e = fm__web_files; e->tmpl; e++)
        if (strcmp(e->path, name) == 0) {
            out->data = e->data;
            out->len = e->len;
            out->type = type_of(name);
            return true;
        }
    return false;
}

const char *const fm__web_csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";
