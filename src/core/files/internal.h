/*
 * Internal interface of the company-files module (src/core/files/). Nothing
 * outside this folder includes it.
 *
 *   yaml.c      loading a YAML text with captured diagnostics; typed getters
 *               that turn a wrong shape into "path:line: what is wrong"
 *   read_company.c, read_agent.c, read_dir.c   the reader
 *   (cron syntax is checked with fm_cron_parse, firma/schedule.h)
 *   validate.c  rules that need the whole company
 *   emit.c      YAML scalars: plain, double-quoted or block literal
 *   write.c     the canonical writer;  fsutil.c  mkdir -p, atomic file write
 *   template.c  starter companies embedded by scripts/embed.sh
 */
#ifndef FIRMA_FILES_INTERNAL_H
#define FIRMA_FILES_INTERNAL_H

#include "firma/base.h"
#include "firma/files.h"

#include <libfyaml.h>
#include <stdarg.h>

/* Company files larger than this are refused with FM_ETOOBIG. */
#define FM__FILE_LIMIT ((size_t)1 << 20)

/* ---- messages ----------------------------------------------------------- */
/* Sets `err` to "path:line: <fmt>" (or "path: <fmt>" when line is 0) and
 * returns `code`. */
int fm__fail(fm_error *err, int code, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int fm__vfail(fm_error *err, int code, const char *path, int line, const char *fmt, va_list ap);

/* ---- yaml.c --------------------------------------------------------------- */
/* One parsed YAML text. `path` names it in messages; `line_offset` is added
 * to YAML's own line numbers (front matter starts below the '---' line). */
typedef struct fm__yaml {
    const char *path;
    int line_offset;
    struct fy_diag *diag;
    struct fy_parser *parser;
    struct fy_document *doc;
    struct fy_node *root; /* NULL for an empty document */
} fm__yaml;

/* Parses `text`; a syntax error becomes "path:line: YAML: <message>"
 * (FM_EPARSE). libfyaml never prints: its diagnostics are captured. On
 * success the caller releases `y`; on error `y` holds nothing. */
int fm__yaml_load(fm__yaml *y, const char *path, int line_offset, const char *text, size_t len,
                  fm_error *err);
void fm__yaml_release(fm__yaml *y);

/* The 1-based line of `n` in the file: a scalar's own line, a collection's
 * first scalar; `fallback` for an empty collection or NULL. */
int fm__yaml_line(const fm__yaml *y, struct fy_node *n, int fallback);
/* fm__fail with FM_EPARSE and y's path. */
int fm__yaml_fail(const fm__yaml *y, int line, fm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A mapping's values picked by key. `keys` is NULL-terminated; values[i] and
 * lines[i] (the key's line) are set for keys present, NULL/0 otherwise. Any
 * other key is "unknown key 'k' in <what> (known: ...)". `map` NULL (an empty
 * document) counts as an empty mapping. `line` is the mapping's key line, used
 * when the mapping has no line of its own. */
int fm__yaml_fields(const fm__yaml *y, struct fy_node *map, int line, const char *what,
                    const char *const *keys, struct fy_node **values, int *lines, fm_error *err);

/* A plain empty, ~ or null scalar, or no node: "not given". */
bool fm__yaml_absent(struct fy_node *n);
/* Text scalars. A plain empty/~/null scalar means "not given": *out stays
 * NULL. Anything but a scalar is "'key' must be text, not a list". */
int fm__yaml_text(const fm__yaml *y, struct fy_node *n, int line, const char *key, char **out,
                  fm_error *err);
/* Like fm__yaml_text, but required: absent is "missing key 'key' in <what>",
 * empty is "key must not be empty". */
int fm__yaml_need(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                  const char *what, char **out, fm_error *err);
/* A handle ([a-z][a-z0-9_-]{0,39}); absent leaves *out NULL. */
int fm__yaml_handle(const fm__yaml *y, struct fy_node *n, int line, const char *key, char **out,
                    fm_error *err);
/* A whole number in [lo, hi]; absent leaves *out unchanged. */
int fm__yaml_int(const fm__yaml *y, struct fy_node *n, int line, const char *key, int64_t lo,
                 int64_t hi, int64_t *out, fm_error *err);
/* One word of an enum name table; absent leaves *out unchanged. */
int fm__yaml_enum(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                  int (*parse)(const char *, int *), const char *words, int *out, fm_error *err);
/* A list of text items (each checked by `ok` when given, which names what a
 * good item is in `want`). Absent leaves the list empty. */
int fm__yaml_strv(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                  bool (*ok)(const char *), const char *want, char ***v, size_t *nv,
                  fm_error *err);
/* Must be a list; "'key' must be a list, not ...". */
int fm__yaml_need_list(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                       fm_error *err);
/* {usd, tokens, period}. Absent leaves *b unchanged. */
int fm__yaml_budget(const fm__yaml *y, struct fy_node *n, int line, fm_budget *b,
                    fm_error *err);

/* ---- where things were read (for validate's messages) -------------------- */
typedef struct fm__where {
    int members_line;    /* the 'members:' key, or 1 */
    int *member_handle;  /* per member */
    int *member_role;
    int *goal_owner;     /* per goal: the owner's line */
    int *agent_manager;  /* per agent: the manager's line */
    int *agent_autonomy; /* per agent: autonomy's line, or 1 if defaulted */
} fm__where;
void fm__where_release(fm__where *w);

/* ---- readers ---------------------------------------------------------------- */
/* company.yaml's text into s->company, members, goals (agents untouched). */
int fm__read_company(const char *text, size_t len, fm_company_spec *s, fm__where *w,
                     fm_error *err);
/* One agents/<handle>.md into `a` (handle set from the argument); the
 * manager's and autonomy's lines go to *manager_line / *autonomy_line. On
 * error `a` holds nothing to release. */
int fm__read_agent(const char *handle, const char *text, size_t len, fm_agent_spec *a,
                   int *manager_line, int *autonomy_line, fm_error *err);
void fm__agent_spec_release(fm_agent_spec *a);

/* ---- validate.c -------------------------------------------------------------- */
/* fm_spec_validate with lines from `w` (NULL: messages name files only). */
int fm__spec_check(const fm_company_spec *s, const fm__where *w, fm_error *err);
/* ---- emit.c ------------------------------------------------------------------ */
/* Appends `s` as the value of a block-mapping key whose line is indented by
 * `indent`, ending the line: plain when safe, a literal block (| |- |+) for
 * multi-line text, double-quoted otherwise. */
void fm__emit_text(fm_buf *b, const char *s, int indent);
/* Appends `s` inside a flow collection ({...} or [...]): plain or quoted. */
void fm__emit_flow_text(fm_buf *b, const char *s);
void fm__emit_quoted(fm_buf *b, const char *s);

/* ---- fsutil.c ---------------------------------------------------------------- */
/* mkdir -p; FM_EIO with the path in `err` on failure. */
int fm__mkdir_p(const char *path, fm_error *err);
/* Writes `len` bytes to `path` through a temporary file and rename, so a
 * reader never sees half a file. */
int fm__write_file(const char *path, const void *data, size_t len, fm_error *err);

#endif
