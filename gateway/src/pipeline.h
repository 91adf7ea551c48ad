/*
 * pipeline.h - the request pipeline civetweb calls for every request:
 * route -> admit -> auth -> body -> handler (-> db) -> render -> observe.
 */
#ifndef ES_PIPELINE_H
#define ES_PIPELINE_H

#include <civetweb.h>

/* civetweb request handler for "/"; returns the HTTP status sent. */
int es_pipeline_dispatch(struct mg_connection *conn, void *cbdata);

/* civetweb's own errors (bad request line, headers too large) as JSON. */
int es_pipeline_http_error(struct mg_connection *conn, int status, const char *msg);

/* civetweb's connection_close hook: a request civetweb dropped without an
 * answer ("*" or an absolute-form target) gets 400 malformed_request. */
void es_pipeline_connection_close(const struct mg_connection *conn);

#endif
