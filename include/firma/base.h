/*
 * base: memory, growable buffers, counted strings, number/duration/money
 * parsing and time. Knows nothing of agents.
 */
#ifndef FIRMA_BASE_H
#define FIRMA_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- memory ----------------------------------------------------------
 * For small internal sizes: abort with a message on exhaustion. Sizes that
 * come from input must be capped by the caller first (FM_ETOOBIG). */
void *fm_xmalloc(size_t n);
void *fm_xcalloc(size_t n, size_t size);
/* Returns the new block; `p` is consumed. Overflow of n*size aborts. */
void *fm_xreallocarray(void *p, size_t n, size_t size);
/* NULL in gives NULL out. */
char *fm_xstrdup(const char *s);
char *fm_xstrndup(const char *s, size_t n);
/* A heap string from a printf format; the caller frees it. */
char *fm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- counted strings -------------------------------------------------- */
typedef struct fm_str {
    const char *ptr;
    size_t len;
} fm_str;

#define FM_STR(lit) ((fm_str){(lit), sizeof(lit) - 1})
fm_str fm_str_c(const char *s); /* NULL gives {NULL, 0} */
bool fm_str_eq(fm_str a, fm_str b);
bool fm_str_eqc(fm_str a, const char *c);

/* ---- growable buffer (always NUL-terminated after the first add) ------ */
typedef struct fm_buf {
    char *ptr;
    size_t len;
    size_t cap;
} fm_buf;

#define FM_BUF_INIT ((fm_buf){NULL, 0, 0})
void fm_buf_init(fm_buf *b);
void fm_buf_release(fm_buf *b);
void fm_buf_reset(fm_buf *b); /* len = 0, keeps the memory */
void fm_buf_add(fm_buf *b, const void *data, size_t len);
/* Makes room for `extra` more bytes, so adding that many does not move the
 * buffer (a body that may hold a secret is then in one place to wipe). */
void fm_buf_reserve(fm_buf *b, size_t extra);
void fm_buf_adds(fm_buf *b, const char *s);
void fm_buf_addc(fm_buf *b, char c);
void fm_buf_addf(fm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fm_buf_vaddf(fm_buf *b, const char *fmt, va_list ap);
/* Hands the string to the caller (who frees it) and resets `b`. Never NULL. */
char *fm_buf_detach(fm_buf *b);
/* Reads a whole file into `b`, refusing files over `limit` bytes
 * (FM_ETOOBIG). Returns FM_OK, FM_ENOTFOUND or FM_EIO; errno is kept. */
int fm_buf_read_file(fm_buf *b, const char *path, size_t limit);

/* ---- parsing (whole string must match; no atoi) ----------------------- */
/* Decimal int64. */
int fm_parse_i64(const char *s, int64_t *out);
/* Money in dollars ("12", "12.5", "0.000001", "$3") to micro-dollars.
 * At most 6 decimals; negative refused. */
int fm_parse_usd(const char *s, int64_t *micro_out);
/* Formats micro-dollars as the shortest exact decimal ("12.5", "0.000001"). */
void fm_format_usd(fm_buf *b, int64_t micro);
/* Durations: "90s", "15m", "4h", "2d", "1w", or combinations "1h30m". */
int fm_parse_duration(const char *s, int64_t *seconds_out);
void fm_format_duration(fm_buf *b, int64_t seconds);

/* ---- time ------------------------------------------------------------- */
/* Wall clock in microseconds since the epoch. */
int64_t fm_now_us(void);
/* Monotonic clock in nanoseconds, for benchmarks. */
uint64_t fm_mono_ns(void);
/* "2026-11-23T10:30:00Z" (UTC, seconds) from microseconds since epoch. */
void fm_format_time(fm_buf *b, int64_t us);
/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]Z" (UTC). */
int fm_parse_time(const char *s, int64_t *us_out);

/* ---- text ---------------------------------------------------------------- */
/* Whether `s` is valid UTF-8 with no NUL byte; if not, *bad is the offset of
 * the first offending byte. */
bool fm_utf8_valid(const char *s, size_t len, size_t *bad);
/* The length of s[0..len) without a UTF-8 sequence cut short at its end (a
 * cap that fell inside a character): len when it ends on a whole one. */
size_t fm_utf8_whole(const char *s, size_t len);
/* Appends s[0..len) as valid UTF-8: each byte that does not begin a valid
 * sequence, and each NUL, becomes U+FFFD. For text from outside (a command's
 * output, a web page) that a model or a JSON string will read. */
void fm_buf_add_utf8(fm_buf *b, const char *s, size_t len);

/* ---- names ------------------------------------------------------------- */
/* A handle: [a-z][a-z0-9_-]{0,39}. */
bool fm_valid_handle(const char *s);

#endif
