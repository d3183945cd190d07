/* Allocation that aborts on exhaustion, for small internal sizes only. */
#include "firma/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "firma: out of memory allocating %zu bytes\n", n);
    abort();
}

void *fm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *fm_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *fm_xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        oom(bytes);
    return q;
}

char *fm_xstrdup(const char *s)
{
    return s ? fm_xstrndup(s, strlen(s)) : NULL;
}

char *fm_xstrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = fm_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *fm_xasprintf(const char *fmt, ...)
{
    fm_buf b = FM_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    fm_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    return fm_buf_detach(&b);
}
