/* http: the OpenAPI document and the routes tables agree both ways, and the
 * tables themselves are well formed. */
#include "helpers.h"
#include "http/api.h"

#include <ctype.h>

static const fm_api_route *find_route(const char *pattern, const char *method)
{
    for (size_t i = 0; i < fm__api_n_resources; i++)
        for (size_t k = 0; k < fm__api_resources[i]->n_routes; k++) {
            const fm_api_route *r = &fm__api_resources[i]->routes[k];
            if (strcmp(r->pattern, pattern) == 0 &&
                strcasecmp(fm__http_method_name(r->method), method) == 0)
                return r;
        }
    return NULL;
}

static void every_route_is_documented_and_nothing_else(void **state)
{
    json_t *doc = fm__api_openapi();
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    size_t routes = 0, documented = 0;
    for (size_t i = 0; i < fm__api_n_resources; i++)
        for (size_t k = 0; k < fm__api_resources[i]->n_routes; k++) {
            const fm_api_route *r = &fm__api_resources[i]->routes[k];
            char m[8];
            size_t n = 0;
            for (const char *p = fm__http_method_name(r->method); *p; p++)
                m[n++] = (char)tolower((unsigned char)*p);
            m[n] = 0;
            json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
            if (!op)
                fail_msg("%s %s is not in the OpenAPI document", m, r->pattern);
            assert_non_null(json_object_get(op, "summary"));
            routes++;
        }
    const char *path, *method;
    json_t *item, *op;
    json_object_foreach(paths, path, item) {
        json_object_foreach(item, method, op) {
            if (!find_route(path, method))
                fail_msg("the document lists %s %s, which no route serves", method, path);
            documented++;
        }
    }
    assert_int_equal(routes, documented);
    json_decref(doc);
}

static void routes_are_well_formed(void **state)
{
    for (size_t i = 0; i < fm__api_n_resources; i++)
        for (size_t k = 0; k < fm__api_resources[i]->n_routes; k++) {
            const fm_api_route *r = &fm__api_resources[i]->routes[k];
            assert_true(r->pattern[0] == '/');
            assert_non_null(r->handler);
            assert_non_null(r->summary);
            /* No two routes share a method and pattern. */
            assert_ptr_equal(find_route(r->pattern, fm__http_method_name(r->method)), r);
            /* Every {param} closes, and there are few enough of them. */
            int params = 0;
            for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
                assert_non_null(strchr(p, '}'));
                params++;
            }
            assert_true(params <= FM_API_MAX_PARAMS);
            /* Changes need at least an operator, but for a member's own things
             * (an `own` route, open to every member and no agent); only open
             * routes go without a token. */
            if (r->method != FM_HTTP_GET)
                assert_true(r->least <= FM_ROLE_OPERATOR || r->own);
            if (r->own)
                assert_true(r->least == FM_ROLE_VIEWER && !r->agents && !r->open);
            if (r->open)
                assert_int_equal(r->method, FM_HTTP_GET);
            if (r->agents_only)
                assert_true(r->agents && !r->open);
        }
}

/* Every method has its name, and the names are what the server parses. */
static void methods_have_names(void **state)
{
    static const char *const want[] = {"GET", "POST", "PATCH", "DELETE", "PUT"};
    assert_int_equal(FM_HTTP_METHOD_N, sizeof want / sizeof want[0]);
    for (int i = 0; i < FM_HTTP_METHOD_N; i++)
        assert_string_equal(fm__http_method_name((fm_http_method)i), want[i]);
    assert_string_equal(fm__http_method_name(FM_HTTP_METHOD_N), "?");
}

/* A path no route has is 404; a path some route has but not with this
 * method is 405, its Allow the path's methods (HEAD with GET, and OPTIONS)
 * and only those. Neither needs a token, so no store is touched. */
static void dispatch_answers_404_and_405(void **state)
{
    static const struct {
        fm_http_method m;
        const char *path;
        int status;
        const char *allow;
    } c[] = {
        {FM_HTTP_PUT, "/v1/tasks", 405, "GET, POST, HEAD, OPTIONS"},
        {FM_HTTP_DELETE, "/v1/goals/7", 405, "GET, PATCH, HEAD, OPTIONS"},
        {FM_HTTP_GET, "/v1/secrets/X", 405, "PUT, DELETE, OPTIONS"},
        {FM_HTTP_GET, "/v1/nowhere", 404, ""},
        {FM_HTTP_GET, "/v1/tasks/", 404, ""},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        fm_api_req rq = {.method = c[i].m, .path = c[i].path};
        fm_api_res rs = {0};
        fm__api_dispatch(NULL, &rq, NULL, &rs);
        assert_int_equal(rs.status, c[i].status);
        assert_string_equal(rs.allow, c[i].allow);
        assert_non_null(json_object_get(json_object_get(rs.body, "error"), "message"));
        json_decref(rs.body);
    }
}

/* fm__api_text: an absent field passes; a string outside its bounds is 422
 * naming the field. */
static void text_lengths(void **state)
{
    json_t *b = json_pack("{s:s, s:s, s:i}", "empty", "", "abc", "abc", "n", 5);
    fm_api_res rs = {0};
    assert_true(fm__api_text(&rs, b, "absent", 1, 3));
    assert_true(fm__api_text(&rs, b, "abc", 1, 3));
    assert_true(fm__api_text(&rs, b, "n", 1, 3)); /* not a string: fm__api_body's to refuse */
    assert_int_equal(rs.status, 0);
    assert_false(fm__api_text(&rs, b, "empty", 1, 3));
    assert_int_equal(rs.status, 422);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rs.body, "error"),
                                                          "field")), "empty");
    assert_false(fm__api_text(&rs, b, "abc", 0, 2));
    assert_string_equal(json_string_value(json_object_get(json_object_get(rs.body, "error"),
                                                          "message")), "abc: at most 2 bytes");
    json_decref(rs.body);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_documented_and_nothing_else),
        cmocka_unit_test(routes_are_well_formed),
        cmocka_unit_test(methods_have_names),
        cmocka_unit_test(dispatch_answers_404_and_405),
        cmocka_unit_test(text_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
