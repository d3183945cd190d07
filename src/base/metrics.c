/*
 * The metrics registry and its Prometheus text renderer (format 0.0.4).
 *
 * Invariants: a family's name is unique in its registry; its label names are
 * fixed at registration; its series are kept in order of first sight, at
 * most FM_METRICS_MAX_SERIES plus the one "overflow" series; a histogram
 * series keeps per-bucket (not cumulative) counts, n_bounds + 1 of them, the
 * last for +Inf, and the renderer makes them cumulative. Nothing here
 * allocates once a series exists (see metrics.h).
 */
#include "firma/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fm_series {
    char **values;       /* one per label name */
    double value;        /* counter, gauge; histogram: the count */
    double sum;          /* histogram */
    double *buckets;     /* histogram: n_bounds + 1 counts (not cumulative) */
    const fm_metric *f;
};

struct fm_metric {
    char *name, *help;
    fm_metric_type type;
    char *labels[FM_METRICS_MAX_LABELS];
    size_t n_labels;
    double bounds[FM_METRICS_MAX_BUCKETS];
    size_t n_bounds;
    fm_series **series;
    size_t n_series;
    fm_series *overflow;
};

struct fm_metrics {
    fm_metric **families;
    size_t n, cap;
};

fm_metrics *fm_metrics_new(void)
{
    return fm_xcalloc(1, sizeof(fm_metrics));
}

static void series_free(fm_series *s, size_t n_labels)
{
    if (!s)
        return;
    for (size_t i = 0; i < n_labels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->buckets);
    free(s);
}

static void family_free(fm_metric *f)
{
    for (size_t i = 0; i < f->n_series; i++)
        series_free(f->series[i], f->n_labels);
    series_free(f->overflow, f->n_labels);
    free(f->series);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    free(f);
}

void fm_metrics_free(fm_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        family_free(m->families[i]);
    free(m->families);
    free(m);
}

/* ---- registration ------------------------------------------------------------------- */

static bool name_ok(const char *s, bool colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (colon && c == ':');
        if (!ok)
            return false;
    }
    return true;
}

static int check_shape(const char *name, fm_metric_type type, const char *const *labels,
                       size_t n_labels, const double *bounds, size_t n_bounds, fm_error *err)
{
    if (!name_ok(name, true))
        return fm_error_set(err, FM_EINVAL, "metric name '%s' is not [a-zA-Z_:][a-zA-Z0-9_:]*",
                            name ? name : "");
    if (n_labels > FM_METRICS_MAX_LABELS)
        return fm_error_set(err, FM_EINVAL, "metric %s: more than %d labels", name,
                            FM_METRICS_MAX_LABELS);
    for (size_t i = 0; i < n_labels; i++) {
        if (!name_ok(labels[i], false) || strncmp(labels[i], "__", 2) == 0 ||
            (type == FM_METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0))
            return fm_error_set(err, FM_EINVAL, "metric %s: bad label name '%s'", name,
                                labels[i] ? labels[i] : "");
        for (size_t k = 0; k < i; k++)
            if (strcmp(labels[k], labels[i]) == 0)
                return fm_error_set(err, FM_EINVAL, "metric %s: label '%s' twice", name,
                                    labels[i]);
    }
    if (type != FM_METRIC_HISTOGRAM)
        return FM_OK;
    if (n_bounds < 1 || n_bounds > FM_METRICS_MAX_BUCKETS)
        return fm_error_set(err, FM_EINVAL, "histogram %s: 1 to %d bounds", name,
                            FM_METRICS_MAX_BUCKETS);
    for (size_t i = 0; i < n_bounds; i++)
        if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
            return fm_error_set(err, FM_EINVAL, "histogram %s: bounds must be finite and "
                                "strictly increasing", name);
    return FM_OK;
}

static bool same_shape(const fm_metric *f, fm_metric_type type, const char *const *labels,
                       size_t n_labels, const double *bounds, size_t n_bounds)
{
    if (f->type != type || f->n_labels != n_labels || f->n_bounds != n_bounds)
        return false;
    for (size_t i = 0; i < n_labels; i++)
        if (strcmp(f->labels[i], labels[i]) != 0)
            return false;
    for (size_t i = 0; i < n_bounds; i++)
        if (f->bounds[i] != bounds[i])
            return false;
    return true;
}

static fm_series *series_new(const fm_metric *f, const char *const *values)
{
    fm_series *s = fm_xcalloc(1, sizeof *s);
    s->f = f;
    s->values = fm_xcalloc(f->n_labels ? f->n_labels : 1, sizeof *s->values);
    for (size_t i = 0; i < f->n_labels; i++)
        s->values[i] = fm_xstrdup(values ? values[i] : "overflow");
    if (f->type == FM_METRIC_HISTOGRAM)
        s->buckets = fm_xcalloc(f->n_bounds + 1, sizeof *s->buckets);
    return s;
}

static int reg(fm_metrics *m, const char *name, const char *help, fm_metric_type type,
               const char *const *labels, size_t n_labels, const double *bounds,
               size_t n_bounds, fm_metric **out, fm_error *err)
{
    int rc = check_shape(name, type, labels, n_labels, bounds, n_bounds, err);
    if (rc != FM_OK)
        return rc;
    for (size_t i = 0; i < m->n; i++) {
        fm_metric *f = m->families[i];
        if (strcmp(f->name, name) != 0)
            continue;
        if (!same_shape(f, type, labels, n_labels, bounds, n_bounds))
            return fm_error_set(err, FM_EEXIST, "metric %s is already registered with "
                                "another type, labels or buckets", name);
        *out = f;
        return FM_OK;
    }
    fm_metric *f = fm_xcalloc(1, sizeof *f);
    f->name = fm_xstrdup(name);
    f->help = fm_xstrdup(help ? help : "");
    f->type = type;
    f->n_labels = n_labels;
    for (size_t i = 0; i < n_labels; i++)
        f->labels[i] = fm_xstrdup(labels[i]);
    f->n_bounds = n_bounds;
    if (n_bounds)
        memcpy(f->bounds, bounds, n_bounds * sizeof *bounds);
    if (n_labels == 0) { /* its one series shows from the start */
        f->series = fm_xcalloc(1, sizeof *f->series);
        f->series[0] = series_new(f, NULL);
        f->n_series = 1;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->families = fm_xreallocarray(m->families, m->cap, sizeof *m->families);
    }
    m->families[m->n++] = f;
    *out = f;
    return FM_OK;
}

int fm_metrics_counter(fm_metrics *m, const char *name, const char *help,
                       const char *const *labels, size_t n_labels, fm_metric **out,
                       fm_error *err)
{
    return reg(m, name, help, FM_METRIC_COUNTER, labels, n_labels, NULL, 0, out, err);
}

int fm_metrics_gauge(fm_metrics *m, const char *name, const char *help,
                     const char *const *labels, size_t n_labels, fm_metric **out, fm_error *err)
{
    return reg(m, name, help, FM_METRIC_GAUGE, labels, n_labels, NULL, 0, out, err);
}

int fm_metrics_histogram(fm_metrics *m, const char *name, const char *help,
                         const char *const *labels, size_t n_labels, const double *bounds,
                         size_t n_bounds, fm_metric **out, fm_error *err)
{
    return reg(m, name, help, FM_METRIC_HISTOGRAM, labels, n_labels, bounds, n_bounds, out,
               err);
}

/* ---- series ------------------------------------------------------------------------- */

static fm_series *overflow(fm_metric *f)
{
    if (!f->overflow)
        f->overflow = series_new(f, NULL);
    return f->overflow;
}

fm_series *fm_metric_series(fm_metric *f, const char *const *values, size_t n_values)
{
    if (f->n_labels == 0)
        return f->series[0];
    if (n_values != f->n_labels)
        return overflow(f);
    for (size_t i = 0; i < n_values; i++)
        if (!values[i])
            return overflow(f);
    for (size_t i = 0; i < f->n_series; i++) {
        fm_series *s = f->series[i];
        size_t k = 0;
        while (k < n_values && strcmp(s->values[k], values[k]) == 0)
            k++;
        if (k == n_values)
            return s;
    }
    if (f->n_series >= FM_METRICS_MAX_SERIES)
        return overflow(f);
    /* Grown one at a time: a family sees few label sets, each once. */
    f->series = fm_xreallocarray(f->series, f->n_series + 1, sizeof *f->series);
    f->series[f->n_series] = series_new(f, values);
    return f->series[f->n_series++];
}

fm_series *fm_metric_with(fm_metric *f, ...)
{
    const char *v[FM_METRICS_MAX_LABELS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, f);
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL) {
        if (n == FM_METRICS_MAX_LABELS + 1)
            break; /* too many: the count is wrong, so the overflow series */
        v[n++] = s;
    }
    va_end(ap);
    return fm_metric_series(f, v, n);
}

void fm_series_inc(fm_series *s)
{
    fm_series_add(s, 1);
}

void fm_series_add(fm_series *s, double v)
{
    if (s->f->type == FM_METRIC_GAUGE || (s->f->type == FM_METRIC_COUNTER && v >= 0))
        s->value += v;
}

void fm_series_set(fm_series *s, double v)
{
    if (s->f->type == FM_METRIC_GAUGE)
        s->value = v;
}

void fm_series_observe(fm_series *s, double v)
{
    const fm_metric *f = s->f;
    if (f->type != FM_METRIC_HISTOGRAM || isnan(v))
        return;
    size_t i = 0;
    while (i < f->n_bounds && v > f->bounds[i])
        i++;
    s->buckets[i]++;
    s->value++;
    s->sum += v;
}

double fm_series_value(const fm_series *s)
{
    return s->value;
}

double fm_series_sum(const fm_series *s)
{
    return s->sum;
}

/* ---- rendering ---------------------------------------------------------------------- */

void fm_metrics_format_value(fm_buf *out, double v)
{
    if (isnan(v)) {
        fm_buf_adds(out, "NaN");
        return;
    }
    if (isinf(v)) {
        fm_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char t[32];
    /* The shortest of %.15g .. %.17g that reads back exactly. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    fm_buf_adds(out, t);
}

/* HELP text escapes backslash and newline; label values also the quote. */
static void escape(fm_buf *out, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            fm_buf_adds(out, "\\\\");
        else if (*s == '\n')
            fm_buf_adds(out, "\\n");
        else if (*s == '"' && quote)
            fm_buf_adds(out, "\\\"");
        else
            fm_buf_addc(out, *s);
    }
}

/* name{a="x",b="y"[,le="B"]} value — `le` NULL for no bucket label. */
static void sample(fm_buf *out, const fm_metric *f, const char *suffix, const fm_series *s,
                   const char *le, double v)
{
    fm_buf_adds(out, f->name);
    fm_buf_adds(out, suffix);
    if (f->n_labels || le) {
        fm_buf_addc(out, '{');
        for (size_t i = 0; i < f->n_labels; i++) {
            fm_buf_addf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
            escape(out, s->values[i], true);
            fm_buf_addc(out, '"');
        }
        if (le)
            fm_buf_addf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
        fm_buf_addc(out, '}');
    }
    fm_buf_addc(out, ' ');
    fm_metrics_format_value(out, v);
    fm_buf_addc(out, '\n');
}

static void render_series(fm_buf *out, const fm_metric *f, const fm_series *s)
{
    if (f->type != FM_METRIC_HISTOGRAM) {
        sample(out, f, "", s, NULL, s->value);
        return;
    }
    double cum = 0;
    for (size_t i = 0; i <= f->n_bounds; i++) {
        fm_buf le = FM_BUF_INIT;
        if (i < f->n_bounds)
            fm_metrics_format_value(&le, f->bounds[i]);
        else
            fm_buf_adds(&le, "+Inf");
        cum += s->buckets[i];
        sample(out, f, "_bucket", s, le.ptr, cum);
        fm_buf_release(&le);
    }
    sample(out, f, "_sum", s, NULL, s->sum);
    sample(out, f, "_count", s, NULL, s->value);
}

static const char *type_name(fm_metric_type t)
{
    return t == FM_METRIC_COUNTER ? "counter" : t == FM_METRIC_GAUGE ? "gauge" : "histogram";
}

void fm_metrics_render(const fm_metrics *m, fm_buf *out)
{
    for (size_t i = 0; i < m->n; i++) {
        const fm_metric *f = m->families[i];
        fm_buf_addf(out, "# HELP %s ", f->name);
        escape(out, f->help, false);
        fm_buf_addf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
        for (size_t k = 0; k < f->n_series; k++)
            render_series(out, f, f->series[k]);
        if (f->overflow)
            render_series(out, f, f->overflow);
    }
}
