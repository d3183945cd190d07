/*
 * The dashboard's embedded files (web.c): which path is which file, and the
 * headers they are sent with. server.c asks here before the API's router.
 */
#ifndef FIRMA_HTTP_WEB_H
#define FIRMA_HTTP_WEB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fm_web_file {
    const unsigned char *data; /* static; not freed */
    size_t len;
    const char *type;          /* the Content-Type */
} fm_web_file;

/* The file served at `path` ("/" or "/ui/NAME"): false if `path` is not
 * one of the dashboard's (the API's router answers it then). */
bool fm__web_find(const char *path, fm_web_file *out);

/* The Content-Security-Policy sent with every dashboard file. */
extern const char *const fm__web_csp;

#endif
