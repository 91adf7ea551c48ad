/*
 * app.h - process-wide state shared by handlers: the effective config and
 * the JWT verifier (both read-only after startup), the OpenAPI document
 * (built once), and the lifecycle flag (atomic).
 */
#ifndef ES_APP_H
#define ES_APP_H

#include "auth.h"
#include "config.h"
#include "http.h"

typedef struct es_app {
	es_config cfg;
	es_auth *auth;
	char *openapi;
	volatile int stopping; /* accessed with __atomic builtins */
	volatile int inflight; /* requests inside dispatch; __atomic builtins */
} es_app;

extern es_app es_g_app;

static inline int
es_app_stopping(void)
{
	return __atomic_load_n(&es_g_app.stopping, __ATOMIC_ACQUIRE);
}

/* Handlers: parse -> db call -> render; they never write HTTP themselves
 * (except the SSE stream, which returns ES_STREAMED). */
es_status es_h_create_tenant(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_get_tenant(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_execute_command(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_get_command(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_execute_query(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_read_stream(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_read_events(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_health(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_live(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_ready(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_metrics(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_openapi(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;

/* SSE notification listener (LISTEN es_saas_events). */
es_status es_events_start(void) ES_MUSTCHECK;
void es_events_stop(void);

#endif
