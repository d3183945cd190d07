/* base/metrics.c: the registry and the exact Prometheus text it renders. */
#include "helpers.h"

#include "firma/metrics.h"

#include <math.h>

static char *render(const fm_metrics *m)
{
    fm_buf b = FM_BUF_INIT;
    fm_metrics_render(m, &b);
    return b.ptr ? fm_buf_detach(&b) : fm_xstrdup("");
}

static void counters_and_gauges_render_exactly(void **state)
{
    fm_metrics *m = fm_metrics_new();
    fm_metric *runs, *depth;
    fm_error err;
    assert_int_equal(fm_metrics_counter(m, "firma_runs_total", "Runs started.", NULL, 0, &runs,
                                        &err), FM_OK);
    assert_int_equal(fm_metrics_gauge(m, "firma_queue_depth", "Runs waiting.", NULL, 0, &depth,
                                      &err), FM_OK);
    char *t = render(m);
    assert_string_equal(t, "# HELP firma_runs_total Runs started.\n"
                           "# TYPE firma_runs_total counter\n"
                           "firma_runs_total 0\n"
                           "# HELP firma_queue_depth Runs waiting.\n"
                           "# TYPE firma_queue_depth gauge\n"
                           "firma_queue_depth 0\n");
    free(t);
    fm_series_inc(fm_metric_series(runs, NULL, 0));
    fm_series_add(fm_metric_series(runs, NULL, 0), 2);
    fm_series_add(fm_metric_series(runs, NULL, 0), -5); /* a counter never goes down */
    fm_series_set(fm_metric_series(depth, NULL, 0), 7);
    fm_series_add(fm_metric_series(depth, NULL, 0), -9.5);
    fm_series_observe(fm_metric_series(depth, NULL, 0), 1); /* not a histogram: ignored */
    t = render(m);
    assert_string_equal(t, "# HELP firma_runs_total Runs started.\n"
                           "# TYPE firma_runs_total counter\n"
                           "firma_runs_total 3\n"
                           "# HELP firma_queue_depth Runs waiting.\n"
                           "# TYPE firma_queue_depth gauge\n"
                           "firma_queue_depth -2.5\n");
    free(t);
    fm_metrics_free(m);
}

static void labels_are_escaped_and_kept_in_order(void **state)
{
    fm_metrics *m = fm_metrics_new();
    fm_metric *req;
    fm_error err;
    const char *names[] = {"route", "code"};
    assert_int_equal(fm_metrics_counter(m, "http_requests_total", "Requests by \\ route\nand code.",
                                        names, 2, &req, &err), FM_OK);
    char *t = render(m);
    assert_string_equal(t, "# HELP http_requests_total Requests by \\\\ route\\nand code.\n"
                           "# TYPE http_requests_total counter\n");
    free(t);
    fm_series *a = fm_metric_with(req, "GET /v1/tasks", "200", NULL);
    fm_series_inc(a);
    fm_series_inc(fm_metric_with(req, "say \"hi\"\\now\nthen", "404", NULL));
    fm_series_inc(fm_metric_with(req, "GET /v1/tasks", "200", NULL));
    assert_ptr_equal(fm_metric_with(req, "GET /v1/tasks", "200", NULL), a);
    const char *v[] = {"GET /v1/tasks", "200"};
    assert_ptr_equal(fm_metric_series(req, v, 2), a);
    assert_true(fm_series_value(a) == 2);
    t = render(m);
    assert_string_equal(t, "# HELP http_requests_total Requests by \\\\ route\\nand code.\n"
                           "# TYPE http_requests_total counter\n"
                           "http_requests_total{route=\"GET /v1/tasks\",code=\"200\"} 2\n"
                           "http_requests_total{route=\"say \\\"hi\\\"\\\\now\\nthen\","
                           "code=\"404\"} 1\n");
    free(t);
    fm_metrics_free(m);
}

static void histograms_are_cumulative_with_sum_and_count(void **state)
{
    fm_metrics *m = fm_metrics_new();
    fm_metric *h;
    fm_error err;
    const double b[] = {0.005, 0.1, 1, 2.5};
    const char *names[] = {"provider"};
    assert_int_equal(fm_metrics_histogram(m, "call_seconds", "Call latency.", names, 1, b, 4, &h,
                                          &err), FM_OK);
    fm_series *s = fm_metric_with(h, "sim", NULL);
    const double obs[] = {0.001, 0.005, 0.05, 0.75, 3, 200};
    for (size_t i = 0; i < 6; i++)
        fm_series_observe(s, obs[i]);
    fm_series_observe(s, NAN); /* not counted */
    assert_true(fm_series_value(s) == 6);
    char *t = render(m);
    assert_string_equal(t, "# HELP call_seconds Call latency.\n"
                           "# TYPE call_seconds histogram\n"
                           "call_seconds_bucket{provider=\"sim\",le=\"0.005\"} 2\n"
                           "call_seconds_bucket{provider=\"sim\",le=\"0.1\"} 3\n"
                           "call_seconds_bucket{provider=\"sim\",le=\"1\"} 4\n"
                           "call_seconds_bucket{provider=\"sim\",le=\"2.5\"} 4\n"
                           "call_seconds_bucket{provider=\"sim\",le=\"+Inf\"} 6\n"
                           "call_seconds_sum{provider=\"sim\"} 203.806\n"
                           "call_seconds_count{provider=\"sim\"} 6\n");
    free(t);
    fm_metrics_free(m);

    /* Without labels, le is the only label. */
    m = fm_metrics_new();
    const double one[] = {1};
    assert_int_equal(fm_metrics_histogram(m, "h", "", NULL, 0, one, 1, &h, &err), FM_OK);
    fm_series_observe(fm_metric_series(h, NULL, 0), 0.5);
    t = render(m);
    assert_string_equal(t, "# HELP h \n# TYPE h histogram\n"
                           "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
                           "h_sum 0.5\nh_count 1\n");
    free(t);
    fm_metrics_free(m);
}

static void a_name_registers_once(void **state)
{
    fm_metrics *m = fm_metrics_new();
    fm_metric *a, *b;
    fm_error err;
    const char *l1[] = {"provider"}, *l2[] = {"tool"};
    assert_int_equal(fm_metrics_counter(m, "x_total", "X.", l1, 1, &a, &err), FM_OK);
    assert_int_equal(fm_metrics_counter(m, "x_total", "X again.", l1, 1, &b, &err), FM_OK);
    assert_ptr_equal(a, b); /* the same shape: the same family */
    assert_int_equal(fm_metrics_gauge(m, "x_total", "X.", l1, 1, &b, &err), FM_EEXIST);
    assert_int_equal(fm_metrics_counter(m, "x_total", "X.", l2, 1, &b, &err), FM_EEXIST);
    assert_int_equal(fm_metrics_counter(m, "x_total", "X.", NULL, 0, &b, &err), FM_EEXIST);
    const double b1[] = {1, 2}, b2[] = {1, 3};
    assert_int_equal(fm_metrics_histogram(m, "h", "", NULL, 0, b1, 2, &a, &err), FM_OK);
    assert_int_equal(fm_metrics_histogram(m, "h", "", NULL, 0, b2, 2, &b, &err), FM_EEXIST);
    assert_int_equal(fm_metrics_histogram(m, "h", "", NULL, 0, b1, 2, &b, &err), FM_OK);
    assert_ptr_equal(a, b);
    char *t = render(m);
    assert_non_null(strstr(t, "# HELP x_total X.\n"));
    assert_null(strstr(t, "X again."));
    free(t);
    fm_metrics_free(m);
}

static void bad_names_and_bounds_are_refused(void **state)
{
    fm_metrics *m = fm_metrics_new();
    fm_metric *f;
    fm_error err;
    const char *bad_names[] = {"", "1x", "a-b", "a b", "é"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(fm_metrics_counter(m, bad_names[i], "", NULL, 0, &f, &err), FM_EINVAL);
    assert_int_equal(fm_metrics_counter(m, "ns:sub_total", "", NULL, 0, &f, &err), FM_OK);
    const char *colon[] = {"a:b"}, *reserved[] = {"__x"}, *twice[] = {"a", "a"}, *le[] = {"le"};
    assert_int_equal(fm_metrics_counter(m, "c1", "", colon, 1, &f, &err), FM_EINVAL);
    assert_int_equal(fm_metrics_counter(m, "c2", "", reserved, 1, &f, &err), FM_EINVAL);
    assert_int_equal(fm_metrics_counter(m, "c3", "", twice, 2, &f, &err), FM_EINVAL);
    assert_int_equal(fm_metrics_counter(m, "c4", "", le, 1, &f, &err), FM_OK);
    const double b[] = {1}, down[] = {2, 1}, inf[] = {1, INFINITY};
    assert_int_equal(fm_metrics_histogram(m, "h1", "", le, 1, b, 1, &f, &err), FM_EINVAL);
    assert_int_equal(fm_metrics_histogram(m, "h2", "", NULL, 0, down, 2, &f, &err), FM_EINVAL);
    assert_int_equal(fm_metrics_histogram(m, "h3", "", NULL, 0, inf, 2, &f, &err), FM_EINVAL);
    assert_int_equal(fm_metrics_histogram(m, "h4", "", NULL, 0, b, 0, &f, &err), FM_EINVAL);
    fm_metrics_free(m);
}

/* Past the cap, label sets share one "overflow" series: memory stays bounded. */
static void label_sets_are_bounded(void **state)
{
    fm_metrics *m = fm_metrics_new();
    fm_metric *f;
    fm_error err;
    const char *names[] = {"k"};
    assert_int_equal(fm_metrics_counter(m, "c", "", names, 1, &f, &err), FM_OK);
    char v[16];
    for (int i = 0; i < FM_METRICS_MAX_SERIES + 10; i++) {
        snprintf(v, sizeof v, "v%d", i);
        fm_series_inc(fm_metric_with(f, v, NULL));
    }
    fm_series_inc(fm_metric_with(f, "a", "b", NULL)); /* wrong count: overflow too */
    fm_series *o = fm_metric_with(f, "v999", NULL);
    assert_true(fm_series_value(o) == 11);
    assert_true(fm_series_value(fm_metric_with(f, "v0", NULL)) == 1);
    char *t = render(m);
    assert_non_null(strstr(t, "\nc{k=\"overflow\"} 11\n"));
    assert_null(strstr(t, "v256"));
    free(t);
    fm_metrics_free(m);
}

static void values_format_shortest(void **state)
{
    const double v[] = {0, 1, -1, 0.1, 0.001, 1e-6, 123456789012345, 1.0 / 3, INFINITY,
                        -INFINITY, NAN, 9007199254740992.0};
    const char *want[] = {"0", "1", "-1", "0.1", "0.001", "1e-06", "123456789012345",
                          "0.3333333333333333", "+Inf", "-Inf", "NaN", "9007199254740992"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        fm_buf b = FM_BUF_INIT;
        fm_metrics_format_value(&b, v[i]);
        assert_string_equal(b.ptr, want[i]);
        fm_buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_and_gauges_render_exactly),
        cmocka_unit_test(labels_are_escaped_and_kept_in_order),
        cmocka_unit_test(histograms_are_cumulative_with_sum_and_count),
        cmocka_unit_test(a_name_registers_once),
        cmocka_unit_test(bad_names_and_bounds_are_refused),
        cmocka_unit_test(label_sets_are_bounded),
        cmocka_unit_test(values_format_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
