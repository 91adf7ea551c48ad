/*
 * cache_redis.h - the Redis 7 cache backend (hiredis): string keys, opaque
 * values with a TTL, shared by every replica.  Thread-safe (a small pool
 * of connections); every call is bounded by the timeout and fails (-1)
 * rather than block a request.
 */
#ifndef ES_CACHE_REDIS_H
#define ES_CACHE_REDIS_H

#include <stddef.h>

typedef struct es_redis es_redis;

/* Parse url (redis://[[user]:password@]host[:port][/db] or unix:/path);
 * NULL and a message in errbuf when it is malformed.  Connects lazily. */
es_redis *es_redis_new(const char *url, int timeout_ms, char *errbuf, size_t errlen);
void es_redis_free(es_redis *r);

/* SET key val PX ttl_ms: 0 stored, -1 failure. */
int es_redis_put(es_redis *r, const char *key, const char *val, size_t vlen,
				 long long ttl_ms);

/* GET key: 1 and a malloc'd copy, 0 absent, -1 failure. */
int es_redis_get(es_redis *r, const char *key, char **val, size_t *vlen);

#endif
