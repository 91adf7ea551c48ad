/*-------------------------------------------------------------------------
 *
 * position_cache.h
 *	  Shared-memory allocation of log positions (es_saas preloaded): one
 *	  atomic counter per tenant and one "positions in flight" slot per
 *	  backend.  The protocol and its correctness argument are in
 *	  positions.c; this module only keeps the shared state.
 *
 * Only present when es_saas is in shared_preload_libraries; without it
 * es_position_cache_enabled() is false and nothing here is called.
 * Counter entries may vanish at any time (a full table starts over, a
 * purge or a foreign row forgets its tenant); a miss means "rebuild".
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_POSITION_CACHE_H
#define ES_POSITION_CACHE_H

#include "postgres.h"

extern int es_position_cache_size;

/* What a reader's bound was computed against (see positions.c, rule 4). */
typedef struct EsPositionEpoch
{
	int	   index;
	uint64 value;
} EsPositionEpoch;

/* from _PG_init: the GUC and, when preloading, the shared memory */
extern void es_position_cache_init(void);

extern bool es_position_cache_enabled(void);

/*
 * Publish this backend's in-flight slot for tenant, then reserve n
 * positions from its counter; false (nothing published) when the tenant
 * has no counter.
 */
extern bool es_position_cache_reserve(Oid events_relid, const char *tenant,
									  int n, int64 *first);

/* Clear this backend's in-flight slot (its rows are in the index). */
extern void es_position_cache_release(void);

/*
 * min(counter, lowest in-flight position of tenant) - 1 into *bound and
 * the epoch it holds for; false when the tenant has no counter.
 */
extern bool es_position_cache_bound(Oid events_relid, const char *tenant,
									int64 *bound, EsPositionEpoch *epoch);

/* False once a counter of the epoch's tenants was rebuilt since. */
extern bool es_position_cache_epoch_holds(const EsPositionEpoch *epoch);

/* Rebuild, under the tenant's log lock: is the counter there? */
extern bool es_position_cache_exists(Oid events_relid, const char *tenant);

/* Rebuild, under the tenant's log lock: one past the in-flight slots. */
extern int64 es_position_cache_in_flight_end(Oid events_relid, const char *tenant);

/* Rebuild: create the counter at next unless it exists. */
extern void es_position_cache_install(Oid events_relid, const char *tenant, int64 next);

extern void es_position_cache_forget(Oid events_relid, const char *tenant);

#endif /* ES_POSITION_CACHE_H */
