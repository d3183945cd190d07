/*
 * YAML for company files: libfyaml behind a few typed getters.
 *
 * Every getter either fills its out-parameter or returns FM_EPARSE with a
 * message "path:line: what is wrong" that names the key and the expected
 * shape. All scalars are taken as their text (YAML's own typing of 12, yes or
 * null is not used), so "usd: 12" and "usd: '12'" mean the same; only a plain
 * empty, ~ or null scalar means "not given".
 *
 * libfyaml reports through a diag object. Ours collects errors and sends any
 * printed output to a sink, so nothing reaches stderr; the first collected
 * error becomes "path:line: YAML: <message>".
 */
#include "core/files/internal.h"

#include "firma/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fm__vfail(fm_error *err, int code, const char *path, int line, const char *fmt, va_list ap)
{
    char what[900];
    vsnprintf(what, sizeof what, fmt, ap);
    if (line > 0)
        return fm_error_set(err, code, "%s:%d: %s", path, line, what);
    return fm_error_set(err, code, "%s: %s", path, what);
}

int fm__fail(fm_error *err, int code, const char *path, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fm__vfail(err, code, path, line, fmt, ap);
    va_end(ap);
    return code;
}

int fm__yaml_fail(const fm__yaml *y, int line, fm_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fm__vfail(err, FM_EPARSE, y->path, line, fmt, ap);
    va_end(ap);
    return FM_EPARSE;
}

/* ---- loading ------------------------------------------------------------- */

/* Printed diagnostics are dropped: the collected ones are reported instead. */
static void diag_sink(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag, (void)user, (void)buf, (void)len;
}

/* The first collected error as "path:line: YAML: msg", or FM_OK if none. */
static int collected_error(const fm__yaml *y, fm_error *err)
{
    void *it = NULL;
    struct fy_diag_error *e;
    while ((e = fy_diag_errors_iterate(y->diag, &it))) {
        if (e->type < FYET_ERROR)
            continue;
        /* libfyaml's collected lines are already 1-based. */
        int line = (e->line > 0 ? e->line : 1) + y->line_offset;
        const char *msg = e->msg ? e->msg : "syntax error";
        size_t klen = 0;
        /* Only a duplicate key's token is read: libfyaml 0.7.12 reads past
         * its buffer formatting some other error tokens, e.g. an undefined
         * alias (found by tests/fuzz/fuzz_files.c). */
        const char *key = e->fyt && strcmp(msg, "duplicate key") == 0
                              ? fy_token_get_text(e->fyt, &klen) : NULL;
        if (key && klen)
            return fm__yaml_fail(y, line, err, "YAML: duplicate key '%.*s'",
                                 (int)(klen > 60 ? 60 : klen), key);
        return fm__yaml_fail(y, line, err, "YAML: %s", msg);
    }
    return FM_OK;
}

/* Aliases would let one node appear under several keys; company files have
 * no use for them, and refusing them keeps every value at one line. */
static int refuse_aliases(const fm__yaml *y, struct fy_node *n, fm_error *err)
{
    if (!n)
        return FM_OK;
    if (fy_node_is_alias(n))
        return fm__yaml_fail(y, fm__yaml_line(y, n, 1), err,
                             "YAML aliases (*name) are not supported in company files");
    void *it = NULL;
    int rc = FM_OK;
    if (fy_node_is_sequence(n)) {
        struct fy_node *item;
        while (rc == FM_OK && (item = fy_node_sequence_iterate(n, &it)))
            rc = refuse_aliases(y, item, err);
    } else if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p;
        while (rc == FM_OK && (p = fy_node_mapping_iterate(n, &it))) {
            rc = refuse_aliases(y, fy_node_pair_key(p), err);
            if (rc == FM_OK)
                rc = refuse_aliases(y, fy_node_pair_value(p), err);
        }
    }
    return rc;
}

static int open_parser(fm__yaml *y, const char *text, size_t len, fm_error *err)
{
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL;
    dc.output_fn = diag_sink;
    dc.colorize = false;
    y->diag = fy_diag_create(&dc);
    if (!y->diag)
        return fm_error_set(err, FM_ENOMEM, "%s: cannot set up the YAML parser", y->path);
    fy_diag_set_collect_errors(y->diag, true);
    struct fy_parse_cfg pc = {.flags = FYPCF_QUIET, .diag = y->diag};
    y->parser = fy_parser_create(&pc);
    if (!y->parser || fy_parser_set_string(y->parser, text, len) != 0)
        return fm_error_set(err, FM_ENOMEM, "%s: cannot set up the YAML parser", y->path);
    return FM_OK;
}

/* One document per file: a second one would be silently ignored otherwise. */
static int refuse_second_document(fm__yaml *y, fm_error *err)
{
    struct fy_document *extra = fy_parse_load_document(y->parser);
    if (!extra)
        return FM_OK;
    int line = fm__yaml_line(y, fy_document_root(extra), 0);
    fy_parse_document_destroy(y->parser, extra);
    int rc = collected_error(y, err);
    if (rc != FM_OK)
        return rc;
    return fm__yaml_fail(y, line > 0 ? line : 1, err,
                         "a second YAML document starts here ('---' inside the file)");
}

int fm__yaml_load(fm__yaml *y, const char *path, int line_offset, const char *text, size_t len,
                  fm_error *err)
{
    memset(y, 0, sizeof *y);
    y->path = path;
    y->line_offset = line_offset;
    /* Company files are UTF-8 text. Checking first also keeps libfyaml 0.7.12
     * away from a loop it falls into on invalid UTF-8 after a '%' directive
     * line (found by tests/fuzz/fuzz_files.c). */
    size_t bad;
    if (!fm_utf8_valid(text, len, &bad)) {
        int line = line_offset + 1;
        for (size_t i = 0; i < bad; i++)
            line += text[i] == '\n';
        return fm__fail(err, FM_EPARSE, path, line, "not UTF-8 text (byte 0x%02X)",
                        (unsigned)(unsigned char)text[bad]);
    }
    int rc = open_parser(y, text, len, err);
    if (rc == FM_OK) {
        y->doc = fy_parse_load_document(y->parser);
        rc = collected_error(y, err);
    }
    if (rc == FM_OK && y->doc) {
        y->root = fy_document_root(y->doc);
        rc = refuse_second_document(y, err);
    }
    if (rc == FM_OK)
        rc = refuse_aliases(y, y->root, err);
    if (rc != FM_OK)
        fm__yaml_release(y);
    return rc;
}

void fm__yaml_release(fm__yaml *y)
{
    if (y->doc)
        fy_parse_document_destroy(y->parser, y->doc);
    fy_parser_destroy(y->parser);
    if (y->diag)
        fy_diag_destroy(y->diag);
    memset(y, 0, sizeof *y);
}

/* ---- shapes ---------------------------------------------------------------- */

int fm__yaml_line(const fm__yaml *y, struct fy_node *n, int fallback)
{
    if (!n)
        return fallback;
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p = fy_node_mapping_get_by_index(n, 0);
        return p ? fm__yaml_line(y, fy_node_pair_key(p), fallback) : fallback;
    }
    if (fy_node_is_sequence(n))
        return fm__yaml_line(y, fy_node_sequence_get_by_index(n, 0), fallback);
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    return m ? m->line + 1 + y->line_offset : fallback;
}

static const char *shape(struct fy_node *n)
{
    if (fy_node_is_mapping(n))
        return "a mapping";
    if (fy_node_is_sequence(n))
        return "a list";
    return "text";
}

/* A plain empty, ~ or null scalar: YAML's way to write "nothing here". */
bool fm__yaml_absent(struct fy_node *n)
{
    if (!n)
        return true;
    if (!fy_node_is_scalar(n) || fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    static const char *const nulls[] = {"~", "null", "Null", "NULL"};
    if (!s || len == 0)
        return true;
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (len == strlen(nulls[i]) && memcmp(s, nulls[i], len) == 0)
            return true;
    return false;
}

static int unknown_key(const fm__yaml *y, int line, const char *what, const char *key,
                       size_t klen, const char *const *keys, fm_error *err)
{
    fm_buf known = FM_BUF_INIT;
    for (size_t i = 0; keys[i]; i++)
        fm_buf_addf(&known, "%s%s", i ? ", " : "", keys[i]);
    fm__yaml_fail(y, line, err, "unknown key '%.*s' in %s (known: %s)", (int)(klen > 60 ? 60 : klen),
                  key, what, known.ptr ? known.ptr : "");
    fm_buf_release(&known);
    return FM_EPARSE;
}

int fm__yaml_fields(const fm__yaml *y, struct fy_node *map, int line, const char *what,
                    const char *const *keys, struct fy_node **values, int *lines, fm_error *err)
{
    size_t nk = 0;
    for (; keys[nk]; nk++)
        values[nk] = NULL, lines[nk] = 0;
    if (fm__yaml_absent(map))
        return FM_OK;
    if (!fy_node_is_mapping(map))
        return fm__yaml_fail(y, line, err, "%s must be a mapping (key: value), not %s", what,
                             shape(map));
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it))) {
        struct fy_node *k = fy_node_pair_key(p);
        int kl = fm__yaml_line(y, k, line);
        size_t klen = 0;
        const char *ks = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &klen) : NULL;
        if (!ks)
            return fm__yaml_fail(y, kl, err, "keys in %s must be plain words", what);
        size_t i = 0;
        while (i < nk && !(strlen(keys[i]) == klen && memcmp(keys[i], ks, klen) == 0))
            i++;
        if (i == nk)
            return unknown_key(y, kl, what, ks, klen, keys, err);
        values[i] = fy_node_pair_value(p);
        lines[i] = kl;
    }
    return FM_OK;
}

/* ---- scalars ----------------------------------------------------------------- */

int fm__yaml_text(const fm__yaml *y, struct fy_node *n, int line, const char *key, char **out,
                  fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    line = fm__yaml_line(y, n, line);
    if (!fy_node_is_scalar(n))
        return fm__yaml_fail(y, line, err, "%s must be text, not %s", key, shape(n));
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        s = "", len = 0;
    if (memchr(s, '\0', len))
        return fm__yaml_fail(y, line, err, "%s contains a NUL character", key);
    free(*out);
    *out = fm_xstrndup(s, len);
    return FM_OK;
}

int fm__yaml_need(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                  const char *what, char **out, fm_error *err)
{
    if (fm__yaml_absent(n))
        return fm__yaml_fail(y, line, err, "missing key '%s' in %s", key, what);
    int rc = fm__yaml_text(y, n, line, key, out, err);
    if (rc == FM_OK && !**out)
        return fm__yaml_fail(y, line, err, "%s must not be empty", key);
    return rc;
}

int fm__yaml_handle(const fm__yaml *y, struct fy_node *n, int line, const char *key, char **out,
                    fm_error *err)
{
    int rc = fm__yaml_text(y, n, line, key, out, err);
    if (rc == FM_OK && *out && !fm_valid_handle(*out))
        return fm__yaml_fail(y, fm__yaml_line(y, n, line), err,
                             "%s '%s' is not a valid handle (a lowercase letter, then a-z, 0-9, "
                             "'_' or '-'; at most 40 characters)",
                             key, *out);
    return rc;
}

/* The scalar's text for number and word parsers, or an error naming `want`. */
static int scalar_word(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                       const char *want, char **out, fm_error *err)
{
    if (!fy_node_is_scalar(n))
        return fm__yaml_fail(y, fm__yaml_line(y, n, line), err, "%s must be %s, not %s", key,
                             want, shape(n));
    return fm__yaml_text(y, n, line, key, out, err);
}

int fm__yaml_int(const fm__yaml *y, struct fy_node *n, int line, const char *key, int64_t lo,
                 int64_t hi, int64_t *out, fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    char want[96];
    if (hi == INT64_MAX)
        snprintf(want, sizeof want, "a whole number >= %lld", (long long)lo);
    else
        snprintf(want, sizeof want, "a whole number from %lld to %lld", (long long)lo,
                 (long long)hi);
    char *s = NULL;
    int rc = scalar_word(y, n, line, key, want, &s, err);
    int64_t v = 0;
    if (rc == FM_OK && (fm_parse_i64(s, &v) != FM_OK || v < lo || v > hi))
        rc = fm__yaml_fail(y, fm__yaml_line(y, n, line), err, "%s must be %s, not '%s'", key,
                           want, s);
    if (rc == FM_OK)
        *out = v;
    free(s);
    return rc;
}

int fm__yaml_enum(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                  int (*parse)(const char *, int *), const char *words, int *out, fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    char *s = NULL;
    int rc = scalar_word(y, n, line, key, "a word", &s, err);
    int v = 0;
    if (rc == FM_OK && parse(s, &v) != FM_OK)
        rc = fm__yaml_fail(y, fm__yaml_line(y, n, line), err, "%s '%s' is not one of: %s", key,
                           s, words);
    if (rc == FM_OK)
        *out = v;
    free(s);
    return rc;
}

/* ---- lists and budgets ------------------------------------------------------- */

int fm__yaml_need_list(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                       fm_error *err)
{
    if (fy_node_is_sequence(n))
        return FM_OK;
    return fm__yaml_fail(y, fm__yaml_line(y, n, line), err,
                         "%s must be a list ('- item' lines or [a, b]), not %s", key, shape(n));
}

int fm__yaml_strv(const fm__yaml *y, struct fy_node *n, int line, const char *key,
                  bool (*ok)(const char *), const char *want, char ***v, size_t *nv,
                  fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    int rc = fm__yaml_need_list(y, n, line, key, err);
    size_t count = rc == FM_OK ? (size_t)fy_node_sequence_item_count(n) : 0;
    if (count)
        *v = fm_xcalloc(count, sizeof **v);
    void *it = NULL;
    struct fy_node *item;
    while (rc == FM_OK && (item = fy_node_sequence_iterate(n, &it))) {
        char *s = NULL;
        int il = fm__yaml_line(y, item, line);
        rc = fm__yaml_text(y, item, il, key, &s, err);
        if (rc == FM_OK && (!s || (ok && !ok(s))))
            rc = fm__yaml_fail(y, il, err, "%s: '%s' is not %s", key, s ? s : "", want);
        if (rc != FM_OK) {
            free(s);
            break;
        }
        (*v)[(*nv)++] = s;
    }
    return rc;
}

static int parse_usd(const fm__yaml *y, struct fy_node *n, int line, int64_t *out,
                     fm_error *err)
{
    if (fm__yaml_absent(n))
        return FM_OK;
    char *s = NULL;
    int rc = scalar_word(y, n, line, "usd", "an amount of dollars", &s, err);
    if (rc == FM_OK && fm_parse_usd(s, out) != FM_OK)
        rc = fm__yaml_fail(y, fm__yaml_line(y, n, line), err,
                           "usd '%s' is not an amount of dollars (like 12 or 0.50: not negative, "
                           "at most 6 decimals)",
                           s);
    free(s);
    return rc;
}

int fm__yaml_budget(const fm__yaml *y, struct fy_node *n, int line, fm_budget *b,
                    fm_error *err)
{
    static const char *const keys[] = {"usd", "tokens", "period", NULL};
    struct fy_node *v[3];
    int l[3];
    int rc = fm__yaml_fields(y, n, line, "budget", keys, v, l, err);
    if (rc == FM_OK)
        rc = parse_usd(y, v[0], l[0], &b->usd_micro, err);
    if (rc == FM_OK)
        rc = fm__yaml_int(y, v[1], l[1], "tokens", 0, INT64_MAX, &b->tokens, err);
    int period = (int)b->period;
    if (rc == FM_OK)
        rc = fm__yaml_enum(y, v[2], l[2], "period", fm_period_parse, fm_period_words(), &period,
                           err);
    b->period = (fm_period)period;
    return rc;
}
