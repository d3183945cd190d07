/* tools/child, tools/exec: a child process on the loop, and the exec tool's
 * sandbox, limits and result text. Everything here runs for real: real
 * processes under the real bubblewrap on a real uv loop. */
#include "helpers.h"

#include "firma/tools.h"
#include "tools/child.h"
#include "tools/workspace.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <uv.h>

/* A temporary folder holding the workspace "ws" and, beside it, "secret". */
typedef struct fixture {
    char dir[64];
    char *ws, *secret;
    uv_loop_t loop;
} fixture;

static fixture *fx_new(void)
{
    fixture *f = fm_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/firma-exec-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->ws = fm_xasprintf("%s/ws/dev", f->dir); /* not there yet: exec makes it */
    f->secret = fm_xasprintf("%s/secret", f->dir);
    FILE *fp = fopen(f->secret, "w");
    assert_non_null(fp);
    fputs("the-secret-42\n", fp);
    fclose(fp);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    return f;
}

static void fx_free(fixture *f)
{
    /* Nothing may be left on the loop: every handle of a child is closed. */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    tdb_rmdir(f->dir);
    free(f->ws);
    free(f->secret);
    free(f);
}

static char *slurp(const char *path)
{
    fm_buf b = FM_BUF_INIT;
    if (fm_buf_read_file(&b, path, 1 << 20) != FM_OK) {
        fm_buf_release(&b);
        return NULL;
    }
    return fm_buf_detach(&b);
}

/* ---- the child API ------------------------------------------------------------------ */

typedef struct got {
    int calls;
    fm_child_result r;
} got;

static void on_child(void *arg, fm_child_result *res)
{
    got *g = arg;
    g->calls++;
    g->r = *res; /* takes out and err */
    res->out = FM_BUF_INIT;
    res->err = FM_BUF_INIT;
}

static void got_release(got *g)
{
    fm_buf_release(&g->r.out);
    fm_buf_release(&g->r.err);
}

static const char *out_of(const got *g)
{
    return g->r.out.ptr ? g->r.out.ptr : "";
}

static const char *err_of(const got *g)
{
    return g->r.err.ptr ? g->r.err.ptr : "";
}

static got run_child(fixture *f, const fm_child_spec *sp)
{
    got g = {0};
    fm_child *c;
    fm_error err = {0};
    int rc = fm__child_start(&f->loop, sp, on_child, &g, &c, &err);
    if (rc != FM_OK)
        fprintf(stderr, "fm__child_start: %s\n", fm_error_text(&err));
    assert_int_equal(rc, FM_OK);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g.calls, 1);
    return g;
}

static const char *const test_env[] = {"PATH=/usr/bin:/bin", NULL};

/* A spec for `argv`, on the host or in the sandbox of f->ws. */
static fm_child_spec sh_spec(fixture *f, const char *const *argv, bool sandbox)
{
    fm_child_spec sp = {.argv = argv, .env = test_env, .timeout_ms = 20000};
    if (sandbox) {
        assert_int_equal(fm__ws_make(f->ws, NULL), FM_OK);
        sp.sandbox_dir = f->ws;
    }
    return sp;
}

/* ---- the exec tool ------------------------------------------------------------------ */

typedef struct tool_got {
    int calls;
    bool is_error;
    char *text;
} tool_got;

static void on_tool(void *arg, fm_tool_result *res)
{
    tool_got *g = arg;
    g->calls++;
    g->is_error = res->is_error;
    free(g->text);
    g->text = res->text;
    res->text = NULL;
}

static fm_tool_ctx ctx_of(fixture *f)
{
    fm_tool_ctx c = {.company = 1, .agent = 2, .run = 3, .step = 4, .handle = "dev",
                     .workspace = f->ws};
    return c;
}

static fm_tool_job *start_exec(fixture *f, const fm_tool_limits *lim, const char *command,
                               int timeout_s, tool_got *g)
{
    json_t *a = json_pack("{s:s}", "command", command);
    if (timeout_s)
        json_object_set_new(a, "timeout_s", json_integer(timeout_s));
    char *args = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    fm_tool_ctx c = ctx_of(f);
    fm_tool_job *job;
    fm_error err = {0};
    int rc = fm_tool_start(&f->loop, &c, lim, "exec", args, on_tool, g, &job, &err);
    if (rc != FM_OK)
        fprintf(stderr, "exec: %s\n", fm_error_text(&err));
    assert_int_equal(rc, FM_OK);
    free(args);
    return job;
}

/* Runs `command` with the exec tool to the end; the caller frees g.text. */
static tool_got exec_cmd(fixture *f, const fm_tool_limits *lim, const char *command)
{
    tool_got g = {0};
    start_exec(f, lim, command, 0, &g);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g.calls, 1);
    assert_non_null(g.text);
    return g;
}

static void expect_in(const char *text, const char *want)
{
    if (!strstr(text, want))
        fprintf(stderr, "wanted \"%s\" in:\n%s\n", want, text);
    assert_non_null(strstr(text, want));
}

static void expect_not_in(const char *text, const char *unwanted)
{
    if (strstr(text, unwanted))
        fprintf(stderr, "did not want \"%s\" in:\n%s\n", unwanted, text);
    assert_null(strstr(text, unwanted));
}

/* ---- processes seen from the host ------------------------------------------------- */

/* The pid of the process whose command line is exactly argv[0] argv[1]
 * argv[2] (NULL ends it early), or 0. */
static pid_t find_process(const char *a0, const char *a1, const char *a2)
{
    fm_buf want = FM_BUF_INIT;
    const char *args[] = {a0, a1, a2};
    for (size_t i = 0; i < 3 && args[i]; i++)
        fm_buf_add(&want, args[i], strlen(args[i]) + 1);
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *e;
    pid_t found = 0;
    while (!found && (e = readdir(d))) {
        int64_t pid;
        if (fm_parse_i64(e->d_name, &pid) != FM_OK)
            continue;
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%lld/cmdline", (long long)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n == (ssize_t)want.len && memcmp(buf, want.ptr, want.len) == 0)
            found = (pid_t)pid;
    }
    closedir(d);
    fm_buf_release(&want);
    return found;
}

/* Whether `pid` still runs. A zombie counts as gone: the host's init reaps
 * orphans of commands run without a sandbox (or, in some containers, never). */
static bool alive(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = slurp(path);
    bool zombie = stat && strstr(stat, ") Z ");
    free(stat);
    return !zombie;
}

/* Waits up to 3 s for `pid` to be gone; returns whether it is. */
static bool gone_soon(pid_t pid)
{
    for (int i = 0; i < 300 && alive(pid); i++)
        usleep(10000);
    return !alive(pid);
}

/* ---- tests -------------------------------------------------------------------------- */

static void exec_reports_status_and_output(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    tool_got g = exec_cmd(f, &lim, "echo hello; echo oops >&2; exit 3");
    assert_false(g.is_error); /* the model reads the status */
    assert_string_equal(g.text, "exit code 3; limits: 1024 MiB of memory, 60 s\n"
                                "--- stdout ---\nhello\n--- stderr ---\noops\n");
    free(g.text);
    g = exec_cmd(f, &lim, "printf 'no newline'");
    assert_string_equal(g.text,
                        "exit code 0\n--- stdout ---\nno newline\n--- stderr (empty) ---\n");
    free(g.text);
    /* The workspace was created, private to its owner. */
    struct stat st;
    assert_int_equal(stat(f->ws, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    fx_free(f);
}

static void child_reports_exit_and_signal(void **state)
{
    fixture *f = fx_new();
    const char *const a1[] = {"sh", "-c", "echo out; echo err >&2; exit 7", NULL};
    fm_child_spec sp = sh_spec(f, a1, false);
    got g = run_child(f, &sp);
    assert_int_equal(g.r.exit_code, 7);
    assert_int_equal(g.r.term_signal, 0);
    assert_string_equal(out_of(&g), "out\n");
    assert_string_equal(err_of(&g), "err\n");
    assert_false(g.r.timed_out || g.r.killed || g.r.sandbox_failed || g.r.out_cut);
    got_release(&g);
    const char *const a2[] = {"sh", "-c", "kill -TERM $$", NULL};
    sp = sh_spec(f, a2, false);
    g = run_child(f, &sp);
    assert_int_equal(g.r.term_signal, SIGTERM);
    got_release(&g);
    /* In the sandbox: the same. */
    sp = sh_spec(f, a1, true);
    g = run_child(f, &sp);
    assert_int_equal(g.r.exit_code, 7);
    assert_string_equal(out_of(&g), "out\n");
    assert_false(g.r.sandbox_failed);
    got_release(&g);
    fx_free(f);
}

static void child_stdin_is_delivered(void **state)
{
    fixture *f = fx_new();
    const char *const cat[] = {"cat", NULL};
    fm_child_spec sp = sh_spec(f, cat, false);
    sp.stdin_data = "hello\n";
    sp.stdin_len = 6;
    got g = run_child(f, &sp);
    assert_string_equal(out_of(&g), "hello\n");
    got_release(&g);
    /* More than a socket buffer, into the sandbox. */
    size_t big = 3 << 20;
    char *data = fm_xmalloc(big);
    memset(data, 'x', big);
    const char *const wc[] = {"wc", "-c", NULL};
    sp = sh_spec(f, wc, true);
    sp.stdin_data = data;
    sp.stdin_len = big;
    g = run_child(f, &sp);
    assert_string_equal(out_of(&g), "3145728\n");
    got_release(&g);
    /* A child that reads none of it: no SIGPIPE for us, and it still ends. */
    const char *const tru[] = {"true", NULL};
    sp = sh_spec(f, tru, false);
    sp.stdin_data = data;
    sp.stdin_len = big;
    g = run_child(f, &sp);
    assert_int_equal(g.r.exit_code, 0);
    got_release(&g);
    free(data);
    fx_free(f);
}

typedef struct watch {
    char marker[32];
    const char *cmd;
    pid_t sleep, sh;
} watch;

static void on_look(uv_timer_t *t)
{
    watch *w = t->data;
    w->sleep = find_process("sleep", w->marker, NULL);
    w->sh = find_process("/bin/sh", "-c", w->cmd);
    uv_close((uv_handle_t *)t, NULL);
}

static void exec_timeout_kills_the_command_and_its_children(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {.exec_timeout_s = 1}; /* caps the 30 s asked for */
    watch w;
    snprintf(w.marker, sizeof w.marker, "4%d.5", (int)getpid());
    w.sleep = w.sh = 0;
    char *cmd = fm_xasprintf("sleep %s & sleep 1000; echo not reached", w.marker);
    w.cmd = cmd;
    tool_got g = {0};
    start_exec(f, &lim, cmd, 30, &g);
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = &w;
    uv_timer_start(&t, on_look, 500, 0);
    uint64_t t0 = uv_hrtime();
    uv_run(&f->loop, UV_RUN_DEFAULT);
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    assert_int_equal(g.calls, 1);
    expect_in(g.text, "killed after 1 s (time limit)");
    expect_not_in(g.text, "not reached");
    assert_false(g.is_error);
    assert_true(secs < 15); /* the 1 s cap, not the 30 s asked for (a bound, not a speed) */
    /* The command and its background sleep ran (seen from the host), and by
     * the time `done` ran both were gone: killed and reaped (the sleep by the
     * kernel as the namespace ended, the command by bwrap), none left for
     * init to reap. */
    assert_int_not_equal(w.sleep, 0);
    assert_int_not_equal(w.sh, 0);
    assert_true(kill(w.sleep, 0) != 0 && errno == ESRCH);
    assert_true(kill(w.sh, 0) != 0 && errno == ESRCH);
    free(g.text);
    free(cmd);
    fx_free(f);
}

static void child_timeout_kills_its_process_group(void **state)
{
    fixture *f = fx_new();
    char *pidfile = fm_xasprintf("%s/pid", f->dir);
    char *script = fm_xasprintf("sleep 1000 & echo $! > '%s'; wait", pidfile);
    const char *const argv[] = {"sh", "-c", script, NULL};
    fm_child_spec sp = sh_spec(f, argv, false);
    sp.timeout_ms = 500;
    got g = run_child(f, &sp);
    assert_true(g.r.timed_out);
    assert_int_equal(g.r.term_signal, SIGKILL);
    char *pid_text = slurp(pidfile);
    assert_non_null(pid_text);
    int64_t pid;
    pid_text[strcspn(pid_text, "\n")] = '\0';
    assert_int_equal(fm_parse_i64(pid_text, &pid), FM_OK);
    assert_true(gone_soon((pid_t)pid));
    got_release(&g);
    free(pid_text);
    free(script);
    free(pidfile);
    fx_free(f);
}

static void leftovers_die_with_the_command(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    char marker[32];
    snprintf(marker, sizeof marker, "5%d.5", (int)getpid());
    /* A background process holding stdout: the result does not wait for it. */
    char *cmd = fm_xasprintf("sleep %s & echo started", marker);
    uint64_t t0 = uv_hrtime();
    tool_got g = exec_cmd(f, &lim, cmd);
    assert_true((double)(uv_hrtime() - t0) / 1e9 < 15); /* not the sleep's 4x,xxx s */
    expect_in(g.text, "exit code 0\n--- stdout ---\nstarted\n");
    assert_int_equal(find_process("sleep", marker, NULL), 0);
    free(g.text);
    free(cmd);
    /* On the host: what it left in its process group is killed at its exit. */
    const char *const bg[] = {"sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!", NULL};
    fm_child_spec bsp = sh_spec(f, bg, false);
    got bgot = run_child(f, &bsp);
    int64_t pid;
    char *pid_text = fm_xstrndup(out_of(&bgot), strcspn(out_of(&bgot), "\n"));
    assert_int_equal(fm_parse_i64(pid_text, &pid), FM_OK);
    assert_true(gone_soon((pid_t)pid));
    free(pid_text);
    got_release(&bgot);
    /* A process that made its own session escapes the group;
     * its hold on stdout is waited for only briefly (GRACE_MS, 1 s) after
     * the exit, not for the 10 s it holds it. */
    char *script = fm_xasprintf("setsid sh -c 'echo > %s/ready; exec sleep 10' & "
                                "while [ ! -s %s/ready ]; do sleep 0.01; done; echo started",
                                f->dir, f->dir);
    const char *const argv[] = {"sh", "-c", script, NULL};
    fm_child_spec sp = sh_spec(f, argv, false);
    t0 = uv_hrtime();
    got cg = run_child(f, &sp);
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    assert_true(secs >= 0.9 && secs < 8);
    assert_string_equal(out_of(&cg), "started\n");
    got_release(&cg);
    free(script);
    fx_free(f);
}

/* firma killed outright (kill -9, a crash) takes its sandboxes with it. */
static void the_sandbox_dies_with_firma(void **state)
{
    fixture *f = fx_new();
    char marker[32];
    snprintf(marker, sizeof marker, "6%d.5", (int)getpid());
    char *cmd = fm_xasprintf("sleep %s", marker);
    pid_t firma = fork();
    assert_true(firma >= 0);
    if (firma == 0) { /* a stand-in for firma: runs the command, then is killed */
        uv_loop_t loop;
        uv_loop_init(&loop);
        fm_tool_ctx c = ctx_of(f);
        char *args = fm_xasprintf("{\"command\":\"%s\"}", cmd);
        fm_tool_job *job;
        tool_got g = {0};
        if (fm_tool_start(&loop, &c, &(fm_tool_limits){0}, "exec", args, on_tool, &g, &job,
                          NULL) == FM_OK)
            uv_run(&loop, UV_RUN_DEFAULT);
        _exit(1);
    }
    pid_t sleeper = 0;
    for (int i = 0; i < 300 && !sleeper; i++) {
        usleep(10000);
        sleeper = find_process("sleep", marker, NULL);
    }
    kill(firma, SIGKILL);
    assert_int_equal(waitpid(firma, NULL, 0), firma);
    assert_int_not_equal(sleeper, 0);
    assert_true(gone_soon(sleeper));
    free(cmd);
    fx_free(f);
}

static void output_is_capped(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {.exec_max_output = 1000};
    tool_got g = exec_cmd(f, &lim, "head -c 200000 /dev/zero | tr '\\0' a; echo err >&2");
    expect_in(g.text, "\n[cut: 199000 more bytes]\n--- stderr ---\nerr\n");
    assert_true(strlen(g.text) < 1200);
    free(g.text);
    const char *const argv[] = {"sh", "-c", "head -c 200000 /dev/zero", NULL};
    fm_child_spec sp = sh_spec(f, argv, true);
    sp.max_output = 1000;
    got cg = run_child(f, &sp);
    assert_int_equal(cg.r.out.len, 1000);
    assert_int_equal(cg.r.out_total, 200000);
    assert_true(cg.r.out_cut);
    assert_false(cg.r.err_cut);
    got_release(&cg);
    fx_free(f);
}

static void memory_is_limited(void **state)
{
    fixture *f = fx_new();
    const char *perl = "perl -e '$x = \"a\" x (200*1024*1024); print \"allocated\\n\"'";
    fm_tool_limits small = {.exec_mem_bytes = 64LL << 20};
    tool_got g = exec_cmd(f, &small, perl);
    expect_not_in(g.text, "allocated");
    expect_not_in(g.text, "exit code 0");
    expect_in(g.text, "limits: 64 MiB of memory");
    free(g.text);
    fm_tool_limits big = {.exec_mem_bytes = 1LL << 30};
    g = exec_cmd(f, &big, perl);
    expect_in(g.text, "exit code 0\n--- stdout ---\nallocated\n");
    free(g.text);
    fx_free(f);
}

static void cpu_time_is_limited(void **state)
{
    fixture *f = fx_new();
    const char *const argv[] = {"sh", "-c", "while :; do :; done", NULL};
    fm_child_spec sp = sh_spec(f, argv, false);
    sp.cpu_s = 1;
    got g = run_child(f, &sp);
    assert_false(g.r.timed_out);
    assert_int_equal(g.r.term_signal, SIGXCPU);
    got_release(&g);
    fx_free(f);
}

static void files_land_in_the_workspace(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    tool_got g = exec_cmd(f, &lim, "pwd; echo data > out.txt; mkdir -p sub && echo x > sub/y; "
                                   "echo $HOME");
    expect_in(g.text, "--- stdout ---\n/workspace\n/workspace\n");
    free(g.text);
    char *p = fm_xasprintf("%s/out.txt", f->ws);
    char *text = slurp(p);
    assert_non_null(text);
    assert_string_equal(text, "data\n");
    free(text);
    free(p);
    p = fm_xasprintf("%s/sub/y", f->ws);
    text = slurp(p);
    assert_non_null(text);
    assert_string_equal(text, "x\n");
    free(text);
    free(p);
    fx_free(f);
}

static void nothing_outside_can_be_read(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    /* A descriptor of ours without close-on-exec, as a careless library
     * might leave one: it must not reach the sandbox. */
    int fd = open(f->secret, O_RDONLY);
    assert_true(fd >= 3);
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    char *cmd = fm_xasprintf("cat '%s'; cat /proc/self/fd/%d; cat /etc/shadow; "
                             "ls /root /work /home /var /run; ls /etc; "
                             "echo fds $(ls /proc/self/fd)",
                             f->secret, fd);
    tool_got g = exec_cmd(f, &lim, cmd);
    expect_not_in(g.text, "the-secret-42");
    expect_in(g.text, "No such file or directory"); /* the secret's path is not there */
    expect_not_in(g.text, "shadow\n");              /* nor /etc/shadow */
    expect_in(g.text, "passwd\n");                  /* while /etc's basics are */
    expect_in(g.text, "fds 0 1 2 3\n");             /* stdio and ls's own, no more */
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC); /* sealed */
    free(g.text);
    free(cmd);
    close(fd);
    /* The same cat on the host reads it: the test can tell. */
    char *script = fm_xasprintf("cat '%s'", f->secret);
    const char *const argv[] = {"sh", "-c", script, NULL};
    fm_child_spec sp = sh_spec(f, argv, false);
    got cg = run_child(f, &sp);
    assert_string_equal(out_of(&cg), "the-secret-42\n");
    got_release(&cg);
    free(script);
    fx_free(f);
}

static void nothing_outside_can_be_written(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    char name[64];
    snprintf(name, sizeof name, "firma-escape-%d", (int)getpid());
    char *cmd = fm_xasprintf("for d in /usr /usr/bin /etc /dev / /proc '%s'; do "
                             "echo x 2>/dev/null > $d/%s && echo wrote $d; done; "
                             "echo x > /tmp/%s && echo wrote tmp; echo x > %s && echo wrote ws",
                             f->dir, name, name, name);
    tool_got g = exec_cmd(f, &lim, cmd);
    expect_in(g.text, "--- stdout ---\nwrote tmp\nwrote ws\n--- stderr (empty) ---\n");
    free(g.text);
    free(cmd);
    const char *dirs[] = {"/usr", "/etc", "/", f->dir, "/tmp"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char *p = fm_xasprintf("%s/%s", dirs[i], name);
        struct stat st;
        if (stat(p, &st) == 0)
            fprintf(stderr, "the sandbox wrote %s\n", p);
        assert_int_not_equal(stat(p, &st), 0);
        free(p);
    }
    fx_free(f);
}

static void there_is_no_network(void **state)
{
    fixture *f = fx_new();
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 8), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    char *cmd = fm_xasprintf("bash -c 'echo hi > /dev/tcp/127.0.0.1/%d' && echo connected",
                             ntohs(a.sin_port));
    fm_tool_limits lim = {0};
    tool_got g = exec_cmd(f, &lim, cmd);
    expect_not_in(g.text, "connected");
    free(g.text);
    /* With the network shared (a child option exec does not use), it connects. */
    const char *const argv[] = {"sh", "-c", cmd, NULL};
    fm_child_spec sp = sh_spec(f, argv, true);
    sp.sandbox_network = true;
    got cg = run_child(f, &sp);
    assert_string_equal(out_of(&cg), "connected\n");
    got_release(&cg);
    free(cmd);
    close(s);
    fx_free(f);
}

static void the_sandbox_has_no_privileges(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    tool_got g = exec_cmd(f, &lim, "grep CapEff /proc/self/status; "
                                   "unshare --user true 2>/dev/null || echo no-userns; "
                                   "echo pid $$; ls /proc > procs; grep -c '^[0-9]' procs; "
                                   "hostname");
    /* No capabilities (bwrap keeps them for root unless told), no nested user
     * namespace, a pid namespace of its own in which the command is pid 1
     * and its /proc shows only its processes (sh and ls), and not the
     * host's name. */
    expect_in(g.text, "--- stdout ---\nCapEff:\t0000000000000000\nno-userns\npid 1\n2\nsandbox\n");
    free(g.text);
    fx_free(f);
}

static void the_environment_is_only_what_was_given(void **state)
{
    fixture *f = fx_new();
    setenv("FIRMA_TEST_LEAK", "leaked-value", 1);
    fm_tool_limits lim = {0};
    tool_got g = exec_cmd(f, &lim, "env | sort");
    expect_not_in(g.text, "leaked-value");
    /* Exactly exec's three, and PWD, which the shell sets. */
    expect_in(g.text, "--- stdout ---\nHOME=/workspace\nLANG=C.UTF-8\n"
                      "PATH=/usr/local/bin:/usr/bin:/bin\nPWD=/workspace\n--- stderr");
    free(g.text);
    const char *const argv[] = {"/usr/bin/env", NULL};
    const char *const env[] = {"ONLY=this", NULL};
    fm_child_spec sp = sh_spec(f, argv, false);
    sp.env = env;
    got cg = run_child(f, &sp);
    assert_string_equal(out_of(&cg), "ONLY=this\n");
    got_release(&cg);
    unsetenv("FIRMA_TEST_LEAK");
    fx_free(f);
}

static void output_is_made_valid_utf8(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    tool_got g = exec_cmd(f, &lim, "printf 'ok\\377\\376 caf\\303\\251 a\\000b\\n'");
    assert_true(fm_utf8_valid(g.text, strlen(g.text), NULL));
    expect_in(g.text, "ok\xEF\xBF\xBD\xEF\xBF\xBD caf\xC3\xA9 a\xEF\xBF\xBD" "b\n");
    free(g.text);
    /* A character split by the cut is left out, and counted as cut. */
    fm_tool_limits cut = {.exec_max_output = 5};
    g = exec_cmd(f, &cut, "printf 'abcd\\303\\251xyz'");
    assert_true(fm_utf8_valid(g.text, strlen(g.text), NULL));
    expect_in(g.text, "--- stdout ---\nabcd\n[cut: 5 more bytes]\n");
    free(g.text);
    fx_free(f);
}

typedef struct canceller {
    fm_tool_job *job;
    tool_got *g;
    int calls_on_return;
} canceller;

static void on_cancel_timer(uv_timer_t *t)
{
    canceller *k = t->data;
    fm_tool_job_cancel(k->job);
    k->calls_on_return = k->g->calls; /* done ran before cancel returned */
    uv_close((uv_handle_t *)t, NULL);
}

static void cancel_runs_done_once(void **state)
{
    fixture *f = fx_new();
    fm_tool_limits lim = {0};
    tool_got g = {0};
    canceller k = {.g = &g};
    k.job = start_exec(f, &lim, "sleep 100; echo not reached", 0, &g);
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = &k;
    uv_timer_start(&t, on_cancel_timer, 200, 0);
    uint64_t t0 = uv_hrtime();
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true((double)(uv_hrtime() - t0) / 1e9 < 5);
    assert_int_equal(k.calls_on_return, 1);
    assert_int_equal(g.calls, 1);
    assert_true(g.is_error);
    expect_in(g.text, "canceled");
    free(g.text);
    fx_free(f);
}

static void on_kill_timer(uv_timer_t *t)
{
    fm__child_kill(t->data);
    uv_close((uv_handle_t *)t, NULL);
}

static void child_kill_runs_done_once(void **state)
{
    fixture *f = fx_new();
    for (int sandbox = 0; sandbox < 2; sandbox++) {
        const char *const argv[] = {"sh", "-c", "sleep 100", NULL};
        fm_child_spec sp = sh_spec(f, argv, sandbox);
        got g = {0};
        fm_child *c;
        assert_int_equal(fm__child_start(&f->loop, &sp, on_child, &g, &c, NULL), FM_OK);
        uv_timer_t t;
        uv_timer_init(&f->loop, &t);
        t.data = c;
        uv_timer_start(&t, on_kill_timer, 200, 0);
        uv_run(&f->loop, UV_RUN_DEFAULT);
        assert_int_equal(g.calls, 1);
        assert_true(g.r.killed);
        assert_false(g.r.timed_out);
        assert_false(g.r.sandbox_failed); /* killed is not a sandbox failure */
        if (sandbox) /* bwrap saw its program killed */
            assert_int_equal(g.r.exit_code, 128 + SIGKILL);
        else
            assert_int_equal(g.r.term_signal, SIGKILL);
        got_release(&g);
    }
    fx_free(f);
}

static void a_sandbox_that_cannot_start_is_an_error(void **state)
{
    fixture *f = fx_new();
    const char *const argv[] = {"true", NULL};
    fm_child_spec sp = sh_spec(f, argv, true);
    got g = {0};
    fm_child *c = NULL;
    fm_error err = {0};
    /* No bubblewrap: refused at once, never run without it. */
    sp.bwrap = "/nonexistent/bwrap";
    assert_int_equal(fm__child_start(&f->loop, &sp, on_child, &g, &c, &err), FM_ENOTFOUND);
    expect_in(err.msg, "bubblewrap (/nonexistent/bwrap) is not installed");
    sp.bwrap = NULL;
    sp.sandbox_dir = "/nonexistent/ws";
    assert_int_equal(fm__child_start(&f->loop, &sp, on_child, &g, &c, &err), FM_EINVAL);
    expect_in(err.msg, "is not an absolute path to a folder");
    const char *const missing[] = {"no-such-program-here", NULL};
    fm_child_spec host = sh_spec(f, missing, false);
    assert_int_equal(fm__child_start(&f->loop, &host, on_child, &g, &c, &err), FM_ENOTFOUND);
    expect_in(err.msg, "program 'no-such-program-here' not found");
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g.calls, 0);
    assert_null(c);
    /* bwrap that fails while setting up (here: no room to even load it). */
    sp = sh_spec(f, argv, true);
    sp.mem_bytes = 1 << 20;
    g = run_child(f, &sp);
    assert_true(g.r.sandbox_failed);
    expect_in(err_of(&g), "bwrap");
    got_release(&g);
    /* A program missing inside the sandbox: bwrap says so. */
    sp = sh_spec(f, missing, true);
    g = run_child(f, &sp);
    assert_true(g.r.sandbox_failed);
    expect_in(err_of(&g), "no-such-program-here");
    got_release(&g);
    /* The exec tool tells the model, as an error. */
    fm_tool_limits tiny = {.exec_mem_bytes = 1 << 20};
    tool_got tg = exec_cmd(f, &tiny, "echo hi");
    assert_true(tg.is_error);
    expect_in(tg.text, "The sandbox could not start the command: ");
    expect_in(tg.text, "bwrap");
    free(tg.text);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exec_reports_status_and_output),
        cmocka_unit_test(child_reports_exit_and_signal),
        cmocka_unit_test(child_stdin_is_delivered),
        cmocka_unit_test(exec_timeout_kills_the_command_and_its_children),
        cmocka_unit_test(child_timeout_kills_its_process_group),
        cmocka_unit_test(leftovers_die_with_the_command),
        cmocka_unit_test(the_sandbox_dies_with_firma),
        cmocka_unit_test(output_is_capped),
        cmocka_unit_test(memory_is_limited),
        cmocka_unit_test(cpu_time_is_limited),
        cmocka_unit_test(files_land_in_the_workspace),
        cmocka_unit_test(nothing_outside_can_be_read),
        cmocka_unit_test(nothing_outside_can_be_written),
        cmocka_unit_test(there_is_no_network),
        cmocka_unit_test(the_sandbox_has_no_privileges),
        cmocka_unit_test(the_environment_is_only_what_was_given),
        cmocka_unit_test(output_is_made_valid_utf8),
        cmocka_unit_test(cancel_runs_done_once),
        cmocka_unit_test(child_kill_runs_done_once),
        cmocka_unit_test(a_sandbox_that_cannot_start_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
