/*
 * app.h - process-wide state of the running gateway: the effective config,
 * the JWT verifier and the OpenAPI document, plus the lifecycle counters.
 *
 * Lock discipline: es_app_init() runs once in main before any thread is
 * created and takes ownership of what it is given; from then on config,
 * verifier and document are immutable, so readers need no lock.  The
 * stopping flag and the in-flight count are the only mutable fields and
 * are touched only with __atomic builtins.  es_app_free() runs after every
 * worker thread has stopped.  This module depends on config and auth only,
 * so handlers may use it without reaching back into main.
 */
#ifndef ES_APP_H
#define ES_APP_H

#include "auth.h"
#include "config.h"

/* the gateway's version: --version, OpenAPI info, es_gateway_build_info */
#define ES_GATEWAY_VERSION "0.1.0"

/* Take ownership of cfg (moved: *cfg is zeroed), auth and openapi. */
void es_app_init(es_config *cfg, es_auth *auth, char *openapi);
void es_app_free(void);

const es_config *es_app_config(void);
const es_auth	*es_app_auth(void);
const char		*es_app_openapi(void);

/* Lifecycle: set once on SIGTERM/SIGINT; read by readiness and SSE loops. */
void es_app_set_stopping(void);
int	 es_app_stopping(void);

/* Requests inside the pipeline: +1 on entry, -1 on exit (the drain waits
 * for zero). */
void es_app_inflight_add(int delta);
int	 es_app_inflight(void);

#endif
