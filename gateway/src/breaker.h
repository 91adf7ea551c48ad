/*
 * breaker.h - circuit breakers per service (event_store, query_handler).
 *
 * closed -> open after failure_threshold consecutive infrastructure
 * failures; open refuses every call (fail fast, Retry-After = seconds until
 * the next probe) for open_seconds; then half-open lets half_open_probes
 * calls through: all succeed -> closed, one fails -> open again.  Only the
 * caller decides what is an infrastructure failure (db.c).  Every allowed
 * call must be followed by exactly one es_breaker_record().
 * Thread-safe: one mutex guards all breakers.
 */
#ifndef ES_BREAKER_H
#define ES_BREAKER_H

#include "util.h"

typedef enum es_breaker_id
{
	ES_BREAKER_EVENT_STORE = 0,
	ES_BREAKER_QUERY_HANDLER = 1,
	ES_BREAKER_COUNT
} es_breaker_id;

/* numeric values are the circuit_breaker_state gauge */
typedef enum es_breaker_state
{
	ES_BREAKER_CLOSED = 0,
	ES_BREAKER_HALF_OPEN = 1,
	ES_BREAKER_OPEN = 2
} es_breaker_state;

typedef enum es_breaker_outcome
{
	ES_BREAKER_SUCCESS,	 /* the server answered (ESnnn errors included) */
	ES_BREAKER_FAILURE,	 /* infrastructure failure */
	ES_BREAKER_ABANDONED /* neither: release a probe slot, change nothing */
} es_breaker_outcome;

/* Thresholds; also resets the breaker to closed. */
void es_breaker_configure(es_breaker_id b, int failure_threshold,
						  int open_seconds, int half_open_probes);

/* 1: the call may go ahead (*probe = 1 when it is a half-open probe);
 * 0: refused, *retry_after = whole seconds until the next probe (>= 1). */
int es_breaker_allow(es_breaker_id b, int *probe, int *retry_after);

void es_breaker_record(es_breaker_id b, int probe, es_breaker_outcome outcome);

/* Current state (an open breaker whose period is over reads half-open). */
es_breaker_state es_breaker_state_of(es_breaker_id b);

const char *es_breaker_name(es_breaker_id b);
const char *es_breaker_state_name(es_breaker_state s);

/* es_gateway_circuit_breaker_transitions_total{service,from,to} */
void es_breaker_render(es_buf *out);

/* Tests: replace the monotonic clock (milliseconds); NULL restores it. */
void es_breaker_set_clock(long long (*now_ms)(void));

#endif
