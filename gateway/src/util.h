/*
 * util.h - small pure helpers: the checked allocators (the gateway's one
 * out-of-memory policy), UTF-8 validation, UUID syntax, base64url,
 * percent-decoding, integer parsing, JSON string escaping.  Thread-safe.
 */
#ifndef ES_UTIL_H
#define ES_UTIL_H

#include <stddef.h>
#include <time.h>

#include "errors.h"

/* Out-of-memory policy, the same everywhere in the gateway: allocation
 * never fails to the caller.  On failure es_oom() writes one JSON log line
 * to stderr and abort()s; a replica is stateless and its supervisor
 * restarts it (as Envoy and Redis do).  So a NULL from a gateway function
 * always means "absent" or "invalid", never "out of memory". */
void *es_xmalloc(size_t n);
void *es_xcalloc(size_t n, size_t size);
void *es_xrealloc(void *p, size_t n);
char *es_xstrdup(const char *s);
/* n bytes of s (copied whole; s need not be NUL-terminated) plus a NUL. */
char *es_xstrndup(const char *s, size_t n);
void  es_oom(void) __attribute__((noreturn));

/* Route cJSON's allocations through es_xmalloc, so a cJSON NULL is a parse
 * error and never an allocation failure.  Call once, before threads. */
void es_alloc_init(void);

/* 1 when buf[0..len) is well-formed UTF-8 without NUL bytes. */
int es_utf8_valid(const char *buf, size_t len);

/* 1 when JSON text nests arrays/objects at most max_depth deep (strings
 * skipped).  Checked before cJSON, whose recursion would otherwise be
 * bounded only by the worker thread's stack. */
int es_json_depth_ok(const char *buf, size_t len, int max_depth);

/* 1 when s is a canonical 8-4-4-4-12 hex UUID. */
int es_uuid_valid(const char *s);

/* Decode base64url (no padding required, '=' tolerated at the end).
 * Returns malloc'd buffer (NUL-terminated for convenience) or NULL on bad
 * input. */
unsigned char *es_b64url_decode(const char *in, size_t inlen, size_t *outlen);

/* Encode base64url without padding; malloc'd NUL-terminated string. */
char *es_b64url_encode(const unsigned char *in, size_t inlen);

/* Percent-decode a path segment; NULL when malformed or it decodes to NUL
 * or invalid UTF-8. '+' is kept as is (path semantics). */
char *es_pct_decode(const char *in, size_t len, int plus_is_space);

/* Parse a non-negative decimal integer (no sign, no spaces) <= max. */
es_status es_parse_nonneg(const char *s, long long max, long long *out) ES_MUSTCHECK;

/* Find query parameter `name` in a raw query string, percent-decoded into
 * a malloc'd string (*out NULL when absent).  ES_FAIL when malformed. */
es_status es_query_param(const char *qs, const char *name, char **out) ES_MUSTCHECK;

/* Monotonic milliseconds (intervals and deadlines). */
/* SHA-256 for every digest, HMAC and signature check: fetched from the
 * provider store once per process (thread-safe), because OpenSSL 3 looks
 * EVP_sha256() up again on every use, under a lock all threads share. */
const struct evp_md_st *es_sha256(void);

long long es_mono_ms(void);

/* The CLOCK_REALTIME instant ms milliseconds from now, for
 * pthread_cond_timedwait. */
void es_abstime_in(struct timespec *ts, int ms);

/* Append JSON-escaped s (with quotes) to a growing buffer. */
typedef struct es_buf
{
	char  *data;
	size_t len;
	size_t cap;
} es_buf;

void es_buf_init(es_buf *b);
void es_buf_free(es_buf *b);
void es_buf_append(es_buf *b, const char *s, size_t len);
void es_buf_puts(es_buf *b, const char *s);
void es_buf_printf(es_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void es_buf_json_string(es_buf *b, const char *s);

#endif
