/*
 * cache_lru.c - the embedded cache backend: an in-process LRU map from a
 * string key to an opaque value, bounded in bytes (keys + values + a fixed
 * per-entry overhead) and with a per-entry expiry (monotonic ms).
 *
 * Contract: put replaces an existing key and evicts least recently used
 * entries until the total fits; a value larger than the whole bound is not
 * stored.  get returns a malloc'd copy (never a pointer into the map), so
 * callers need no lock; an expired entry is removed when met.  One mutex
 * guards the map; every operation is O(1) on average (chained hash table
 * that doubles when the load passes 1).
 */
#include "cache_lru.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ENTRY_OVERHEAD 96 /* node, bucket slot and malloc headers */

typedef struct lru_node
{
	struct lru_node *hnext;		  /* hash chain */
	struct lru_node *prev, *next; /* recency list, head = most recent */
	char			*key;
	char			*val;
	size_t			 vlen;
	size_t			 cost;
	long long		 expires_ms;
	unsigned long	 hash;
} lru_node;

struct es_lru
{
	pthread_mutex_t lock;
	lru_node	  **buckets;
	size_t			nbuckets; /* power of two */
	size_t			count;
	size_t			bytes;
	size_t			max_bytes;
	lru_node	   *head, *tail;
};

/* FNV-1a */
static unsigned long
hash_key(const char *s)
{
	unsigned long h = 14695981039346656037UL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211UL;
	return h;
}

es_lru *
es_lru_new(size_t max_bytes)
{
	es_lru *l = es_xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	l->nbuckets = 256;
	l->buckets = es_xcalloc(l->nbuckets, sizeof(lru_node *));
	l->max_bytes = max_bytes;
	return l;
}

static void
list_unlink(es_lru *l, lru_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

static void
list_push_front(es_lru *l, lru_node *n)
{
	n->prev = NULL;
	n->next = l->head;
	if (l->head)
		l->head->prev = n;
	l->head = n;
	if (l->tail == NULL)
		l->tail = n;
}

/* Remove n from the table and the list and free it.  Caller holds lock. */
static void
remove_node(es_lru *l, lru_node *n)
{
	lru_node **pp = &l->buckets[n->hash & (l->nbuckets - 1)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	list_unlink(l, n);
	l->count--;
	l->bytes -= n->cost;
	free(n->key);
	free(n->val);
	free(n);
}

static lru_node *
find(const es_lru *l, const char *key, unsigned long h)
{
	for (lru_node *n = l->buckets[h & (l->nbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

static void
grow(es_lru *l)
{
	size_t	   nb = l->nbuckets * 2;
	lru_node **b = es_xcalloc(nb, sizeof(lru_node *));

	for (size_t i = 0; i < l->nbuckets; i++)
		while (l->buckets[i])
		{
			lru_node *n = l->buckets[i];

			l->buckets[i] = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = nb;
}

int
es_lru_put(es_lru *l, const char *key, const char *val, size_t vlen, long long expires_ms)
{
	unsigned long h = hash_key(key);
	size_t		  cost = strlen(key) + vlen + ENTRY_OVERHEAD;
	lru_node	 *n;

	if (cost > l->max_bytes)
		return -1;
	n = es_xcalloc(1, sizeof(*n));
	n->key = es_xstrdup(key);
	n->val = es_xmalloc(vlen + 1);
	memcpy(n->val, val, vlen);
	n->val[vlen] = '\0';
	n->vlen = vlen;
	n->cost = cost;
	n->expires_ms = expires_ms;
	n->hash = h;

	pthread_mutex_lock(&l->lock);
	{
		lru_node *old = find(l, key, h);

		if (old)
			remove_node(l, old);
	}
	while (l->tail && l->bytes + cost > l->max_bytes)
		remove_node(l, l->tail);
	if (l->count + 1 > l->nbuckets)
		grow(l);
	n->hnext = l->buckets[h & (l->nbuckets - 1)];
	l->buckets[h & (l->nbuckets - 1)] = n;
	list_push_front(l, n);
	l->count++;
	l->bytes += cost;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int
es_lru_get(es_lru *l, const char *key, long long now_ms, char **val, size_t *vlen)
{
	unsigned long h = hash_key(key);
	lru_node	 *n;
	int			  found = 0;

	*val = NULL;
	*vlen = 0;
	pthread_mutex_lock(&l->lock);
	n = find(l, key, h);
	if (n && n->expires_ms <= now_ms)
		remove_node(l, n);
	else if (n)
	{
		list_unlink(l, n);
		list_push_front(l, n);
		*val = es_xmalloc(n->vlen + 1);
		memcpy(*val, n->val, n->vlen + 1);
		*vlen = n->vlen;
		found = 1;
	}
	pthread_mutex_unlock(&l->lock);
	return found;
}

size_t
es_lru_bytes(es_lru *l)
{
	size_t b;

	pthread_mutex_lock(&l->lock);
	b = l->bytes;
	pthread_mutex_unlock(&l->lock);
	return b;
}

size_t
es_lru_count(es_lru *l)
{
	size_t c;

	pthread_mutex_lock(&l->lock);
	c = l->count;
	pthread_mutex_unlock(&l->lock);
	return c;
}

void
es_lru_free(es_lru *l)
{
	if (l == NULL)
		return;
	for (lru_node *n = l->head, *next; n; n = next)
	{
		next = n->next;
		free(n->key);
		free(n->val);
		free(n);
	}
	free(l->buckets);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
