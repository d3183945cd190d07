/*
 * Cron syntax for agent schedules: five fields (minute hour day-of-month
 * month day-of-week), each a comma-separated list of items, each item `*`,
 * `N` or `N-M`, optionally followed by `/STEP`. Only digits and , - * / are
 * allowed: no names (MON, JAN) and no @hourly shorthands, so every firma
 * that reads the file agrees on what it means. The scheduler (runtime/)
 * evaluates expressions; this file only decides whether one is well formed.
 */
#include "core/files/internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int lo, hi;
} fields[5] = {
    {"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12},
    {"day of week", 0, 7},
};

/* Reads a number of at most 3 digits at *p; -1 if there is none. */
static int number(const char **p)
{
    int v = 0, digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 3) {
        v = v * 10 + (**p - '0');
        (*p)++, digits++;
    }
    if (**p >= '0' && **p <= '9')
        return -1; /* too many digits for any field */
    return digits ? v : -1;
}

/* One item of field `f`, from p to end (exclusive). */
static bool item_ok(int f, const char *p, const char *end, char *why, size_t why_len)
{
    int lo = fields[f].lo, hi = fields[f].hi;
    int a = lo, b = hi;
    if (*p == '*') {
        p++;
    } else {
        a = b = number(&p);
        if (a >= 0 && *p == '-' && p < end) {
            p++;
            b = number(&p);
        }
        if (a < 0 || b < 0) {
            snprintf(why, why_len, "%s: expected a number, '*' or a range like 1-5", fields[f].name);
            return false;
        }
    }
    if (p < end && *p == '/') {
        p++;
        int step = number(&p);
        if (step < 1 || step > hi) {
            snprintf(why, why_len, "%s: a step after '/' must be 1 to %d", fields[f].name, hi);
            return false;
        }
    }
    if (p != end) {
        snprintf(why, why_len, "%s: unexpected '%c'", fields[f].name, *p);
        return false;
    }
    if (a < lo || b > hi || a > b) {
        snprintf(why, why_len, "%s: %d-%d is outside %d-%d", fields[f].name, a, b, lo, hi);
        if (a == b)
            snprintf(why, why_len, "%s: %d is outside %d-%d", fields[f].name, a, lo, hi);
        return false;
    }
    return true;
}

static bool field_ok(int f, const char *p, const char *end, char *why, size_t why_len)
{
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (stop == p) {
            snprintf(why, why_len, "%s: empty item", fields[f].name);
            return false;
        }
        if (!item_ok(f, p, stop, why, why_len))
            return false;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

bool fm__cron_ok(const char *expr, char *why, size_t why_len)
{
    const char *p = expr;
    for (int f = 0; f < 5; f++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (p == start) {
            snprintf(why, why_len, "it needs 5 fields (minute hour day-of-month month "
                                   "day-of-week), found %d", f);
            return false;
        }
        size_t bad = strspn(start, "0123456789,-*/");
        if (start + bad < p) {
            snprintf(why, why_len, "%s: only digits and , - * / are allowed", fields[f].name);
            return false;
        }
        if (!field_ok(f, start, p, why, why_len))
            return false;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) {
        snprintf(why, why_len, "it has more than 5 fields");
        return false;
    }
    return true;
}
