/*
 * http.h - request/response values and civetweb I/O: body reading with the
 * ES_MAX_BODY_BYTES limit (413 for Content-Length and chunked bodies),
 * content-type check (415), JSON body parsing, and the renderer: the one
 * place that turns a response or an error value into status, headers
 * (WWW-Authenticate, Retry-After, Allow, Content-Type) and body.
 */
#ifndef ES_HTTP_H
#define ES_HTTP_H

#include <civetweb.h>
#include <cjson/cJSON.h>

#include "auth.h"
#include "errors.h"
#include "router.h"
#include "util.h"

#define ES_MAX_JSON_DEPTH 128

typedef struct es_request
{
	struct mg_connection		 *conn;
	const struct mg_request_info *ri;
	const char					 *path;	 /* raw path */
	const char					 *query; /* raw query string or "" */
	es_route_match				  match;
	es_claims					  claims;
	int							  authenticated;
	char						 *body; /* NUL-terminated, may be NULL */
	size_t						  body_len;
	cJSON *json; /* parsed body (ES_ROUTE_BODY routes) */
} es_request;

typedef struct es_response
{
	int			status;
	char	   *body;		  /* malloc'd */
	const char *content_type; /* default application/json */
	int			retry_after;  /* seconds; 0 = no Retry-After header */
	char		location[96]; /* Location header value or "" */
	/* set by es_render_error only */
	const char *www_authenticate; /* 401 challenge or NULL */
	char		allow[64];		  /* 405: Allow header value or "" */
	/* cacheable reads (cache.c) */
	char	  etag[72]; /* ETag header value (quoted) or "" */
	int		  stale;	/* served from the fallback cache */
	long long age;		/* Age in seconds when stale */
} es_response;

/* Read the whole body, enforcing max bytes. 413 payload_too_large, or 400
 * when the body is truncated. */
es_status es_http_read_body(es_request *req, long long max_bytes,
							es_error *err) ES_MUSTCHECK;

/* 415 unless Content-Type is application/json (parameters allowed). */
es_status es_http_check_json_type(const char *content_type, es_error *err) ES_MUSTCHECK;

/* Parse req->body as JSON (valid UTF-8, no trailing data) into req->json. */
es_status es_http_parse_json(es_request *req, es_error *err) ES_MUSTCHECK;

/* Set a JSON response body (takes ownership of body). */
void es_response_json(es_response *resp, int status, char *body);

/* A JSON text from the database as the response; when it is NULL (SQL
 * NULL: nothing found) the error missing_status with its default code and
 * message instead.  Returns the handler's status. */
es_status es_response_json_or(es_response *resp, int status, char *json,
							  es_error *err, int missing_status,
							  const char *message) ES_MUSTCHECK;

/* The socket of the request's connection, found by its address pair
 * (civetweb 1.15 has no accessor), or -1.  Valid while the calling worker
 * serves the request; for polling only, never for reads or writes. */
int es_http_conn_socket(struct mg_connection *conn);

/* Whether the peer of socket fd has closed or reset the connection,
 * without waiting and without consuming what it sent. */
int es_http_peer_gone(int fd);

/* Renderer (pure): an error value -> status, body and headers in resp
 * (which the caller frees).  No status 500 ever leaves: an error with no
 * status becomes 503 "internal failure", a 500 becomes 503 unavailable.
 * err is normalised in place so the access log records what was sent. */
void es_render_error(es_error *err, es_response *resp);

/* Renderer (pure): status line and headers for resp into buf; returns the
 * length, or -1 when buf is too small. */
int es_render_head(const es_response *resp, size_t body_len, int close_conn,
				   char *buf, size_t len);

/* The head of a text/event-stream answer (static text, *len set). */
const char *es_render_stream_head(size_t *len);

/* One SSE "event: error" frame carrying the error body (malloc'd). */
char *es_render_stream_error(const es_error *err);

/* Render and write a response (body omitted for HEAD); returns
 * resp->status.  A client gone away is logged at debug level. */
int es_http_reply(struct mg_connection *conn, const es_response *resp, int close_conn);

/* Render and write an error; returns the status sent. */
int es_http_reply_error(struct mg_connection *conn, es_error *err, int close_conn);

/* Slow-client protections (0 = off): whole body deadline (408; the
 * connection is closed), at most max_body_readers requests reading a body
 * at once (503; keeps workers free for /health and /metrics), at most
 * max_per_client of them per client address (429). */
typedef struct es_http_guard_options
{
	int body_deadline_ms;
	int max_body_readers;
	int max_per_client;
} es_http_guard_options;

es_status es_http_guard_start(const es_http_guard_options *opt) ES_MUSTCHECK;
void	  es_http_guard_stop(void);

/* Close a connection whose request body was not read, after its answer:
 * FIN, up to 1 s for the client to close, then no more reads. */
void es_http_cut(struct mg_connection *conn);

/* es_gateway_body_readers, request_timeouts_total, connections_cut_total,
 * body_refused_total. */
void es_http_guard_render_metrics(es_buf *out);

void es_request_free(es_request *req);
void es_response_free(es_response *resp);

#endif
