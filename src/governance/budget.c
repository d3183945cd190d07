/* Budget periods: where "this month's spend" starts. */
#include "firma/governance.h"

#include <time.h>

int64_t fm_period_start(fm_period p, int64_t now_us)
{
    const int64_t day = 86400LL * 1000000;
    int64_t today = now_us - now_us % day;
    switch (p) {
    case FM_PERIOD_DAY:
        return today;
    case FM_PERIOD_WEEK: {
        int64_t days = today / day;           /* 1970-01-01 was a Thursday */
        int64_t since_monday = (days + 3) % 7;
        return today - since_monday * day;
    }
    case FM_PERIOD_MONTH: {
        time_t t = (time_t)(now_us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        return today - (int64_t)(tm.tm_mday - 1) * day;
    }
    default:
        return 0;
    }
}
