/*
 * Errors: status codes from errors.def plus an optional message with context.
 *
 * Functions return FM_OK (0) or a negative enum fm_err. Where a person or a
 * model will read the failure, the function also fills an fm_error, whose
 * message says what and where ("agents/cto.md:4: manager 'ceo2' is not ...").
 * Passing NULL for the fm_error is always allowed.
 */
#ifndef FIRMA_ERRORS_H
#define FIRMA_ERRORS_H

#include <stddef.h>

enum fm_err {
    FM_OK = 0,
    FM__ERR_BASE = -1000,
#define FM_ERR(name, text) FM_##name,
#include "firma/errors.def"
#undef FM_ERR
    FM__ERR_END
};

typedef struct fm_error {
    int code;        /* FM_OK or an enum fm_err */
    char msg[1024];  /* NUL-terminated; empty when no context was given */
} fm_error;

/* The table's text for `code`; "unknown error" for codes outside it. */
const char *fm_strerror(int code);
/* The name of `code` ("ENOTFOUND"), for JSON output. */
const char *fm_errname(int code);

/* Records `code` and a formatted message in `err` (may be NULL); returns `code`
 * so callers can `return fm_error_set(err, FM_EINVAL, "...")`. */
int fm_error_set(fm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the message already in `err` with formatted context ("file.md: "). */
void fm_error_prefix(fm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fm_error_clear(fm_error *err);
/* The message if one was set, else fm_strerror(code). Never NULL. */
const char *fm_error_text(const fm_error *err);

#endif
