/*
 * The OpenAPI 3.1 document, made from the routes tables, so it cannot list
 * a route the server lacks or miss one it has (tests/unit/test_http.c
 * checks both ways, and tests/e2e/api.sh calls every path it lists).
 */
#include "http/api.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static json_t *error_response(const char *what)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", what, "content",
                     "application/json", "schema", "$ref", "#/components/schemas/Error");
}

static json_t *operation(const fm_api_route *r)
{
    json_t *params = json_array();
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        size_t n = strcspn(p + 1, "}");
        json_array_append_new(params, json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name", p + 1, n,
                                                "in", "path", "required", 1, "schema", "type",
                                                "string"));
    }
    json_t *responses = json_pack("{s:{s:s}}", "200", "description", "OK");
    if (!r->open) {
        json_object_set_new(responses, "401", error_response("No token, or not a valid one"));
        json_object_set_new(responses, "403", error_response("The token may not do this"));
    }
    char role[96];
    if (r->open)
        snprintf(role, sizeof role, "no token");
    else if (r->agents_only)
        snprintf(role, sizeof role, "agent tokens only");
    else if (r->own)
        snprintf(role, sizeof role, "%s for their own; admin for anyone's", fm_role_name(r->least));
    else
        snprintf(role, sizeof role, "%s%s", fm_role_name(r->least),
                 r->agents ? "; agent tokens too" : "");
    json_t *op = json_pack("{s:s, s:s, s:o, s:o, s:s}", "summary", r->summary, "operationId", "",
                           "parameters", params, "responses", responses, "x-firma-least-role",
                           role);
    char id[128];
    size_t k = 0;
    const char *m = fm__http_method_name(r->method);
    for (; *m && k < sizeof id - 1; m++)
        id[k++] = (char)tolower((unsigned char)*m);
    for (const char *p = r->pattern; *p && k < sizeof id - 1; p++)
        if (isalnum((unsigned char)*p))
            id[k++] = *p;
        else if (*p == '/' || *p == '.')
            id[k++] = '_';
    id[k] = 0;
    json_object_set_new(op, "operationId", json_string(id));
    if (r->open)
        json_object_set_new(op, "security", json_array());
    return op;
}

json_t *fm__api_openapi(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < fm__api_n_resources; i++)
        for (size_t k = 0; k < fm__api_resources[i]->n_routes; k++) {
            const fm_api_route *r = &fm__api_resources[i]->routes[k];
            json_t *item = json_object_get(paths, r->pattern);
            if (!item) {
                item = json_object();
                json_object_set_new(paths, r->pattern, item);
            }
            char method[8];
            const char *m = fm__http_method_name(r->method);
            size_t n = 0;
            for (; m[n] && n < sizeof method - 1; n++)
                method[n] = (char)tolower((unsigned char)m[n]);
            method[n] = 0;
            json_object_set_new(item, method, operation(r));
        }
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:{s:s, s:s}}, s:{s:o}}, s:[{s:[]}]}",
                     "openapi", "3.1.0", "info", "title", "firma", "version", "1",
                     "description", "Run a company whose staff are AI agents (docs/api.md)",
                     "paths", paths, "components", "securitySchemes", "bearer", "type", "http",
                     "scheme", "bearer", "schemas", "Error",
                     json_pack("{s:s, s:{s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:[ss]}}}}}", "type",
                               "object", "properties", "error", "type", "object", "properties",
                               "code", "type", "string", "message", "type", "string", "field",
                               "type", "string", "null"),
                     "security", "bearer");
}
