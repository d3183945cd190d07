/*
 * Strict parsers for the small values people write in company files and on
 * the command line: integers, money, durations, handles. Each accepts the
 * whole string or nothing, and never uses floating point for money.
 */
#include "firma/base.h"
#include "firma/errors.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

fm_str fm_str_c(const char *s)
{
    return (fm_str){s, s ? strlen(s) : 0};
}

bool fm_str_eq(fm_str a, fm_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool fm_str_eqc(fm_str a, const char *c)
{
    return fm_str_eq(a, fm_str_c(c));
}

int fm_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return FM_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return FM_EINVAL;
    *out = v;
    return FM_OK;
}

int fm_parse_usd(const char *s, int64_t *micro_out)
{
    if (!s)
        return FM_EINVAL;
    if (*s == '$')
        s++;
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    const char *p = s;
    for (; isdigit((unsigned char)*p); p++, digits++) {
        if (whole > (INT64_MAX / 1000000 - 9) / 10)
            return FM_EINVAL;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        for (; isdigit((unsigned char)*p); p++, fdigits++) {
            if (fdigits == 6)
                return FM_EINVAL; /* finer than a micro-dollar */
            frac = frac * 10 + (*p - '0');
        }
        if (fdigits == 0)
            return FM_EINVAL;
    }
    if (*p || digits == 0)
        return FM_EINVAL;
    for (int i = fdigits; i < 6; i++)
        frac *= 10;
    *micro_out = whole * 1000000 + frac;
    return FM_OK;
}

void fm_format_usd(fm_buf *b, int64_t micro)
{
    if (micro < 0) {
        fm_buf_addc(b, '-');
        micro = -micro;
    }
    fm_buf_addf(b, "%lld", (long long)(micro / 1000000));
    int64_t frac = micro % 1000000;
    if (!frac)
        return;
    char digits[8];
    int n = 6;
    for (int i = 5; i >= 0; i--, frac /= 10)
        digits[i] = (char)('0' + frac % 10);
    while (n > 0 && digits[n - 1] == '0')
        n--;
    fm_buf_addc(b, '.');
    fm_buf_add(b, digits, (size_t)n);
}

static int64_t unit_seconds(char u)
{
    switch (u) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
    }
}

int fm_parse_duration(const char *s, int64_t *seconds_out)
{
    if (!s || !*s)
        return FM_EINVAL;
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        int64_t n = 0;
        int digits = 0;
        for (; isdigit((unsigned char)*p); p++, digits++) {
            if (n > 100000000)
                return FM_EINVAL;
            n = n * 10 + (*p - '0');
        }
        int64_t unit = unit_seconds(*p);
        if (!digits || !unit)
            return FM_EINVAL;
        p++;
        total += n * unit;
        if (total > (int64_t)1 << 40)
            return FM_EINVAL;
    }
    *seconds_out = total;
    return FM_OK;
}

void fm_format_duration(fm_buf *b, int64_t s)
{
    static const struct { char u; int64_t n; } units[] = {
        {'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    if (s == 0) {
        fm_buf_adds(b, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (s >= units[i].n) {
            fm_buf_addf(b, "%lld%c", (long long)(s / units[i].n), units[i].u);
            s %= units[i].n;
        }
    }
}

bool fm_valid_handle(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return false;
    size_t n = 0;
    for (; *s; s++, n++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n <= 40;
}

bool fm_utf8_valid(const char *s, size_t len, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = c != 0 && n && i + n <= len;
        for (size_t k = 1; ok && k < n; k++)
            ok = (p[i + k] & 0xC0) == 0x80;
        /* No overlong forms, surrogates or code points past U+10FFFF. */
        if (ok && n == 2)
            ok = c >= 0xC2;
        if (ok && n == 3)
            ok = !(c == 0xE0 && p[i + 1] < 0xA0) && !(c == 0xED && p[i + 1] >= 0xA0);
        if (ok && n == 4)
            ok = !(c == 0xF0 && p[i + 1] < 0x90) && !(c == 0xF4 && p[i + 1] >= 0x90) && c <= 0xF4;
        if (!ok) {
            if (bad)
                *bad = i;
            return false;
        }
        i += n;
    }
    return true;
}

size_t fm_utf8_whole(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t back = 1; back <= 4 && back <= len; back++) {
        unsigned c = p[len - back];
        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: its lead is further back */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

void fm_buf_add_utf8(fm_buf *b, const char *s, size_t len)
{
    size_t bad;
    while (len && !fm_utf8_valid(s, len, &bad)) {
        fm_buf_add(b, s, bad);
        fm_buf_adds(b, "\xEF\xBF\xBD");
        s += bad + 1;
        len -= bad + 1;
    }
    fm_buf_add(b, s, len);
}
