/*-------------------------------------------------------------------------
 *
 * positions.c
 *	  Position allocation and the gap-safe read bound of a tenant's log.
 *
 * The problem: positions are taken before commit, and transactions commit
 * in any order.  A subscriber that read position 11 while 10 was still in
 * flight would checkpoint past 10 and never see 10.
 *
 * What every design below guarantees: a reader never returns a position
 * while a smaller one of the same tenant may still commit, so positions
 * are strictly increasing in the order readers see them and a subscriber
 * that checkpoints the last position it saw never skips an event.  Both
 * rest on the reader's scan (read.c): it scans positions after its
 * checkpoint up to a bound with a dirty snapshot and stops at the first
 * row whose inserter is still in progress; rows of aborted transactions
 * are skipped (holes).  So the bound only has to satisfy:
 *
 *	(B) every position <= bound that may still commit has its row in the
 *		index when the scan reaches it.
 *
 * Without es_saas preloaded, an appender takes the tenant's log lock, finds
 * the highest position whose row is visible to a dirty snapshot
 * (committed or in progress; aborted rows are invisible), inserts its rows
 * at max + 1 onwards, and releases the lock at once: the lock covers the
 * insertion, never the commit flush.  A reader takes the same lock to read
 * that maximum, so (B) holds.  A number is handed out again only if every
 * row at or above it aborted, and no reader returned a position at or
 * above an in-progress or aborted row, so a reused number was never seen.
 *
 * With es_saas preloaded (position_cache.c), no writer waits for another
 * writer of the tenant, only for the same stream (the stream lock):
 *
 * 1. Reserve: under the counter's partition LWLock (shared), the appender
 *	  publishes in its backend's slot the tenant's tag and low = the counter
 *	  as read now, then fetch-adds the counter (a full barrier) and gets
 *	  first >= low, then records end = first + n.  It inserts its rows and
 *	  clears the slot once they are in the index (or on error, abort or
 *	  exit, when they can never commit).  Numbers come only from fetch-add,
 *	  so a counter never hands out a number twice; an aborted reservation
 *	  is a hole forever.
 *
 * 2. Bound: a reader reads the counter c (with the epoch, rule 4), then
 *	  a barrier, then every slot: bound = min(c, lowest low of the tenant)
 *	  - 1.  Why (B): take p <= bound < c that may still commit and whose row
 *	  is not in the index.  p was reserved by a fetch-add that happens before
 *	  the read of c: on this counter (it only grows by fetch-add, so the
 *	  fetch-add that moved it past p came before), or on a removed one whose
 *	  live reservations the rebuild of this counter saw in their slots (rule
 *	  3); a p that was dead at that rebuild can only be handed out again by
 *	  a later rebuild (rule 4).  The slot was published before that
 *	  fetch-add, so the reader, reading slots after c behind a barrier, sees
 *	  it or a later state of it: cleared, hence p's row is in the index or
 *	  can never commit; reused, hence cleared before.  Had it seen the slot,
 *	  low <= p would put the bound below p.  A writer that publishes after
 *	  the slot scan takes its fetch-add after the read of c, so it gets a
 *	  position >= c > bound.  A torn read of a slot (low of one reservation,
 *	  tag of the next) only lowers some bound.
 *
 * 3. Rebuild: a missing counter (never built, evicted when the table is
 *	  full, forgotten by a purge, a new es_create_tenant or a foreign row)
 *	  is rebuilt under the tenant's log lock, the only place it is still
 *	  taken: first the ends of the tenant's live slots (every reservation
 *	  from a removed counter recorded its end before the removal, which
 *	  needs the partition lock exclusively), then the index maximum over
 *	  non-aborted rows (slots cleared before the slot scan have their rows
 *	  in it), next = one past both.  So it never hands out a number that a
 *	  live reservation or a non-aborted row holds; it may hand out again
 *	  numbers above all of them (aborted holes at the top).  A foreign row
 *	  (not written by es_append) that a counter collides with gives 40001
 *	  and forgets the counter; the retry rebuilds above the row.
 *
 * 4. Epoch: a reused number p is only a danger to a reader that read c > p
 *	  from the counter before the rebuild: after it, p and a later q > p
 *	  may be reserved from the new counter, q committed first, and the
 *	  reader return q past the not yet inserted p.  Every rebuild bumps an
 *	  epoch before its counter is visible, and the reader stops at the
 *	  first row it fetches after the epoch moved.  Such a q was reserved
 *	  from the new counter (a q from an older one is below every rebuilt
 *	  counter, so no p < q is reused), hence inserted after the bump and
 *	  fetched after it: the reader stops before q.  Rows it returned
 *	  before the bump still satisfy (B).
 *
 * Nothing here needs NOTIFY or triggers, and positions are assigned per
 * tenant (no cluster-wide sequence: Citus-friendly).
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
	/* kept to commit: the append that follows locks the same relations */
	index_close(pkey, NoLock);
	table_close(heap, NoLock);
	return result;
}

/* Rule 3: create a missing counter under the log lock. */
static void
rebuild_counter(Oid relid, const char *tenant)
{
	int64 in_flight;
	int64 next;

	es_lock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
	/* only rebuilders create counters: missing now, missing until installed */
	if (!es_position_cache_exists(relid, tenant))
	{
		/* slots before the index: a slot cleared meanwhile has its rows there
		 */
		in_flight = es_position_cache_in_flight_end(relid, tenant);
		next = max_position(tenant) + 1;
		es_position_cache_install(relid, tenant, Max(next, in_flight));
	}
	es_unlock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
}

/*
 * The first of nevents positions for the caller's rows: reserved from the
 * shared counter when es_saas is preloaded, else max + 1 under the log
 * lock, which the caller then holds.
 */
int64
es_log_begin_append(const char *tenant, int nevents)
{
	Oid	  relid = es_relid(ES_REL_EVENTS);
	int64 first;

	if (!es_position_cache_enabled())
	{
		es_lock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
		return max_position(tenant) + 1;
	}
	while (!es_position_cache_reserve(relid, tenant, nevents, &first))
		rebuild_counter(relid, tenant);
	return first;
}

/* The rows are in the heap and indexes: let readers past them. */
void
es_log_end_append(const char *tenant)
{
	if (es_position_cache_enabled())
		es_position_cache_release();
	else
		es_unlock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
}

/* The insertion failed: its rows can never commit (the lock goes at abort). */
void
es_log_cancel_append(void)
{
	if (es_position_cache_enabled())
		es_position_cache_release();
}

void
es_log_safe_bound(const char *tenant, EsLogBound *bound)
{
	Oid relid = es_relid(ES_REL_EVENTS);

	bound->shared = es_position_cache_enabled();
	if (bound->shared)
	{
		while (!es_position_cache_bound(relid, tenant, &bound->bound, &bound->epoch))
			rebuild_counter(relid, tenant);
		return;
	}
	es_lock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
	bound->bound = max_position(tenant);
	es_unlock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
}

bool
es_log_bound_holds(const EsLogBound *bound)
{
	return !bound->shared || es_position_cache_epoch_holds(&bound->epoch);
}
