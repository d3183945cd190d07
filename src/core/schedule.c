/*
 * Schedules (see schedule.h): parsing cron expressions into bit sets, and
 * finding the next minute a set matches.
 *
 * fm_cron_next walks the calendar from the coarsest field down: a month not
 * in the set is skipped whole, then a day that does not match, then an hour,
 * and only within a matching hour does it look at minutes, each step a bit
 * scan. An expression that matches no day at all ("0 0 31 2 *") is known
 * at parse time (`possible`), so "never" costs nothing; any other answer is
 * found within 28 years, and the walk stops after 400 (one full cycle of
 * leap years and weekdays) whatever happens.
 */
#include "firma/base.h"
#include "firma/schedule.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int lo, hi;
} fields[5] = {
    {"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12},
    {"day of week", 0, 7},
};

/* ---- parsing ------------------------------------------------------------------ */

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

/* One item of field `f`, from p to end (exclusive); its values are added to
 * *bits. `N/STEP` runs from N to the field's end. */
static bool item(int f, const char *p, const char *end, uint64_t *bits, char *why,
                 size_t why_len)
{
    int lo = fields[f].lo, hi = fields[f].hi;
    int a = lo, b = hi, step = 1;
    bool single = false;
    if (*p == '*') {
        p++;
    } else {
        a = b = number(&p);
        single = true;
        if (a >= 0 && *p == '-' && p < end) {
            p++;
            b = number(&p);
            single = false;
        }
        if (a < 0 || b < 0) {
            snprintf(why, why_len, "%s: expected a number, '*' or a range like 1-5", fields[f].name);
            return false;
        }
    }
    if (p < end && *p == '/') {
        p++;
        step = number(&p);
        if (step < 1 || step > hi) {
            snprintf(why, why_len, "%s: a step after '/' must be 1 to %d", fields[f].name, hi);
            return false;
        }
        if (single)
            b = hi;
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
    for (int v = a; v <= b; v += step)
        *bits |= (uint64_t)1 << v;
    return true;
}

static bool field(int f, const char *p, const char *end, uint64_t *bits, char *why,
                  size_t why_len)
{
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (stop == p) {
            snprintf(why, why_len, "%s: empty item", fields[f].name);
            return false;
        }
        if (!item(f, p, stop, bits, why, why_len))
            return false;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

static const int month_days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Whether some (month, day) pair of the sets exists in some year (February
 * has a 29th in leap years). With both day fields restricted a day matches
 * on its weekday alone, and every month has every weekday. */
static bool possible(const fm_cron *c)
{
    if (!c->dom_star && !c->dow_star)
        return true;
    for (int m = 1; m <= 12; m++) {
        int last = m == 2 ? 29 : month_days[m];
        if ((c->month >> m & 1) && (c->dom & ((((uint32_t)1 << last) - 1) << 1)))
            return true;
    }
    return false;
}

int fm_cron_parse(const char *expr, fm_cron *out, char *why, size_t why_len)
{
    uint64_t bits[5] = {0};
    bool star[5] = {false};
    char scratch[8];
    if (!why) /* snprintf into a scratch buffer keeps the code below simple */
        why = scratch, why_len = sizeof scratch;
    memset(out, 0, sizeof *out);
    const char *p = expr ? expr : "";
    for (int f = 0; f < 5; f++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (p == start) {
            snprintf(why, why_len, "it needs 5 fields (minute hour day-of-month month "
                                   "day-of-week), found %d", f);
            return FM_EPARSE;
        }
        size_t ok = strspn(start, "0123456789,-*/");
        if (start + ok < p) {
            snprintf(why, why_len, "%s: only digits and , - * / are allowed", fields[f].name);
            return FM_EPARSE;
        }
        if (!field(f, start, p, &bits[f], why, why_len))
            return FM_EPARSE;
        star[f] = *start == '*';
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) {
        snprintf(why, why_len, "it has more than 5 fields");
        return FM_EPARSE;
    }
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f); /* 7 is Sunday, like 0 */
    out->dom_star = star[2];
    out->dow_star = star[4];
    out->possible = possible(out);
    return FM_OK;
}

/* ---- the calendar ---------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days from 1970-01-01 to y-m-d, and back (proleptic Gregorian; H. Hinnant's
 * algorithms). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in(int64_t y, int m)
{
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : month_days[m];
}

static bool day_matches(const fm_cron *c, int64_t days, int mday)
{
    int64_t k = days + 4; /* 1970-01-01 was a Thursday */
    int wday = (int)(k - floor_div(k, 7) * 7);
    bool dom = c->dom >> mday & 1, dow = c->dow >> wday & 1;
    return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

static int next_bit(uint64_t bits, int from)
{
    if (from > 63)
        return -1;
    uint64_t b = bits >> from;
    return b ? from + __builtin_ctzll(b) : -1;
}

bool fm_cron_matches(const fm_cron *c, int64_t t)
{
    int64_t days = floor_div(t, 86400), secs = t - days * 86400, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    return (c->month >> m & 1) && day_matches(c, days, d) && (c->hour >> (secs / 3600) & 1) &&
           (c->minute >> (secs % 3600 / 60) & 1);
}

bool fm_cron_next(const fm_cron *c, int64_t after, int64_t *next)
{
    if (!c->possible || after > INT64_MAX / 2 || after < INT64_MIN / 2)
        return false;
    int64_t t = floor_div(after, 60) * 60 + 60; /* the first whole minute after */
    int64_t days = floor_div(t, 86400), y;
    int secs = (int)(t - days * 86400), m, d, hour = secs / 3600, min = secs % 3600 / 60;
    civil_from_days(days, &y, &m, &d);
    const int64_t stop = y + 400;
    while (y <= stop) {
        int mm = next_bit(c->month, m);
        if (mm != m) { /* on to the first day of the next month in the set */
            y += mm < 0;
            m = mm < 0 ? next_bit(c->month, 1) : mm;
            d = 1, hour = 0, min = 0;
            days = days_from_civil(y, m, 1);
            continue;
        }
        if (day_matches(c, days, d)) {
            int h = next_bit(c->hour, hour);
            int mi = h == hour ? next_bit(c->minute, min) : -1;
            if (h == hour && mi < 0) /* this hour is used up */
                h = next_bit(c->hour, hour + 1);
            if (h >= 0 && mi < 0)
                mi = next_bit(c->minute, 0);
            if (h >= 0) {
                *next = days * 86400 + h * 3600 + mi * 60;
                return true;
            }
        }
        /* Nothing (more) today: on to the next day that may match. When a
         * day must match both fields, that is the next day of the month in
         * the set; else some weekday matches within a week. */
        int nd = c->dom_star || c->dow_star ? next_bit(c->dom, d + 1) : d + 1;
        hour = 0, min = 0;
        if (nd < 0 || nd > days_in(y, m)) {
            d = 1;
            if (++m > 12)
                m = 1, y++;
            days = days_from_civil(y, m, 1);
        } else {
            days += nd - d;
            d = nd;
        }
    }
    return false;
}

int64_t fm_schedule_next(const fm_schedule *s, int64_t after_us)
{
    int64_t best = 0;
    if (s->heartbeat_s > 0 && s->heartbeat_s <= FM_HEARTBEAT_MAX_S &&
        after_us < INT64_MAX - s->heartbeat_s * 1000000)
        best = after_us + s->heartbeat_s * 1000000;
    fm_cron c;
    int64_t t;
    if (s->cron && fm_cron_parse(s->cron, &c, NULL, 0) == FM_OK &&
        fm_cron_next(&c, floor_div(after_us, 1000000), &t) && t < INT64_MAX / 1000000 &&
        (!best || t * 1000000 < best))
        best = t * 1000000;
    return best;
}
