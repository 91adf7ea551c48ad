/*
 * cache.h - the query/read fallback cache (contract section 5, fallbacks).
 *
 * Every successful query and read answer is kept under a key made of the
 * tenant and the request (method, path, query string, canonical JSON body)
 * and served, marked stale (X-Cache-Status: stale, Age), when the same
 * request later fails with an infrastructure error (503/504 not raised by
 * the extension: lost or refused connection, timeout, pool exhausted, an
 * open breaker).  One interface, two backends: an embedded LRU bounded in
 * bytes (default) and Redis 7 when ES_REDIS_URL is set.  The cache never
 * fails a request: a backend error is counted and the request goes on as
 * if there were no cache.  Also the conditional-request logic of reads:
 * ETag on every 200, If-None-Match -> 304.
 */
#ifndef ES_CACHE_H
#define ES_CACHE_H

#include "config.h"
#include "http.h"
#include "util.h"

/* Start the backend chosen by the configuration (nothing to start for the
 * embedded one).  Fails only on a malformed ES_REDIS_URL. */
es_status es_cache_init(const es_config *cfg, char *errbuf, size_t errlen) ES_MUSTCHECK;
void es_cache_shutdown(void);

/*
 * The last step of a cacheable handler (tenant routes only).  st and
 * resp/err are the handler's outcome; etag is the answer's entity tag
 * (quoted) or NULL to derive one from the body.
 *  - ES_OK with 200: store the answer, add ETag, turn into 304 when
 *    If-None-Match matches.
 *  - ES_FAIL with an infrastructure 503/504: when a stored answer exists,
 *    replace the error with it (200 or 304, stale, Age); else leave the
 *    error as it is.
 * Returns the handler's final status.
 */
es_status es_cache_finish(es_request *req, es_response *resp, es_error *err,
						  es_status st, const char *etag) ES_MUSTCHECK;

/* Whether err is an infrastructure failure a stale answer may replace. */
int es_cache_is_infra_error(const es_error *err);

/* Whether an If-None-Match header value matches etag ("*", a list, W/). */
int es_cache_etag_matches(const char *if_none_match, const char *etag);

/* The canonical text of a JSON value (malloc'd): object keys sorted, no
 * whitespace, a repeated key kept once with its last value.  Two bodies
 * es_query reads alike get the same cache key. */
char *es_cache_canonical_json(const cJSON *json);

/* es_gateway_cache_* counters in Prometheus text. */
void es_cache_render_metrics(es_buf *out);

#endif
