/*
 * metrics.c - counters and fixed-bucket histograms in Prometheus text.
 *
 * Series are keyed by (method, endpoint[, status]); endpoints are route
 * templates so cardinality is bounded by the route table.  metrics_lock
 * guards every series list; rendering copies under the same lock.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
								 0.25,	0.5,	1,	   2.5,	 5,		10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* A labelled series; the first member of counter and histo. */
typedef struct series
{
	struct series *next;
	char		  *method, *endpoint;
	int			   status; /* counters only; 0 for histograms */
} series;

typedef struct counter
{
	series			   s;
	unsigned long long value;
} counter;

typedef struct histo
{
	series			   s;
	unsigned long long bucket[NBUCKETS];
	unsigned long long count;
	double			   sum;
} histo;

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static series		  *counters; /* counter list, guarded by metrics_lock */
static series		  *histos;	 /* histo list, guarded by metrics_lock */

/* The series with these labels in *list, added (zeroed, size bytes) when
 * missing.  Caller holds metrics_lock. */
static series *
find_or_add(series **list, size_t size, const char *method,
			const char *endpoint, int status)
{
	series *s;

	for (s = *list; s; s = s->next)
		if (s->status == status && !strcmp(s->method, method) &&
			!strcmp(s->endpoint, endpoint))
			return s;
	s = es_xcalloc(1, size);
	s->method = es_xstrdup(method);
	s->endpoint = es_xstrdup(endpoint);
	s->status = status;
	s->next = *list;
	*list = s;
	return s;
}

static void
free_list(series **list)
{
	while (*list)
	{
		series *n = (*list)->next;

		free((*list)->method);
		free((*list)->endpoint);
		free(*list);
		*list = n;
	}
}

void
es_metrics_observe(const char *method, const char *endpoint, int status, double seconds)
{
	counter *c;
	histo	*h;

	pthread_mutex_lock(&metrics_lock);
	c = (counter *) find_or_add(&counters, sizeof(counter), method, endpoint, status);
	c->value++;
	h = (histo *) find_or_add(&histos, sizeof(histo), method, endpoint, 0);
	for (size_t i = 0; i < NBUCKETS; i++)
		if (seconds <= buckets[i])
			h->bucket[i]++;
	h->count++;
	h->sum += seconds;
	pthread_mutex_unlock(&metrics_lock);
}

/* Label value escaping (\\, \", \n). */
static void
label(es_buf *b, const char *s)
{
	es_buf_append(b, "\"", 1);
	for (; *s; s++)
	{
		if (*s == '\\' || *s == '"')
		{
			es_buf_append(b, "\\", 1);
			es_buf_append(b, s, 1);
		}
		else if (*s == '\n')
			es_buf_append(b, "\\n", 2);
		else
			es_buf_append(b, s, 1);
	}
	es_buf_append(b, "\"", 1);
}

/* "{method=...,endpoint=..." (the caller closes the brace). */
static void
labels(es_buf *b, const series *s)
{
	es_buf_puts(b, "{method=");
	label(b, s->method);
	es_buf_puts(b, ",endpoint=");
	label(b, s->endpoint);
}

void
es_metrics_render(es_buf *b, int pool_size, int pool_available,
				  int breaker_event_store, int breaker_query_handler)
{
	pthread_mutex_lock(&metrics_lock);
	es_buf_puts(b, "# HELP http_requests_total HTTP requests by method, route template and status.\n"
				   "# TYPE http_requests_total counter\n");
	for (series *s = counters; s; s = s->next)
	{
		es_buf_puts(b, "http_requests_total");
		labels(b, s);
		es_buf_printf(b, ",status_code=\"%d\"} %llu\n", s->status,
					  ((counter *) s)->value);
	}
	es_buf_puts(b, "# HELP http_request_duration_seconds HTTP request latency by method and route template.\n"
				   "# TYPE http_request_duration_seconds histogram\n");
	for (series *s = histos; s; s = s->next)
	{
		const histo *h = (const histo *) s;

		for (size_t i = 0; i < NBUCKETS; i++)
		{
			es_buf_puts(b, "http_request_duration_seconds_bucket");
			labels(b, s);
			es_buf_printf(b, ",le=\"%g\"} %llu\n", buckets[i], h->bucket[i]);
		}
		es_buf_puts(b, "http_request_duration_seconds_bucket");
		labels(b, s);
		es_buf_printf(b, ",le=\"+Inf\"} %llu\n", h->count);
		es_buf_puts(b, "http_request_duration_seconds_sum");
		labels(b, s);
		es_buf_printf(b, "} %.9f\n", h->sum);
		es_buf_puts(b, "http_request_duration_seconds_count");
		labels(b, s);
		es_buf_printf(b, "} %llu\n", h->count);
	}
	pthread_mutex_unlock(&metrics_lock);
	es_buf_printf(b,
				  "# HELP circuit_breaker_state Circuit breaker state (0 closed, 1 half-open, 2 open).\n"
				  "# TYPE circuit_breaker_state gauge\n"
				  "circuit_breaker_state{service=\"event_store\"} %d\n"
				  "circuit_breaker_state{service=\"query_handler\"} %d\n"
				  "# HELP db_pool_size Configured database connections.\n"
				  "# TYPE db_pool_size gauge\n"
				  "db_pool_size %d\n"
				  "# HELP db_pool_available Idle database connections.\n"
				  "# TYPE db_pool_available gauge\n"
				  "db_pool_available %d\n",
				  breaker_event_store, breaker_query_handler, pool_size,
				  pool_available);
}

void
es_metrics_reset(void)
{
	pthread_mutex_lock(&metrics_lock);
	free_list(&counters);
	free_list(&histos);
	pthread_mutex_unlock(&metrics_lock);
}
