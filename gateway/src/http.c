/*
 * http.c - civetweb-facing I/O and the reply renderer.  Every byte of an
 * HTTP head the gateway sends is composed here.  No shared state; each
 * function works on one connection owned by the calling worker thread.
 */
#include "http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define CONTINUE_LINE "HTTP/1.1 100 Continue\r\n\r\n"

/*
 * Whether the client waits for "100 Continue" before sending its body.
 * civetweb 1.15 answers Expect only for its own PUT/CGI file handling,
 * never for a request handler, so clients (curl waits 1 s) stall unless we
 * answer.  Called once the request is acceptable so far (authorised,
 * Content-Length within the limit); a refusal before that is the final
 * answer and the body is never read (the connection is closed).
 */
static int
expects_continue(const es_request *req)
{
	const char *expect = mg_get_header(req->conn, "Expect");

	return expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
		   req->ri->http_version != NULL &&
		   strcmp(req->ri->http_version, "1.1") == 0;
}

/*
 * Slow-client guard.  civetweb 1.15 gives a handler no socket and no way to
 * close the connection: its reads wait for as many bytes as asked (a body
 * dribbled one byte at a time never times out) and after a refusal it
 * keeps reading the unread body as the next request.  So the guard finds
 * the connection's socket by its address pair (/proc/self/fd, only when a
 * connection must be cut) and shuts it down: at the body deadline from
 * the watchdog thread (the blocked read then ends, the request gets 408),
 * and after an answer that leaves the body unread (cut()).  Body readers
 * are counted, in total and per client address, to keep workers free for
 * /health and /metrics.
 */
typedef struct body_watch
{
	struct body_watch			 *next;
	const struct mg_request_info *ri;
	long long					  deadline_ms;
	int							  expired;
} body_watch;

typedef struct addr_count
{
	struct addr_count *next;
	char			   addr[48];
	int				   n;
} addr_count;

static pthread_mutex_t		 guard_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 guard_wake = PTHREAD_COND_INITIALIZER;
static body_watch			*watches;
static addr_count			*addrs;
static int					 guard_readers, guard_stop, guard_started;
static pthread_t			 guard_thread;
static es_http_guard_options guard_opt; /* zero: every protection off */
static long long guard_cut_total, guard_timeout_total, guard_refused_total;

/* Whether a socket's peer and local port are the request's. */
static int
same_conn(int fd, const struct mg_request_info *ri)
{
	struct sockaddr_storage peer, local;
	socklen_t				pl = sizeof(peer), ll = sizeof(local);
	char					host[INET6_ADDRSTRLEN];
	int						pport, lport;
	const void			   *a;

	if (getpeername(fd, (struct sockaddr *) &peer, &pl) != 0 ||
		getsockname(fd, (struct sockaddr *) &local, &ll) != 0)
		return 0;
	if (peer.ss_family == AF_INET)
	{
		a = &((struct sockaddr_in *) &peer)->sin_addr;
		pport = ntohs(((struct sockaddr_in *) &peer)->sin_port);
		lport = ntohs(((struct sockaddr_in *) &local)->sin_port);
	}
	else if (peer.ss_family == AF_INET6)
	{
		a = &((struct sockaddr_in6 *) &peer)->sin6_addr;
		pport = ntohs(((struct sockaddr_in6 *) &peer)->sin6_port);
		lport = ntohs(((struct sockaddr_in6 *) &local)->sin6_port);
	}
	else
		return 0;
	if (pport != ri->remote_port || lport != ri->server_port ||
		inet_ntop(peer.ss_family, a, host, sizeof(host)) == NULL)
		return 0;
	return strcmp(host, ri->remote_addr) == 0;
}

/* The socket of the request's connection, or -1. */
static int
find_socket(const struct mg_request_info *ri)
{
	DIR			  *d = opendir("/proc/self/fd");
	struct dirent *de;
	int			   found = -1;

	if (d == NULL)
		return -1;
	while (found < 0 && (de = readdir(d)) != NULL)
	{
		char *end;
		long  fd = strtol(de->d_name, &end, 10);

		if (*end == '\0' && end != de->d_name && fd > 2 && fd != dirfd(d) &&
			same_conn((int) fd, ri))
			found = (int) fd;
	}
	closedir(d);
	return found;
}

static void *
guard_main(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&guard_lock);
	while (!guard_stop)
	{
		struct timespec ts;
		long long		now = es_mono_ms();

		for (body_watch *w = watches; w; w = w->next)
			if (!w->expired && now >= w->deadline_ms)
			{
				/* the owner is blocked reading while registered, so the
				 * socket is still its own */
				int fd = find_socket(w->ri);

				w->expired = 1;
				if (fd >= 0)
					(void) shutdown(fd, SHUT_RD);
			}
		es_abstime_in(&ts, 50);
		pthread_cond_timedwait(&guard_wake, &guard_lock, &ts);
	}
	pthread_mutex_unlock(&guard_lock);
	return NULL;
}

es_status
es_http_guard_start(const es_http_guard_options *opt)
{
	guard_opt = *opt;
	guard_stop = 0;
	if (opt->body_deadline_ms <= 0)
		return ES_OK;
	if (pthread_create(&guard_thread, NULL, guard_main, NULL) != 0)
		return ES_FAIL;
	guard_started = 1;
	return ES_OK;
}

void
es_http_guard_stop(void)
{
	pthread_mutex_lock(&guard_lock);
	guard_stop = 1;
	pthread_cond_broadcast(&guard_wake);
	pthread_mutex_unlock(&guard_lock);
	if (guard_started)
		pthread_join(guard_thread, NULL);
	guard_started = 0;
	memset(&guard_opt, 0, sizeof(guard_opt));
}

/* Admit one body reader: 503 when the reserve would be touched, 429 when
 * its address reads too many bodies at once. */
static es_status
guard_enter(const es_request *req, es_error *err)
{
	const char *addr = req->ri->remote_addr;
	addr_count *a;

	pthread_mutex_lock(&guard_lock);
	if (guard_opt.max_body_readers > 0 && guard_readers >= guard_opt.max_body_readers)
	{
		guard_refused_total++;
		pthread_mutex_unlock(&guard_lock);
		es_error_set(err, 503, "unavailable", "too many requests sending a body");
		err->retry_after = 1;
		return ES_FAIL;
	}
	for (a = addrs; a && strcmp(a->addr, addr) != 0; a = a->next)
		;
	if (guard_opt.max_per_client > 0 && a && a->n >= guard_opt.max_per_client)
	{
		guard_refused_total++;
		pthread_mutex_unlock(&guard_lock);
		es_error_set(err, 429, "too_many_requests",
					 "too many concurrent requests from this address");
		err->retry_after = 1;
		return ES_FAIL;
	}
	if (a == NULL)
	{
		a = es_xcalloc(1, sizeof(*a));
		snprintf(a->addr, sizeof(a->addr), "%s", addr);
		a->next = addrs;
		addrs = a;
	}
	a->n++;
	guard_readers++;
	pthread_mutex_unlock(&guard_lock);
	return ES_OK;
}

static void
guard_leave(const es_request *req, body_watch *w)
{
	addr_count **p;

	pthread_mutex_lock(&guard_lock);
	for (body_watch **q = &watches; *q; q = &(*q)->next)
		if (*q == w)
		{
			*q = w->next;
			break;
		}
	for (p = &addrs; *p && strcmp((*p)->addr, req->ri->remote_addr) != 0;
		 p = &(*p)->next)
		;
	if (*p && --(*p)->n == 0)
	{
		addr_count *a = *p;

		*p = a->next;
		free(a);
	}
	guard_readers--;
	if (w->expired)
		guard_timeout_total++;
	pthread_mutex_unlock(&guard_lock);
}

int
es_http_conn_socket(struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	return ri ? find_socket(ri) : -1;
}

int
es_http_peer_gone(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char		  c;
	ssize_t		  n;

	if (fd < 0 || poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
		return 1;
	/* readable: end of file (the peer closed) or a reset; bytes it sent
	 * are left for civetweb */
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 ||
		   (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void
es_http_cut(struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	int							  fd = ri ? find_socket(ri) : -1;
	long long					  end = es_mono_ms() + 250;
	char						  sink[4096];

	if (fd < 0)
		return;
	/* FIN after the answer; give the client 250 ms to read it and close
	 * (closing with unread input would send RST and could lose the
	 * answer), then end the reads civetweb would spend draining */
	(void) shutdown(fd, SHUT_WR);
	for (;;)
	{
		long long	  left = end - es_mono_ms();
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t		  n;

		if (left <= 0 || poll(&pfd, 1, (int) left) <= 0)
			break;
		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	(void) shutdown(fd, SHUT_RD);
	pthread_mutex_lock(&guard_lock);
	guard_cut_total++;
	pthread_mutex_unlock(&guard_lock);
}

void
es_http_guard_render_metrics(es_buf *out)
{
	pthread_mutex_lock(&guard_lock);
	es_buf_printf(out,
				  "# HELP es_gateway_body_readers Requests reading their body now.\n"
				  "# TYPE es_gateway_body_readers gauge\n"
				  "es_gateway_body_readers %d\n"
				  "# HELP es_gateway_request_timeouts_total Requests cut at the body deadline (408).\n"
				  "# TYPE es_gateway_request_timeouts_total counter\n"
				  "es_gateway_request_timeouts_total %lld\n"
				  "# HELP es_gateway_connections_cut_total Connections closed after an answer that left the body unread.\n"
				  "# TYPE es_gateway_connections_cut_total counter\n"
				  "es_gateway_connections_cut_total %lld\n"
				  "# HELP es_gateway_body_refused_total Body requests refused by the reserve or the per-client cap.\n"
				  "# TYPE es_gateway_body_refused_total counter\n"
				  "es_gateway_body_refused_total %lld\n",
				  guard_readers, guard_timeout_total, guard_cut_total,
				  guard_refused_total);
	pthread_mutex_unlock(&guard_lock);
}

static es_status read_body_inner(es_request *req, long long max_bytes, es_error *err);

es_status
es_http_read_body(es_request *req, long long max_bytes, es_error *err)
{
	body_watch w = {0};
	es_status  st;

	if (req->ri->content_length > max_bytes)
		return es_error_set(err, 413, "payload_too_large",
							"request body exceeds %lld bytes", max_bytes);
	if (guard_enter(req, err) != ES_OK)
		return ES_FAIL;
	if (guard_opt.body_deadline_ms > 0)
	{
		w.ri = req->ri;
		w.deadline_ms = es_mono_ms() + guard_opt.body_deadline_ms;
		pthread_mutex_lock(&guard_lock);
		w.next = watches;
		watches = &w;
		pthread_mutex_unlock(&guard_lock);
	}
	st = read_body_inner(req, max_bytes, err);
	guard_leave(req, &w);
	if (w.expired || (w.deadline_ms > 0 && es_mono_ms() >= w.deadline_ms))
	{
		free(req->body);
		req->body = NULL;
		req->body_len = 0;
		es_error_clear(err);
		return es_error_set(err, 408, "request_timeout",
							"request body not received within %d ms",
							guard_opt.body_deadline_ms);
	}
	return st;
}

static es_status
read_body_inner(es_request *req, long long max_bytes, es_error *err)
{
	long long cl = req->ri->content_length;
	size_t	  cap, len = 0;
	char	 *buf;

	req->body = NULL;
	req->body_len = 0;
	if (cl > max_bytes)
		return es_error_set(err, 413, "payload_too_large",
							"request body exceeds %lld bytes", max_bytes);
	if (expects_continue(req) &&
		mg_write(req->conn, CONTINUE_LINE, sizeof(CONTINUE_LINE) - 1) !=
			(int) (sizeof(CONTINUE_LINE) - 1))
		return es_error_set(err, 400, "malformed_request",
							"request body could not be read");
	cap = cl >= 0 ? (size_t) cl + 1 : 4096;
	buf = es_xmalloc(cap);
	for (;;)
	{
		int n;

		if (len + 1 >= cap)
		{
			if ((long long) len > max_bytes)
				break;
			cap = cap * 2 > (size_t) max_bytes + 2 ? (size_t) max_bytes + 2 : cap * 2;
			buf = es_xrealloc(buf, cap);
		}
		n = mg_read(req->conn, buf + len, cap - len - 1);
		if (n < 0)
		{
			free(buf);
			return es_error_set(err, 400, "malformed_request",
								"request body could not be read");
		}
		if (n == 0)
			break;
		len += (size_t) n;
		if ((long long) len > max_bytes)
		{
			free(buf);
			return es_error_set(err, 413, "payload_too_large",
								"request body exceeds %lld bytes", max_bytes);
		}
	}
	if (cl >= 0 && (long long) len != cl)
	{
		free(buf);
		return es_error_set(err, 400, "malformed_request", "request body truncated");
	}
	buf[len] = '\0';
	req->body = buf;
	req->body_len = len;
	return ES_OK;
}

es_status
es_http_check_json_type(const char *ct, es_error *err)
{
	size_t n;

	if (ct == NULL)
		return es_error_set(err, 415, "unsupported_media_type",
							"Content-Type must be application/json");
	while (*ct == ' ')
		ct++;
	n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n) == 0 &&
		(ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
		return ES_OK;
	return es_error_set(err, 415, "unsupported_media_type",
						"Content-Type must be application/json");
}

es_status
es_http_parse_json(es_request *req, es_error *err)
{
	if (req->body == NULL || req->body_len == 0)
		return es_error_set(err, 400, "malformed_request", "request body required");
	if (!es_utf8_valid(req->body, req->body_len))
		return es_error_set(err, 400, "malformed_request",
							"request body is not valid UTF-8");
	if (!es_json_depth_ok(req->body, req->body_len, ES_MAX_JSON_DEPTH))
		return es_error_set(err, 400, "malformed_request",
							"JSON nested deeper than %d levels", ES_MAX_JSON_DEPTH);
	/* body is NUL-terminated and NUL-free (checked above): include the NUL so
	 * cJSON's require_null_terminated check sees the true end */
	req->json = cJSON_ParseWithLengthOpts(req->body, req->body_len + 1, NULL, 1);
	if (req->json == NULL)
		return es_error_set(err, 400, "malformed_request",
							"request body is not valid JSON");
	return ES_OK;
}

void
es_response_json(es_response *resp, int status, char *body)
{
	free(resp->body);
	resp->status = status;
	resp->body = body;
	resp->content_type = "application/json";
}

es_status
es_response_json_or(es_response *resp, int status, char *json, es_error *err,
					int missing_status, const char *message)
{
	if (json == NULL)
		return es_error_set(err, missing_status, NULL, "%s", message);
	es_response_json(resp, status, json);
	return ES_OK;
}

/* Reason phrase. */
static const char *
reason(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 201:
			return "Created";
		case 202:
			return "Accepted";
		case 304:
			return "Not Modified";
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 408:
			return "Request Timeout";
		case 409:
			return "Conflict";
		case 413:
			return "Payload Too Large";
		case 414:
			return "URI Too Long";
		case 415:
			return "Unsupported Media Type";
		case 422:
			return "Unprocessable Entity";
		case 423:
			return "Locked";
		case 429:
			return "Too Many Requests";
		case 431:
			return "Request Header Fields Too Large";
		case 503:
			return "Service Unavailable";
		case 504:
			return "Gateway Timeout";
		case 505:
			return "HTTP Version Not Supported";
		default:
			return "Status";
	}
}

void
es_render_error(es_error *err, es_response *resp)
{
	if (err->http_status == 0)
		es_error_set(err, 503, "unavailable", "internal failure");
	else if (err->http_status == 500)
	{
		err->http_status = 503;
		snprintf(err->code, sizeof(err->code), "%s", "unavailable");
		err->retry_after = 5;
	}
	memset(resp, 0, sizeof(*resp));
	resp->status = err->http_status;
	resp->body = es_error_body(err);
	resp->content_type = "application/json";
	if (resp->status == 401)
		resp->www_authenticate =
			strcmp(err->code, "missing_token") == 0
				? "Bearer realm=\"es_saas\""
				: "Bearer realm=\"es_saas\", error=\"invalid_token\"";
	else
		resp->retry_after = err->retry_after;
	if (resp->status == 405)
		snprintf(resp->allow, sizeof(resp->allow), "%s", err->allow);
}

int
es_render_head(const es_response *resp, size_t body_len, int close_conn,
			   char *buf, size_t len)
{
	char extra[160] = "";
	char cache[160] = "";
	char loc[128] = "";
	int	 n;

	if (resp->www_authenticate)
		snprintf(extra, sizeof(extra), "WWW-Authenticate: %s\r\n",
				 resp->www_authenticate);
	else if (resp->allow[0])
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", resp->allow);
	else if (resp->retry_after > 0)
		snprintf(extra, sizeof(extra), "Retry-After: %d\r\n", resp->retry_after);
	if (resp->etag[0])
		snprintf(cache, sizeof(cache), "ETag: %s\r\n", resp->etag);
	if (resp->stale)
		snprintf(cache + strlen(cache), sizeof(cache) - strlen(cache),
				 "X-Cache-Status: stale\r\nAge: %lld\r\n", resp->age);
	if (resp->location[0])
		snprintf(loc, sizeof(loc), "Location: %s\r\n", resp->location);
	n = snprintf(buf, len,
				 "HTTP/1.1 %d %s\r\n"
				 "Content-Type: %s\r\n"
				 "Content-Length: %zu\r\n"
				 "Cache-Control: no-store\r\n"
				 "X-Content-Type-Options: nosniff\r\n"
				 "%s%s%s%s\r\n",
				 resp->status, reason(resp->status),
				 resp->content_type ? resp->content_type : "application/json", body_len,
				 extra, cache, loc, close_conn ? "Connection: close\r\n" : "");
	return (n < 0 || (size_t) n >= len) ? -1 : n;
}

const char *
es_render_stream_head(size_t *len)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
		"Connection: close\r\n\r\nretry: 1000\n\n";

	*len = sizeof(head) - 1;
	return head;
}

char *
es_render_stream_error(const es_error *err)
{
	char  *body = es_error_body(err);
	es_buf eb;

	es_buf_init(&eb);
	es_buf_printf(&eb, "event: error\ndata: %s\n\n", body);
	free(body);
	return eb.data;
}

/* Write head and body; -1 when the client went away. */
static int
write_reply(struct mg_connection *conn, const es_response *resp, int close_conn)
{
	const char *body = resp->body ? resp->body : "";
	size_t		len = strlen(body);
	char		head[1024];
	int			n = es_render_head(resp, len, close_conn, head, sizeof(head));
	const struct mg_request_info *ri = mg_get_request_info(conn);

	if (n < 0 || mg_write(conn, head, (size_t) n) != n)
		return -1;
	/* a HEAD answer carries the headers only */
	if (ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0)
		return 0;
	if (len > 0 && mg_write(conn, body, len) <= 0)
		return -1;
	return 0;
}

int
es_http_reply(struct mg_connection *conn, const es_response *resp, int close_conn)
{
	if (write_reply(conn, resp, close_conn) < 0)
		es_log(ES_LOG_DEBUG, "client went away before the response");
	return resp->status;
}

int
es_http_reply_error(struct mg_connection *conn, es_error *err, int close_conn)
{
	es_response resp;

	es_render_error(err, &resp);
	(void) write_reply(conn, &resp, close_conn);
	es_response_free(&resp);
	return resp.status;
}

void
es_request_free(es_request *req)
{
	es_route_match_free(&req->match);
	es_claims_free(&req->claims);
	free(req->body);
	cJSON_Delete(req->json);
	req->body = NULL;
	req->json = NULL;
}

void
es_response_free(es_response *resp)
{
	free(resp->body);
	resp->body = NULL;
}
