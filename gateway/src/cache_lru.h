/*
 * cache_lru.h - the embedded LRU map behind the default cache backend:
 * string keys, opaque values, a bound in bytes, expiry per entry.
 * Thread-safe (one mutex); values are copied in and out.
 */
#ifndef ES_CACHE_LRU_H
#define ES_CACHE_LRU_H

#include <stddef.h>

typedef struct es_lru es_lru;

es_lru *es_lru_new(size_t max_bytes);
void	es_lru_free(es_lru *l);

/* Store a copy of val under key until expires_ms (monotonic ms), evicting
 * the least recently used entries to stay within the bound.  -1 when the
 * entry alone is larger than the bound (nothing stored), else 0. */
int es_lru_put(es_lru *l, const char *key, const char *val, size_t vlen,
			   long long expires_ms);

/* 1 and a malloc'd NUL-terminated copy in *val when key is present and
 * not expired at now_ms, else 0. */
int es_lru_get(es_lru *l, const char *key, long long now_ms, char **val, size_t *vlen);

size_t es_lru_bytes(es_lru *l);
size_t es_lru_count(es_lru *l);

#endif
