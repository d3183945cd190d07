/*
 * When an agent's schedule fires (model.h's fm_schedule): cron expressions
 * and heartbeats, always in UTC. Pure functions of their arguments: no clock,
 * no store. The store uses fm_schedule_next to keep each agent's next timer
 * (store.h, "timers"); company files use fm_cron_parse to check what a person
 * wrote.
 *
 * Cron syntax: five fields, minute (0-59) hour (0-23) day-of-month (1-31)
 * month (1-12) day-of-week (0-7, 0 and 7 both Sunday). Each field is a
 * comma-separated list of items, each `*`, `N` or `N-M`, optionally followed
 * by `/STEP`; `N/STEP` means N to the field's end in steps. Only digits and
 * , - * / are allowed: no names (MON, JAN) and no @hourly shorthands, so
 * every firma that reads a file agrees on what it means.
 *
 * The day rule is classic (Vixie) cron's: when both day fields are
 * restricted, a day matches if EITHER matches ("0 9 1 * 1" is the 1st of
 * the month and every Monday); when either day field starts with `*`, a day
 * must match both (so "0 9 * * 1" is every Monday). A stepped star counts as
 * a star: day-of-month "*" + "/2" with day-of-week 1 is the odd-numbered
 * days that are Mondays, as in Vixie cron and cronie.
 */
#ifndef FIRMA_SCHEDULE_H
#define FIRMA_SCHEDULE_H

#include "firma/errors.h"
#include "firma/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed cron expression: one bit per value a field allows. */
typedef struct fm_cron {
    uint64_t minute;       /* bit m: minute m, 0-59 */
    uint32_t hour;         /* bit h: hour h, 0-23 */
    uint32_t dom;          /* bit d: day of month d, 1-31 */
    uint16_t month;        /* bit m: month m, 1-12 */
    uint8_t dow;           /* bit d: day of week d, 0 (Sunday) - 6; 7 is folded into 0 */
    bool dom_star, dow_star; /* the day field starts with '*' (the day rule above) */
    bool possible;         /* some day ever matches: false for "0 0 31 2 *" */
} fm_cron;

/* Parses `expr` into `out`: FM_OK, or FM_EPARSE with what is wrong in `why`
 * (may be NULL), e.g. "hour: 24 is outside 0-23". */
int fm_cron_parse(const char *expr, fm_cron *out, char *why, size_t why_len);

/* The first minute strictly after `after` (seconds since the epoch, UTC)
 * that the expression matches, in *next (seconds, a whole minute). False
 * when no minute ever matches ("0 0 31 2 *", or "0 0 30 2 *"). Skips whole
 * months, days and hours that cannot match, so it costs microseconds however
 * far away the answer is; the search is bounded (400 years, one full cycle
 * of the Gregorian calendar and its weekdays). */
bool fm_cron_next(const fm_cron *c, int64_t after, int64_t *next);

/* Whether the minute holding `t` (seconds since the epoch) matches. */
bool fm_cron_matches(const fm_cron *c, int64_t t);

/* The longest heartbeat honoured (about 34,000 years: what fm_parse_duration
 * accepts); a longer or negative one counts as none. */
#define FM_HEARTBEAT_MAX_S ((int64_t)1 << 40)

/* When `s` next fires strictly after `after_us` (microseconds since the
 * epoch): the earlier of `after_us + heartbeat` and the cron's next minute.
 * 0 when it never fires: no heartbeat and no cron, or a cron that matches no
 * day (or does not parse). */
int64_t fm_schedule_next(const fm_schedule *s, int64_t after_us);

#endif
