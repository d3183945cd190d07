/*
 * The HTTP server on the runtime's loop: libmicrohttpd in epoll mode with
 * no thread of its own. libuv watches MHD's epoll fd (uv_poll_t) and keeps a
 * timer at MHD_get_timeout (uv_timer_t); either one calls MHD_run, which
 * accepts, reads, calls on_request and writes, never blocking.
 *
 * A request goes through on_request several times:
 *   first call      -> new `request` state; a declared Content-Length over the
 *                      limit is answered 413 at once (the body is never read)
 *   upload calls    -> the body is appended; past the limit, dropped
 *   final call      -> a dashboard file (web.c) for GET / and /ui/..., else
 *                      fm__api_dispatch answers it, or 413 if it was dropped
 *   on_completed    -> the state is freed
 * Handlers run on the loop between the runtime's callbacks and share its
 * store. That is safe because the runtime opens and ends every transaction
 * within one callback: a handler never finds one open, so its changes
 * never nest inside (and commit or roll back with) a run's.
 *
 * Closing: fm_http_free stops both handles, stops MHD (closing every
 * connection and the epoll fd) and frees the server when the loop has closed
 * the handles.
 */
#include "http/http.h"
#include "http/api.h"
#include "http/web.h"

#include "firma/events.h"
#include "firma/metrics.h"
#include "firma/runtime.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BODY_LIMIT (1024 * 1024)

struct fm_http {
    uv_loop_t *loop;
    fm_store *store;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer;
    size_t body_limit;
    const fm_keys *keys;
    const char *witness_path;
    int port;
    int open_handles;
    fm_runtime *rt;           /* for /metrics and the request counts; may be NULL */
    fm_metric *requests;      /* firma_http_requests_total{route,code} */
    uv_timer_t sse_timer;     /* wakes the suspended event streams */
    struct sse *streams;      /* open event streams */
};

/* An open event stream (GET /v1/events). Its connection is suspended while
 * there is nothing to send; sse_timer resumes it to look again. */
typedef struct sse {
    fm_http *h;
    struct MHD_Connection *conn;
    fm_id company;
    char cursor[FM_EVENT_CURSOR_MAX];
    char agent[48];
    fm_buf out;
    size_t off;
    bool suspended, ended;
    int64_t last_sent_us;
    struct sse *next, **prevp;
} sse;

#define SSE_LOOK_MS 250       /* how often a waiting stream looks for new events */
#define SSE_KEEPALIVE_US (15 * 1000000LL)
#define SSE_BATCH 200

typedef struct request {
    fm_buf body;
    bool answered;   /* a 413 is queued: the rest of the body is not read */
    bool dropping;   /* a chunked body went over the limit: read and dropped */
} request;

static void reschedule(fm_http *h);

static void drive(fm_http *h)
{
    MHD_run(h->mhd);
    reschedule(h);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    drive(p->data);
}

static void on_timer(uv_timer_t *t)
{
    drive(t->data);
}

/* Keeps the timer at MHD's next deadline (connection timeouts, and work it
 * has left over, such as a response not fully written). */
static void reschedule(fm_http *h)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(h->mhd, &ms) != MHD_YES) {
        uv_timer_stop(&h->timer);
        return;
    }
    uv_timer_start(&h->timer, on_timer, ms, 0);
}

static enum MHD_Result send_json(struct MHD_Connection *conn, const fm_api_res *rs)
{
    if (rs->text) {
        struct MHD_Response *r = MHD_create_response_from_buffer(
            strlen(rs->text), rs->text, MHD_RESPMEM_MUST_COPY);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Content-Type", rs->content_type ? rs->content_type
                                                                    : "text/plain");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        enum MHD_Result ok = MHD_queue_response(conn, (unsigned)rs->status, r);
        MHD_destroy_response(r);
        return ok;
    }
    char *text = rs->body ? json_dumps(rs->body, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0;
    if (text) {
        text = fm_xreallocarray(text, len + 2, 1); /* a newline, for curl at a terminal */
        text[len++] = '\n';
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, text ? text : "", text ? MHD_RESPMEM_MUST_FREE
                                                                  : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    if (text)
        MHD_add_response_header(r, "Content-Type", "application/json");
    if (rs->etag[0])
        MHD_add_response_header(r, "ETag", rs->etag);
    if (rs->allow[0])
        MHD_add_response_header(r, "Allow", rs->allow);
    if (rs->status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result answer_error(struct MHD_Connection *conn, int status, const char *code,
                                    const char *msg)
{
    fm_api_res rs = {0};
    fm__api_error(&rs, status, code, NULL, "%s", msg);
    enum MHD_Result ok = send_json(conn, &rs);
    json_decref(rs.body);
    return ok;
}

/* ---- request counts ------------------------------------------------------------ */

/* firma_http_requests_total{route,code}: the route's pattern, not the path,
 * so the label set stays bounded. */
static void count_request(fm_http *h, const char *route, int status)
{
    if (!h->rt)
        return;
    if (!h->requests) {
        static const char *const labels[] = {"route", "code"};
        fm_error err;
        if (fm_metrics_counter(fm_runtime_metrics(h->rt), "firma_http_requests_total",
                               "HTTP requests answered, by route pattern and status code",
                               labels, 2, &h->requests, &err) != FM_OK)
            return;
    }
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    fm_series_inc(fm_metric_with(h->requests, route ? route : "unmatched", code, NULL));
}

/* ---- event streams ---------------------------------------------------------------- */

/* Appends the events after the stream's cursor (those it may see). */
static void sse_refill(sse *st)
{
    fm_event *v = NULL;
    size_t n = 0;
    fm_error err;
    char next[FM_EVENT_CURSOR_MAX];
    if (fm_events_since(st->h->store, st->company, st->cursor, SSE_BATCH, &v, &n, next, &err) !=
        FM_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (st->agent[0] && strcmp(v[i].agent, st->agent) != 0)
            continue;
        char *data = json_dumps(v[i].data, JSON_COMPACT);
        fm_buf_addf(&st->out, "id: %s\nevent: %s\ndata: %s\n\n", v[i].cursor, v[i].type,
                    data ? data : "{}");
        free(data);
    }
    snprintf(st->cursor, sizeof st->cursor, "%s", next);
    fm_event_list_free(v, n);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    sse *st = cls;
    if (st->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (st->off == st->out.len) {
        fm_buf_reset(&st->out);
        st->off = 0;
        sse_refill(st);
        if (!st->out.len && fm_now_us() - st->last_sent_us > SSE_KEEPALIVE_US)
            fm_buf_adds(&st->out, ": keep-alive\n\n");
    }
    if (st->off == st->out.len) { /* nothing yet: wait for sse_timer */
        st->suspended = true;
        MHD_suspend_connection(st->conn);
        return 0;
    }
    size_t n = st->out.len - st->off < max ? st->out.len - st->off : max;
    memcpy(buf, st->out.ptr + st->off, n);
    st->off += n;
    st->last_sent_us = fm_now_us();
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse *st = cls;
    *st->prevp = st->next;
    if (st->next)
        st->next->prevp = st->prevp;
    fm_buf_release(&st->out);
    free(st);
}

static void sse_look(uv_timer_t *t)
{
    fm_http *h = t->data;
    bool any = false;
    for (sse *st = h->streams; st; st = st->next)
        if (st->suspended) {
            st->suspended = false;
            MHD_resume_connection(st->conn);
            any = true;
        }
    if (any)
        drive(h);
}

static enum MHD_Result sse_start(fm_http *h, struct MHD_Connection *conn, const fm_api_res *rs)
{
    sse *st = fm_xcalloc(1, sizeof *st);
    st->h = h;
    st->conn = conn;
    st->company = rs->stream.company;
    snprintf(st->cursor, sizeof st->cursor, "%s", rs->stream.cursor);
    snprintf(st->agent, sizeof st->agent, "%s", rs->stream.agent);
    st->last_sent_us = fm_now_us();
    /* A comment first, so the client sees the stream open at once. */
    fm_buf_adds(&st->out, ": firma events\n\n");
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, st, sse_free);
    if (!r) {
        fm_buf_release(&st->out);
        free(st);
        return MHD_NO;
    }
    st->next = h->streams;
    if (st->next)
        st->next->prevp = &st->next;
    st->prevp = &h->streams;
    h->streams = st;
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result ok = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ok;
}

static bool method_of(const char *m, fm_http_method *out)
{
    for (int i = 0; i < FM_HTTP_METHOD_N; i++)
        if (strcmp(m, fm__http_method_name(i)) == 0) {
            *out = (fm_http_method)i;
            return true;
        }
    return false;
}

/* One of the dashboard's files, with headers that keep the page to this
 * origin (web.c). */
static enum MHD_Result send_web(struct MHD_Connection *conn, const fm_web_file *f)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", f->type);
    MHD_add_response_header(r, "Content-Security-Policy", fm__web_csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* OPTIONS, or a method this API does not use: what the path takes, from
 * the routes (fm__api_allow): 204 with Allow, or 405 with Allow, or 404 for
 * a path no route has. */
static enum MHD_Result send_allow(struct MHD_Connection *conn, const char *url, const char *method)
{
    fm_api_res rs = {0};
    if (!fm__api_allow(url, rs.allow, sizeof rs.allow))
        fm__api_error(&rs, 404, "not_found", NULL, "no such path: %s", url);
    else if (strcmp(method, "OPTIONS") != 0)
        fm__api_error(&rs, 405, "method_not_allowed", NULL, "%s is not a method of this API; "
                      "%s takes %s", method, url, rs.allow);
    else
        rs.status = 204;
    enum MHD_Result ok = send_json(conn, &rs);
    json_decref(rs.body);
    return ok;
}

static enum MHD_Result dispatch(fm_http *h, struct MHD_Connection *conn, const char *url,
                                const char *method, request *rq)
{
    fm_web_file wf;
    if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) && fm__web_find(url, &wf))
        return send_web(conn, &wf);
    fm_api_req req = {.path = url, .body = rq->body.ptr ? rq->body.ptr : "",
                      .body_len = rq->body.len, .store = h->store, .keys = h->keys,
                      .witness_path = h->witness_path, .conn = conn};
    /* HEAD is GET without the body (MHD leaves it out); OPTIONS says
     * which methods a path takes, and nothing else (no CORS: the
     * dashboard is same-origin, and other origins get no permission). */
    bool head = strcmp(method, "HEAD") == 0;
    if (!method_of(head ? "GET" : method, &req.method))
        return send_allow(conn, url, method);
    fm_api_res rs = {0};
    req.rt = h->rt;
    fm__api_dispatch(h->store, &req,
                     MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"), &rs);
    count_request(h, rs.route, rs.status);
    if (head && rs.stream.on) { /* the stream's headers, and no stream */
        rs.stream.on = false;
        rs.text = fm_xstrdup("");
        rs.content_type = "text/event-stream";
    }
    enum MHD_Result ok = rs.stream.on ? sse_start(h, conn, &rs) : send_json(conn, &rs);
    json_decref(rs.body);
    free(rs.text);
    return ok;
}

/* Frees a request's body, wiped first: it may hold a secret's value
 * (PUT /v1/secrets/{name}). */
static void body_release(request *rq)
{
    if (rq->body.ptr)
        sodium_memzero(rq->body.ptr, rq->body.cap);
    fm_buf_release(&rq->body);
}

/* Appends to the body. Growing moves it by hand, wiping the old copy,
 * where realloc would leave it behind unwiped. */
static void body_add(request *rq, const char *data, size_t len)
{
    if (rq->body.ptr && rq->body.len + len + 1 > rq->body.cap) {
        fm_buf moved = FM_BUF_INIT;
        fm_buf_reserve(&moved, 2 * (rq->body.len + len));
        fm_buf_add(&moved, rq->body.ptr, rq->body.len);
        body_release(rq);
        rq->body = moved;
    }
    fm_buf_add(&rq->body, data, len);
}

/* Answers 413. For a declared Content-Length this is before the body is
 * read (MHD then closes the connection instead of reading it). A chunked
 * body that runs over is read to its end and dropped, then answered:
 * clients handle an answer in the middle of their upload badly (curl
 * reports the 100 Continue), and the connection timeout bounds the rest. */
static enum MHD_Result too_big(struct MHD_Connection *conn, request *rq)
{
    rq->answered = true;
    body_release(rq);
    return answer_error(conn, 413, "too_big", "the request body is over the limit");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state)
{
    fm_http *h = cls;
    request *rq = *state;
    if (!rq) {
        rq = fm_xcalloc(1, sizeof *rq);
        *state = rq;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        int64_t n;
        if (cl && fm_parse_i64(cl, &n) == FM_OK && (n < 0 || (uint64_t)n > h->body_limit))
            return too_big(conn, rq);
        return MHD_YES;
    }
    if (rq->answered) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t len = *upload_size;
        *upload_size = 0;
        if (!rq->dropping && rq->body.len + len > h->body_limit) {
            rq->dropping = true;
            body_release(rq);
        }
        if (!rq->dropping)
            body_add(rq, upload, len);
        return MHD_YES;
    }
    return rq->dropping ? too_big(conn, rq) : dispatch(h, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    request *rq = *state;
    if (!rq)
        return;
    body_release(rq);
    free(rq);
    *state = NULL;
}

int fm_http_parse_listen(const char *text, struct sockaddr_storage *out, fm_error *err)
{
    memset(out, 0, sizeof *out);
    const char *colon = text ? strrchr(text, ':') : NULL;
    int64_t port;
    if (!colon || fm_parse_i64(colon + 1, &port) != FM_OK || port < 0 || port > 65535)
        return fm_error_set(err, FM_EINVAL, "--listen %s: want ADDR:PORT, e.g. 127.0.0.1:8420",
                            text ? text : "");
    char host[64];
    size_t n = (size_t)(colon - text);
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        text++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof host)
        return fm_error_set(err, FM_EINVAL, "--listen %s: want ADDR:PORT, e.g. 127.0.0.1:8420",
                            text);
    memcpy(host, text, n);
    host[n] = 0;
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return FM_OK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return FM_OK;
    }
    return fm_error_set(err, FM_EINVAL, "--listen %s: '%s' is not an IP address (names are not "
                                        "looked up)", colon ? text : "", host);
}

static bool is_loopback(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

static void on_closed(uv_handle_t *hd)
{
    fm_http *h = hd->data;
    if (--h->open_handles == 0)
        free(h);
}

int fm_http_new(uv_loop_t *loop, fm_store *s, const fm_http_config *cfg, fm_http **out,
                fm_error *err)
{
    struct sockaddr_storage addr;
    int rc = fm_http_parse_listen(cfg->listen, &addr, err);
    if (rc != FM_OK)
        return rc;
    if (!is_loopback(&addr) && !cfg->allow_remote)
        return fm_error_set(err, FM_EPERM,
                            "--listen %s: not a loopback address. The API has no TLS, so its "
                            "bearer tokens would cross the network in clear text; put a TLS "
                            "proxy in front and pass --allow-remote to bind it anyway",
                            cfg->listen);
    fm_http *h = fm_xcalloc(1, sizeof *h);
    h->loop = loop;
    h->store = s;
    h->body_limit = cfg->body_limit ? cfg->body_limit : DEFAULT_BODY_LIMIT;
    h->keys = cfg->keys;
    h->witness_path = cfg->witness_path;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                              h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                              MHD_OPTION_END);
    if (!h->mhd) {
        free(h);
        return fm_error_set(err, FM_EIO, "--listen %s: cannot listen there (in use, or not an "
                                         "address of this machine?)", cfg->listen);
    }
    const union MHD_DaemonInfo *ep = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = pi ? pi->port : 0;
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->open_handles = 1;
    if (!ep || uv_poll_init(loop, &h->poll, ep->epoll_fd) != 0) {
        MHD_stop_daemon(h->mhd);
        uv_close((uv_handle_t *)&h->timer, on_closed);
        return fm_error_set(err, FM_EIO, "--listen %s: cannot watch the server's sockets",
                            cfg->listen);
    }
    h->poll.data = h;
    uv_timer_init(loop, &h->sse_timer);
    h->sse_timer.data = h;
    h->open_handles = 3;
    uv_timer_start(&h->sse_timer, sse_look, SSE_LOOK_MS, SSE_LOOK_MS);
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    reschedule(h);
    *out = h;
    return FM_OK;
}

void fm_http_set_runtime(fm_http *h, fm_runtime *rt)
{
    if (h)
        h->rt = rt;
}

int fm_http_port(const fm_http *h)
{
    return h->port;
}

void fm_http_free(fm_http *h)
{
    if (!h)
        return;
    /* Event streams end: MHD may not stop with a connection suspended. */
    for (sse *st = h->streams; st; st = st->next) {
        st->ended = true;
        if (st->suspended) {
            st->suspended = false;
            MHD_resume_connection(st->conn);
        }
    }
    /* libuv must stop watching the epoll fd before MHD closes it. */
    uv_poll_stop(&h->poll);
    uv_timer_stop(&h->timer);
    uv_timer_stop(&h->sse_timer);
    MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
    uv_close((uv_handle_t *)&h->poll, on_closed);
    uv_close((uv_handle_t *)&h->timer, on_closed);
    uv_close((uv_handle_t *)&h->sse_timer, on_closed);
}

/* A request without a connection (the fuzz target's) has no query
 * arguments or headers. */
const char *fm__api_query(const fm_api_req *rq, const char *key)
{
    return rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key) : NULL;
}

const char *fm__api_header(const fm_api_req *rq, const char *key)
{
    return rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, key) : NULL;
}
