/*-------------------------------------------------------------------------
 *
 * positions.h
 *	  Position allocation and the gap-safe read bound of a tenant's log
 *	  (storage layer; the rules are in positions.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_POSITIONS_H
#define ES_POSITIONS_H

#include "postgres.h"

/* Take the tenant's log lock and return the first free position. */
extern int64 es_log_begin_append(const char *tenant);

/* Release the log lock once the new rows are in the heap and indexes. */
extern void es_log_end_append(const char *tenant, int64 next);

/* Highest position whose row exists now, committed or in progress. */
extern int64 es_log_safe_bound(const char *tenant);

#endif /* ES_POSITIONS_H */
