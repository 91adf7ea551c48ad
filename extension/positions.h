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

#include "position_cache.h"

/* A reader's bound and what it holds for (positions.c, rules 2 and 4). */
typedef struct EsLogBound
{
	int64			bound;
	bool			shared;
	EsPositionEpoch epoch;
} EsLogBound;

/* The first of nevents free positions, reserved for the caller's rows. */
extern int64 es_log_begin_append(const char *tenant, int nevents);

/* The new rows are in the heap and indexes. */
extern void es_log_end_append(const char *tenant);

/* Inserting the rows failed (before the error is rethrown). */
extern void es_log_cancel_append(void);

/* Highest position every smaller committing row of which is in the index. */
extern void es_log_safe_bound(const char *tenant, EsLogBound *bound);

/* False when the scan must stop before the row it just fetched (rule 4). */
extern bool es_log_bound_holds(const EsLogBound *bound);

#endif /* ES_POSITIONS_H */
