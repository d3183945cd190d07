/*
 * The HTTP API server (docs/api.md): libmicrohttpd driven by the caller's
 * libuv loop, with no thread of its own. MHD runs in epoll mode without an
 * internal thread; a uv_poll_t watches its epoll fd and a uv_timer_t follows
 * MHD_get_timeout, and both call MHD_run. Requests are answered on the loop,
 * between the runtime's callbacks, through the same store and ops.h
 * functions the CLI uses.
 *
 * There is no TLS: the server binds loopback unless allow_remote is set
 * (then put a TLS proxy in front of it; bearer tokens must not cross a
 * network in clear text).
 */
#ifndef FIRMA_HTTP_H
#define FIRMA_HTTP_H

#include "firma/governance.h"
#include "firma/store.h"

#include <uv.h>

typedef struct fm_http fm_http;

typedef struct fm_http_config {
    const char *listen;   /* "ADDR:PORT" ("127.0.0.1:8420", "[::1]:8420"); port 0 picks one */
    bool allow_remote;    /* permit a non-loopback address */
    size_t body_limit;    /* request bodies larger than this get 413; 0 = 1 MiB */
    const fm_keys *keys;  /* for /v1/audit/verify to check signatures; may be NULL; borrowed */
    const char *witness_path; /* the audit head witness file; may be NULL; borrowed */
} fm_http_config;

/* Starts serving on `loop`. `s` is borrowed and must outlive the server.
 * A non-loopback address without allow_remote is FM_EPERM with a message
 * saying why; an address that cannot be bound is FM_EIO. */
int fm_http_new(uv_loop_t *loop, fm_store *s, const fm_http_config *cfg, fm_http **out,
                fm_error *err);
/* The runtime whose metrics /metrics shows and where request counts go
 * (the server starts before it); NULL to forget it before it is freed. */
struct fm_runtime;
void fm_http_set_runtime(fm_http *h, struct fm_runtime *rt);
/* The port actually bound (useful with port 0). */
int fm_http_port(const fm_http *h);
/* Stops accepting, closes every connection and starts closing the loop
 * handles; the memory goes once the loop has run their close callbacks.
 * NULL is a no-op. */
void fm_http_free(fm_http *h);

/* Parses "ADDR:PORT" into a socket address: FM_EINVAL with a message. */
struct sockaddr_storage;
int fm_http_parse_listen(const char *text, struct sockaddr_storage *out, fm_error *err);

#endif
