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
								 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

typedef struct counter {
	struct counter *next;
	char *method, *endpoint;
	int status;
	unsigned long long value;
} counter;

typedef struct histo {
	struct histo *next;
	char *method, *endpoint;
	unsigned long long bucket[NBUCKETS];
	unsigned long long count;
	double sum;
} histo;

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static counter *counters;  /* guarded by metrics_lock */
static histo *histos;      /* guarded by metrics_lock */

void
es_metrics_observe(const char *method, const char *endpoint, int status, double seconds)
{
	counter *c;
	histo *h;

	pthread_mutex_lock(&metrics_lock);
	for (c = counters; c; c = c->next)
		if (c->status == status && !strcmp(c->method, method) && !strcmp(c->endpoint, endpoint))
			break;
	if (c == NULL)
	{
		c = es_xcalloc(1, sizeof(*c));
		c->method = es_xstrdup(method);
		c->endpoint = es_xstrdup(endpoint);
		c->status = status;
		c->next = counters;
		counters = c;
	}
	c->value++;
	for (h = histos; h; h = h->next)
		if (!strcmp(h->method, method) && !strcmp(h->endpoint, endpoint))
			break;
	if (h == NULL)
	{
		h = es_xcalloc(1, sizeof(*h));
		h->method = es_xstrdup(method);
		h->endpoint = es_xstrdup(endpoint);
		h->next = histos;
		histos = h;
	}
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

void
es_metrics_render(es_buf *b, int pool_size, int pool_available,
				  int breaker_event_store, int breaker_query_handler)
{
	pthread_mutex_lock(&metrics_lock);
	es_buf_puts(b, "# HELP http_requests_total HTTP requests by method, route template and status.\n"
				   "# TYPE http_requests_total counter\n");
	for (counter *c = counters; c; c = c->next)
	{
		es_buf_puts(b, "http_requests_total{method=");
		label(b, c->method);
		es_buf_puts(b, ",endpoint=");
		label(b, c->endpoint);
		es_buf_printf(b, ",status_code=\"%d\"} %llu\n", c->status, c->value);
	}
	es_buf_puts(b, "# HELP http_request_duration_seconds HTTP request latency by method and route template.\n"
				   "# TYPE http_request_duration_seconds histogram\n");
	for (histo *h = histos; h; h = h->next)
	{
		for (size_t i = 0; i < NBUCKETS; i++)
		{
			es_buf_puts(b, "http_request_duration_seconds_bucket{method=");
			label(b, h->method);
			es_buf_puts(b, ",endpoint=");
			label(b, h->endpoint);
			es_buf_printf(b, ",le=\"%g\"} %llu\n", buckets[i], h->bucket[i]);
		}
		es_buf_puts(b, "http_request_duration_seconds_bucket{method=");
		label(b, h->method);
		es_buf_puts(b, ",endpoint=");
		label(b, h->endpoint);
		es_buf_printf(b, ",le=\"+Inf\"} %llu\n", h->count);
		es_buf_puts(b, "http_request_duration_seconds_sum{method=");
		label(b, h->method);
		es_buf_puts(b, ",endpoint=");
		label(b, h->endpoint);
		es_buf_printf(b, "} %.9f\n", h->sum);
		es_buf_puts(b, "http_request_duration_seconds_count{method=");
		label(b, h->method);
		es_buf_puts(b, ",endpoint=");
		label(b, h->endpoint);
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
				  breaker_event_store, breaker_query_handler, pool_size, pool_available);
}

void
es_metrics_reset(void)
{
	pthread_mutex_lock(&metrics_lock);
	while (counters)
	{
		counter *n = counters->next;
		free(counters->method);
		free(counters->endpoint);
		free(counters);
		counters = n;
	}
	while (histos)
	{
		histo *n = histos->next;
		free(histos->method);
		free(histos->endpoint);
		free(histos);
		histos = n;
	}
	pthread_mutex_unlock(&metrics_lock);
}
