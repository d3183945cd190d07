/* Files embedded in the binary at build time by scripts/embed.sh: company
 * templates (fm__templates) and the dashboard (fm__web_files). Each table
 * ends with an entry whose tmpl is NULL. The layout must match the struct
 * embed.sh writes into the generated C file. */
#ifndef FIRMA_BASE_EMBEDDED_H
#define FIRMA_BASE_EMBEDDED_H

#include <stddef.h>

struct fm__embedded {
    const char *tmpl;           /* the set's name ("solo-startup", "web") */
    const char *path;           /* the file's path within it */
    const unsigned char *data;
    size_t len;
};

extern const struct fm__embedded fm__templates[];
extern const struct fm__embedded fm__web_files[];

#endif
