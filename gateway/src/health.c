/*
 * health.c - /health, /health/live, /health/ready, /metrics and the
 * OpenAPI document.  /health pings the database (never counted by the
 * breakers) and reports each breaker; it is 503 "degraded" while the
 * database is unreachable or a breaker is not closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "breaker.h"
#include "cache.h"
#include "db.h"
#include "handlers.h"
#include "metrics.h"
#include "retry.h"
#include "spool.h"
#include "util.h"

/* Body shared by /health answers. */
static char *
health_body(const char *status, const char *db, es_breaker_state es, es_breaker_state qh)
{
	es_buf b;

	es_buf_init(&b);
	es_buf_printf(&b,
				  "{\"status\":\"%s\",\"database\":\"%s\","
				  "\"circuit_breakers\":{\"event_store\":\"%s\",\"query_handler\":\"%s\"},"
				  "\"pool\":{\"size\":%d,\"available\":%d}}",
				  status, db, es_breaker_state_name(es), es_breaker_state_name(qh),
				  es_db_pool_size(), es_db_pool_available());
	return b.data;
}

es_status
es_h_health(es_request *req, es_response *resp, es_error *err)
{
	es_error		 perr = {0};
	int				 up;
	es_breaker_state es, qh;

	(void) req;
	(void) err;
	up = es_db_ping(&perr) == ES_OK;
	es = es_breaker_state_of(ES_BREAKER_EVENT_STORE);
	qh = es_breaker_state_of(ES_BREAKER_QUERY_HANDLER);
	if (up && es == ES_BREAKER_CLOSED && qh == ES_BREAKER_CLOSED)
		es_response_json(resp, 200, health_body("ok", "ok", es, qh));
	else
	{
		es_response_json(resp, 503,
						 health_body("degraded", up ? "ok" : "unreachable", es, qh));
		resp->retry_after = 5;
	}
	es_error_clear(&perr);
	return ES_OK;
}

es_status
es_h_live(es_request *req, es_response *resp, es_error *err)
{
	(void) req;
	(void) err;
	if (es_app_stopping())
		es_response_json(resp, 503, es_xstrdup("{\"status\":\"stopping\"}"));
	else
		es_response_json(resp, 200, es_xstrdup("{\"status\":\"ok\"}"));
	return ES_OK;
}

es_status
es_h_ready(es_request *req, es_response *resp, es_error *err)
{
	es_error perr = {0};

	(void) req;
	(void) err;
	if (es_app_stopping())
		es_response_json(resp, 503, es_xstrdup("{\"status\":\"stopping\"}"));
	else if (es_db_ping(&perr) == ES_OK)
		es_response_json(resp, 200, es_xstrdup("{\"status\":\"ready\"}"));
	else
		es_response_json(resp, 503,
						 es_xstrdup("{\"status\":\"not_ready\",\"database\":\"unreachable\"}"));
	es_error_clear(&perr);
	return ES_OK;
}

es_status
es_h_metrics(es_request *req, es_response *resp, es_error *err)
{
	es_buf b;

	(void) req;
	(void) err;
	es_buf_init(&b);
	es_metrics_render(&b, es_db_pool_size(), es_db_pool_available(),
					  (int) es_breaker_state_of(ES_BREAKER_EVENT_STORE),
					  (int) es_breaker_state_of(ES_BREAKER_QUERY_HANDLER));
	es_breaker_render(&b);
	es_retry_render(&b);
	es_metrics_render_sse(&b, es_events_subscribers());
	es_spool_render_metrics(&b);
	es_http_guard_render_metrics(&b);
	es_metrics_render_process(&b, ES_GATEWAY_VERSION);
	es_cache_render_metrics(&b);
	es_response_json(resp, 200, b.data);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return ES_OK;
}

es_status
es_h_openapi(es_request *req, es_response *resp, es_error *err)
{
	(void) req;
	(void) err;
	es_response_json(resp, 200, es_xstrdup(es_app_openapi()));
	return ES_OK;
}
