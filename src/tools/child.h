/*
 * A child process on the libuv loop: spawned, fed, read, timed and killed
 * without threads or blocking calls. The exec tool runs commands with it, and
 * the runtime runs process agents (the owner's own programs) with it.
 *
 * The program runs directly (no shell) in a new session, so one signal to its
 * process group reaches what it started. With a sandbox it runs under
 * bubblewrap in new namespaces (user, mount, pid, ipc, uts, cgroup and, unless
 * allowed, network): the system folders read-only, one host folder writable
 * at /workspace, no capabilities. It is pid 1 of its pid namespace, so when
 * it dies everything inside dies with it.
 *
 * Everything the child started is killed when the program exits, when the
 * time limit passes or on fm__child_kill; then `done` runs once. docs/tools.md
 * describes the sandbox in full.
 */
#ifndef FIRMA_TOOLS_CHILD_H
#define FIRMA_TOOLS_CHILD_H

#include "firma/base.h"
#include "firma/errors.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define FM_CHILD_OUTPUT_DEFAULT (64 * 1024) /* max_output when 0 */
#define FM_CHILD_STDIN_MAX (16 << 20)       /* the most stdin_len may be */
#define FM_CHILD_TMP_DEFAULT (64LL << 20)   /* sandbox_tmp_bytes when 0 */
#define FM_CHILD_BWRAP "/usr/bin/bwrap"
#define FM_CHILD_PRLIMIT "/usr/bin/prlimit"

typedef struct fm_child_spec {
    const char *const *argv;  /* program and arguments, NULL-terminated; run directly */
    const char *const *env;   /* NULL-terminated "K=V": the child's whole environment
                                 (NULL: an empty one). Without a sandbox a program
                                 named without a '/' is found through its PATH. */
    const char *stdin_data;   /* written to the child, then its stdin is closed; */
    size_t stdin_len;         /* 0: stdin is /dev/null; at most FM_CHILD_STDIN_MAX */
    size_t max_output;        /* bytes kept of stdout and of stderr each (the rest is
                                 counted and dropped); 0: FM_CHILD_OUTPUT_DEFAULT */
    int64_t timeout_ms;       /* wall time, then SIGKILL to all it started; 0: none */
    int64_t mem_bytes;        /* RLIMIT_AS of every process; 0: no limit */
    int64_t cpu_s;            /* RLIMIT_CPU of every process; 0: no limit */
    const char *cwd;          /* without a sandbox: its working folder (NULL: firma's) */

    /* The sandbox: NULL sandbox_dir runs the program on the host as is. */
    const char *sandbox_dir;      /* absolute host folder, read-write at /workspace (the cwd) */
    bool sandbox_network;         /* share the host's network; otherwise none at all */
    int64_t sandbox_tmp_bytes;    /* size of the tmpfs at /tmp; 0: FM_CHILD_TMP_DEFAULT */
    const char *bwrap;            /* bubblewrap; NULL: FM_CHILD_BWRAP */
} fm_child_spec;

typedef struct fm_child_result {
    int exit_code;         /* when it exited. In a sandbox bwrap reports for the
                              program: one killed by signal N (also by the time
                              limit or fm__child_kill: 9) reads 128+N, as in sh */
    int term_signal;       /* the signal that ended it, else 0 (in a sandbox, only
                              when bwrap itself was killed) */
    bool timed_out;        /* killed at timeout_ms */
    bool killed;           /* killed by fm__child_kill */
    bool sandbox_failed;   /* the sandbox never ran the program (it could not be set
                              up, or the program is not in it): `err` has why */
    fm_buf out, err;       /* what was kept of stdout and stderr (ptr NULL if none) */
    size_t out_total, err_total; /* bytes written in all */
    bool out_cut, err_cut;       /* total > kept */
    int64_t wall_us;       /* from spawn to exit */
} fm_child_result;

/* Runs once on the loop after the child has exited and every handle is
 * closed, also after fm__child_kill. `res` is the callee's during the call
 * only: it may take res->out or res->err (leaving FM_BUF_INIT). The child
 * object is freed after the callback returns. */
typedef void (*fm_child_done)(void *arg, fm_child_result *res);

typedef struct fm_child fm_child;

/* Starts the child; `spec` and its strings are copied. On error (no argv, a
 * sandbox folder that is not an absolute directory, bubblewrap or prlimit
 * missing, a program not found, spawn failure) nothing runs, err says what,
 * and `done` never runs. A sandbox that fails later, inside bubblewrap (no
 * user namespaces, say), ends with res->sandbox_failed: it is never skipped.
 *
 * Every file descriptor of this process from 3 up is marked close-on-exec
 * first (see seal_fds in child.c). The loop must run until `done`; closing
 * it earlier leaks the child. */
int fm__child_start(uv_loop_t *loop, const fm_child_spec *spec, fm_child_done done, void *arg,
                    fm_child **out, fm_error *err);

/* SIGKILLs everything the child started; `done` still runs, once, later on
 * the loop (res->killed). Once the program has exited, it only stops the wait
 * for output still in the pipes. NULL is a no-op; after `done` has run the
 * pointer is gone. */
void fm__child_kill(fm_child *c);

#endif
