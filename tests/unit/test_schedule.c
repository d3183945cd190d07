/* core/schedule: cron syntax, cron fire times, heartbeats. */
#include "firma/schedule.h"
#include "helpers.h"

#include <time.h>

static fm_cron cron(const char *expr)
{
    fm_cron c;
    char why[160];
    if (fm_cron_parse(expr, &c, why, sizeof why) != FM_OK)
        fail_msg("cron '%s' refused: %s", expr, why);
    return c;
}

static int64_t at(const char *iso)
{
    int64_t us;
    if (fm_parse_time(iso, &us) != FM_OK)
        fail_msg("bad time in test: %s", iso);
    return us / 1000000;
}

/* The next fire time of `expr` after `after` (ISO), as ISO, or "never". */
static char *next(const char *expr, const char *after)
{
    fm_cron c = cron(expr);
    int64_t t;
    if (!fm_cron_next(&c, at(after), &t))
        return fm_xstrdup("never");
    fm_buf b = FM_BUF_INIT;
    fm_format_time(&b, t * 1000000);
    return fm_buf_detach(&b);
}

#define NEXT(expr, after, want)                                                   \
    do {                                                                          \
        char *got_ = next(expr, after);                                           \
        if (strcmp(got_, want) != 0)                                              \
            fail_msg("'%s' after %s: got %s, want %s", expr, after, got_, want);  \
        free(got_);                                                               \
    } while (0)

static void cron_syntax(void **state)
{
    (void)state;
    const char *good[] = {"* * * * *", "0 9 * * 1-5", "*/30 8-18 * * 1-5", "0,15,30,45 * 1 1 0",
                          "59 23 31 12 7", "0-59/5 */2 1-31/3 */6 0-7", " 0  9\t* * * ",
                          "5/20 * * * *"};
    const char *bad[] = {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                         "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "1,,2 * * * *",
                         "a * * * *", "@daily", "1- * * * *", "*-2 * * * *", "0001 * * * *",
                         "0 9 * JAN MON", "*/60 * * * *"};
    char why[160];
    fm_cron c;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (fm_cron_parse(good[i], &c, why, sizeof why) != FM_OK)
            fail_msg("cron '%s' refused: %s", good[i], why);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (fm_cron_parse(bad[i], &c, why, sizeof why) == FM_OK)
            fail_msg("cron '%s' accepted", bad[i]);
    assert_int_equal(fm_cron_parse("* 24 * * *", &c, why, sizeof why), FM_EPARSE);
    assert_string_equal(why, "hour: 24 is outside 0-23");
    assert_int_equal(fm_cron_parse("* * * *", &c, NULL, 0), FM_EPARSE); /* why is optional */
}

static void fields_become_sets(void **state)
{
    (void)state;
    fm_cron c = cron("5/20 0-6/3 1,15,31 */4 5-7");
    assert_true(c.minute == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
    assert_true(c.hour == ((1u << 0) | (1u << 3) | (1u << 6)));
    assert_true(c.dom == ((1u << 1) | (1u << 15) | (1u << 31)));
    assert_true(c.month == ((1u << 1) | (1u << 5) | (1u << 9)));
    assert_true(c.dow == ((1u << 5) | (1u << 6) | (1u << 0))); /* 7 is Sunday, bit 0 */
    assert_false(c.dom_star);
    assert_false(c.dow_star);
    assert_true(c.possible);
    c = cron("* * */2 * *");
    assert_true(c.dom_star && c.dow_star);
    assert_true(c.dow == 0x7f);
}

static void next_is_strictly_after_on_a_whole_minute(void **state)
{
    (void)state;
    NEXT("* * * * *", "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z");
    NEXT("* * * * *", "2024-01-01T00:00:59Z", "2024-01-01T00:01:00Z");
    NEXT("0 9 * * *", "2024-01-01T09:00:00Z", "2024-01-02T09:00:00Z");
    NEXT("0 9 * * *", "2024-01-01T08:59:59Z", "2024-01-01T09:00:00Z");
}

static void ranges_steps_and_lists(void **state)
{
    (void)state;
    NEXT("*/15 * * * *", "2024-05-10T10:07:00Z", "2024-05-10T10:15:00Z");
    NEXT("*/15 * * * *", "2024-05-10T10:45:00Z", "2024-05-10T11:00:00Z");
    NEXT("5/20 * * * *", "2024-05-10T10:46:00Z", "2024-05-10T11:05:00Z");
    NEXT("0,30 8-18/2 * * *", "2024-05-10T18:30:00Z", "2024-05-11T08:00:00Z");
    NEXT("0,30 8-18/2 * * *", "2024-05-10T08:30:00Z", "2024-05-10T10:00:00Z");
    NEXT("30 23 * * *", "2024-05-10T23:31:00Z", "2024-05-11T23:30:00Z");
    NEXT("0 0 1 */3 *", "2024-01-01T00:00:00Z", "2024-04-01T00:00:00Z");
    NEXT("0 0 1 */3 *", "2024-10-01T00:00:00Z", "2025-01-01T00:00:00Z");
    /* The example company's support desk: half-hourly in working hours. */
    NEXT("*/30 8-18 * * 1-5", "2024-03-01T18:30:00Z", "2024-03-04T08:00:00Z"); /* Fri -> Mon */
    NEXT("0 9 * * 1-5", "2024-03-01T09:00:00Z", "2024-03-04T09:00:00Z");
}

static void month_ends_and_leap_years(void **state)
{
    (void)state;
    NEXT("0 0 31 * *", "2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z"); /* April has 30 */
    NEXT("0 0 30 * *", "2024-01-30T00:00:00Z", "2024-03-30T00:00:00Z"); /* February has not */
    NEXT("0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
    NEXT("0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"); /* 2100 is no leap year */
    NEXT("0 0 29 2 *", "1996-03-01T00:00:00Z", "2000-02-29T00:00:00Z"); /* 2000 is one */
    NEXT("59 23 31 12 *", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z");
    NEXT("0 0 1 1 *", "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z");
    NEXT("0 0 28-31 2 *", "2023-02-28T00:00:00Z", "2024-02-28T00:00:00Z");
    NEXT("0 0 28-31 2 *", "2024-02-28T00:00:00Z", "2024-02-29T00:00:00Z");
}

static void impossible_dates_never_fire(void **state)
{
    (void)state;
    NEXT("0 0 31 2 *", "2024-01-01T00:00:00Z", "never");
    NEXT("0 0 30 2 *", "2024-01-01T00:00:00Z", "never");
    NEXT("0 0 30,31 2 *", "2024-01-01T00:00:00Z", "never");
    NEXT("0 0 31 4,6,9,11 *", "2024-01-01T00:00:00Z", "never");
    NEXT("0 0 31 2 *", "2024-01-01T00:00:00Z", "never");
    assert_false(cron("0 0 31 2 *").possible);
    assert_false(cron("0 0 31 2 */2").possible); /* the day of week starts with '*': AND */
    /* ...but with both day fields restricted, the weekday alone can match. */
    assert_true(cron("0 0 31 2 1").possible);
    NEXT("0 0 31 2 1", "2024-01-01T00:00:00Z", "2024-02-05T00:00:00Z");
}

static void day_of_week_and_the_day_rule(void **state)
{
    (void)state;
    /* 2024-03-01 was a Friday. 0 and 7 are both Sunday. */
    NEXT("0 12 * * 0", "2024-03-01T00:00:00Z", "2024-03-03T12:00:00Z");
    NEXT("0 12 * * 7", "2024-03-01T00:00:00Z", "2024-03-03T12:00:00Z");
    NEXT("0 12 * * 6-7", "2024-03-03T12:00:00Z", "2024-03-09T12:00:00Z");
    NEXT("0 12 * * 5", "2024-03-01T12:00:00Z", "2024-03-08T12:00:00Z");
    /* Both restricted: the 15th OR a Wednesday (the 6th comes first). */
    NEXT("0 0 15 * 3", "2024-03-01T00:00:00Z", "2024-03-06T00:00:00Z");
    NEXT("0 0 15 * 3", "2024-03-13T00:00:00Z", "2024-03-15T00:00:00Z");
    /* One starts with '*': both must match (odd days that are Mondays). */
    NEXT("0 0 */2 * 1", "2024-03-01T00:00:00Z", "2024-03-11T00:00:00Z");
    /* The 1st or 29th of February that is a Monday: years away. */
    NEXT("0 0 */28 2 1", "2024-03-01T00:00:00Z", "2027-02-01T00:00:00Z");
}

static void before_the_epoch_and_far_ahead(void **state)
{
    (void)state;
    fm_cron c = cron("0 0 1 1 *");
    int64_t t;
    assert_true(fm_cron_next(&c, -86400 * 200, &t)); /* mid-1969 */
    assert_int_equal(t, 0);
    assert_true(fm_cron_next(&c, at("9998-06-01T00:00:00Z"), &t));
    assert_int_equal(t, at("9999-01-01T00:00:00Z"));
    assert_false(fm_cron_next(&c, INT64_MAX - 10, &t));
}

static void matches_is_the_same_rule(void **state)
{
    (void)state;
    fm_cron c = cron("*/30 8-18 * * 1-5");
    assert_true(fm_cron_matches(&c, at("2024-03-01T08:30:00Z")));
    assert_true(fm_cron_matches(&c, at("2024-03-01T08:30:59Z")));
    assert_false(fm_cron_matches(&c, at("2024-03-01T08:31:00Z")));
    assert_false(fm_cron_matches(&c, at("2024-03-02T08:30:00Z"))); /* Saturday */
    assert_false(fm_cron_matches(&c, at("2024-03-01T19:00:00Z")));
}

/* ---- against an independent reference ----------------------------------------- */

/* Whether minute `t` matches, by the C library's calendar. */
static bool ref_matches(const fm_cron *c, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    bool dom = c->dom >> tm.tm_mday & 1, dow = c->dow >> tm.tm_wday & 1;
    bool day = c->dom_star || c->dow_star ? dom && dow : dom || dow;
    return (c->month >> (tm.tm_mon + 1) & 1) && day && (c->hour >> tm.tm_hour & 1) &&
           (c->minute >> tm.tm_min & 1);
}

/* The next match after `after` found by looking at every day's first minute,
 * then every minute of a day whose first minute's date matches; up to `days`. */
static bool ref_next(const fm_cron *c, int64_t after, int days, int64_t *out)
{
    int64_t t = (after / 60 + 1) * 60;
    int64_t day0 = t / 86400 * 86400;
    for (int64_t day = day0; day < day0 + (int64_t)days * 86400; day += 86400) {
        fm_cron whole_day = *c;
        whole_day.hour = 0xffffff;
        whole_day.minute = ~0ULL;
        if (!ref_matches(&whole_day, (time_t)day))
            continue;
        for (int64_t m = day > t ? day : t; m < day + 86400; m += 60) {
            if (ref_matches(c, (time_t)m)) {
                *out = m;
                return true;
            }
        }
    }
    return false;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng % n;
}

/* One random item for a field lo..hi: *, N, N-M, with or without a step. */
static void rnd_item(fm_buf *b, int lo, int hi)
{
    int a = lo + (int)rnd((uint64_t)(hi - lo + 1)), z = a + (int)rnd((uint64_t)(hi - a + 1));
    switch (rnd(5)) {
    case 0: fm_buf_adds(b, "*"); break;
    case 1: fm_buf_addf(b, "%d", a); break;
    case 2: fm_buf_addf(b, "%d-%d", a, z); break;
    case 3: fm_buf_addf(b, "*/%d", 1 + (int)rnd((uint64_t)(hi < 12 ? hi : 12))); break;
    default: fm_buf_addf(b, "%d-%d/%d", a, z, 1 + (int)rnd(4)); break;
    }
}

static void next_agrees_with_a_brute_force_reference(void **state)
{
    (void)state;
    static const int lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
    for (int i = 0; i < 400; i++) {
        fm_buf b = FM_BUF_INIT;
        for (int f = 0; f < 5; f++) {
            int items = 1 + (int)rnd(f == 4 ? 2 : 3);
            for (int k = 0; k < items; k++) {
                if (k)
                    fm_buf_addc(&b, ',');
                rnd_item(&b, lo[f], hi[f]);
            }
            fm_buf_addc(&b, ' ');
        }
        fm_cron c = cron(b.ptr);
        /* Any second from 1970 to 2100. */
        int64_t after = (int64_t)rnd(130ULL * 365 * 86400);
        int64_t got = 0, want = 0;
        bool g = fm_cron_next(&c, after, &got);
        bool w = ref_next(&c, after, 366 * 45, &want);
        if (g != w || (g && got != want))
            fail_msg("'%s' after %lld: got %s %lld, reference %s %lld", b.ptr, (long long)after,
                     g ? "" : "never", (long long)got, w ? "" : "never", (long long)want);
        if (g)
            assert_true(fm_cron_matches(&c, got));
        fm_buf_release(&b);
    }
}

/* ---- heartbeats and both ------------------------------------------------------------ */

static void schedule_next_takes_the_earlier(void **state)
{
    (void)state;
    int64_t t0 = at("2024-03-01T08:50:00Z") * 1000000 + 123;
    fm_schedule none = {0}, hb = {.heartbeat_s = 3600}, cr = {.cron = "0 9 * * *"},
                both = {.heartbeat_s = 300, .cron = "0 9 * * *"},
                never = {.heartbeat_s = 60, .cron = "0 0 31 2 *"}, bad = {.cron = "0 25 * * *"};
    assert_int_equal(fm_schedule_next(&none, t0), 0);
    assert_int_equal(fm_schedule_next(&hb, t0), t0 + 3600LL * 1000000);
    assert_int_equal(fm_schedule_next(&cr, t0), at("2024-03-01T09:00:00Z") * 1000000);
    assert_int_equal(fm_schedule_next(&both, t0), t0 + 300LL * 1000000);
    assert_int_equal(fm_schedule_next(&both, t0 + 5 * 60000000LL),
                     at("2024-03-01T09:00:00Z") * 1000000);
    assert_int_equal(fm_schedule_next(&never, t0), t0 + 60000000);
    assert_int_equal(fm_schedule_next(&bad, t0), 0);
    /* Exactly on the minute is not "after": the next day. */
    assert_int_equal(fm_schedule_next(&cr, at("2024-03-01T09:00:00Z") * 1000000),
                     at("2024-03-02T09:00:00Z") * 1000000);
    fm_schedule neg = {.heartbeat_s = -5}, huge = {.heartbeat_s = FM_HEARTBEAT_MAX_S + 1};
    assert_int_equal(fm_schedule_next(&neg, t0), 0);
    assert_int_equal(fm_schedule_next(&huge, t0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cron_syntax),
        cmocka_unit_test(fields_become_sets),
        cmocka_unit_test(next_is_strictly_after_on_a_whole_minute),
        cmocka_unit_test(ranges_steps_and_lists),
        cmocka_unit_test(month_ends_and_leap_years),
        cmocka_unit_test(impossible_dates_never_fire),
        cmocka_unit_test(day_of_week_and_the_day_rule),
        cmocka_unit_test(before_the_epoch_and_far_ahead),
        cmocka_unit_test(matches_is_the_same_rule),
        cmocka_unit_test(next_agrees_with_a_brute_force_reference),
        cmocka_unit_test(schedule_next_takes_the_earlier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
