/*
 * main.c - es-gateway entry point: environment -> config -> modules ->
 * civetweb; one dispatcher runs the pipeline auth -> route -> body ->
 * handler -> render; SIGTERM/SIGINT drain and exit 0.
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * is created) and taken synchronously by main with sigtimedwait, so no code
 * runs in signal context.  Exit codes: 0 clean stop, 1 runtime failure,
 * 2 bad configuration.
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "handlers.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define ES_GATEWAY_VERSION "0.1.0"

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Authenticate and authorise per the route's flags. */
static es_status
authorize(es_request *req, const es_route *route, es_error *err)
{
	const char *token;

	if (!(route->flags & ES_ROUTE_AUTH))
		return ES_OK;
	if (es_auth_bearer(mg_get_header(req->conn, "Authorization"), &token, err) != ES_OK)
		return ES_FAIL;
	if (es_auth_verify(es_app_auth(), token, time(NULL), &req->claims, err) != ES_OK)
		return ES_FAIL;
	req->authenticated = 1;
	if ((route->flags & ES_ROUTE_ADMIN) && !req->claims.is_admin)
		return es_error_set(err, 403, "forbidden", "admin role required");
	if ((route->flags & ES_ROUTE_TENANT) && req->claims.tenant_id == NULL)
		return es_error_set(err, 403, "forbidden", "token carries no tenant_id");
	return ES_OK;
}

/* The request pipeline; returns the HTTP status sent. */
static int
dispatch(struct mg_connection *conn, void *cbdata)
{
	es_request req;
	es_response resp;
	es_error err;
	es_status st = ES_FAIL;
	const char *endpoint = "unmatched";
	const char *method;
	double t0 = mono_s();
	int status, close_conn = 0;
	es_match mr;

	(void) cbdata;
	es_app_enter();
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	memset(&err, 0, sizeof(err));
	req.conn = conn;
	req.ri = mg_get_request_info(conn);
	method = req.ri->request_method ? req.ri->request_method : "";
	req.path = req.ri->local_uri_raw ? req.ri->local_uri_raw : (req.ri->local_uri ? req.ri->local_uri : "");
	req.query = req.ri->query_string ? req.ri->query_string : "";

	if (strlen(req.path) + strlen(req.query) > (size_t) es_app_config()->max_url_bytes)
	{
		es_error_set(&err, 414, "uri_too_long", "request URI too long");
		close_conn = 1;
		goto send;
	}
	mr = es_router_match(es_routes, es_routes_count, method, req.path, &req.match);
	if (mr == ES_MATCH_NOT_FOUND)
	{
		es_error_set(&err, 404, "not_found", "no such route");
		goto send;
	}
	if (mr == ES_MATCH_BAD_METHOD)
	{
		es_error_method_not_allowed(&err, method, req.match.allow);
		goto send;
	}
	if (mr == ES_MATCH_BAD_PARAM)
	{
		endpoint = req.match.route ? req.match.route->template : endpoint;
		es_error_set(&err, 400, "malformed_request", "malformed path parameter");
		goto send;
	}
	endpoint = req.match.route->template;
	if (es_app_stopping() && (req.match.route->flags & ES_ROUTE_AUTH))
	{
		/* draining: civetweb cannot close its listener early, so late
		 * arrivals are turned away and told to retry elsewhere */
		es_error_set(&err, 503, "unavailable", "shutting down");
		close_conn = 1;
		goto send;
	}
	if (authorize(&req, req.match.route, &err) != ES_OK)
	{
		close_conn = (req.match.route->flags & ES_ROUTE_BODY) != 0;
		goto send;
	}
	if (req.match.route->flags & ES_ROUTE_BODY)
	{
		close_conn = 1; /* until the body is consumed */
		if (es_http_check_json_type(mg_get_header(conn, "Content-Type"), &err) != ES_OK ||
			es_http_read_body(&req, es_app_config()->max_body_bytes, &err) != ES_OK)
			goto send;
		close_conn = 0;
		if (es_http_parse_json(&req, &err) != ES_OK)
			goto send;
	}
	st = req.match.route->handler(&req, &resp, &err);

send:
	if (st == ES_STREAMED)
		status = 200;
	else if (st == ES_OK)
		status = es_http_reply(conn, &resp, close_conn);
	else
		status = es_http_reply_error(conn, &err, close_conn);
	{
		double dt = mono_s() - t0;

		es_metrics_observe(method, endpoint, status, dt);
		es_log_access(method, req.path, endpoint, status, dt * 1000.0,
					  (long long) req.body_len, req.claims.tenant_id,
					  st == ES_FAIL ? err.code : NULL, err.sqlstate);
	}
	es_error_clear(&err);
	es_response_free(&resp);
	es_request_free(&req);
	es_app_leave();
	return status;
}

/* civetweb's own errors (bad request line, headers too large) as JSON. */
static int
on_http_error(struct mg_connection *conn, int status, const char *msg)
{
	es_error err = {0};

	(void) msg;
	es_error_set(&err, status, NULL, "request rejected by the HTTP layer");
	status = es_http_reply_error(conn, &err, 1);
	es_metrics_observe("?", "unmatched", status, 0);
	es_error_clear(&err);
	return 0;
}

static int
on_log_message(const struct mg_connection *conn, const char *message)
{
	(void) conn;
	es_log(ES_LOG_DEBUG, "civetweb: %s", message);
	return 1;
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: es-gateway [--print-config] [--version]\n"
			"Configuration comes from ES_* environment variables; see gateway/README.md.\n");
}

int
main(int argc, char **argv)
{
	char errbuf[512];
	es_config lcfg;
	const es_config *cfg;
	es_auth *auth;
	int print_config = 0;
	sigset_t sigs;
	struct mg_callbacks cb;
	struct mg_context *ctx;
	es_auth_options aopt;
	es_db_options dopt;
	char threads[16], queue[16], timeout[16], hdr[16], backlog[16];

	es_alloc_init();
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--print-config") == 0)
			print_config = 1;
		else if (strcmp(argv[i], "--version") == 0)
		{
			printf("es-gateway %s\n", ES_GATEWAY_VERSION);
			return 0;
		}
		else
		{
			usage();
			return 2;
		}
	}
	if (es_config_load(&lcfg, errbuf, sizeof(errbuf)) != ES_OK)
	{
		fprintf(stderr, "es-gateway: configuration error: %s\n", errbuf);
		return 2;
	}
	if (print_config)
	{
		es_config_dump(&lcfg, stdout);
		es_config_free(&lcfg);
		return 0;
	}
	es_log_set_level(lcfg.log_level);
	aopt = (es_auth_options) {
		.hs_secret = lcfg.jwt_secret,
		.public_key_file = lcfg.jwt_public_key_file,
		.audience = lcfg.jwt_audience,
		.issuer = lcfg.jwt_issuer,
		.leeway_seconds = lcfg.jwt_leeway_seconds,
	};
	auth = es_auth_new(&aopt, errbuf, sizeof(errbuf));
	if (auth == NULL)
	{
		fprintf(stderr, "es-gateway: configuration error: %s\n", errbuf);
		es_config_free(&lcfg);
		return 2;
	}
	dopt = (es_db_options) {
		.conninfo = lcfg.database_url,
		.pool_size = lcfg.pool_size,
		.wait_ms = lcfg.pool_wait_ms,
		.statement_timeout_ms = lcfg.res.statement_timeout_ms,
	};
	if (es_db_init(&dopt) != ES_OK)
	{
		fprintf(stderr, "es-gateway: cannot initialise the database pool\n");
		return 1;
	}
	es_app_init(&lcfg, auth, es_router_openapi(es_routes, es_routes_count, ES_GATEWAY_VERSION));
	cfg = es_app_config();

	/* block termination signals in every thread created from here on */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (es_events_start() != ES_OK)
	{
		fprintf(stderr, "es-gateway: cannot start the notification listener\n");
		return 1;
	}
	snprintf(threads, sizeof(threads), "%d", cfg->threads);
	snprintf(queue, sizeof(queue), "%d", cfg->connection_queue);
	snprintf(backlog, sizeof(backlog), "%d", cfg->connection_queue);
	snprintf(timeout, sizeof(timeout), "%d", cfg->request_timeout_ms);
	snprintf(hdr, sizeof(hdr), "%d", cfg->max_header_bytes);
	{
		const char *opts[] = {
			"listening_ports", cfg->listen,
			"num_threads", threads,
			"connection_queue", queue,
			"listen_backlog", backlog,
			"request_timeout_ms", timeout,
			"keep_alive_timeout_ms", timeout,
			"max_request_size", hdr,
			"enable_keep_alive", "yes",
			"decode_url", "no",
			"tcp_nodelay", "1",
			NULL,
		};

		memset(&cb, 0, sizeof(cb));
		cb.http_error = on_http_error;
		cb.log_message = on_log_message;
		ctx = mg_start(&cb, NULL, opts);
	}
	if (ctx == NULL)
	{
		es_log(ES_LOG_ERROR, "cannot listen on %s", cfg->listen);
		es_events_stop();
		return 1;
	}
	mg_set_request_handler(ctx, "/", dispatch, NULL);
	es_log(ES_LOG_INFO, "es-gateway %s listening on %s (pool %d, threads %d)", ES_GATEWAY_VERSION,
		   cfg->listen, cfg->pool_size, cfg->threads);

	for (;;)
	{
		struct timespec ts = {1, 0};
		int sig = sigtimedwait(&sigs, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT)
		{
			es_log(ES_LOG_INFO, "signal %d: draining", sig);
			break;
		}
	}
	es_app_set_stopping();
	es_events_stop(); /* wakes SSE loops; they end within one poll */
	/* drain: let requests already inside the pipeline finish (readiness is
	 * already 503), bounded by the request timeout */
	{
		long waited = 0;

		while (es_app_inflight() > 0 &&
			   waited < cfg->request_timeout_ms)
		{
			struct timespec ts = {0, 20 * 1000000L};

			nanosleep(&ts, NULL);
			waited += 20;
		}
		if (es_app_inflight() > 0)
			es_log(ES_LOG_WARN, "drain timeout: %d requests still running", es_app_inflight());
	}
	mg_stop(ctx); /* closes the listener and the idle keep-alive connections */
	es_db_shutdown();
	es_metrics_reset();
	es_app_free();
	es_log(ES_LOG_INFO, "stopped");
	return 0;
}
