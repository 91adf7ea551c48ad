/*-------------------------------------------------------------------------
 *
 * log.h
 *	  Position allocation and the gap-safe read bound of a tenant's log.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_LOG_H
#define ES_LOG_H

#include "postgres.h"

/* Take the tenant's log lock and return the first free position. */
extern int64 es_log_begin_append(const char *tenant);

/* Release the log lock once the new rows are in the heap and indexes. */
extern void es_log_end_append(const char *tenant, int64 next);

/* Highest position whose row exists now, committed or in progress. */
extern int64 es_log_safe_bound(const char *tenant);

#endif							/* ES_LOG_H */
