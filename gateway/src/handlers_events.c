/*
 * handlers_events.c - GET /api/v1/events: the tenant log as JSON, or with
 * Accept: text/event-stream a live subscription.
 *
 * Subscription: catch up from `after` (or Last-Event-ID), then poll
 * es_read_log whenever the LISTEN thread sees a NOTIFY on es_saas_events or
 * at most every ES_SSE_POLL_MS.  `id:` is the event position.  Each write
 * batch is bounded by ES_SSE_BUFFER_BYTES; a client that does not drain
 * its socket within the request timeout is disconnected (mg_write fails).
 * Correctness never depends on NOTIFY.
 *
 * Concurrency: notify_lock guards notify_gen, listener_stop and
 * sse_active; notify_cond is broadcast on every notification and on stop.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "db.h"
#include "log.h"
#include "sql.h"
#include "util.h"

#define SSE_BATCH "200"

static const es_stmt read_log_json = {
	"es_read_log",
	"SELECT jsonb_build_object('events', coalesce(jsonb_agg(" ES_SQL_EVENT_JSON
	" ORDER BY e.position), '[]'::jsonb))::text "
	"FROM es_read_log($1::text, $2::bigint, $3::int) AS e",
	3};

static const es_stmt read_log_rows = {
	"es_read_log_sse",
	"SELECT e.position, " ES_SQL_EVENT_JSON "::text "
	"FROM es_read_log($1::text, $2::bigint, $3::int) AS e ORDER BY e.position",
	3};

static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notify_cond = PTHREAD_COND_INITIALIZER;
static unsigned long notify_gen;  /* guarded by notify_lock */
static int listener_stop;         /* guarded by notify_lock */
static int sse_active;            /* guarded by notify_lock */
static pthread_t listener_thread;
static int listener_started;      /* main thread only */

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

/* LISTEN loop with reconnects. */
static void *
listener_main(void *arg)
{
	PGconn *c = NULL;

	(void) arg;
	while (!should_stop_listener())
	{
		struct pollfd pfd;
		PGnotify *n;

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
	unsigned long g;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L)
	{
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&notify_lock);
	while (notify_gen == seen && !listener_stop)
		if (pthread_cond_timedwait(&notify_cond, &notify_lock, &dl) != 0)
			break;
	g = notify_gen;
	pthread_mutex_unlock(&notify_lock);
	return g;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fetch events after *pos into buf (bounded); advances *pos.
 * Returns number of rows consumed, -1 on error; *more when rows remain. */
static int
fetch_batch(const char *tenant, long long *pos, es_buf *buf, long long max_bytes,
			int *more, es_error *err)
{
	char after[24];
	const char *params[3];
	PGresult *r;
	int n, used = 0;

	snprintf(after, sizeof(after), "%lld", *pos);
	params[0] = tenant;
	params[1] = after;
	params[2] = SSE_BATCH;
	*more = 0;
	if (es_db_call(ES_SVC_QUERY_HANDLER, &read_log_rows, params, &r, err) != ES_OK)
		return -1;
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
	{
		const char *p = PQgetvalue(r, i, 0);
		const char *ev = PQgetvalue(r, i, 1);

		if (used > 0 && (long long) (buf->len + strlen(ev) + 64) > max_bytes)
		{
			*more = 1;
			break;
		}
		es_buf_printf(buf, "id: %s\ndata: ", p);
		es_buf_puts(buf, ev);
		es_buf_puts(buf, "\n\n");
		*pos = atoll(p);
		used++;
	}
	if (n == atoi(SSE_BATCH))
		*more = 1;
	PQclear(r);
	return used;
}

/* The live subscription. */
static es_status
serve_sse(es_request *req, long long pos, es_error *err)
{
	const es_config *cfg = &es_g_app.cfg;
	es_buf buf;
	int more = 0, admitted = 0;
	unsigned long gen;
	long long last_write;

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
	if (fetch_batch(req->claims.tenant_id, &pos, &buf, cfg->sse_buffer_bytes, &more, err) < 0)
	{
		es_buf_free(&buf);
		pthread_mutex_lock(&notify_lock);
		sse_active--;
		pthread_mutex_unlock(&notify_lock);
		return ES_FAIL;
	}
	if (mg_printf(req->conn,
				  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				  "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
				  "Connection: close\r\n\r\nretry: 1000\n\n") <= 0)
		goto end;
	last_write = mono_ms();
	while (!es_app_stopping())
	{
		if (buf.len > 0)
		{
			if (mg_write(req->conn, buf.data, buf.len) <= 0)
				break;
			buf.len = 0;
			last_write = mono_ms();
		}
		if (!more)
		{
			gen = wait_notify(gen, cfg->sse_poll_ms);
			if (es_app_stopping())
				break;
		}
		if (mono_ms() - last_write >= (long long) cfg->sse_heartbeat_seconds * 1000)
		{
			if (mg_printf(req->conn, ": heartbeat\n\n") <= 0)
				break;
			last_write = mono_ms();
		}
		if (fetch_batch(req->claims.tenant_id, &pos, &buf, cfg->sse_buffer_bytes, &more, err) < 0)
		{
			char *body = es_error_body(err);

			(void) mg_printf(req->conn, "event: error\ndata: %s\n\n", body);
			free(body);
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
	char *after_s = NULL, *limit_s = NULL;
	long long after = 0, limit = 1000;
	char abuf[24], lbuf[24];
	const char *params[3];
	char *out = NULL;
	es_status st = ES_FAIL;

	if (es_query_param(req->query, "after", &after_s) != ES_OK ||
		es_query_param(req->query, "limit", &limit_s) != ES_OK ||
		(after_s && es_parse_nonneg(after_s, 9223372036854775807LL, &after) != ES_OK) ||
		(limit_s && es_parse_nonneg(limit_s, 2147483647LL, &limit) != ES_OK))
	{
		es_error_set(err, 400, "malformed_request", "after and limit must be non-negative integers");
		goto out;
	}
	if (accept && strstr(accept, "text/event-stream"))
	{
		if (last_id && es_parse_nonneg(last_id, 9223372036854775807LL, &after) != ES_OK)
		{
			es_error_set(err, 400, "malformed_request", "Last-Event-ID must be a position");
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
		goto out;
	es_response_json(resp, 200, out ? out : strdup("{\"events\":[]}"));
	st = ES_OK;
out:
	free(after_s);
	free(limit_s);
	return st;
}
