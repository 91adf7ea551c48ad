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

/* Free everything (shutdown, tests). */
void es_metrics_reset(void);

#endif
