/* GET /metrics: the runtime's metrics in Prometheus text (docs/metrics.md),
 * for a member token (a scraper's: `firma token create ana --role viewer`). */
#include "http/api.h"

#include "firma/runtime.h"

static void get_metrics(fm_api_req *rq, fm_api_res *rs)
{
    if (!rq->rt) {
        fm__api_error(rs, 503, "unavailable", NULL, "the runtime is not running");
        return;
    }
    fm_buf b = FM_BUF_INIT;
    fm_runtime_metrics_render(rq->rt, &b);
    rs->status = 200;
    rs->text = fm_buf_detach(&b);
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
    fm_buf_release(&b);
}

static const fm_api_route routes[] = {
    {.method = FM_HTTP_GET, .pattern = "/metrics", .handler = get_metrics,
     .least = FM_ROLE_VIEWER,
     .summary = "The runtime's metrics in Prometheus text format 0.0.4 (docs/metrics.md)"},
};

const fm_api_resource fm__api_metrics = {"metrics", routes, sizeof routes / sizeof routes[0]};
