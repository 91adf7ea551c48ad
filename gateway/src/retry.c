/*
 * retry.c - retry policy, backoff with jitter, retry counters, command ids
 * (see retry.h).  Counters: one mutex, fixed label sets.
 */
#include "retry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char *const services[] = {"event_store", "query_handler"};
static const char *const reasons[] = {"connection", "admin_shutdown",
									  "too_many_connections", "serialization",
									  "deadlock"};

#define NSERVICES (sizeof(services) / sizeof(services[0]))
#define NREASONS  (sizeof(reasons) / sizeof(reasons[0]))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long long	   counts[NSERVICES][NREASONS]; /* guarded by lock */

static int
is_class(const char *sqlstate, const char *cls)
{
	return sqlstate != NULL && strncmp(sqlstate, cls, 2) == 0;
}

static int
is_state(const char *sqlstate, const char *s)
{
	return sqlstate != NULL && strcmp(sqlstate, s) == 0;
}

const char *
es_retry_reason(es_attempt_end end, const char *sqlstate, int idempotent)
{
	switch (end)
	{
		case ES_ATTEMPT_NOT_SENT:
			return "connection";
		case ES_ATTEMPT_LOST:
			return idempotent ? "connection" : NULL;
		case ES_ATTEMPT_TIMEOUT:
		case ES_ATTEMPT_POOL:
			return NULL; /* the deadline or the pool wait is already spent */
		case ES_ATTEMPT_SERVER_ERROR:
			/* an error inside the pipeline aborts the transaction: the
			 * statement did not commit, whatever it was */
			if (is_class(sqlstate, "08"))
				return "connection";
			if (is_state(sqlstate, "57P01") || is_state(sqlstate, "57P02") ||
				is_state(sqlstate, "57P03"))
				return "admin_shutdown";
			if (is_state(sqlstate, "53300"))
				return "too_many_connections";
			if (is_state(sqlstate, "40001"))
				return "serialization";
			if (is_state(sqlstate, "40P01"))
				return "deadlock";
			return NULL;
	}
	return NULL;
}

int
es_retry_is_infra(es_attempt_end end, const char *sqlstate)
{
	if (end != ES_ATTEMPT_SERVER_ERROR)
		return 1;
	return is_class(sqlstate, "08") || is_class(sqlstate, "53") ||
		   is_state(sqlstate, "57P01") || is_state(sqlstate, "57P02") ||
		   is_state(sqlstate, "57P03") || is_state(sqlstate, "57014");
}

long long
es_retry_backoff_ms(const es_retry_policy *p, int n, unsigned int *seed)
{
	double base = p->initial_backoff_ms;
	double j;

	for (int i = 1; i < n && base < 3600000.0; i++)
		base *= p->multiplier;
	if (base > 3600000.0)
		base = 3600000.0;
	/* +-25 %: replicas that failed together do not retry in lockstep */
	j = 0.75 + 0.5 * ((double) rand_r(seed) / (double) RAND_MAX);
	return (long long) (base * j);
}

void
es_retry_count(const char *service, const char *reason)
{
	for (size_t s = 0; s < NSERVICES; s++)
		for (size_t r = 0; r < NREASONS; r++)
			if (strcmp(services[s], service) == 0 && strcmp(reasons[r], reason) == 0)
			{
				pthread_mutex_lock(&lock);
				counts[s][r]++;
				pthread_mutex_unlock(&lock);
				return;
			}
}

void
es_retry_render(es_buf *out)
{
	long long c[NSERVICES][NREASONS];

	pthread_mutex_lock(&lock);
	memcpy(c, counts, sizeof(c));
	pthread_mutex_unlock(&lock);
	es_buf_printf(out, "# HELP es_gateway_db_retries_total Database calls retried, by "
					   "service and reason.\n"
					   "# TYPE es_gateway_db_retries_total counter\n");
	for (size_t s = 0; s < NSERVICES; s++)
		for (size_t r = 0; r < NREASONS; r++)
			es_buf_printf(out, "es_gateway_db_retries_total{service=\"%s\",reason=\"%s\"} %lld\n",
						  services[s], reasons[r], c[s][r]);
}

void
es_uuid_generate(char out[37])
{
	unsigned char b[16];
	size_t		  got = 0;

	while (got < sizeof(b))
	{
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n > 0)
			got += (size_t) n;
	}
	b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
			 b[11], b[12], b[13], b[14], b[15]);
}
