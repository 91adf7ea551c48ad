/*-------------------------------------------------------------------------
 *
 * positions.c
 *	  Position allocation and the gap-safe read bound of a tenant's log.
 *
 * The problem: positions are taken before commit, and transactions commit
 * in any order.  A subscriber that read position 11 while 10 was still in
 * flight would checkpoint past 10 and never see it.
 *
 * The rules that solve it, without a tenant lock held across commit:
 *
 * 1. An appender takes the tenant's log lock, finds the highest position
 *	  whose row is visible to a dirty snapshot (committed or in progress;
 *	  aborted rows are invisible), inserts its rows at max + 1 onwards,
 *	  and releases the lock at once.  The lock covers microseconds of
 *	  allocation and insertion, never the commit flush, so appenders to
 *	  different streams commit in parallel.
 *
 * 2. A reader takes the same lock only to read that maximum (the bound),
 *	  so every position up to the bound already has its row in the index.
 *	  It then scans positions after its checkpoint up to the bound with a
 *	  dirty snapshot and stops at the first row whose inserter is still in
 *	  progress: nothing is returned past a position that may still commit.
 *	  Rows of aborted transactions are skipped; they are holes forever.
 *
 * 3. A position can be handed out again only if every row at or above it
 *	  aborted (allocation is max + 1 over non-aborted rows), and no reader
 *	  ever returned a position at or above an in-progress or aborted row,
 *	  so a reused number was never seen by anyone.
 *
 * With es_saas preloaded, the next position comes from a shared cache
 * (position_cache.c), read and advanced under the same lock once the rows
 * are in the index, so a reader may take a cached bound without the lock.
 * An aborted append forgets the entry, and the next allocation is again
 * max + 1 over non-aborted rows (rule 3); an entry set meanwhile by
 * another append leaves the aborted numbers as holes, which rule 2 skips.
 *
 * Hence positions are strictly increasing in the order readers see them,
 * and a reader that checkpoints the last position it saw never skips an
 * event.  Nothing here needs NOTIFY, triggers or shared memory, and the
 * counter lives with the tenant's rows (Citus-friendly).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "indexscan.h"
#include "locks.h"
#include "position_cache.h"
#include "positions.h"
#include "relation.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* Highest non-aborted position of tenant, seen through a dirty snapshot. */
static int64
max_position(const char *tenant)
{
	Relation heap = table_open(es_relid(ES_REL_EVENTS), AccessShareLock);
	Relation pkey = index_open(es_relid(ES_REL_EVENTS_PKEY), AccessShareLock);
	SnapshotData dirty;
	ScanKeyData	 key;
	int64		 result;

	InitDirtySnapshot(dirty);
	es_init_text_key(&key, 1, pkey, tenant);
	result = es_index_last_int8(heap, pkey, &key, 1, &dirty, 2, Anum_es_events_position);
	index_close(pkey, AccessShareLock);
	table_close(heap, AccessShareLock);
	return result;
}

/*
 * Take the tenant's log lock and return the first free position: from the
 * shared cache when es_saas is preloaded, else max + 1 over the index.
 */
int64
es_log_begin_append(const char *tenant)
{
	int64 next;

	es_lock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
	next = es_position_cache_get(es_relid(ES_REL_EVENTS), tenant);
	if (next == 0)
		next = max_position(tenant) + 1;
	return next;
}

/* The rows up to next - 1 are in the index: publish next, let others in. */
void
es_log_end_append(const char *tenant, int64 next)
{
	es_position_cache_set(es_relid(ES_REL_EVENTS), tenant, next);
	es_unlock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
}

/*
 * The reader's bound.  A cached value was published after its rows were
 * inserted, so it is safe to read without the lock; the partition LWLock
 * around it orders the reads after the appender's inserts.
 */
int64
es_log_safe_bound(const char *tenant)
{
	int64 next = es_position_cache_get(es_relid(ES_REL_EVENTS), tenant);

	if (next > 0)
		return next - 1;
	next = es_log_begin_append(tenant);
	es_log_end_append(tenant, next);
	return next - 1;
}
