/*
 * cache_redis.c - the shared cache backend: Redis 7 through hiredis, so
 * every gateway replica can serve what any replica cached.
 *
 * Contract: put is SET key value PX ttl; get is GET key.  Every call is
 * bounded by the configured timeout (connect and command); any failure
 * returns -1 and never blocks a request for longer than that.  After a
 * failure the backend stays "down" for one second: calls fail at once
 * instead of each paying a connect timeout, then one call tries again.
 * A hiredis context is not thread-safe, so a small pool of contexts is
 * checked out under pool_lock (a call that finds none free waits at most
 * the timeout, then fails).
 */
#include "cache_redis.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define REDIS_SLOTS	  8
#define DOWN_PAUSE_MS 1000

typedef struct slot
{
	redisContext *ctx;
	int			  busy;
} slot;

struct es_redis
{
	char		   *host; /* NULL with a unix socket */
	char		   *socket_path;
	int				port;
	char		   *user, *password;
	int				db;
	int				timeout_ms;
	pthread_mutex_t pool_lock;
	pthread_cond_t	pool_cond;
	slot			slots[REDIS_SLOTS];
	long long		down_until_ms; /* guarded by pool_lock */
};

/* redis://[[user]:password@]host[:port][/db] or unix:/path/to/socket */
static int
parse_url(es_redis *r, const char *url, char *errbuf, size_t errlen)
{
	const char *p, *at, *slash, *colon;

	r->port = 6379;
	if (strncmp(url, "unix:", 5) == 0)
	{
		p = url + 5;
		while (p[0] == '/' && p[1] == '/')
			p++;
		if (*p != '/')
			goto bad;
		r->socket_path = es_xstrdup(p);
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		goto bad;
	p = url + 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at && (slash == NULL || at < slash))
	{
		const char *c = memchr(p, ':', (size_t) (at - p));

		if (c == NULL)
			goto bad;
		if (c > p)
			r->user = es_xstrndup(p, (size_t) (c - p));
		r->password = es_xstrndup(c + 1, (size_t) (at - c - 1));
		p = at + 1;
	}
	colon = strchr(p, ':');
	if (colon && (slash == NULL || colon < slash))
	{
		char *end;
		long  port = strtol(colon + 1, &end, 10);

		if (port <= 0 || port > 65535 || (*end != '\0' && *end != '/'))
			goto bad;
		r->port = (int) port;
		r->host = es_xstrndup(p, (size_t) (colon - p));
	}
	else
		r->host = slash ? es_xstrndup(p, (size_t) (slash - p)) : es_xstrdup(p);
	if (r->host[0] == '\0')
		goto bad;
	if (slash && slash[1])
	{
		char *end;
		long  db = strtol(slash + 1, &end, 10);

		if (*end != '\0' || db < 0 || db > 15)
			goto bad;
		r->db = (int) db;
	}
	return 0;
bad:
	snprintf(errbuf, errlen,
			 "ES_REDIS_URL must be redis://[[user]:password@]host[:port][/db] or unix:/path");
	return -1;
}

es_redis *
es_redis_new(const char *url, int timeout_ms, char *errbuf, size_t errlen)
{
	es_redis *r = es_xcalloc(1, sizeof(*r));

	if (parse_url(r, url, errbuf, errlen) != 0)
	{
		es_redis_free(r);
		return NULL;
	}
	r->timeout_ms = timeout_ms;
	pthread_mutex_init(&r->pool_lock, NULL);
	pthread_cond_init(&r->pool_cond, NULL);
	return r;
}

static struct timeval
tv_ms(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	return tv;
}

/* A connected, authenticated context or NULL. */
static redisContext *
connect_redis(const es_redis *r)
{
	struct timeval tv = tv_ms(r->timeout_ms);
	redisContext  *c = r->socket_path
						   ? redisConnectUnixWithTimeout(r->socket_path, tv)
						   : redisConnectWithTimeout(r->host, r->port, tv);
	redisReply	  *rep;

	if (c == NULL)
		return NULL;
	if (c->err || redisSetTimeout(c, tv) != REDIS_OK)
		goto fail;
	if (r->password)
	{
		rep = r->user ? redisCommand(c, "AUTH %s %s", r->user, r->password)
					  : redisCommand(c, "AUTH %s", r->password);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR)
		{
			if (rep)
				freeReplyObject(rep);
			goto fail;
		}
		freeReplyObject(rep);
	}
	if (r->db)
	{
		rep = redisCommand(c, "SELECT %d", r->db);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR)
		{
			if (rep)
				freeReplyObject(rep);
			goto fail;
		}
		freeReplyObject(rep);
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}

/* Check out a slot (its context may still be NULL); NULL when the backend
 * is down or no slot frees up within the timeout. */
static slot *
checkout(es_redis *r)
{
	long long deadline = es_mono_ms() + r->timeout_ms;
	slot	 *s = NULL;

	pthread_mutex_lock(&r->pool_lock);
	while (es_mono_ms() >= r->down_until_ms)
	{
		for (int i = 0; i < REDIS_SLOTS && s == NULL; i++)
			if (!r->slots[i].busy)
				s = &r->slots[i];
		if (s)
		{
			s->busy = 1;
			break;
		}
		{
			long long		now = es_mono_ms();
			struct timespec ts;

			if (now >= deadline)
				break;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (deadline - now) / 1000;
			ts.tv_nsec += ((deadline - now) % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L)
			{
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&r->pool_cond, &r->pool_lock, &ts);
		}
	}
	pthread_mutex_unlock(&r->pool_lock);
	return s;
}

/* Return a slot; a failed call drops its context and pauses the backend. */
static void
checkin(es_redis *r, slot *s, int failed)
{
	if (failed && s->ctx)
	{
		redisFree(s->ctx);
		s->ctx = NULL;
	}
	pthread_mutex_lock(&r->pool_lock);
	if (failed)
		r->down_until_ms = es_mono_ms() + DOWN_PAUSE_MS;
	s->busy = 0;
	pthread_cond_signal(&r->pool_cond);
	pthread_mutex_unlock(&r->pool_lock);
}

/* Run one command on a pooled context; the reply or NULL (failure). */
static redisReply *
run(es_redis *r, int argc, const char **argv, const size_t *argvlen)
{
	slot	   *s = checkout(r);
	redisReply *rep;

	if (s == NULL)
		return NULL;
	if (s->ctx == NULL)
		s->ctx = connect_redis(r);
	if (s->ctx == NULL)
	{
		checkin(r, s, 1);
		return NULL;
	}
	rep = redisCommandArgv(s->ctx, argc, argv, argvlen);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR)
	{
		if (rep)
		{
			es_log(ES_LOG_DEBUG, "redis: %s", rep->str ? rep->str : "error");
			freeReplyObject(rep);
		}
		checkin(r, s, 1);
		return NULL;
	}
	checkin(r, s, 0);
	return rep;
}

int
es_redis_put(es_redis *r, const char *key, const char *val, size_t vlen, long long ttl_ms)
{
	char		ttl[24];
	const char *argv[5] = {"SET", key, val, "PX", ttl};
	size_t		argvlen[5] = {3, strlen(key), vlen, 2, 0};
	redisReply *rep;

	snprintf(ttl, sizeof(ttl), "%lld", ttl_ms > 0 ? ttl_ms : 1);
	argvlen[4] = strlen(ttl);
	rep = run(r, 5, argv, argvlen);
	if (rep == NULL)
		return -1;
	freeReplyObject(rep);
	return 0;
}

int
es_redis_get(es_redis *r, const char *key, char **val, size_t *vlen)
{
	const char *argv[2] = {"GET", key};
	size_t		argvlen[2] = {3, strlen(key)};
	redisReply *rep;
	int			found = 0;

	*val = NULL;
	*vlen = 0;
	rep = run(r, 2, argv, argvlen);
	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_STRING)
	{
		*val = es_xmalloc(rep->len + 1);
		memcpy(*val, rep->str, rep->len);
		(*val)[rep->len] = '\0';
		*vlen = rep->len;
		found = 1;
	}
	freeReplyObject(rep);
	return found;
}

void
es_redis_free(es_redis *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < REDIS_SLOTS; i++)
		if (r->slots[i].ctx)
			redisFree(r->slots[i].ctx);
	free(r->host);
	free(r->socket_path);
	free(r->user);
	free(r->password);
	free(r);
}
