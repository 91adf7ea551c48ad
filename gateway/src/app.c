/*
 * app.c - owner of the process-wide state (see app.h for the contract).
 * Immutable after es_app_init; the two lifecycle fields are atomics.
 */
#include "app.h"

#include <stdlib.h>
#include <string.h>

static struct
{
	es_config cfg;		/* immutable after es_app_init */
	es_auth	 *auth;		/* immutable after es_app_init */
	char	 *openapi;	/* immutable after es_app_init */
	int		  stopping; /* __atomic builtins only */
	int		  inflight; /* __atomic builtins only */
} app;

void
es_app_init(es_config *cfg, es_auth *auth, char *openapi)
{
	app.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	app.auth = auth;
	app.openapi = openapi;
	app.stopping = 0;
	app.inflight = 0;
}

void
es_app_free(void)
{
	free(app.openapi);
	app.openapi = NULL;
	es_auth_free(app.auth);
	app.auth = NULL;
	es_config_free(&app.cfg);
}

const es_config *
es_app_config(void)
{
	return &app.cfg;
}

const es_auth *
es_app_auth(void)
{
	return app.auth;
}

const char *
es_app_openapi(void)
{
	return app.openapi;
}

void
es_app_set_stopping(void)
{
	__atomic_store_n(&app.stopping, 1, __ATOMIC_RELEASE);
}

int
es_app_stopping(void)
{
	return __atomic_load_n(&app.stopping, __ATOMIC_ACQUIRE);
}

void
es_app_inflight_add(int delta)
{
	__atomic_add_fetch(&app.inflight, delta, __ATOMIC_ACQ_REL);
}

int
es_app_inflight(void)
{
	return __atomic_load_n(&app.inflight, __ATOMIC_ACQUIRE);
}
