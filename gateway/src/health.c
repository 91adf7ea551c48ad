/*
 * health.c - /health, /health/live, /health/ready, /metrics and the
 * OpenAPI document.  Breakers are not built yet: their state is reported
 * as closed (0) so dashboards and probes already have the series.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "handlers.h"
#include "metrics.h"
#include "spool.h"
#include "util.h"

/* Body shared by /health answers. */
static char *
health_body(const char *status, const char *db)
{
	es_buf b;

	es_buf_init(&b);
	es_buf_printf(&b,
				  "{\"status\":\"%s\",\"database\":\"%s\","
				  "\"circuit_breakers\":{\"event_store\":\"closed\",\"query_handler\":\"closed\"},"
				  "\"pool\":{\"size\":%d,\"available\":%d}}",
				  status, db, es_db_pool_size(), es_db_pool_available());
	return b.data;
}

es_status
es_h_health(es_request *req, es_response *resp, es_error *err)
{
	es_error perr = {0};

	(void) req;
	(void) err;
	if (es_db_ping(&perr) == ES_OK)
		es_response_json(resp, 200, health_body("ok", "ok"));
	else
	{
		es_response_json(resp, 503, health_body("degraded", "unreachable"));
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
	es_metrics_render(&b, es_db_pool_size(), es_db_pool_available(), 0, 0);
	es_metrics_render_sse(&b, es_events_subscribers());
	es_spool_render_metrics(&b);
	es_http_guard_render_metrics(&b);
	es_metrics_render_process(&b, ES_GATEWAY_VERSION);
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
