/*
 * A child process on the loop (child.h): uv_spawn, socket pairs for its
 * stdio, a timer for its time limit, all on the loop thread.
 *
 *   fm__child_start ─uv_spawn─> RUNNING ─on_child_exit─> DRAINING ─on_read: all at EOF─> CLOSING
 *                                  │                        │  on_timer: grace over       │
 *             on_timer: time limit │                        └─fm__child_kill─────────────>│
 *             fm__child_kill       └─> kill_all(); the exit follows    last on_closed: finish()
 *
 * What runs is `prlimit --core=0 [--as=M] [--cpu=S] -- PROGRAM...`, or with a
 * sandbox `prlimit ... -- bwrap OPTIONS -- PROGRAM...`. uv_spawn offers no
 * hook between fork and exec where setrlimit could go, and changing our own
 * limits around the spawn would briefly bind firma too; prlimit sets them in
 * the child and execs, so they hold from the first instruction and every
 * process started inside inherits them.
 *
 * Killing without a sandbox: the child leads a new session
 * (UV_PROCESS_DETACHED), so kill(-pid, SIGKILL) reaches everything it started
 * that did not make a session of its own. The group is killed when the
 * program exits too, so what it left behind does not outlive it.
 *
 * Killing in a sandbox: bwrap runs the program as pid 1 of a new pid
 * namespace (--as-pid-1) and waits for it. When pid 1 dies, for any reason,
 * the kernel kills and reaps every other process of the namespace, setsid or
 * not. So we SIGKILL the program itself (its pid comes on bwrap's status fd),
 * and bwrap reaps it and exits. Killing bwrap instead would also do
 * (--die-with-parent), but would leave the program for init to reap; that
 * is only the fallback, before the status has come. bwrap's own reaper as
 * pid 1 is not used for the same reason: bwrap exits as soon as the program
 * does, orphaning it.
 *
 * Output: stdout and stderr (and, with a sandbox, bwrap's status reports on
 * fd 3) are read to EOF, keeping at most max_output bytes each. A process
 * that escaped the kill may hold a pipe open; GRACE_MS after the exit we stop
 * waiting for it.
 *
 * Invariants: open_handles counts the handles initialised and not yet closed;
 * the process handle is closed only after its exit (or a failed spawn), so
 * libuv has reaped it; `done` runs from the last close callback, when the
 * child holds nothing on the loop, and never after a failed start.
 */
#include "tools/child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define GRACE_MS 1000        /* after the exit, how long leftover output is awaited */
#define STATUS_MAX 4096      /* bwrap's JSON status reports kept */
#define READ_CHUNK (64 * 1024)
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

enum { S_OUT, S_ERR, S_STATUS, N_STREAMS };

typedef struct stream {
    uv_pipe_t pipe; /* first: a handle is its stream */
    fm_buf buf;
    size_t total, max;
} stream;

struct fm_child {
    uv_loop_t *loop;
    uv_process_t proc;
    uv_timer_t timer; /* the time limit, then the grace after the exit */
    stream s[N_STREAMS];
    int n_streams;    /* S_STATUS only with a sandbox */
    uv_poll_t in_poll;
    int in_fd;        /* our end of the child's stdin, -1 when none */
    char *in_data;
    size_t in_len, in_off;
    fm_child_done done;
    void *arg;
    int open_handles;
    bool sandbox, proc_init;
    bool start_failed, exited, closing, timed_out, killed;
    int64_t exit_status;
    int term_signal;
    pid_t sandbox_pid; /* the program, pid 1 of the sandbox, from bwrap's status */
    uint64_t start_ns;
    int64_t wall_us;
    char scratch[READ_CHUNK];
};

/* ---- argument vectors ---------------------------------------------------------- */

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void sv_add(strv *s, const char *x)
{
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = fm_xreallocarray(s->v, s->cap, sizeof *s->v);
    }
    s->v[s->n++] = fm_xstrdup(x);
    s->v[s->n] = NULL;
}

static void sv_addf(strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sv_addf(strv *s, const char *fmt, ...)
{
    fm_buf b = FM_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    fm_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    sv_add(s, b.ptr ? b.ptr : "");
    fm_buf_release(&b);
}

static void sv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- building the command line ----------------------------------------------- */

static const char *env_get(const char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static bool is_exec_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The program as prlimit will exec it, resolved here so that a missing one
 * is an error from fm__child_start rather than an exit code: a name without
 * '/' through the env's PATH (empty entries, meaning the current folder, are
 * skipped), a relative path against `cwd`. NULL if not found. */
static char *find_program(const char *name, const char *const *env, const char *cwd)
{
    if (strchr(name, '/')) {
        char *p = name[0] != '/' && cwd ? fm_xasprintf("%s/%s", cwd, name) : fm_xstrdup(name);
        if (is_exec_file(p))
            return p;
        free(p);
        return NULL;
    }
    const char *path = env_get(env, "PATH");
    if (!path)
        path = DEFAULT_PATH;
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n && path[0] == '/') {
            char *p = fm_xasprintf("%.*s/%s", (int)n, path, name);
            if (is_exec_file(p))
                return p;
            free(p);
        }
        path += n + (path[n] == ':');
    }
    return NULL;
}

/* The host's /etc holds more than the sandbox needs (/etc/shadow, service
 * configs, maybe firma's own): only these are mounted, read-only, where they
 * exist. They are what programs need to look up users, hosts, time zones,
 * certificates and their shared libraries. */
static const char *const etc_entries[] = {
    "alternatives", "ca-certificates", "ca-certificates.conf", "debian_version", "gai.conf",
    "group", "host.conf", "hosts", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
    "mime.types", "nsswitch.conf", "os-release", "passwd", "protocols", "resolv.conf",
    "services", "ssl", "timezone",
};

/* /bin, /lib... as the host has them: symlinks into /usr on a merged-/usr
 * system (recreated as the same links), folders otherwise (bound read-only). */
static void add_root_dir(strv *a, const char *dir)
{
    struct stat st;
    char target[4096];
    if (lstat(dir, &st) != 0)
        return;
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(dir, target, sizeof target - 1);
        if (n <= 0)
            return;
        target[n] = '\0';
        sv_add(a, "--symlink");
        sv_add(a, target);
        sv_add(a, dir);
    } else if (S_ISDIR(st.st_mode)) {
        sv_add(a, "--ro-bind");
        sv_add(a, dir);
        sv_add(a, dir);
    }
}

/* bubblewrap's options, in the order it applies them: namespaces, then the
 * new root (a tmpfs) filled with read-only system folders, fresh /proc, /dev
 * and /tmp and the one writable folder, then the root and /dev made
 * read-only so nothing else can be written (it would be memory, not disk). */
static void add_bwrap(strv *a, const fm_child_spec *sp, const char *bwrap)
{
    static const char *const fixed[] = {
        "--unshare-all",    /* user, mount, pid, ipc, uts, cgroup and network */
        "--unshare-user",   /* explicit, for --disable-userns (also when run as root) */
        "--disable-userns", /* no nested user namespaces: less kernel to attack */
        "--cap-drop", "ALL",  /* bwrap keeps them when run as root */
        "--as-pid-1",       /* the program is pid 1: see the top of the file */
        "--die-with-parent", "--new-session", "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
    };
    sv_add(a, bwrap);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        sv_add(a, fixed[i]);
    if (sp->sandbox_network)
        sv_add(a, "--share-net");
    static const char *const root_dirs[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64"};
    for (size_t i = 0; i < sizeof root_dirs / sizeof root_dirs[0]; i++)
        add_root_dir(a, root_dirs[i]);
    for (size_t i = 0; i < sizeof etc_entries / sizeof etc_entries[0]; i++) {
        sv_add(a, "--ro-bind-try");
        sv_addf(a, "/etc/%s", etc_entries[i]);
        sv_addf(a, "/etc/%s", etc_entries[i]);
    }
    int64_t tmp = sp->sandbox_tmp_bytes > 0 ? sp->sandbox_tmp_bytes : FM_CHILD_TMP_DEFAULT;
    static const char *const mounts[] = {"--proc", "/proc", "--dev", "/dev"};
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++)
        sv_add(a, mounts[i]);
    sv_add(a, "--size");
    sv_addf(a, "%lld", (long long)tmp);
    sv_add(a, "--tmpfs");
    sv_add(a, "/tmp");
    sv_add(a, "--bind");
    sv_add(a, sp->sandbox_dir);
    sv_add(a, "/workspace");
    static const char *const tail[] = {"--remount-ro", "/dev", "--remount-ro", "/",
                                       "--chdir", "/workspace", "--json-status-fd", "3"};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        sv_add(a, tail[i]);
    /* The variables are bwrap's own environment, which it hands on: on its
     * command line they would be in the host's process list for anyone to
     * read, and a process agent's token is among them. build_command
     * refuses the names that would act on bwrap itself (LD_PRELOAD ...). */
    sv_add(a, "--");
}

static void add_prlimit(strv *a, const fm_child_spec *sp)
{
    sv_add(a, FM_CHILD_PRLIMIT);
    sv_add(a, "--core=0");
    if (sp->mem_bytes > 0)
        sv_addf(a, "--as=%lld", (long long)sp->mem_bytes);
    /* SIGXCPU at the soft limit says what happened; SIGKILL a second later
     * ends a program that ignores it. */
    if (sp->cpu_s > 0)
        sv_addf(a, "--cpu=%lld:%lld", (long long)sp->cpu_s, (long long)sp->cpu_s + 1);
    sv_add(a, "--");
}

/* Checks the spec and builds the argument vector and the environment of the
 * process uv_spawn starts. */
static int build_command(const fm_child_spec *sp, strv *args, strv *env, fm_error *err)
{
    if (!sp->argv || !sp->argv[0] || !sp->argv[0][0])
        return fm_error_set(err, FM_EINVAL, "no program to run");
    if (sp->stdin_len && !sp->stdin_data)
        return fm_error_set(err, FM_EINVAL, "stdin_len without stdin_data");
    if (sp->stdin_len > FM_CHILD_STDIN_MAX)
        return fm_error_set(err, FM_ETOOBIG, "the child's input is over %d bytes",
                            FM_CHILD_STDIN_MAX);
    for (size_t i = 0; sp->env && sp->env[i]; i++) {
        const char *eq = strchr(sp->env[i], '=');
        if (!eq || eq == sp->env[i])
            return fm_error_set(err, FM_EINVAL, "environment entry '%s' is not NAME=VALUE",
                                sp->env[i]);
    }
    if (!is_exec_file(FM_CHILD_PRLIMIT))
        return fm_error_set(err, FM_ENOTFOUND,
                            "%s (util-linux) is missing; firma needs it to limit a child's "
                            "memory and CPU time",
                            FM_CHILD_PRLIMIT);
    add_prlimit(args, sp);
    if (sp->sandbox_dir) {
        const char *bwrap = sp->bwrap ? sp->bwrap : FM_CHILD_BWRAP;
        struct stat st;
        if (sp->sandbox_dir[0] != '/' || stat(sp->sandbox_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return fm_error_set(err, FM_EINVAL, "sandbox folder '%s' is not an absolute path "
                                "to a folder", sp->sandbox_dir);
        if (!is_exec_file(bwrap))
            return fm_error_set(err, FM_ENOTFOUND,
                                "bubblewrap (%s) is not installed, so there is no sandbox; "
                                "firma never runs a sandboxed command without one "
                                "(install the bubblewrap package)",
                                bwrap);
        for (size_t i = 0; sp->env && sp->env[i]; i++)
            if (strncmp(sp->env[i], "LD_", 3) == 0 || strncmp(sp->env[i], "GCONV_PATH=", 11) == 0 ||
                strncmp(sp->env[i], "MALLOC_", 7) == 0)
                return fm_error_set(err, FM_EINVAL, "environment entry '%.*s' would act on the "
                                    "sandbox itself, outside it", (int)strcspn(sp->env[i], "="),
                                    sp->env[i]);
        add_bwrap(args, sp, bwrap);
        sv_add(args, sp->argv[0]); /* found inside, through the env's PATH */
        for (size_t i = 0; sp->env && sp->env[i]; i++)
            sv_add(env, sp->env[i]);
    } else {
        char *prog = find_program(sp->argv[0], sp->env, sp->cwd);
        if (!prog)
            return fm_error_set(err, FM_ENOTFOUND, "program '%s' not found%s", sp->argv[0],
                                strchr(sp->argv[0], '/') ? "" : " in the PATH given to it");
        sv_add(args, prog);
        free(prog);
        for (size_t i = 0; sp->env && sp->env[i]; i++)
            sv_add(env, sp->env[i]);
    }
    for (size_t i = 1; sp->argv[i]; i++)
        sv_add(args, sp->argv[i]);
    if (!env->v)
        env->v = fm_xcalloc(1, sizeof *env->v); /* an empty environment, not firma's */
    return FM_OK;
}

/* uv_spawn has no hook between fork and exec, and bubblewrap passes on every
 * descriptor it inherits, so one of ours opened without O_CLOEXEC (by a
 * library, say) would be open inside the sandbox, where /proc/self/fd or a
 * redirection reaches it. firma hands a child nothing but its stdio, so
 * before each spawn every descriptor from 3 up is marked close-on-exec: a
 * process-wide change, but one that only ever closes a leak. */
static int seal_fds(fm_error *err)
{
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return FM_OK;
    DIR *d = opendir("/proc/self/fd"); /* kernels before 5.11 */
    if (!d)
        return fm_error_set(err, FM_EIO, "cannot mark descriptors close-on-exec: %s",
                            strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t fd;
        if (fm_parse_i64(e->d_name, &fd) == FM_OK && fd >= 3 && fd != dirfd(d)) {
            int fl = fcntl((int)fd, F_GETFD);
            if (fl >= 0)
                fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC);
        }
    }
    closedir(d);
    return FM_OK;
}

/* ---- the handles ------------------------------------------------------------------ */

static void finish(fm_child *c);

static void on_closed(uv_handle_t *h)
{
    fm_child *c = h->data;
    if (h == (uv_handle_t *)&c->in_poll) {
        close(c->in_fd);
        c->in_fd = -1;
    }
    if (--c->open_handles == 0)
        finish(c);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_closed);
}

static bool streams_open(const fm_child *c)
{
    for (int i = 0; i < c->n_streams; i++)
        if (!uv_is_closing((const uv_handle_t *)&c->s[i].pipe))
            return true;
    return false;
}

/* Closes every handle; `done` follows from the last close callback. */
static void close_all(fm_child *c)
{
    if (c->closing)
        return;
    c->closing = true;
    for (int i = 0; i < c->n_streams; i++)
        close_handle((uv_handle_t *)&c->s[i].pipe);
    if (c->in_fd >= 0)
        close_handle((uv_handle_t *)&c->in_poll);
    close_handle((uv_handle_t *)&c->timer);
    if (c->proc_init)
        close_handle((uv_handle_t *)&c->proc);
}

static void kill_all(fm_child *c)
{
    if (c->sandbox_pid > 0 && !c->exited && kill(c->sandbox_pid, SIGKILL) == 0)
        return;
    /* The group outlives its leader while members remain, and Linux does
     * not reuse a pid still naming a group, so this is safe after the exit. */
    if (kill(-c->proc.pid, SIGKILL) != 0 && !c->exited)
        kill(c->proc.pid, SIGKILL);
}

/* bwrap's first status report: { "child-pid": 4741, ... }, the pid as the
 * host sees it. */
static void read_sandbox_pid(fm_child *c)
{
    const fm_buf *b = &c->s[S_STATUS].buf;
    const char *p = b->ptr ? strstr(b->ptr, "\"child-pid\":") : NULL;
    if (!p)
        return;
    const char *end = b->ptr + b->len;
    p += strlen("\"child-pid\":");
    while (p < end && *p == ' ')
        p++;
    int64_t pid = 0;
    while (p < end && *p >= '0' && *p <= '9' && pid < INT32_MAX)
        pid = pid * 10 + (*p++ - '0');
    if (p < end && pid > 1) /* the number is whole: something follows it */
        c->sandbox_pid = (pid_t)pid;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    fm_child *c = h->data;
    *buf = uv_buf_init(c->scratch, sizeof c->scratch);
}

static void on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
    fm_child *c = h->data;
    stream *s = (stream *)h;
    if (n > 0) {
        size_t keep = s->buf.len < s->max ? s->max - s->buf.len : 0;
        fm_buf_add(&s->buf, buf->base, (size_t)n < keep ? (size_t)n : keep);
        s->total += (size_t)n;
        if (s == &c->s[S_STATUS] && !c->sandbox_pid)
            read_sandbox_pid(c);
        return;
    }
    if (n == 0)
        return;
    close_handle((uv_handle_t *)h); /* EOF, or an error: either way no more */
    if (c->exited && !streams_open(c))
        close_all(c);
}

static void stdin_done(fm_child *c)
{
    uv_poll_stop(&c->in_poll);
    close_handle((uv_handle_t *)&c->in_poll);
}

/* Our end of stdin is a socket, so send() with MSG_NOSIGNAL turns a child
 * that stops reading into EPIPE rather than a SIGPIPE that would end firma
 * (uv_write would use write()). */
static void on_stdin_writable(uv_poll_t *h, int status, int events)
{
    fm_child *c = h->data;
    while (status == 0 && c->in_off < c->in_len) {
        ssize_t n = send(c->in_fd, c->in_data + c->in_off, c->in_len - c->in_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0)
            break; /* the child closed its stdin: what it did not read is dropped */
        c->in_off += (size_t)n;
    }
    stdin_done(c); /* closing our end is the child's EOF */
}

static void on_timer(uv_timer_t *t)
{
    fm_child *c = t->data;
    if (c->exited) { /* the grace is over: stop waiting for leftover output */
        close_all(c);
        return;
    }
    c->timed_out = true;
    kill_all(c);
}

static void on_child_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
    fm_child *c = p->data;
    c->exited = true;
    c->exit_status = exit_status;
    c->term_signal = term_signal;
    c->wall_us = (int64_t)((uv_hrtime() - c->start_ns) / 1000);
    kill_all(c); /* whatever it left behind */
    if (!streams_open(c)) {
        close_all(c);
        return;
    }
    uv_timer_stop(&c->timer);
    uv_timer_start(&c->timer, on_timer, GRACE_MS, 0);
}

/* Whether bwrap ran the program: it reports "exit-code" on the status fd only
 * once the sandbox was set up and the program exec'd. */
static bool sandbox_ran(const fm_child *c)
{
    const fm_buf *b = &c->s[S_STATUS].buf;
    return b->ptr && strstr(b->ptr, "\"exit-code\"");
}

static void child_free(fm_child *c)
{
    for (int i = 0; i < N_STREAMS; i++)
        fm_buf_release(&c->s[i].buf);
    free(c->in_data);
    free(c);
}

static void finish(fm_child *c)
{
    if (c->start_failed) {
        child_free(c);
        return;
    }
    fm_child_result r = {
        .exit_code = (int)c->exit_status,
        .term_signal = c->term_signal,
        .timed_out = c->timed_out,
        .killed = c->killed,
        .sandbox_failed = c->sandbox && !c->timed_out && !c->killed && !sandbox_ran(c),
        .out = c->s[S_OUT].buf,
        .err = c->s[S_ERR].buf,
        .out_total = c->s[S_OUT].total,
        .err_total = c->s[S_ERR].total,
        .out_cut = c->s[S_OUT].total > c->s[S_OUT].buf.len,
        .err_cut = c->s[S_ERR].total > c->s[S_ERR].buf.len,
        .wall_us = c->wall_us,
    };
    c->s[S_OUT].buf = FM_BUF_INIT;
    c->s[S_ERR].buf = FM_BUF_INIT;
    c->done(c->arg, &r);
    fm_buf_release(&r.out);
    fm_buf_release(&r.err);
    child_free(c);
}

/* ---- starting and killing ---------------------------------------------------------- */

/* Initialises the handles other than the process; FM_OK or an error. */
static int init_handles(fm_child *c, const fm_child_spec *sp, int in_fd, fm_error *err)
{
    uv_timer_init(c->loop, &c->timer);
    c->timer.data = c;
    c->open_handles++;
    for (int i = 0; i < c->n_streams; i++) {
        uv_pipe_init(c->loop, &c->s[i].pipe, 0);
        c->s[i].pipe.data = c;
        c->s[i].max = i == S_STATUS ? STATUS_MAX : sp->max_output ? sp->max_output
                                                                 : FM_CHILD_OUTPUT_DEFAULT;
        c->open_handles++;
    }
    if (in_fd < 0)
        return FM_OK;
    int rc = uv_poll_init_socket(c->loop, &c->in_poll, in_fd);
    if (rc != 0) {
        close(in_fd);
        return fm_error_set(err, FM_EIO, "cannot watch the child's stdin: %s", uv_strerror(rc));
    }
    c->in_poll.data = c;
    c->in_fd = in_fd;
    c->open_handles++;
    return FM_OK;
}

static int spawn(fm_child *c, const fm_child_spec *sp, strv *args, strv *env, int child_in,
                 fm_error *err)
{
    uv_stdio_container_t stdio[4];
    stdio[0].flags = child_in >= 0 ? UV_INHERIT_FD : UV_IGNORE;
    stdio[0].data.fd = child_in;
    for (int i = 0; i < c->n_streams; i++) {
        stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[i + 1].data.stream = (uv_stream_t *)&c->s[i].pipe;
    }
    uv_process_options_t o = {
        .exit_cb = on_child_exit,
        .file = args->v[0],
        .args = args->v,
        .env = env->v,
        .cwd = sp->sandbox_dir ? NULL : sp->cwd,
        .flags = UV_PROCESS_DETACHED, /* a new session: one kill reaches its group */
        .stdio_count = c->n_streams + 1,
        .stdio = stdio,
    };
    c->proc.data = c;
    c->proc_init = true; /* uv_spawn initialises it even when it fails */
    c->open_handles++;
    c->start_ns = uv_hrtime();
    int rc = uv_spawn(c->loop, &c->proc, &o);
    if (rc != 0)
        return fm_error_set(err, FM_EIO, "cannot start %s: %s", sp->argv[0], uv_strerror(rc));
    return FM_OK;
}

int fm__child_start(uv_loop_t *loop, const fm_child_spec *sp, fm_child_done done, void *arg,
                    fm_child **out, fm_error *err)
{
    *out = NULL;
    strv args = {0}, env = {0};
    int fds[2] = {-1, -1};
    int rc = build_command(sp, &args, &env, err);
    if (rc == FM_OK)
        rc = seal_fds(err);
    if (rc == FM_OK && sp->stdin_len) {
        int urc = uv_socketpair(SOCK_STREAM, 0, fds, UV_NONBLOCK_PIPE, 0);
        if (urc != 0)
            rc = fm_error_set(err, FM_EIO, "cannot make the child's stdin: %s",
                              uv_strerror(urc));
    }
    if (rc != FM_OK) {
        sv_free(&args);
        sv_free(&env);
        return rc;
    }
    fm_child *c = fm_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->done = done;
    c->arg = arg;
    c->in_fd = -1;
    c->sandbox = sp->sandbox_dir != NULL;
    c->n_streams = c->sandbox ? 3 : 2;
    if (sp->stdin_len) {
        c->in_data = fm_xmalloc(sp->stdin_len);
        memcpy(c->in_data, sp->stdin_data, sp->stdin_len);
        c->in_len = sp->stdin_len;
    }
    rc = init_handles(c, sp, fds[0], err);
    if (rc == FM_OK)
        rc = spawn(c, sp, &args, &env, fds[1], err);
    if (fds[1] >= 0)
        close(fds[1]); /* the child's end: it has its own copy now */
    sv_free(&args);
    sv_free(&env);
    if (rc != FM_OK) {
        c->start_failed = true; /* freed once its handles have closed */
        close_all(c);
        return rc;
    }
    for (int i = 0; i < c->n_streams; i++)
        uv_read_start((uv_stream_t *)&c->s[i].pipe, on_alloc, on_read);
    if (c->in_fd >= 0)
        uv_poll_start(&c->in_poll, UV_WRITABLE, on_stdin_writable);
    if (sp->timeout_ms > 0)
        uv_timer_start(&c->timer, on_timer, (uint64_t)sp->timeout_ms, 0);
    *out = c;
    return FM_OK;
}

void fm__child_kill(fm_child *c)
{
    if (!c || c->closing)
        return;
    if (c->exited) { /* only its leftover output is awaited: stop */
        close_all(c);
        return;
    }
    c->killed = true;
    kill_all(c);
}
