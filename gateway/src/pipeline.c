/*
 * pipeline.c - one request, start to end:
 *
 *   route -> admit -> authorize -> read body -> handler (-> db.c)
 *         -> render (http.c) -> observe (metrics + access log)
 *
 * Each stage either passes the exchange on or fills x->err; the first
 * failure skips to render, which is the only stage that writes HTTP.
 * Works on one connection owned by the calling civetweb worker; shared
 * state is reached only through app.h (immutable or atomic).
 */
#include "pipeline.h"

#include <string.h>
#include <time.h>

#include "app.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

/* Everything one request carries through the stages. */
typedef struct exchange
{
	es_request	req;
	es_response resp;
	es_error	err;
	const char *method;
	const char *endpoint; /* route template, the metrics label */
	int			close_conn;
	double		t0;
} exchange;

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
start(exchange *x, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	memset(x, 0, sizeof(*x));
	x->t0 = mono_s();
	x->endpoint = "unmatched";
	x->req.conn = conn;
	x->req.ri = ri;
	x->method = ri->request_method ? ri->request_method : "";
	x->req.path = ri->local_uri_raw ? ri->local_uri_raw
									: (ri->local_uri ? ri->local_uri : "");
	x->req.query = ri->query_string ? ri->query_string : "";
}

/* URI length, then the route table. */
static es_status
route(exchange *x)
{
	es_match mr;

	if (strlen(x->req.path) + strlen(x->req.query) > (size_t) es_app_config()->max_url_bytes)
	{
		x->close_conn = 1;
		return es_error_set(&x->err, 414, "uri_too_long", "request URI too long");
	}
	mr = es_router_match(es_routes, es_routes_count, x->method, x->req.path,
						 &x->req.match);
	if (mr == ES_MATCH_NOT_FOUND)
		return es_error_set(&x->err, 404, "not_found", "no such route");
	if (mr == ES_MATCH_BAD_METHOD)
		return es_error_method_not_allowed(&x->err, x->method, x->req.match.allow);
	if (x->req.match.route)
		x->endpoint = x->req.match.route->template;
	if (mr == ES_MATCH_BAD_PARAM)
		return es_error_set(&x->err, 400, "malformed_request",
							"malformed path parameter");
	return ES_OK;
}

/* Draining: civetweb cannot close its listener early, so late arrivals are
 * turned away and told to retry elsewhere. */
static es_status
admit(exchange *x)
{
	if (es_app_stopping() && (x->req.match.route->flags & ES_ROUTE_AUTH))
	{
		x->close_conn = 1;
		return es_error_set(&x->err, 503, "unavailable", "shutting down");
	}
	return ES_OK;
}

/* Authenticate and authorise per the route's flags. */
static es_status
authorize(exchange *x)
{
	unsigned	flags = x->req.match.route->flags;
	es_request *req = &x->req;
	es_error   *err = &x->err;
	const char *token;

	if (!(flags & ES_ROUTE_AUTH))
		return ES_OK;
	/* an unread body would be taken for the next request */
	x->close_conn = (flags & ES_ROUTE_BODY) != 0;
	if (es_auth_bearer(mg_get_header(req->conn, "Authorization"), &token, err) != ES_OK ||
		es_auth_verify(es_app_auth(), token, time(NULL), &req->claims, err) != ES_OK)
		return ES_FAIL;
	req->authenticated = 1;
	if ((flags & ES_ROUTE_ADMIN) && !req->claims.is_admin)
		return es_error_set(err, 403, "forbidden", "admin role required");
	if ((flags & ES_ROUTE_TENANT) && req->claims.tenant_id == NULL)
		return es_error_set(err, 403, "forbidden", "token carries no tenant_id");
	x->close_conn = 0;
	return ES_OK;
}

/* Content type, bounded body, JSON parse (ES_ROUTE_BODY routes). */
static es_status
read_body(exchange *x)
{
	if (!(x->req.match.route->flags & ES_ROUTE_BODY))
		return ES_OK;
	x->close_conn = 1; /* until the body is consumed */
	if (es_http_check_json_type(mg_get_header(x->req.conn, "Content-Type"),
								&x->err) != ES_OK ||
		es_http_read_body(&x->req, es_app_config()->max_body_bytes, &x->err) != ES_OK)
		return ES_FAIL;
	x->close_conn = 0;
	return es_http_parse_json(&x->req, &x->err);
}

/* The one stage that writes HTTP (an SSE handler has written its stream). */
static int
render(exchange *x, es_status st)
{
	if (st == ES_STREAMED)
		return 200;
	if (st == ES_OK)
		return es_http_reply(x->req.conn, &x->resp, x->close_conn);
	return es_http_reply_error(x->req.conn, &x->err, x->close_conn);
}

static void
observe(const exchange *x, int status, es_status st)
{
	double dt = mono_s() - x->t0;

	es_metrics_observe(x->method, x->endpoint, status, dt);
	es_log_access(x->method, x->req.path, x->endpoint, status, dt * 1000.0,
				  (long long) x->req.body_len, x->req.claims.tenant_id,
				  st == ES_FAIL ? x->err.code : NULL, x->err.sqlstate);
}

static void
finish(exchange *x)
{
	es_error_clear(&x->err);
	es_response_free(&x->resp);
	es_request_free(&x->req);
}

int
es_pipeline_dispatch(struct mg_connection *conn, void *cbdata)
{
	exchange  x;
	es_status st;
	int		  status;

	(void) cbdata;
	es_app_inflight_add(1);
	start(&x, conn);
	st = route(&x);
	if (st == ES_OK)
		st = admit(&x);
	if (st == ES_OK)
		st = authorize(&x);
	if (st == ES_OK)
		st = read_body(&x);
	if (st == ES_OK)
		st = x.req.match.route->handler(&x.req, &x.resp, &x.err);
	status = render(&x, st);
	observe(&x, status, st);
	finish(&x);
	es_app_inflight_add(-1);
	return status;
}

int
es_pipeline_http_error(struct mg_connection *conn, int status, const char *msg)
{
	es_error err = {0};

	(void) msg;
	es_error_set(&err, status, NULL, "request rejected by the HTTP layer");
	status = es_http_reply_error(conn, &err, 1);
	es_metrics_observe("?", "unmatched", status, 0);
	es_error_clear(&err);
	return 0;
}
