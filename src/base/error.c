/* The error table's text and the context-carrying fm_error. */
#include "firma/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *text;
} table[] = {
#define FM_ERR(name, text) {#name, text},
#include "firma/errors.def"
#undef FM_ERR
};

static int index_of(int code)
{
    int i = code - FM__ERR_BASE - 1;
    if (i < 0 || i >= (int)(sizeof table / sizeof table[0]))
        return -1;
    return i;
}

const char *fm_strerror(int code)
{
    if (code == FM_OK)
        return "ok";
    int i = index_of(code);
    return i < 0 ? "unknown error" : table[i].text;
}

const char *fm_errname(int code)
{
    if (code == FM_OK)
        return "OK";
    int i = index_of(code);
    return i < 0 ? "EUNKNOWN" : table[i].name;
}

int fm_error_set(fm_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void fm_error_prefix(fm_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is acceptable: the head is short context, the tail detail. */
    size_t n = strnlen(head, sizeof err->msg - 1);
    memcpy(err->msg, head, n);
    size_t rest = strnlen(old, sizeof err->msg - 1 - n);
    memcpy(err->msg + n, old, rest);
    err->msg[n + rest] = '\0';
}

void fm_error_clear(fm_error *err)
{
    if (!err)
        return;
    err->code = FM_OK;
    err->msg[0] = '\0';
}

const char *fm_error_text(const fm_error *err)
{
    if (!err)
        return "unknown error";
    return err->msg[0] ? err->msg : fm_strerror(err->code);
}
