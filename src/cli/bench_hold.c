/*
 * The hold server of `firma bench inflight`: a stand-in for a slow model that
 * keeps every request open until all the bench's requests have arrived, so
 * the bench can see how many model calls one firma process holds in flight.
 *
 * It runs in a forked child on a libuv loop of its own (a thread-per-request
 * server would not hold 10,000), and speaks only what firma's OpenAI client
 * sends: HTTP/1.1 POSTs with a Content-Length, one at a time per connection
 * (curl does not pipeline; firma sends "Expect:" empty, so no 100-continue).
 * The body is not parsed: every request gets the same Chat Completions
 * answer, text and no tool calls, so each run ends after one model call.
 *
 *   listening ──(request)──> held (counted) ──(want-th arrives)──> linger_ms
 *        └── max_wait_ms passes with fewer ────────────────────────────┤
 *                                                                       v
 *                     report on the pipe, answer all held, answer later ones at once
 *
 * The listening socket is made before the fork, so the parent knows the port
 * without asking the child. The child never returns into the CLI: it ends
 * with _exit, and dies with its parent (PR_SET_PDEATHSIG).
 */
#include "cli/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define MAX_REQUEST (8u << 20) /* a firma request is a few KiB; more is not ours */

typedef struct conn conn;

typedef struct server {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_timer_t timer;      /* max_wait_ms, then linger_ms once all arrived */
    int want;
    int64_t linger_ms;
    int arrived, held, held_peak, conns, conns_peak;
    uint64_t first_ns, last_ns;
    bool answering;        /* released: answer at once from now on */
    conn *waiting;         /* connections with a held request */
    int report_fd;
    char answer[512];      /* the one HTTP response, headers and body */
    size_t answer_len;
} server;

struct conn {
    uv_tcp_t tcp;
    server *s;
    char *buf;             /* bytes read and not yet taken as a request; NUL-terminated */
    size_t len, cap;
    int pending;           /* held requests on this connection (1 with curl) */
    conn *next, **prevp;   /* in s->waiting while pending > 0 */
};

static const char answer_body[] =
    "{\"id\":\"chatcmpl-hold\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"hold\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Done.\"},"
    "\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";

static void unlink_waiting(conn *c)
{
    if (!c->prevp)
        return;
    *c->prevp = c->next;
    if (c->next)
        c->next->prevp = c->prevp;
    c->next = NULL;
    c->prevp = NULL;
}

static void conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    free(c->buf);
    free(c);
}

static void conn_close(conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    c->s->held -= c->pending;
    c->pending = 0;
    unlink_waiting(c);
    c->s->conns--;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void written(uv_write_t *w, int status)
{
    conn *c = w->data;
    free(w);
    if (status < 0)
        conn_close(c);
}

static void respond(conn *c)
{
    uv_write_t *w = fm_xmalloc(sizeof *w);
    w->data = c;
    uv_buf_t b = uv_buf_init(c->s->answer, (unsigned)c->s->answer_len);
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, written) != 0) {
        free(w);
        conn_close(c);
    }
}

static void report(server *s)
{
    char line[160];
    int n = snprintf(line, sizeof line, "%d %d %d %.3f %lld\n", s->arrived, s->held_peak,
                     s->conns_peak, s->arrived ? (double)(s->last_ns - s->first_ns) / 1e6 : 0.0,
                     (long long)fm_now_us());
    if (write(s->report_fd, line, (size_t)n) != n)
        _exit(3);
}

static void release(uv_timer_t *t)
{
    server *s = t->data;
    if (s->answering)
        return;
    s->answering = true;
    report(s);
    while (s->waiting) {
        conn *c = s->waiting;
        unlink_waiting(c);
        for (; c->pending > 0; c->pending--, s->held--)
            respond(c);
    }
}

static void on_request(conn *c)
{
    server *s = c->s;
    uint64_t now = fm_mono_ns();
    if (s->arrived++ == 0)
        s->first_ns = now;
    s->last_ns = now;
    if (s->answering) {
        respond(c);
        return;
    }
    if (c->pending++ == 0) {
        c->next = s->waiting;
        if (c->next)
            c->next->prevp = &c->next;
        c->prevp = &s->waiting;
        s->waiting = c;
    }
    if (++s->held > s->held_peak)
        s->held_peak = s->held;
    if (s->arrived == s->want)
        uv_timer_start(&s->timer, release, (uint64_t)s->linger_ms, 0);
}

/* Takes every whole request from the buffer: headers, then Content-Length
 * bytes of body. Returns false if the connection must close. */
static bool take_requests(conn *c)
{
    for (;;) {
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end)
            return c->len < 65536; /* headers that long are not a firma request */
        size_t head = (size_t)(end - c->buf) + 4;
        long long body = 0;
        char *cl = strcasestr(c->buf, "\r\ncontent-length:");
        if (cl && cl < end) {
            char *num = cl + 17;
            char *stop;
            errno = 0;
            body = strtoll(num, &stop, 10);
            if (errno || stop == num || body < 0 || (unsigned long long)body > MAX_REQUEST)
                return false;
        }
        if (c->len < head + (size_t)body)
            return true;
        size_t used = head + (size_t)body;
        memmove(c->buf, c->buf + used, c->len - used + 1);
        c->len -= used;
        on_request(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
    conn *c = h->data;
    if (c->cap - c->len < 16384) {
        size_t cap = c->cap ? c->cap * 2 : 32768;
        if (cap > MAX_REQUEST + 65536) {
            *out = uv_buf_init(NULL, 0); /* UV_ENOBUFS: the read callback closes */
            return;
        }
        c->buf = fm_xreallocarray(c->buf, cap, 1);
        c->cap = cap;
    }
    *out = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len - 1));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    conn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    bool nul = memchr(c->buf + c->len, '\0', (size_t)n) != NULL;
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (nul || !take_requests(c))
        conn_close(c);
}

static void on_connection(uv_stream_t *l, int status)
{
    server *s = l->data;
    if (status < 0)
        return;
    conn *c = fm_xcalloc(1, sizeof *c);
    c->s = s;
    uv_tcp_init(&s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        return;
    }
    if (++s->conns > s->conns_peak)
        s->conns_peak = s->conns;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void serve_child(int fd, int report_fd, int want, int64_t linger_ms, int64_t max_wait_ms)
{
    server s;
    memset(&s, 0, sizeof s);
    s.want = want;
    s.linger_ms = linger_ms;
    s.report_fd = report_fd;
    s.answer_len = (size_t)snprintf(s.answer, sizeof s.answer,
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n%s",
                                  sizeof answer_body - 1, answer_body);
    if (uv_loop_init(&s.loop) != 0)
        _exit(2);
    uv_tcp_init(&s.loop, &s.listener);
    s.listener.data = &s;
    uv_timer_init(&s.loop, &s.timer);
    s.timer.data = &s;
    if (uv_tcp_open(&s.listener, fd) != 0 ||
        uv_listen((uv_stream_t *)&s.listener, 4096, on_connection) != 0)
        _exit(2);
    uv_timer_start(&s.timer, release, (uint64_t)max_wait_ms, 0);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    _exit(0);
}

static int listen_socket(int *port, fm_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fm_error_set(err, FM_EIO, "hold server: cannot listen on 127.0.0.1: %s",
                            strerror(e));
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int fm__hold_start(int want, int64_t linger_ms, int64_t max_wait_ms, fm_hold_server *out,
                   fm_error *err)
{
    memset(out, 0, sizeof *out);
    out->report_fd = -1;
    int fd = listen_socket(&out->port, err);
    if (fd < 0)
        return fd;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        close(fd);
        return fm_error_set(err, FM_EIO, "hold server: pipe: %s", strerror(errno));
    }
    pid_t parent = getpid();
    fflush(NULL); /* the child ends with _exit, but be sure it cannot repeat our output */
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        close(p[0]);
        close(p[1]);
        return fm_error_set(err, FM_EIO, "hold server: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        close(p[0]);
        serve_child(fd, p[1], want, linger_ms, max_wait_ms);
    }
    close(fd);
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    out->pid = pid;
    out->report_fd = p[0];
    return FM_OK;
}

bool fm__hold_report(fm_hold_server *h, fm_hold_report *out)
{
    char line[160];
    ssize_t n = h->report_fd >= 0 ? read(h->report_fd, line, sizeof line - 1) : -1;
    if (n <= 0)
        return false;
    line[n] = '\0';
    memset(out, 0, sizeof *out);
    long long at = 0;
    bool ok = sscanf(line, "%d %d %d %lf %lld", &out->arrived, &out->held_peak, &out->conns_peak,
                     &out->spread_ms, &at) == 5;
    out->answered_us = at;
    return ok;
}

void fm__hold_stop(fm_hold_server *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    h->pid = 0;
    if (h->report_fd >= 0)
        close(h->report_fd);
    h->report_fd = -1;
}
