/*
 * db.h - libpq connection pool and the single database call choke point.
 *
 * Every statement the gateway runs goes through es_db_call(): check out a
 * connection, run BEGIN; set_config('statement_timeout', ..., true);
 * <fixed parameterised statement>; COMMIT as one pipelined round trip,
 * classify errors, return the connection.  Around each attempt: the
 * service's circuit breaker (breaker.h), retries with backoff inside the
 * call's deadline (retry.h), a stale-connection check at checkout.
 */
#ifndef ES_DB_H
#define ES_DB_H

#include <libpq-fe.h>

#include "errors.h"

typedef enum es_db_service
{
	ES_SVC_EVENT_STORE,	  /* commands, tenant writes */
	ES_SVC_QUERY_HANDLER, /* queries and reads */
	ES_SVC_HEALTH,		  /* pings: never counted by breakers */
	ES_SVC_LIVE			  /* live SSE polls: no breaker, no retry */
} es_db_service;

/* A fixed statement; the text never contains user input. */
typedef struct es_stmt
{
	const char *name; /* for logs */
	const char *sql;
	int			nparams;
} es_stmt;

typedef struct es_db_options
{
	const char *conninfo;
	int			pool_size;
	int			wait_ms;			  /* wait for a free connection */
	int			statement_timeout_ms; /* SET LOCAL statement_timeout */
	int command_timeout_ms; /* whole event_store call, retries included */
	int query_timeout_ms;	/* whole query_handler call */
	int max_retries, initial_backoff_ms, multiplier;
	int es_failure_threshold, es_open_seconds, es_half_open_probes;
	int qh_failure_threshold, qh_open_seconds, qh_half_open_probes;
} es_db_options;

es_status es_db_init(const es_db_options *opt) ES_MUSTCHECK;
void	  es_db_shutdown(void);

/* Run one statement.  On ES_OK *out holds the tuples result (caller
 * PQclear's it).  On ES_FAIL err is mapped from the SQLSTATE. */
es_status es_db_call(es_db_service svc, const es_stmt *stmt, const char *const *params,
					 PGresult **out, es_error *err) ES_MUSTCHECK;

/* es_db_call for a call that repeating cannot duplicate (a command that
 * carries its id: es_execute returns the stored result): retried even when
 * the connection is lost with the outcome unknown.  Reads always are. */
es_status es_db_call_idempotent(es_db_service svc, const es_stmt *stmt,
								const char *const *params, PGresult **out,
								es_error *err) ES_MUSTCHECK;
es_status es_db_call_text_idempotent(es_db_service svc, const es_stmt *stmt,
									 const char *const *params, char **value,
									 es_error *err) ES_MUSTCHECK;

/* Convenience: one row, one text column; *value malloc'd or NULL for SQL NULL.
 */
es_status es_db_call_text(es_db_service svc, const es_stmt *stmt,
						  const char *const *params, char **value,
						  es_error *err) ES_MUSTCHECK;

/* Live ping (SELECT 1) through the same path. */
es_status es_db_ping(es_error *err) ES_MUSTCHECK;

int es_db_pool_size(void);
int es_db_pool_available(void);

/* Open a dedicated (non-pool) connection, e.g. for LISTEN. */
PGconn *es_db_connect_dedicated(void);

#endif
