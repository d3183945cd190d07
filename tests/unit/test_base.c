/* base/: parsing money, durations, times and handles; buffers; the error table. */
#include "helpers.h"

static void usd_parses_exactly(void **state)
{
    int64_t v;
    assert_int_equal(fm_parse_usd("12", &v), FM_OK);
    assert_int_equal(v, 12000000);
    assert_int_equal(fm_parse_usd("0.000001", &v), FM_OK);
    assert_int_equal(v, 1);
    assert_int_equal(fm_parse_usd("$3.5", &v), FM_OK);
    assert_int_equal(v, 3500000);
    assert_int_equal(fm_parse_usd("0.1", &v), FM_OK); /* no float rounding */
    assert_int_equal(v, 100000);
}

static void usd_refuses_bad_text(void **state)
{
    int64_t v;
    const char *bad[] = {"", "-1", "1.", ".5", "1.0000001", "abc", "1e3", "12 ", " 12",
                         "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fm_parse_usd(bad[i], &v), FM_EINVAL);
}

static void usd_formats_shortest(void **state)
{
    int64_t cases[] = {0, 1, 100000, 12500000, 300000000, 1234567};
    const char *want[] = {"0", "0.000001", "0.1", "12.5", "300", "1.234567"};
    for (size_t i = 0; i < 6; i++) {
        fm_buf b = FM_BUF_INIT;
        fm_format_usd(&b, cases[i]);
        assert_string_equal(b.ptr, want[i]);
        int64_t back;
        assert_int_equal(fm_parse_usd(b.ptr, &back), FM_OK);
        assert_int_equal(back, cases[i]);
        fm_buf_release(&b);
    }
}

static void durations_round_trip(void **state)
{
    int64_t s;
    assert_int_equal(fm_parse_duration("1h30m", &s), FM_OK);
    assert_int_equal(s, 5400);
    assert_int_equal(fm_parse_duration("2d", &s), FM_OK);
    assert_int_equal(s, 172800);
    assert_int_equal(fm_parse_duration("4", &s), FM_EINVAL);
    assert_int_equal(fm_parse_duration("h", &s), FM_EINVAL);
    assert_int_equal(fm_parse_duration("5y", &s), FM_EINVAL);
    fm_buf b = FM_BUF_INIT;
    fm_format_duration(&b, 5400);
    assert_string_equal(b.ptr, "1h30m");
    fm_buf_release(&b);
}

static void times_parse_utc(void **state)
{
    int64_t us;
    assert_int_equal(fm_parse_time("1970-01-02", &us), FM_OK);
    assert_int_equal(us, 86400LL * 1000000);
    assert_int_equal(fm_parse_time("2026-11-23T10:30Z", &us), FM_OK);
    fm_buf b = FM_BUF_INIT;
    fm_format_time(&b, us);
    assert_string_equal(b.ptr, "2026-11-23T10:30:00Z");
    fm_buf_release(&b);
    assert_int_equal(fm_parse_time("2026-13-01", &us), FM_EINVAL);
    assert_int_equal(fm_parse_time("yesterday", &us), FM_EINVAL);
}

static void handles_are_checked(void **state)
{
    assert_true(fm_valid_handle("cto"));
    assert_true(fm_valid_handle("a-b_9"));
    assert_false(fm_valid_handle("CTO"));
    assert_false(fm_valid_handle("9a"));
    assert_false(fm_valid_handle(""));
    assert_false(fm_valid_handle("a b"));
    assert_false(fm_valid_handle("abcdefghijabcdefghijabcdefghijabcdefghijx"));
}

static void buffers_grow_and_detach(void **state)
{
    fm_buf b = FM_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        fm_buf_addf(&b, "%d,", i);
    assert_true(b.len > 3000);
    assert_int_equal(b.ptr[b.len], '\0');
    char *s = fm_buf_detach(&b);
    assert_null(b.ptr);
    assert_memory_equal(s, "0,1,2,", 6);
    free(s);
}

static void utf8_cuts_and_repairs(void **state)
{
    /* "é" is C3 A9, "€" E2 82 AC, "😀" F0 9F 98 80. */
    assert_int_equal(fm_utf8_whole("ab", 2), 2);
    assert_int_equal(fm_utf8_whole("", 0), 0);
    assert_int_equal(fm_utf8_whole("a\xC3\xA9", 3), 3);
    assert_int_equal(fm_utf8_whole("a\xC3", 2), 1);
    assert_int_equal(fm_utf8_whole("a\xE2\x82", 3), 1);
    assert_int_equal(fm_utf8_whole("a\xF0\x9F\x98", 4), 1);
    assert_int_equal(fm_utf8_whole("a\xF0\x9F\x98\x80", 5), 5);
    /* Not a cut character but bad bytes: left for the caller to judge. */
    assert_int_equal(fm_utf8_whole("\x80\x80", 2), 2);
    fm_buf b = FM_BUF_INIT;
    fm_buf_add_utf8(&b, "ok\xFFx\0y\xC3", 7);
    assert_int_equal(b.len, 2 + 3 + 1 + 3 + 1 + 3);
    assert_memory_equal(b.ptr, "ok\xEF\xBF\xBDx\xEF\xBF\xBDy\xEF\xBF\xBD", b.len);
    fm_buf_reset(&b);
    fm_buf_add_utf8(&b, "caf\xC3\xA9", 5);
    assert_string_equal(b.ptr, "caf\xC3\xA9");
    fm_buf_release(&b);
}

static void errors_have_names_and_context(void **state)
{
    assert_string_equal(fm_errname(FM_ENOTFOUND), "ENOTFOUND");
    assert_string_equal(fm_strerror(FM_ETAMPER), "audit chain broken");
    fm_error e;
    fm_error_clear(&e);
    assert_int_equal(fm_error_set(&e, FM_EPARSE, "line %d: bad", 4), FM_EPARSE);
    fm_error_prefix(&e, "%s:", "cto.md");
    assert_string_equal(e.msg, "cto.md:line 4: bad");
    assert_string_equal(fm_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usd_parses_exactly),       cmocka_unit_test(usd_refuses_bad_text),
        cmocka_unit_test(usd_formats_shortest),     cmocka_unit_test(durations_round_trip),
        cmocka_unit_test(times_parse_utc),          cmocka_unit_test(handles_are_checked),
        cmocka_unit_test(buffers_grow_and_detach),  cmocka_unit_test(errors_have_names_and_context),
        cmocka_unit_test(utf8_cuts_and_repairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
