/*
 * handlers_events.c - GET /api/v1/events: the tenant log as JSON, or with
 * Accept: text/event-stream a live subscription.
 *
 * Subscription: catch up from `after` (or Last-Event-ID), then poll
 * es_read_log whenever the LISTEN thread sees a NOTIFY on es_saas_events or
 * at most every ES_SSE_POLL_MS.  `id:` is the event position.  Each write
 * batch is bounded by ES_SSE_BUFFER_BYTES; a client that does not drain
 * its socket within the request timeout is disconnected (mg_write fails).
 * Correctness never depends on NOTIFY.  Event JSON is the extension's own
 * es_event row as jsonb (to_jsonb): the gateway never rebuilds its shape.
 * The JSON page (not the stream) goes through the fallback cache: served
 * stale on an infrastructure failure, ETag from the body (cache.h).
 *
 * Slow clients: civetweb's mg_write (1.15, sockets are non-blocking) waits
 * for POLLOUT at most request_timeout_ms without progress and then fails;
 * sse_write writes in chunks and also gives up when the whole write takes
 * longer than the request timeout, so a client that reads too slowly (or
 * not at all) is cut off whatever its address family, and the worker and
 * the subscription are freed.  A client that disconnects is seen while the
 * subscription waits (its socket, looked up once, polled every 200 ms), so
 * its slot is free within a second.
 *
 * Concurrency: notify_lock guards notify_gen, listener_stop and sse_active;
 * notify_cond is broadcast on every notification and on stop.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "util.h"

#define SSE_BATCH		  "200"
#define SSE_PEER_CHECK_MS 200

static const es_stmt read_log_json = {"es_read_log",
									  "SELECT jsonb_build_object('events', coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.position), "
									  "'[]'::jsonb))::text "
									  "FROM es_read_log($1::text, $2::bigint, $3::int) AS e",
									  3};

/* rows after $2, at most $3 of them, cut once $4 bytes are reached (the
 * first row always comes): the gateway never holds more than one batch */
static const es_stmt read_log_rows = {"es_read_log_sse",
									  "SELECT position, ev FROM (SELECT position, ev, "
									  "sum(octet_length(ev)) OVER (ORDER BY position) AS upto FROM "
									  "(SELECT e.position, to_jsonb(e)::text AS ev "
									  "FROM es_read_log($1::text, $2::bigint, $3::int) AS e) a) b "
									  "WHERE upto - octet_length(ev) < $4::bigint ORDER BY position",
									  4};

static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  notify_cond = PTHREAD_COND_INITIALIZER;
static unsigned long   notify_gen;	  /* guarded by notify_lock */
static int			   listener_stop; /* guarded by notify_lock */
static int			   sse_active;	  /* guarded by notify_lock */
static pthread_t	   listener_thread;
static int			   listener_started; /* main thread only */

/* Bump the generation and wake subscribers. */
static void
notify_all(void)
{
	pthread_mutex_lock(&notify_lock);
	notify_gen++;
	pthread_cond_broadcast(&notify_cond);
	pthread_mutex_unlock(&notify_lock);
}

static int
should_stop_listener(void)
{
	int s;

	pthread_mutex_lock(&notify_lock);
	s = listener_stop;
	pthread_mutex_unlock(&notify_lock);
	return s;
}

#define SSE_WRITE_CHUNK 16384

/* Write all of data within the request timeout; returns 0 on success.
 * Each mg_write fails by itself after request_timeout_ms without progress;
 * the deadline bounds a client that drains, but too slowly. */
static int
sse_write(struct mg_connection *conn, const char *data, size_t len)
{
	long long deadline = es_mono_ms() + es_app_config()->request_timeout_ms;

	while (len > 0)
	{
		size_t n = len < SSE_WRITE_CHUNK ? len : SSE_WRITE_CHUNK;

		if (mg_write(conn, data, n) != (int) n)
			return -1;
		data += n;
		len -= n;
		if (len > 0 && es_mono_ms() > deadline)
		{
			es_log(ES_LOG_INFO, "slow SSE client cut off");
			return -1;
		}
	}
	return 0;
}

/* LISTEN loop with reconnects. */
static void *
listener_main(void *arg)
{
	PGconn *c = NULL;

	(void) arg;
	while (!should_stop_listener())
	{
		struct pollfd pfd;
		PGnotify	 *n;

		if (c == NULL)
		{
			PGresult *r;

			c = es_db_connect_dedicated();
			if (c == NULL)
			{
				struct timespec ts = {1, 0};
				nanosleep(&ts, NULL);
				continue;
			}
			r = PQexec(c, "LISTEN es_saas_events");
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
			{
				PQfinish(c);
				c = NULL;
			}
			PQclear(r);
			continue;
		}
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 250) > 0)
		{
			int got = 0;

			if (!PQconsumeInput(c))
			{
				PQfinish(c);
				c = NULL;
				continue;
			}
			while ((n = PQnotifies(c)) != NULL)
			{
				got = 1;
				PQfreemem(n);
			}
			if (got)
				notify_all();
		}
	}
	if (c)
		PQfinish(c);
	return NULL;
}

es_status
es_events_start(void)
{
	if (pthread_create(&listener_thread, NULL, listener_main, NULL) != 0)
		return ES_FAIL;
	listener_started = 1;
	return ES_OK;
}

void
es_events_stop(void)
{
	pthread_mutex_lock(&notify_lock);
	listener_stop = 1;
	pthread_cond_broadcast(&notify_cond);
	pthread_mutex_unlock(&notify_lock);
	if (listener_started)
	{
		pthread_join(listener_thread, NULL);
		listener_started = 0;
	}
}

/* Wait for a notification or timeout_ms; returns the new generation. */
static unsigned long
wait_notify(unsigned long seen, int timeout_ms)
{
	struct timespec dl;
	unsigned long	g;

	es_abstime_in(&dl, timeout_ms);
	pthread_mutex_lock(&notify_lock);
	while (notify_gen == seen && !listener_stop)
		if (pthread_cond_timedwait(&notify_cond, &notify_lock, &dl) != 0)
			break;
	g = notify_gen;
	pthread_mutex_unlock(&notify_lock);
	return g;
}

/*
 * Wait until a notification or poll_ms, watching the subscriber's socket
 * every SSE_PEER_CHECK_MS: a client that went away (a killed `curl -N`)
 * frees its slot within a second, not at the next heartbeat write.
 * Returns 0 when the client is gone or the gateway stops.
 */
static int
wait_for_events(unsigned long *gen, int poll_ms, int sock)
{
	long long end = es_mono_ms() + poll_ms;

	for (;;)
	{
		long long	  left = end - es_mono_ms();
		unsigned long seen = *gen;

		if (es_http_peer_gone(sock) || es_app_stopping())
			return 0;
		if (left <= 0)
			return 1;
		*gen = wait_notify(seen, (int) (left < SSE_PEER_CHECK_MS ? left : SSE_PEER_CHECK_MS));
		if (*gen != seen)
			return !es_http_peer_gone(sock) && !es_app_stopping();
	}
}

/* Fetch events after *pos into buf (bounded); advances *pos.
 * Returns number of rows consumed, -1 on error; *more when rows remain. */
static int
fetch_batch(const char *tenant, long long *pos, es_buf *buf,
			long long max_bytes, int *more, es_error *err)
{
	char		after[24], maxb[24];
	const char *params[4];
	PGresult   *r;
	int			n, used = 0;

	snprintf(after, sizeof(after), "%lld", *pos);
	params[0] = tenant;
	params[1] = after;
	params[2] = SSE_BATCH;
	snprintf(maxb, sizeof(maxb), "%lld", max_bytes);
	params[3] = maxb;
	*more = 0;
	if (es_db_call(ES_SVC_LIVE, &read_log_rows, params, &r, err) != ES_OK)
		return -1;
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
	{
		const char *p = PQgetvalue(r, i, 0);
		const char *ev = PQgetvalue(r, i, 1);

		if (used > 0 && (long long) buf->len + (long long) strlen(ev) + 64 > max_bytes)
		{
			*more = 1;
			break;
		}
		es_buf_printf(buf, "id: %s\ndata: ", p);
		es_buf_puts(buf, ev);
		es_buf_puts(buf, "\n\n");
		*pos = strtoll(p, NULL, 10);
		used++;
	}
	if (n > 0)
		*more = 1; /* the batch may have been cut by size: ask again */
	PQclear(r);
	return used;
}

int
es_events_subscribers(void)
{
	int n;

	pthread_mutex_lock(&notify_lock);
	n = sse_active;
	pthread_mutex_unlock(&notify_lock);
	return n;
}

/* The live subscription. */
static es_status
serve_sse(es_request *req, long long pos, es_error *err)
{
	const es_config *cfg = es_app_config();
	es_buf			 buf;
	int				 more = 0, admitted = 0;
	unsigned long	 gen;
	long long		 last_write;
	int				 sock;

	pthread_mutex_lock(&notify_lock);
	if (sse_active < cfg->sse_max_clients)
	{
		sse_active++;
		admitted = 1;
	}
	gen = notify_gen;
	pthread_mutex_unlock(&notify_lock);
	if (!admitted)
		return es_error_set(err, 503, "unavailable", "too many live subscriptions");

	es_buf_init(&buf);
	/* first batch before the headers, so access errors get a JSON answer */
	if (fetch_batch(req->claims.tenant_id, &pos, &buf, cfg->sse_buffer_bytes,
					&more, err) < 0)
	{
		es_buf_free(&buf);
		pthread_mutex_lock(&notify_lock);
		sse_active--;
		pthread_mutex_unlock(&notify_lock);
		return ES_FAIL;
	}
	{
		size_t		hlen;
		const char *head = es_render_stream_head(&hlen);

		if (sse_write(req->conn, head, hlen) != 0)
			goto end;
	}
	last_write = es_mono_ms();
	sock = es_http_conn_socket(req->conn);
	while (!es_app_stopping())
	{
		if (buf.len > 0)
		{
			if (sse_write(req->conn, buf.data, buf.len) != 0)
				break;
			buf.len = 0;
			last_write = es_mono_ms();
		}
		if (!more && !wait_for_events(&gen, cfg->sse_poll_ms, sock))
			break;
		if (es_mono_ms() - last_write >= (long long) cfg->sse_heartbeat_seconds * 1000)
		{
			if (sse_write(req->conn, ": heartbeat\n\n", 12) != 0)
				break;
			last_write = es_mono_ms();
		}
		if (fetch_batch(req->claims.tenant_id, &pos, &buf,
						cfg->sse_buffer_bytes, &more, err) < 0)
		{
			char *frame = es_render_stream_error(err);

			(void) sse_write(req->conn, frame, strlen(frame));
			free(frame);
			break;
		}
	}
end:
	es_buf_free(&buf);
	pthread_mutex_lock(&notify_lock);
	sse_active--;
	pthread_mutex_unlock(&notify_lock);
	return ES_STREAMED;
}

es_status
es_h_read_events(es_request *req, es_response *resp, es_error *err)
{
	const char *accept = mg_get_header(req->conn, "Accept");
	const char *last_id = mg_get_header(req->conn, "Last-Event-ID");
	char	   *after_s = NULL, *limit_s = NULL;
	long long	after = 0, limit = 1000;
	char		abuf[24], lbuf[24];
	const char *params[3];
	char	   *out = NULL;
	es_status	st = ES_FAIL;

	if (es_query_param(req->query, "after", &after_s) != ES_OK ||
		es_query_param(req->query, "limit", &limit_s) != ES_OK ||
		(after_s && es_parse_nonneg(after_s, 9223372036854775807LL, &after) != ES_OK) ||
		(limit_s && es_parse_nonneg(limit_s, 2147483647LL, &limit) != ES_OK))
	{
		es_error_set(err, 400, "malformed_request",
					 "after and limit must be non-negative integers");
		goto out;
	}
	if (accept && strstr(accept, "text/event-stream"))
	{
		if (last_id && es_parse_nonneg(last_id, 9223372036854775807LL, &after) != ES_OK)
		{
			es_error_set(err, 400, "malformed_request",
						 "Last-Event-ID must be a position");
			goto out;
		}
		st = serve_sse(req, after, err);
		goto out;
	}
	snprintf(abuf, sizeof(abuf), "%lld", after);
	snprintf(lbuf, sizeof(lbuf), "%lld", limit);
	params[0] = req->claims.tenant_id;
	params[1] = abuf;
	params[2] = lbuf;
	if (es_db_call_text(ES_SVC_QUERY_HANDLER, &read_log_json, params, &out, err) != ES_OK)
	{
		st = es_cache_finish(req, resp, err, ES_FAIL, NULL);
		goto out;
	}
	es_response_json(resp, 200, out ? out : es_xstrdup("{\"events\":[]}"));
	st = es_cache_finish(req, resp, err, ES_OK, NULL);
out:
	free(after_s);
	free(limit_s);
	return st;
}
