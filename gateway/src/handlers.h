/*
 * handlers.h - the route handlers and the SSE notification listener.
 *
 * A handler validates its input, calls the database through db.h and fills
 * either resp (status + body) or err (status + error value); it never
 * writes HTTP itself -- the pipeline renders both through http.h.  The
 * one exception is the SSE stream, which returns ES_STREAMED after writing
 * the stream through http.h's streaming calls.
 */
#ifndef ES_HANDLERS_H
#define ES_HANDLERS_H

#include "http.h"

es_status es_h_create_tenant(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_get_tenant(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_execute_command(es_request *req, es_response *resp,
							   es_error *err) ES_MUSTCHECK;
es_status es_h_get_command(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
/* es_execute(tenant, body || {"id": id}): the spool's replay callback. */
es_status es_command_apply(const char *tenant, const char *id,
						   const char *body, es_error *err) ES_MUSTCHECK;
es_status es_h_execute_query(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_read_stream(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_read_events(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_health(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_live(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_ready(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_metrics(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;
es_status es_h_openapi(es_request *req, es_response *resp, es_error *err) ES_MUSTCHECK;

/* SSE notification listener (LISTEN es_saas_events); started by main
 * after the database pool, stopped on drain. */
es_status es_events_start(void) ES_MUSTCHECK;
void	  es_events_stop(void);
/* Live SSE subscriptions connected now (admitted and not yet ended). */
int es_events_subscribers(void);

#endif
