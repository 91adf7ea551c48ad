/*
 * metrics.h - Prometheus metrics with contract names.  All state lives in
 * metrics.c behind one mutex.
 */
#ifndef ES_METRICS_H
#define ES_METRICS_H

#include "util.h"

/* Record one finished request; endpoint must be a route template (or
 * "unmatched"); strings are copied on first use. */
void es_metrics_observe(const char *method, const char *endpoint, int status,
						double seconds);

/* Render the exposition text (pool numbers and breaker states passed in). */
void es_metrics_render(es_buf *out, int pool_size, int pool_available,
					   int breaker_event_store, int breaker_query_handler);

/* The live SSE subscriptions gauge (es_gateway_sse_subscribers): the
 * count of subscriptions connected right now. */
void es_metrics_render_sse(es_buf *out, int subscribers);

/* The conventional process_* metrics read from /proc/self (CPU, memory,
 * file descriptors, start time) and es_gateway_build_info{version} 1. */
void es_metrics_render_process(es_buf *out, const char *version);

/* Free everything (shutdown, tests). */
void es_metrics_reset(void);

#endif
