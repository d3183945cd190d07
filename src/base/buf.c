/* Growable, always NUL-terminated byte buffer (in the manner of git's strbuf). */
#include "firma/base.h"
#include "firma/errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fm_buf_init(fm_buf *b)
{
    *b = FM_BUF_INIT;
}

void fm_buf_release(fm_buf *b)
{
    free(b->ptr);
    *b = FM_BUF_INIT;
}

void fm_buf_reset(fm_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

static void grow(fm_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->ptr = fm_xreallocarray(b->ptr, cap, 1);
    b->cap = cap;
}

void fm_buf_reserve(fm_buf *b, size_t extra)
{
    grow(b, extra);
    b->ptr[b->len] = '\0';
}

void fm_buf_add(fm_buf *b, const void *data, size_t len)
{
    grow(b, len);
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

void fm_buf_adds(fm_buf *b, const char *s)
{
    fm_buf_add(b, s, strlen(s));
}

void fm_buf_addc(fm_buf *b, char c)
{
    fm_buf_add(b, &c, 1);
}

void fm_buf_vaddf(fm_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    grow(b, 64);
    int n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        grow(b, (size_t)n);
        vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void fm_buf_addf(fm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fm_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

char *fm_buf_detach(fm_buf *b)
{
    if (!b->ptr)
        grow(b, 0), b->ptr[0] = '\0';
    char *s = b->ptr;
    *b = FM_BUF_INIT;
    return s;
}

int fm_buf_read_file(fm_buf *b, const char *path, size_t limit)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? FM_ENOTFOUND : FM_EIO;
    char chunk[8192];
    size_t n;
    int rc = FM_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > limit) {
            rc = FM_ETOOBIG;
            break;
        }
        fm_buf_add(b, chunk, n);
    }
    if (rc == FM_OK && ferror(f))
        rc = FM_EIO;
    fclose(f);
    if (rc == FM_OK && !b->ptr)
        fm_buf_add(b, "", 0);
    return rc;
}
