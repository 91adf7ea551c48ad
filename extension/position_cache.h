/*-------------------------------------------------------------------------
 *
 * position_cache.h
 *	  Shared-memory cache of each tenant's next log position.
 *
 * Only present when es_saas is in shared_preload_libraries; every function
 * is a no-op (lookups miss) otherwise.  An entry is read and written only
 * by the holder of the tenant's log lock; entries may vanish at any time,
 * and a miss means "compute it from the index".
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_POSITION_CACHE_H
#define ES_POSITION_CACHE_H

#include "postgres.h"

extern int es_position_cache_size;

/* from _PG_init: the GUC and, when preloading, the shared memory */
extern void es_position_cache_init(void);

/* 0 when the tenant has no entry (or there is no cache) */
extern int64 es_position_cache_get(Oid events_relid, const char *tenant);
extern void es_position_cache_set(Oid events_relid, const char *tenant, int64 next);
extern void es_position_cache_forget(Oid events_relid, const char *tenant);

#endif /* ES_POSITION_CACHE_H */
