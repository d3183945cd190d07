/* A python test server (tests/llm_server.py, tests/fetch_server.py) as a
 * child process for the unit tests that speak HTTP to one: it prints its
 * port as its first stdout line, logs each request to a temporary file as a
 * JSON line, and exits when its stdin closes. Include after cmocka.h. */
#ifndef FIRMA_TESTS_PYSERVER_H
#define FIRMA_TESTS_PYSERVER_H

#include "firma/base.h"
#include "firma/errors.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct pyserver {
    pid_t pid;
    int to_child; /* its stdin: closing it stops the server */
    int from_child;
    int port;
    char log[64]; /* the request log it writes */
} pyserver;

static inline int pyserver_read_port(int fd)
{
    char line[32];
    size_t n = 0;
    while (n < sizeof line - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
        n++;
    line[n] = '\0';
    int64_t port = 0;
    return fm_parse_i64(line, &port) == FM_OK ? (int)port : 0;
}

/* Starts $FIRMA_SRC/tests/SCRIPT --log LOG [extra args...], waits for its port. */
static inline void pyserver_start(pyserver *s, const char *script, const char *const *extra)
{
    const char *src = getenv("FIRMA_SRC");
    char *path = fm_xasprintf("%s/tests/%s", src ? src : ".", script);
    snprintf(s->log, sizeof s->log, "/tmp/firma-pyserver-XXXXXX");
    int fd = mkstemp(s->log);
    assert_true(fd >= 0);
    close(fd);
    int in[2], out[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char *argv[16] = {"python3", path, "--log", s->log};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    int rc = posix_spawnp(&s->pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(path);
    close(in[0]);
    close(out[1]);
    assert_int_equal(rc, 0);
    s->to_child = in[1];
    s->from_child = out[0];
    s->port = pyserver_read_port(s->from_child);
    assert_true(s->port > 0);
}

/* The server's log records whose string field k1 is v1 (and k2 is v2, when
 * k2 is not NULL), in arrival order. The caller decrefs the array. */
static inline json_t *pyserver_records(const pyserver *s, const char *k1, const char *v1,
                                       const char *k2, const char *v2)
{
    fm_buf b = FM_BUF_INIT;
    assert_int_equal(fm_buf_read_file(&b, s->log, 64u << 20), FM_OK);
    json_t *arr = json_array();
    for (size_t at = 0; at < b.len;) {
        const char *nl = memchr(b.ptr + at, '\n', b.len - at);
        size_t n = nl ? (size_t)(nl - (b.ptr + at)) : b.len - at;
        json_t *rec = json_loadb(b.ptr + at, n, 0, NULL);
        at += n + 1;
        assert_non_null(rec);
        const char *f1 = json_string_value(json_object_get(rec, k1));
        const char *f2 = k2 ? json_string_value(json_object_get(rec, k2)) : NULL;
        if (f1 && strcmp(f1, v1) == 0 && (!k2 || (f2 && strcmp(f2, v2) == 0)))
            json_array_append(arr, rec);
        json_decref(rec);
    }
    fm_buf_release(&b);
    return arr;
}

/* Closes its stdin, waits up to 2 s, then kills it; removes its log. */
static inline void pyserver_stop(pyserver *s)
{
    close(s->to_child);
    int status;
    for (int i = 0; i < 100 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
        usleep(20000);
    if (kill(s->pid, 0) == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
    }
    close(s->from_child);
    unlink(s->log);
}

#endif
