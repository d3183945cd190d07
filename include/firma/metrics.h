/*
 * Metrics: counters, gauges and histograms, rendered in the Prometheus text
 * exposition format 0.0.4 (docs/metrics.md lists firma's own).
 *
 * A registry holds families (one name, help text, type and fixed label
 * names); a family holds series, one per label set seen. The registry is not
 * thread-safe: it lives on the event loop, as everything that updates it does.
 *
 * Label sets must be small and bounded: provider, tool, outcome, decision,
 * HTTP route (the pattern, not the path) and status code — never an agent
 * handle, a task id, a raw path or any other value that grows with the data
 * or comes from outside unchecked. Each family keeps at most
 * FM_METRICS_MAX_SERIES series; label sets beyond that all land in one
 * series whose every label value is "overflow", so a mistake costs accuracy,
 * not memory.
 *
 * Cost: registering a family or seeing a label set for the first time
 * allocates; after that, finding a series (fm_metric_series) compares
 * strings and allocates nothing, and updating one is a few stores. Callers
 * on a hot path may keep the fm_series pointer: it stays valid until the
 * registry is freed.
 *
 * Values are doubles (as Prometheus keeps them): integers are exact up to
 * 2^53: nine billion dollars counted in micro-dollars.
 */
#ifndef FIRMA_METRICS_H
#define FIRMA_METRICS_H

#include "firma/base.h"
#include "firma/errors.h"

#include <stddef.h>

#define FM_METRICS_MAX_LABELS 4    /* label names per family */
#define FM_METRICS_MAX_SERIES 256  /* label sets per family (then "overflow") */
#define FM_METRICS_MAX_BUCKETS 32  /* histogram bounds, +Inf not counted */

typedef enum { FM_METRIC_COUNTER, FM_METRIC_GAUGE, FM_METRIC_HISTOGRAM } fm_metric_type;

typedef struct fm_metrics fm_metrics; /* a registry */
typedef struct fm_metric fm_metric;   /* a family */
typedef struct fm_series fm_series;   /* one label set of a family */

fm_metrics *fm_metrics_new(void);
/* Frees the registry, its families and series; NULL is a no-op. */
void fm_metrics_free(fm_metrics *m);

/* Registers a family and returns it in *out (owned by the registry).
 * `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*, each label name
 * [a-zA-Z_][a-zA-Z0-9_]* without a leading "__" (and not "le" for a
 * histogram); `labels` holds n_labels of them (NULL when 0). The strings are
 * copied. Registering a name again returns the same family when type, label
 * names (and bounds) are the same, and FM_EEXIST otherwise. Bad names:
 * FM_EINVAL. */
int fm_metrics_counter(fm_metrics *m, const char *name, const char *help,
                       const char *const *labels, size_t n_labels, fm_metric **out,
                       fm_error *err);
int fm_metrics_gauge(fm_metrics *m, const char *name, const char *help,
                     const char *const *labels, size_t n_labels, fm_metric **out, fm_error *err);
/* `bounds`: n_bounds (1..FM_METRICS_MAX_BUCKETS) finite upper bounds,
 * strictly increasing; the +Inf bucket is implied. */
int fm_metrics_histogram(fm_metrics *m, const char *name, const char *help,
                         const char *const *labels, size_t n_labels, const double *bounds,
                         size_t n_bounds, fm_metric **out, fm_error *err);

/* The family's series for a label set: `values` holds one value per label
 * name, in order (any bytes; escaped when rendered). Never NULL: the first
 * sight of a set creates it (values copied); past FM_METRICS_MAX_SERIES, or
 * with the wrong count of values, it is the "overflow" series. */
fm_series *fm_metric_series(fm_metric *f, const char *const *values, size_t n_values);
/* The same with the values as arguments, ended by NULL:
 * fm_metric_with(http_requests, "GET /v1/tasks", "200", NULL). */
fm_series *fm_metric_with(fm_metric *f, ...) __attribute__((sentinel));

/* Counter: adds 1 / adds v (v >= 0; a negative v is ignored). Gauge: adds v
 * (any sign). Histogram: ignored. */
void fm_series_inc(fm_series *s);
void fm_series_add(fm_series *s, double v);
/* Gauge: sets the value. Others: ignored. */
void fm_series_set(fm_series *s, double v);
/* Histogram: counts v in the first bucket whose bound is >= v, adds it to
 * the sum. Others: ignored. */
void fm_series_observe(fm_series *s, double v);
/* Counter or gauge: the value; histogram: the count of observations. */
double fm_series_value(const fm_series *s);
/* Histogram: the sum of observations (0 for others). */
double fm_series_sum(const fm_series *s);

/* Appends every family, in registration order, its series in order of first
 * sight: "# HELP", "# TYPE", then one line per sample; histograms as
 * cumulative name_bucket{...,le="B"} lines ending with le="+Inf", then
 * name_sum and name_count. A family with no labels always shows its one
 * series (0 until updated); a labelled family with no series yet shows only
 * its HELP and TYPE lines. */
void fm_metrics_render(const fm_metrics *m, fm_buf *out);

/* Appends `v` as Prometheus writes a float: the shortest text that reads
 * back to the same double ("3", "0.25", "1e-06"), "+Inf", "-Inf", "NaN". */
void fm_metrics_format_value(fm_buf *out, double v);

#endif
