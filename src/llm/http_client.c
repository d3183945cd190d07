/*
 * The providers' HTTP client: curl's multi interface on a libuv loop.
 *
 * curl tells us which sockets to watch (on_socket: one uv_poll_t each) and
 * when to wake it (on_timer_request: one uv_timer_t); libuv tells curl when
 * a socket is ready (on_poll) or the time has come (on_timer). After each
 * curl_multi_socket_action we drain curl's finished transfers.
 *
 * A request ("job") moves like this:
 *
 *   post ──> queued ──pump──> running ──attempt_finished──> finish_job ──> done()
 *                               ^              │ retryable and retries left
 *                               └──on_retry── waiting (j->timer)
 *
 * A POST (the providers) fails on a non-2xx status and on a body past the
 * cap; a request with any_status and cut_at_cap (http_fetch's GET) takes any
 * complete response as the answer and keeps the first max_bytes of a longer
 * body, stopping the transfer there.
 *
 * Invariants: every unfinished job is on c->jobs; a queued job is also on
 * the FIFO c->qhead and has no easy handle; c->active counts running and
 * waiting jobs and never exceeds max_concurrency.
 *
 * Re-entrancy: a `done` callback may post again or free the client. Entry
 * points from the loop bracket themselves with enter()/leave(); free()
 * cancels every job at once, but tearing down curl and closing the uv
 * handles waits for the outermost leave(), so no frame above us is left
 * holding freed memory. The client's memory goes when its last handle has
 * closed (on_handle_closed); a job's when its timer has (on_job_closed).
 */
#include "llm/http_client.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RETRY_AFTER_MAX_MS 120000L

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_WAITING } job_state;

static const char *const METHOD_NAME[] = {[FM_HTTP_POST] = "POST", [FM_HTTP_GET] = "GET"};

typedef struct job {
    struct job *prev, *next; /* c->jobs */
    struct job *qnext;       /* c->qhead, while queued */
    fm_http_client *c;
    job_state state;
    char *url;
    struct curl_slist *headers;
    char *body;
    size_t body_len;
    fm_http_method method;
    bool cut_at_cap, any_status, direct;
    bool streaming;
    fm_sse_sink sse;
    fm_sse_parser parser;
    fm_http_done done;
    void *ctx;
    CURL *easy;
    uv_timer_t timer;  /* the retry delay; closing it frees the job */
    fm_http_result res;
    char *content_type; /* res.content_type and res.location point here */
    char *location;
    size_t received;   /* bytes of the current attempt */
    bool too_big;
    int sse_rc;        /* set when an SSE callback stopped the transfer */
    fm_error sse_err;
    char curl_msg[CURL_ERROR_SIZE];
} job;

typedef struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    fm_http_client *c;
    struct sock *prev, *next;
} sock;

struct fm_http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer; /* curl's own timeouts */
    char *name;
    long timeout_ms, connect_timeout_ms, backoff_base_ms, backoff_max_ms;
    int max_retries, max_concurrency;
    size_t max_bytes;
    job *jobs;
    job *qhead, *qtail;
    int active;
    sock *socks;
    uint64_t rng;
    int depth;        /* nesting of loop entry points */
    bool closing;     /* free() was called */
    bool torn_down;   /* curl is gone and the handles are closing */
    int open_handles; /* the timer and the polls not yet closed */
};

static void teardown(fm_http_client *c);
static void pump(fm_http_client *c);

/* ---- server-sent events ------------------------------------------------ */

void fm__sse_init(fm_sse_parser *p, size_t max_event, fm_sse_fn fn, void *ctx)
{
    memset(p, 0, sizeof *p);
    p->max_event = max_event;
    p->fn = fn;
    p->ctx = ctx;
}

void fm__sse_release(fm_sse_parser *p)
{
    fm_buf_release(&p->line);
    fm_buf_release(&p->event);
    fm_buf_release(&p->data);
}

void fm__sse_reset(fm_sse_parser *p)
{
    fm_buf_reset(&p->line);
    fm_buf_reset(&p->event);
    fm_buf_reset(&p->data);
    p->have_data = false;
    p->after_cr = false;
}

/* A blank line ends an event; one without data is no event (the spec). */
static int sse_dispatch(fm_sse_parser *p, fm_error *err)
{
    if (!p->have_data) {
        fm_buf_reset(&p->event);
        return FM_OK;
    }
    fm_sse_event ev = {p->event.len ? p->event.ptr : "", p->data.len ? p->data.ptr : "",
                       p->data.len};
    int rc = p->fn(p->ctx, &ev, err);
    fm_buf_reset(&p->event);
    fm_buf_reset(&p->data);
    p->have_data = false;
    return rc;
}

static int sse_line(fm_sse_parser *p, fm_error *err)
{
    const char *l = p->line.len ? p->line.ptr : "";
    size_t n = p->line.len;
    if (n == 0)
        return sse_dispatch(p, err);
    if (l[0] == ':')
        return FM_OK;
    const char *colon = memchr(l, ':', n);
    size_t flen = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(l, "data", 4) == 0) {
        if (p->data.len + vlen + 1 > p->max_event)
            return fm_error_set(err, FM_ETOOBIG, "event stream: an event exceeds %zu bytes",
                                p->max_event);
        if (p->have_data)
            fm_buf_addc(&p->data, '\n');
        fm_buf_add(&p->data, v, vlen);
        p->have_data = true;
    } else if (flen == 5 && memcmp(l, "event", 5) == 0) {
        fm_buf_reset(&p->event);
        fm_buf_add(&p->event, v, vlen);
    }
    return FM_OK;
}

int fm__sse_feed(fm_sse_parser *p, const char *bytes, size_t len, fm_error *err)
{
    size_t i = 0;
    while (i < len) {
        if (p->after_cr && bytes[i] == '\n') {
            p->after_cr = false;
            i++;
            continue;
        }
        p->after_cr = false;
        size_t k = i;
        while (k < len && bytes[k] != '\n' && bytes[k] != '\r')
            k++;
        if (p->line.len + (k - i) > p->max_event)
            return fm_error_set(err, FM_ETOOBIG, "event stream: a line exceeds %zu bytes",
                                p->max_event);
        fm_buf_add(&p->line, bytes + i, k - i);
        if (k == len)
            break;
        p->after_cr = bytes[k] == '\r';
        int rc = sse_line(p, err);
        fm_buf_reset(&p->line);
        if (rc != FM_OK)
            return rc;
        i = k + 1;
    }
    return FM_OK;
}

int fm__sse_finish(fm_sse_parser *p, fm_error *err)
{
    if (p->line.len == 0 && p->have_data)
        return sse_dispatch(p, err);
    return FM_OK;
}

/* ---- retry policy ------------------------------------------------------ */

/* xorshift64*: jitter needs spread, not cryptographic strength. */
static uint64_t next_random(fm_http_client *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ULL;
}

long fm__http_backoff_ms(fm_http_client *c, int retry, long retry_after_ms)
{
    if (retry_after_ms >= 0)
        return retry_after_ms < RETRY_AFTER_MAX_MS ? retry_after_ms : RETRY_AFTER_MAX_MS;
    long ceiling = c->backoff_base_ms;
    for (int i = 1; i < retry && ceiling < c->backoff_max_ms; i++)
        ceiling *= 2;
    if (ceiling > c->backoff_max_ms)
        ceiling = c->backoff_max_ms;
    return (long)(next_random(c) % (uint64_t)(ceiling + 1));
}

long fm__http_retry_after_ms(const char *value, int64_t now_s)
{
    int64_t secs;
    if (fm_parse_i64(value, &secs) == FM_OK) {
        if (secs < 0)
            return -1;
        return secs > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : (long)secs * 1000;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    if ((int64_t)when <= now_s)
        return 0;
    secs = (int64_t)when - now_s;
    return secs > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : (long)secs * 1000;
}

static long response_retry_after(CURL *easy)
{
    struct curl_header *h;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return -1;
    return fm__http_retry_after_ms(h->value, (int64_t)time(NULL));
}

/* ---- curl <-> libuv ---------------------------------------------------- */

static void enter(fm_http_client *c)
{
    c->depth++;
}

static void leave(fm_http_client *c)
{
    if (--c->depth == 0 && c->closing && !c->torn_down)
        teardown(c);
}

static void client_release(fm_http_client *c)
{
    free(c->name);
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    fm_http_client *c = h->data;
    if (h->type == UV_POLL)
        free(h); /* the sock: its poll is its first member */
    if (--c->open_handles == 0 && c->torn_down)
        client_release(c);
}

static void sock_close(sock *s)
{
    fm_http_client *c = s->c;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static void drain(fm_http_client *c);

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock *s = (sock *)h;
    fm_http_client *c = s->c;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    enter(c);
    int running;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    drain(c);
    leave(c);
}

static void on_timer(uv_timer_t *t)
{
    fm_http_client *c = t->data;
    enter(c);
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(c);
    leave(c);
}

static sock *sock_new(fm_http_client *c, curl_socket_t fd)
{
    sock *s = fm_xcalloc(1, sizeof *s);
    if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
        free(s);
        return NULL;
    }
    s->poll.data = c;
    s->fd = fd;
    s->c = c;
    s->next = c->socks;
    if (c->socks)
        c->socks->prev = s;
    c->socks = s;
    c->open_handles++;
    return s;
}

/* CURLMOPT_SOCKETFUNCTION: watch `fd` for what curl wants. curl says
 * REMOVE before it closes a socket, so the poll goes while the fd is still
 * ours. Once torn down, teardown() has closed every poll itself and curl's
 * last words are ignored. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    fm_http_client *c = userp;
    sock *s = socketp;
    if (c->torn_down)
        return 0;
    if (what == CURL_POLL_REMOVE) {
        if (s)
            sock_close(s);
        return 0;
    }
    if (!s) {
        s = sock_new(c, fd);
        if (!s)
            return -1;
        curl_multi_assign(c->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    return uv_poll_start(&s->poll, ev, on_poll) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: curl may not be called from here, so even a
 * zero timeout goes through the loop. */
static int on_timer_request(CURLM *multi, long timeout_ms, void *userp)
{
    fm_http_client *c = userp;
    if (c->torn_down)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- one attempt ------------------------------------------------------- */

static bool status_is_2xx(CURL *easy)
{
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    return status >= 200 && status < 300;
}

/* CURLOPT_WRITEFUNCTION. Returning less than given makes curl fail the
 * transfer with CURLE_WRITE_ERROR; the flags say why. */
static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
    job *j = userp;
    size_t n = size * nmemb;
    if (n > j->c->max_bytes - j->received) {
        if (!j->cut_at_cap) {
            j->too_big = true;
            return 0;
        }
        size_t take = j->c->max_bytes - j->received;
        fm_buf_add(&j->res.body, ptr, take);
        j->received += take;
        j->res.cut = true;
        return 0; /* stops the transfer: the rest is never read */
    }
    j->received += n;
    if (j->streaming && status_is_2xx(j->easy)) {
        int rc = fm__sse_feed(&j->parser, ptr, n, &j->sse_err);
        if (rc != FM_OK) {
            j->sse_rc = rc;
            return 0;
        }
        return n;
    }
    fm_buf_add(&j->res.body, ptr, n);
    return n;
}

static int sse_event(void *ctx, const fm_sse_event *ev, fm_error *err)
{
    job *j = ctx;
    return j->sse.event(j->sse.ctx, ev, err);
}

static int configure(job *j)
{
    fm_http_client *c = j->c;
    CURL *h = j->easy;
    CURLcode rc = CURLE_OK;
    rc |= curl_easy_setopt(h, CURLOPT_URL, j->url);
    rc |= curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, j->headers);
    if (j->method == FM_HTTP_GET) {
        rc |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        rc |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->body);
        rc |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    }
    rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->curl_msg);
    rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(h, CURLOPT_USERAGENT, "firma");
    /* An empty list means "every encoding curl decodes"; the size cap then
     * applies to the decoded bytes, which is what we hold in memory. */
    rc |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* curl's default, said out loud: a 3xx is the answer. Were one ever
     * followed, it would stay on http(s). */
    rc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (j->direct) /* "" overrides http_proxy and friends */
        rc |= curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (strncmp(j->url, "http://", 7) == 0)
        rc |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    return rc == CURLE_OK ? FM_OK : FM_EIO;
}

/* Starts the next attempt. On error nothing is running and the caller
 * decides whether `done` runs (a retry) or post() fails (the first). */
static int start_attempt(job *j, fm_error *err)
{
    fm_http_client *c = j->c;
    fm_buf_reset(&j->res.body);
    j->res.cut = false;
    j->res.content_type = j->res.location = NULL;
    free(j->content_type);
    free(j->location);
    j->content_type = j->location = NULL;
    j->received = 0;
    j->too_big = false;
    j->sse_rc = FM_OK;
    fm_error_clear(&j->sse_err);
    j->curl_msg[0] = '\0';
    if (j->streaming) {
        fm__sse_reset(&j->parser);
        if (j->sse.reset)
            j->sse.reset(j->sse.ctx);
    }
    j->easy = curl_easy_init();
    if (!j->easy || configure(j) != FM_OK ||
        curl_multi_add_handle(c->multi, j->easy) != CURLM_OK) {
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
        return fm_error_set(err, FM_EIO, "%s: could not start a request to %s", c->name, j->url);
    }
    j->res.attempts++;
    j->state = JOB_RUNNING;
    return FM_OK;
}

static void on_job_closed(uv_handle_t *h)
{
    job *j = h->data;
    fm_buf_release(&j->res.body);
    fm__sse_release(&j->parser);
    curl_slist_free_all(j->headers);
    free(j->content_type);
    free(j->location);
    free(j->url);
    free(j->body);
    free(j);
}

/* The one place `done` runs. The job leaves every list first, so a client
 * freed from inside `done` cannot reach it again. */
static void finish_job(job *j, int rc, const fm_error *err)
{
    fm_http_client *c = j->c;
    if (j->prev)
        j->prev->next = j->next;
    else
        c->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    if (j->state != JOB_QUEUED)
        c->active--;
    if (j->easy) {
        curl_multi_remove_handle(c->multi, j->easy);
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
    }
    uv_timer_stop(&j->timer);
    j->done(j->ctx, rc, &j->res, rc == FM_OK ? NULL : err);
    uv_close((uv_handle_t *)&j->timer, on_job_closed);
    if (!c->closing)
        pump(c);
}

static void on_retry(uv_timer_t *t)
{
    job *j = t->data;
    fm_http_client *c = j->c;
    enter(c);
    fm_error e;
    if (start_attempt(j, &e) != FM_OK)
        finish_job(j, e.code, &e);
    leave(c);
}

static int network_error(job *j, CURLcode cc, fm_error *err)
{
    fm_http_client *c = j->c;
    const char *why = j->curl_msg[0] ? j->curl_msg : curl_easy_strerror(cc);
    const char *m = METHOD_NAME[j->method];
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return fm_error_set(err, FM_EIO, "%s: %s %s timed out (limit %ld ms): %s", c->name, m,
                            j->url, c->timeout_ms, why);
    return fm_error_set(err, FM_EIO, "%s: %s %s failed: %s", c->name, m, j->url, why);
}

/* A 2xx stream that ended: flush the parser, then let the sink judge. */
static int stream_end(job *j, fm_error *err)
{
    int rc = fm__sse_finish(&j->parser, err);
    if (rc == FM_OK && j->sse.end)
        rc = j->sse.end(j->sse.ctx, err);
    return rc;
}

/* What the attempt came to: FM_OK, or an error and whether to retry. */
static int classify(job *j, CURLcode cc, long status, bool *retry, fm_error *err)
{
    fm_http_client *c = j->c;
    *retry = false;
    if (j->too_big)
        return fm_error_set(err, FM_ETOOBIG, "%s: the response from %s exceeds %zu bytes",
                            c->name, j->url, c->max_bytes);
    if (j->sse_rc != FM_OK) {
        *retry = j->sse_rc == FM_EIO;
        *err = j->sse_err;
        return j->sse_rc;
    }
    /* A cut body ends in the write error we asked for. */
    if (cc != CURLE_OK && !(j->res.cut && cc == CURLE_WRITE_ERROR)) {
        *retry = true;
        return network_error(j, cc, err);
    }
    if (status >= 200 && status < 300) {
        int rc = j->streaming ? stream_end(j, err) : FM_OK;
        *retry = rc == FM_EIO;
        return rc;
    }
    if (j->any_status)
        return FM_OK;
    *retry = status == 429 || (status >= 500 && status <= 599);
    return fm_error_set(err, FM_EIO, "%s: HTTP %ld from %s", c->name, status, j->url);
}

/* Copies what the caller may read of the response's headers before the
 * easy handle goes. */
static void keep_headers(job *j)
{
    char *v = NULL;
    if (curl_easy_getinfo(j->easy, CURLINFO_CONTENT_TYPE, &v) == CURLE_OK && v)
        j->content_type = fm_xstrdup(v);
    v = NULL;
    if (curl_easy_getinfo(j->easy, CURLINFO_REDIRECT_URL, &v) == CURLE_OK && v)
        j->location = fm_xstrdup(v);
    j->res.content_type = j->content_type;
    j->res.location = j->location;
}

static void attempt_finished(job *j, CURLcode cc)
{
    fm_http_client *c = j->c;
    long status = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    long retry_after = response_retry_after(j->easy);
    j->res.status = (int)status;
    keep_headers(j);
    curl_multi_remove_handle(c->multi, j->easy);
    curl_easy_cleanup(j->easy);
    j->easy = NULL;
    bool retry;
    fm_error e;
    fm_error_clear(&e);
    int rc = classify(j, cc, status, &retry, &e);
    if (rc != FM_OK && retry && j->res.attempts <= c->max_retries) {
        j->state = JOB_WAITING;
        /* The loop's clock is cached per iteration; refresh it so the
         * delay is measured from now, never shortened. */
        uv_update_time(c->loop);
        uv_timer_start(&j->timer, on_retry,
                       (uint64_t)fm__http_backoff_ms(c, j->res.attempts, retry_after), 0);
        return;
    }
    if (rc != FM_OK && j->res.attempts > 1) {
        size_t len = strnlen(e.msg, sizeof e.msg);
        snprintf(e.msg + len, sizeof e.msg - len, " (%d attempts)", j->res.attempts);
    }
    finish_job(j, rc, &e);
}

/* Reads curl's finished transfers. Stops if a `done` freed the client:
 * free() has finished every job already. */
static void drain(fm_http_client *c)
{
    CURLMsg *msg;
    int left;
    while (!c->closing && (msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode cc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        attempt_finished((job *)priv, cc);
    }
}

/* Starts queued jobs while there are free slots. */
static void pump(fm_http_client *c)
{
    while (!c->closing && c->qhead && c->active < c->max_concurrency) {
        job *j = c->qhead;
        c->qhead = j->qnext;
        if (!c->qhead)
            c->qtail = NULL;
        c->active++;
        fm_error e;
        if (start_attempt(j, &e) != FM_OK)
            finish_job(j, e.code, &e);
    }
}

/* ---- the client -------------------------------------------------------- */

static long pick(long v, long def)
{
    return v > 0 ? v : def;
}

static void apply_config(fm_http_client *c, const fm_provider_config *cfg)
{
    c->timeout_ms = pick(cfg->timeout_ms, 120000);
    c->connect_timeout_ms = pick(cfg->connect_timeout_ms, 10000);
    c->max_retries = cfg->max_retries > 0 ? cfg->max_retries : cfg->max_retries < 0 ? 0 : 4;
    c->backoff_base_ms = pick(cfg->backoff_base_ms, 500);
    c->backoff_max_ms = pick(cfg->backoff_max_ms, 30000);
    if (c->backoff_max_ms < c->backoff_base_ms)
        c->backoff_max_ms = c->backoff_base_ms;
    c->max_concurrency = (int)pick(cfg->max_concurrency, 64);
    c->max_bytes = cfg->max_response_bytes ? cfg->max_response_bytes : 8u << 20;
}

int fm__http_client_new(uv_loop_t *loop, const fm_provider_config *cfg, const char *name,
                        fm_http_client **out, fm_error *err)
{
    *out = NULL;
    /* Reference-counted by curl; balanced in teardown(). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fm_error_set(err, FM_EIO, "%s: curl_global_init failed", name);
    fm_http_client *c = fm_xcalloc(1, sizeof *c);
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        curl_global_cleanup();
        return fm_error_set(err, FM_ENOMEM, "%s: curl_multi_init failed", name);
    }
    c->loop = loop;
    c->name = fm_xstrdup(name);
    apply_config(c, cfg);
    c->rng = fm_mono_ns() ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ULL;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_request);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    *out = c;
    return FM_OK;
}

static bool has_header(const fm_http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++)
        if (strncasecmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':')
            return true;
    return false;
}

static struct curl_slist *copy_headers(const fm_http_request *req)
{
    /* "Expect:" stops curl's 100-continue round trip on big bodies. */
    const char *extra[2] = {"Expect:", req->sse ? "Accept: text/event-stream"
                                                : "Accept: application/json"};
    size_t n_extra = has_header(req, "Accept") ? 1 : 2;
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < req->n_headers + n_extra; i++) {
        const char *h = i < req->n_headers ? req->headers[i] : extra[i - req->n_headers];
        struct curl_slist *next = curl_slist_append(list, h);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

static job *job_new(fm_http_client *c, const fm_http_request *req, fm_http_done done, void *ctx)
{
    job *j = fm_xcalloc(1, sizeof *j);
    j->c = c;
    j->url = fm_xstrdup(req->url);
    j->body = req->body;
    j->body_len = req->body_len;
    j->method = req->method;
    j->cut_at_cap = req->cut_at_cap;
    j->any_status = req->any_status;
    j->direct = req->direct;
    j->done = done;
    j->ctx = ctx;
    if (req->sse) {
        j->streaming = true;
        j->sse = *req->sse;
        fm__sse_init(&j->parser, c->max_bytes, sse_event, j);
    }
    uv_timer_init(c->loop, &j->timer);
    j->timer.data = j;
    return j;
}

/* Why `req` cannot be sent, or NULL. */
static const char *bad_request(const fm_http_request *req)
{
    if (req->method != FM_HTTP_POST && req->method != FM_HTTP_GET)
        return "unknown method";
    if (req->method == FM_HTTP_GET && req->body)
        return "a GET has no body";
    if (req->cut_at_cap && req->sse)
        return "an event stream cannot be cut at the cap";
    return NULL;
}

int fm__http_send(fm_http_client *c, const fm_http_request *req, fm_http_done done, void *ctx,
                  fm_error *err)
{
    if (c->closing) {
        free(req->body);
        return fm_error_set(err, FM_EIO, "%s: the client is shutting down", c->name);
    }
    if (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0) {
        free(req->body);
        return fm_error_set(err, FM_EINVAL, "%s: '%s' is not an http(s) URL", c->name, req->url);
    }
    const char *bad = bad_request(req);
    if (bad) {
        free(req->body);
        return fm_error_set(err, FM_EINVAL, "%s: %s", c->name, bad);
    }
    struct curl_slist *headers = copy_headers(req);
    if (!headers) {
        free(req->body);
        return fm_error_set(err, FM_ENOMEM, "%s: out of memory for headers", c->name);
    }
    job *j = job_new(c, req, done, ctx);
    j->headers = headers;
    if (c->active < c->max_concurrency) {
        int rc = start_attempt(j, err);
        if (rc != FM_OK) {
            uv_close((uv_handle_t *)&j->timer, on_job_closed);
            return rc;
        }
        c->active++;
    } else if (c->qtail) {
        c->qtail->qnext = j;
        c->qtail = j;
    } else {
        c->qhead = c->qtail = j;
    }
    j->next = c->jobs;
    if (c->jobs)
        c->jobs->prev = j;
    c->jobs = j;
    return FM_OK;
}

int fm__http_post(fm_http_client *c, const fm_http_request *req, fm_http_done done, void *ctx,
                  fm_error *err)
{
    fm_http_request post = *req;
    post.method = FM_HTTP_POST;
    return fm__http_send(c, &post, done, ctx, err);
}

/* Runs at the outermost leave() after free(). The polls stop while curl's
 * fds are still open; then curl goes (its callbacks are ignored from now
 * on), then the uv handles. */
static void teardown(fm_http_client *c)
{
    c->torn_down = true;
    for (sock *s = c->socks; s; s = s->next)
        uv_poll_stop(&s->poll);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (c->socks)
        sock_close(c->socks);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    curl_global_cleanup();
}

void fm__http_client_free(fm_http_client *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    enter(c);
    c->qhead = c->qtail = NULL;
    while (c->jobs) {
        fm_error e;
        fm_error_set(&e, FM_EIO, "%s: request to %s canceled: the provider was shut down",
                     c->name, c->jobs->url);
        /* Not the server's answer, whatever came before. */
        c->jobs->res.status = 0;
        c->jobs->res.content_type = c->jobs->res.location = NULL;
        finish_job(c->jobs, FM_EIO, &e);
    }
    leave(c);
}
