/*
 * retry.h - the database retry policy: which failures may be retried,
 * exponential backoff with jitter, per-call deadlines, retry metrics and
 * gateway-generated command ids.
 *
 * Pure policy (no I/O but the metric counters): db.c asks what to do and
 * sleeps.  A failure is retried only when the attempt surely did not
 * commit (connection never made, the server reported an error, which
 * aborts the pipelined transaction) or when the outcome is unknown and
 * the call is idempotent (reads; commands carrying an id).
 */
#ifndef ES_RETRY_H
#define ES_RETRY_H

#include "util.h"

typedef struct es_retry_policy
{
	int max_retries;
	int initial_backoff_ms;
	int multiplier;
} es_retry_policy;

/* How one failed attempt ended. */
typedef enum es_attempt_end
{
	ES_ATTEMPT_NOT_SENT,	 /* connection could not be opened: nothing sent */
	ES_ATTEMPT_SERVER_ERROR, /* the server answered with an error: rolled back
							  */
	ES_ATTEMPT_LOST,		 /* connection lost, outcome unknown */
	ES_ATTEMPT_TIMEOUT,		 /* deadline passed (cancelled) */
	ES_ATTEMPT_POOL			 /* no free pool connection in time */
} es_attempt_end;

/* Reason label for a retryable failure, NULL when not retryable.
 * sqlstate may be NULL; idempotent says a repeat cannot duplicate. */
const char *es_retry_reason(es_attempt_end end, const char *sqlstate, int idempotent);

/* Whether the failure counts against a circuit breaker (infrastructure:
 * lost/refused connection, timeout, admin shutdown, too many connections,
 * pool exhausted; never ESnnn or other client errors). */
int es_retry_is_infra(es_attempt_end end, const char *sqlstate);

/* Backoff before retry number n (1-based): initial * multiplier^(n-1),
 * jittered uniformly within +-25 %, from *seed (rand_r). */
long long es_retry_backoff_ms(const es_retry_policy *p, int n, unsigned int *seed);

/* es_gateway_db_retries_total{service,reason} */
void es_retry_count(const char *service, const char *reason);
void es_retry_render(es_buf *out);

/* A random (version 4) UUID, lowercase, from the kernel's CSPRNG. */
void es_uuid_generate(char out[37]);

#endif
