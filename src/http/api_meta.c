/* The API's own routes: liveness, and the OpenAPI document of every route. */
#include "http/api.h"

static void get_healthz(fm_api_req *rq, fm_api_res *rs)
{
    fm__api_ok(rs, 200, json_pack("{s:b}", "ok", 1));
}

static void get_openapi(fm_api_req *rq, fm_api_res *rs)
{
    fm__api_ok(rs, 200, fm__api_openapi());
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/healthz", .handler = get_healthz, .open = true,
     .summary = "Liveness: 200 while the server answers"},
    {.method = FM_HTTP_GET, .pattern = "/v1/openapi.json", .handler = get_openapi, .open = true,
     .summary = "This API's OpenAPI 3.1 document"},
};

const fm_api_resource fm__api_meta = {"meta", routes, sizeof routes / sizeof routes[0]};
