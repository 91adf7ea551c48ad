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
 *
 * Slow clients: civetweb's blocking mg_write has no timeout of its own, so
 * each subscription registers its socket in sse_slots and marks when a
 * write starts; the listener thread doubles as a watchdog and shuts down
 * (never closes) the socket of a write blocked longer than the request
 * timeout, which makes mg_write fail and the handler return.
 *
 * Concurrency: notify_lock guards notify_gen, listener_stop, sse_active and
 * sse_slots; notify_cond is broadcast on every notification and on stop.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "handlers.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define SSE_BATCH "200"

static const es_stmt read_log_json = {
	"es_read_log",
	"SELECT jsonb_build_object('events', coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.position), "
	"'[]'::jsonb))::text "
	"FROM es_read_log($1::text, $2::bigint, $3::int) AS e",
	3};

/* rows after $2, at most $3 of them, cut once $4 bytes are reached (the
 * first row always comes): the gateway never holds more than one batch */
static const es_stmt read_log_rows = {
	"es_read_log_sse",
	"SELECT position, ev FROM (SELECT position, ev, "
	"sum(octet_length(ev)) OVER (ORDER BY position) AS upto FROM "
	"(SELECT e.position, to_jsonb(e)::text AS ev "
	"FROM es_read_log($1::text, $2::bigint, $3::int) AS e) a) b "
	"WHERE upto - octet_length(ev) < $4::bigint ORDER BY position",
	4};

static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notify_cond = PTHREAD_COND_INITIALIZER;
static unsigned long notify_gen;  /* guarded by notify_lock */
static int listener_stop;         /* guarded by notify_lock */
static int sse_active;            /* guarded by notify_lock */
typedef struct sse_slot {
	int used;
	int fd;                    /* -1 when the socket was not found */
	long long write_started;   /* monotonic ms, 0 = not writing */
} sse_slot;

#define SSE_MAX_SLOTS 4096
static sse_slot sse_slots[SSE_MAX_SLOTS]; /* guarded by notify_lock */
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

static long long mono_ms(void);

/* Shut down sockets whose write has been blocked too long. */
static void
sse_watchdog(void)
{
	long long now = mono_ms();
	long long limit = es_app_config()->request_timeout_ms;

	pthread_mutex_lock(&notify_lock);
	for (int i = 0; i < SSE_MAX_SLOTS; i++)
		if (sse_slots[i].used && sse_slots[i].fd >= 0 && sse_slots[i].write_started > 0 &&
			now - sse_slots[i].write_started > limit)
		{
			(void) shutdown(sse_slots[i].fd, SHUT_RDWR);
			sse_slots[i].write_started = 0;
			es_log(ES_LOG_INFO, "slow SSE client cut off");
		}
	pthread_mutex_unlock(&notify_lock);
}

/* The socket of this connection: civetweb does not expose it, so match
 * the local/peer ports and peer address among our descriptors. */
static int
is_our_socket(int fd, const struct mg_request_info *ri)
{
	struct sockaddr_in local, peer;
	socklen_t ll = sizeof(local), pl = sizeof(peer);
	char addr[INET_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *) &local, &ll) != 0 || local.sin_family != AF_INET ||
		ntohs(local.sin_port) != ri->server_port)
		return 0;
	if (getpeername(fd, (struct sockaddr *) &peer, &pl) != 0 || peer.sin_family != AF_INET ||
		ntohs(peer.sin_port) != ri->remote_port)
		return 0;
	return inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr)) && strcmp(addr, ri->remote_addr) == 0;
}

/* Find the socket: list /proc/self/fd when available, else probe fds. */
static int
find_socket(const struct mg_request_info *ri)
{
	DIR *d = opendir("/proc/self/fd");
	long maxfd;

	if (d != NULL)
	{
		struct dirent *de;
		int found = -1;

		while (found < 0 && (de = readdir(d)) != NULL)
		{
			char *end;
			long fd = strtol(de->d_name, &end, 10);

			if (*end == '\0' && end != de->d_name && fd != dirfd(d) && is_our_socket((int) fd, ri))
				found = (int) fd;
		}
		closedir(d);
		return found;
	}
	maxfd = sysconf(_SC_OPEN_MAX);
	if (maxfd <= 0 || maxfd > 65536)
		maxfd = 65536;
	for (int fd = 0; fd < maxfd; fd++)
		if (is_our_socket(fd, ri))
			return fd;
	return -1;
}

/* Write with the watchdog armed; returns 0 on success. */
static int
sse_write(int slot, struct mg_connection *conn, const char *data, size_t len)
{
	int n;

	pthread_mutex_lock(&notify_lock);
	sse_slots[slot].write_started = mono_ms();
	pthread_mutex_unlock(&notify_lock);
	n = mg_write(conn, data, len);
	pthread_mutex_lock(&notify_lock);
	sse_slots[slot].write_started = 0;
	pthread_mutex_unlock(&notify_lock);
	return n == (int) len ? 0 : -1;
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

		sse_watchdog();
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
	char after[24], maxb[24];
	const char *params[4];
	PGresult *r;
	int n, used = 0;

	snprintf(after, sizeof(after), "%lld", *pos);
	params[0] = tenant;
	params[1] = after;
	params[2] = SSE_BATCH;
	snprintf(maxb, sizeof(maxb), "%lld", max_bytes);
	params[3] = maxb;
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
	if (n > 0)
		*more = 1; /* the batch may have been cut by size: ask again */
	PQclear(r);
	return used;
}

/* The live subscription. */
static es_status
serve_sse(es_request *req, long long pos, es_error *err)
{
	const es_config *cfg = es_app_config();
	es_buf buf;
	int more = 0, slot = -1;
	unsigned long gen;
	long long last_write;
	int fd = find_socket(req->ri);

	pthread_mutex_lock(&notify_lock);
	if (sse_active < cfg->sse_max_clients)
		for (int i = 0; i < SSE_MAX_SLOTS; i++)
			if (!sse_slots[i].used)
			{
				sse_slots[i] = (sse_slot) {.used = 1, .fd = fd, .write_started = 0};
				slot = i;
				sse_active++;
				break;
			}
	gen = notify_gen;
	pthread_mutex_unlock(&notify_lock);
	if (slot < 0)
		return es_error_set(err, 503, "unavailable", "too many live subscriptions");
	if (fd < 0)
		es_log(ES_LOG_WARN, "SSE socket not found: slow-client watchdog disabled for this stream");

	es_buf_init(&buf);
	/* first batch before the headers, so access errors get a JSON answer */
	if (fetch_batch(req->claims.tenant_id, &pos, &buf, cfg->sse_buffer_bytes, &more, err) < 0)
	{
		es_buf_free(&buf);
		pthread_mutex_lock(&notify_lock);
		sse_slots[slot].used = 0;
		sse_active--;
		pthread_mutex_unlock(&notify_lock);
		return ES_FAIL;
	}
	{
		size_t hlen;
		const char *head = es_render_stream_head(&hlen);

		if (sse_write(slot, req->conn, head, hlen) != 0)
			goto end;
	}
	last_write = mono_ms();
	while (!es_app_stopping())
	{
		if (buf.len > 0)
		{
			if (sse_write(slot, req->conn, buf.data, buf.len) != 0)
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
			if (sse_write(slot, req->conn, ": heartbeat\n\n", 12) != 0)
				break;
			last_write = mono_ms();
		}
		if (fetch_batch(req->claims.tenant_id, &pos, &buf, cfg->sse_buffer_bytes, &more, err) < 0)
		{
			char *frame = es_render_stream_error(err);

			(void) sse_write(slot, req->conn, frame, strlen(frame));
			free(frame);
			break;
		}
	}
end:
	es_buf_free(&buf);
	pthread_mutex_lock(&notify_lock);
	sse_slots[slot].used = 0;
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
	es_response_json(resp, 200, out ? out : es_xstrdup("{\"events\":[]}"));
	st = ES_OK;
out:
	free(after_s);
	free(limit_s);
	return st;
}
