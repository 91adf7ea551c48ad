/*
 * main.c - es-gateway entry point: wires the modules and runs the process
 * lifecycle; the request path itself is pipeline.c.
 *
 *   arguments -> config -> app state (config, verifier, OpenAPI) -> pool
 *   -> notification listener -> civetweb(es_pipeline_dispatch)
 *   -> wait for SIGTERM/SIGINT -> drain -> stop
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * is created) and taken synchronously by main with sigtimedwait, so no code
 * runs in signal context.  Exit codes: 0 clean stop, 1 runtime failure,
 * 2 bad configuration.  `es-gateway token ...` mints a development token
 * (token.c) and exits.
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "spool.h"
#include "token.h"
#include "util.h"

static int
on_log_message(const struct mg_connection *conn, const char *message)
{
	(void) conn;
	es_log(ES_LOG_DEBUG, "civetweb: %s", message);
	return 1;
}

/* Returns an exit code, or -1 to go on (*print_config set). */
static int
parse_args(int argc, char **argv, int *print_config)
{
	*print_config = 0;
	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return es_token_main(argc - 2, argv + 2);
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--print-config") == 0)
			*print_config = 1;
		else if (strcmp(argv[i], "--version") == 0)
		{
			printf("es-gateway %s\n", ES_GATEWAY_VERSION);
			return 0;
		}
		else
		{
			fprintf(stderr,
					"usage: es-gateway [--print-config] [--version]\n"
					"       es-gateway token --tenant ID [--admin] [--ttl 1h]\n"
					"Configuration comes from ES_* environment variables; see gateway/README.md.\n");
			return 2;
		}
	}
	return -1;
}

/* Config, verifier, pool, OpenAPI -> app state.  Returns an exit code, or
 * -1 to go on. */
static int
build_app(int print_config)
{
	char			errbuf[512];
	es_config		cfg;
	es_auth		   *auth;
	es_auth_options aopt;
	es_db_options	dopt;

	if (es_config_load(&cfg, errbuf, sizeof(errbuf)) != ES_OK)
	{
		fprintf(stderr, "es-gateway: configuration error: %s\n", errbuf);
		return 2;
	}
	if (print_config)
	{
		es_config_dump(&cfg, stdout);
		es_config_free(&cfg);
		return 0;
	}
	es_log_set_level(cfg.log_level);
	aopt = (es_auth_options){
		.hs_secret = cfg.jwt_secret,
		.public_key_file = cfg.jwt_public_key_file,
		.audience = cfg.jwt_audience,
		.issuer = cfg.jwt_issuer,
		.leeway_seconds = cfg.jwt_leeway_seconds,
		.require_exp = cfg.jwt_require_exp,
		.max_ttl_seconds = cfg.jwt_max_ttl_seconds,
	};
	auth = es_auth_new(&aopt, errbuf, sizeof(errbuf));
	if (auth == NULL)
	{
		fprintf(stderr, "es-gateway: configuration error: %s\n", errbuf);
		es_config_free(&cfg);
		return 2;
	}
	dopt = (es_db_options){
		.conninfo = cfg.database_url,
		.pool_size = cfg.pool_size,
		.wait_ms = cfg.pool_wait_ms,
		.statement_timeout_ms = cfg.res.statement_timeout_ms,
		.command_timeout_ms = cfg.res.command_timeout_ms,
		.query_timeout_ms = cfg.res.query_timeout_ms,
		.max_retries = cfg.res.db_max_retries,
		.initial_backoff_ms = cfg.res.db_initial_backoff_ms,
		.multiplier = cfg.res.db_multiplier,
		.es_failure_threshold = cfg.res.es_failure_threshold,
		.es_open_seconds = cfg.res.es_open_seconds,
		.es_half_open_probes = cfg.res.es_half_open_probes,
		.qh_failure_threshold = cfg.res.qh_failure_threshold,
		.qh_open_seconds = cfg.res.qh_open_seconds,
		.qh_half_open_probes = cfg.res.qh_half_open_probes,
	};
	if (es_db_init(&dopt) != ES_OK)
	{
		fprintf(stderr, "es-gateway: cannot initialise the database pool\n");
		return 1;
	}
	es_app_init(&cfg, auth,
				es_router_openapi(es_routes, es_routes_count, ES_GATEWAY_VERSION));
	return -1;
}

/* Start civetweb with the pipeline as the only handler. */
static struct mg_context *
start_http(const es_config *cfg)
{
	char				threads[16], queue[16], timeout[16], hdr[16];
	struct mg_callbacks cb;
	struct mg_context  *ctx;

	snprintf(threads, sizeof(threads), "%d", cfg->threads);
	snprintf(queue, sizeof(queue), "%d", cfg->connection_queue);
	snprintf(timeout, sizeof(timeout), "%d", cfg->request_timeout_ms);
	snprintf(hdr, sizeof(hdr), "%d", cfg->max_header_bytes);
	{
		const char *opts[] = {
			"listening_ports",
			cfg->listen,
			"num_threads",
			threads,
			"connection_queue",
			queue,
			"listen_backlog",
			queue,
			"request_timeout_ms",
			timeout,
			"keep_alive_timeout_ms",
			timeout,
			"max_request_size",
			hdr,
			"enable_keep_alive",
			"yes",
			"decode_url",
			"no",
			"tcp_nodelay",
			"1",
			NULL,
		};

		memset(&cb, 0, sizeof(cb));
		cb.http_error = es_pipeline_http_error;
		cb.connection_close = es_pipeline_connection_close;
		cb.log_message = on_log_message;
		ctx = mg_start(&cb, NULL, opts);
	}
	if (ctx != NULL)
		mg_set_request_handler(ctx, "/", es_pipeline_dispatch, NULL);
	return ctx;
}

static void
wait_for_signal(const sigset_t *sigs)
{
	for (;;)
	{
		struct timespec ts = {1, 0};
		int				sig = sigtimedwait(sigs, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT)
		{
			es_log(ES_LOG_INFO, "signal %d: draining", sig);
			return;
		}
	}
}

/* Let requests already inside the pipeline finish (readiness is already
 * 503), bounded by the request timeout. */
static void
drain(int timeout_ms)
{
	long waited = 0;

	while (es_app_inflight() > 0 && waited < timeout_ms)
	{
		struct timespec ts = {0, 20 * 1000000L};

		nanosleep(&ts, NULL);
		waited += 20;
	}
	if (es_app_inflight() > 0)
		es_log(ES_LOG_WARN, "drain timeout: %d requests still running",
			   es_app_inflight());
}

int
main(int argc, char **argv)
{
	int				   print_config, rc;
	sigset_t		   sigs;
	struct mg_context *ctx;
	const es_config	  *cfg;

	es_alloc_init();
	if ((rc = parse_args(argc, argv, &print_config)) >= 0 ||
		(rc = build_app(print_config)) >= 0)
		return rc;
	cfg = es_app_config();

	/* block termination signals in every thread created from here on */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	{
		char cerr[256];

		if (es_cache_init(cfg, cerr, sizeof(cerr)) != ES_OK)
		{
			fprintf(stderr, "es-gateway: configuration error: %s\n", cerr);
			return 2;
		}
	}
	if (es_events_start() != ES_OK)
	{
		fprintf(stderr, "es-gateway: cannot start the notification listener\n");
		return 1;
	}
	if (cfg->spool_dir[0] != '\0' && cfg->res.command_spool)
	{
		char errbuf[512];

		if (es_spool_open(cfg->spool_dir, cfg->spool_max_bytes,
						  cfg->spool_max_commands, errbuf, sizeof(errbuf)) != ES_OK ||
			es_spool_start(es_command_apply) != ES_OK)
		{
			fprintf(stderr, "es-gateway: command spool: %s\n", errbuf);
			es_events_stop();
			return 1;
		}
	}
	{
		es_http_guard_options gopt = {
			.body_deadline_ms = cfg->body_deadline_ms,
			.max_body_readers = cfg->threads - cfg->reserve_threads > 0
									? cfg->threads - cfg->reserve_threads
									: 1,
			.max_per_client = cfg->max_client_body_readers,
		};

		if (es_http_guard_start(&gopt) != ES_OK)
		{
			fprintf(stderr, "es-gateway: cannot start the request deadline watchdog\n");
			es_spool_stop();
			es_events_stop();
			return 1;
		}
	}
	ctx = start_http(cfg);
	if (ctx == NULL)
	{
		es_log(ES_LOG_ERROR, "cannot listen on %s", cfg->listen);
		es_http_guard_stop();
		es_spool_stop();
		es_events_stop();
		return 1;
	}
	es_log(ES_LOG_INFO, "es-gateway %s listening on %s (pool %d, threads %d)",
		   ES_GATEWAY_VERSION, cfg->listen, cfg->pool_size, cfg->threads);

	wait_for_signal(&sigs);
	es_app_set_stopping();
	es_events_stop(); /* wakes SSE loops; they end within one poll */
	drain(cfg->request_timeout_ms);
	mg_stop(ctx); /* closes the listener and the idle keep-alive connections */
	es_spool_stop(); /* what is not replayed stays on disk for the next start
					  */
	es_db_shutdown();
	es_cache_shutdown();
	es_metrics_reset();
	es_app_free();
	es_log(ES_LOG_INFO, "stopped");
	return 0;
}
