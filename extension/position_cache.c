/*-------------------------------------------------------------------------
 *
 * position_cache.c
 *	  Shared-memory cache of each tenant's next log position.
 *
 * Without it an append finds max(position) of its tenant by descending the
 * primary key and fetching the heap row under a dirty snapshot.  With it,
 * the holder of the tenant's log lock reads the next position here and
 * stores the one after its rows before releasing the lock.
 *
 * Why the gap-safety argument of positions.c still holds: the value only moves
 * under the log lock, after the rows are in the index, so a reader's bound
 * (read under the same lock) still covers only inserted rows.  A position
 * handed out to a transaction that later aborts would be a safe hole
 * (readers skip aborted rows), but to hand out the same numbers as without
 * the cache, a (sub)transaction that aborts forgets the entries it set.
 * A miss recomputes
 * max + 1 over non-aborted rows, which is exactly the uncached rule, so an
 * entry may be dropped at any moment: when the table is full, when the
 * tenant is purged, or when rows were added behind es_append's back (the
 * caller sees a primary key violation and forgets the entry).
 *
 * Keys carry the database and the events table's oid, so a dropped and
 * re-created extension never meets its predecessor's entries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "position_cache.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "validate.h"

#define ES_POSITION_PARTITIONS 16

int es_position_cache_size = 16384;

typedef struct PositionKey
{
	Oid	 dbid;
	Oid	 relid;
	char tenant[ES_MAX_TENANT_LEN + 1];
} PositionKey;

typedef struct PositionEntry
{
	PositionKey		 key;
	pg_atomic_uint64 next; /* written only under the tenant's log lock */
} PositionEntry;

static HTAB					  *positions = NULL;
static LWLockPadded			  *partition_locks = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Entries this backend set in the current transaction, forgotten on abort */
#define ES_TOUCHED_MAX 32

typedef struct TouchedEntry
{
	PositionKey key;
	int			nest_level;
} TouchedEntry;

static TouchedEntry touched[ES_TOUCHED_MAX];
static int			ntouched = 0;
static bool			touched_overflow = false;
static bool			callbacks_registered = false;

static void
position_cache_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(
		hash_estimate_size(es_position_cache_size, sizeof(PositionEntry)));
	RequestNamedLWLockTranche("es_saas position cache", ES_POSITION_PARTITIONS);
}

static void
position_cache_startup(void)
{
	HASHCTL info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	info.keysize = sizeof(PositionKey);
	info.entrysize = sizeof(PositionEntry);
	info.num_partitions = ES_POSITION_PARTITIONS;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	positions =
		ShmemInitHash("es_saas positions", es_position_cache_size,
					  es_position_cache_size, &info,
					  HASH_ELEM | HASH_BLOBS | HASH_PARTITION | HASH_FIXED_SIZE);
	partition_locks = GetNamedLWLockTranche("es_saas position cache");
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Define es_saas.position_cache_size and, while shared_preload_libraries
 * are loaded, ask for the shared memory.  PGC_POSTMASTER variables can
 * only be defined while preloading.
 */
void
es_position_cache_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("es_saas.position_cache_size",
							"Tenants whose next log position is kept in shared memory (0: off).",
							"Needs es_saas in shared_preload_libraries.",
							&es_position_cache_size, 16384, 0, 1024 * 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	if (es_position_cache_size == 0)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = position_cache_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = position_cache_startup;
}

static uint32
make_key(PositionKey *key, Oid events_relid, const char *tenant)
{
	memset(key, 0, sizeof(PositionKey));
	key->dbid = MyDatabaseId;
	key->relid = events_relid;
	strlcpy(key->tenant, tenant, sizeof(key->tenant));
	return get_hash_value(positions, key);
}

static LWLock *
partition_lock(uint32 hashcode)
{
	return &partition_locks[hashcode % ES_POSITION_PARTITIONS].lock;
}

int64
es_position_cache_get(Oid events_relid, const char *tenant)
{
	PositionKey	   key;
	PositionEntry *entry;
	uint32		   hashcode;
	int64		   next = 0;

	if (positions == NULL)
		return 0;
	hashcode = make_key(&key, events_relid, tenant);
	LWLockAcquire(partition_lock(hashcode), LW_SHARED);
	entry = hash_search_with_hash_value(positions, &key, hashcode, HASH_FIND, NULL);
	if (entry != NULL)
		next = (int64) pg_atomic_read_u64(&entry->next);
	LWLockRelease(partition_lock(hashcode));
	return next;
}

/* Drop every entry: the table is full. */
static void
reset_all(void)
{
	HASH_SEQ_STATUS status;
	PositionEntry  *entry;

	for (int i = 0; i < ES_POSITION_PARTITIONS; i++)
		LWLockAcquire(&partition_locks[i].lock, LW_EXCLUSIVE);
	hash_seq_init(&status, positions);
	while ((entry = hash_seq_search(&status)) != NULL)
		(void) hash_search(positions, &entry->key, HASH_REMOVE, NULL);
	for (int i = ES_POSITION_PARTITIONS - 1; i >= 0; i--)
		LWLockRelease(&partition_locks[i].lock);
}

static void
forget_key(PositionKey *key)
{
	uint32 hashcode = get_hash_value(positions, key);

	LWLockAcquire(partition_lock(hashcode), LW_EXCLUSIVE);
	(void) hash_search_with_hash_value(positions, key, hashcode, HASH_REMOVE, NULL);
	LWLockRelease(partition_lock(hashcode));
}

/* Forget what (sub)transactions at nest_level and deeper set. */
static void
forget_touched(int nest_level)
{
	if (touched_overflow)
	{
		reset_all();
		ntouched = 0;
		touched_overflow = false;
		return;
	}
	while (ntouched > 0 && touched[ntouched - 1].nest_level >= nest_level)
	{
		forget_key(&touched[ntouched - 1].key);
		ntouched--;
	}
}

static void
position_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			forget_touched(0);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			ntouched = 0;
			touched_overflow = false;
			break;
		default:
			break;
	}
}

static void
position_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	/* committed children stay at their level: a later abort above still sees
	 * them */
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_touched(GetCurrentTransactionNestLevel());
}

static void
remember_touched(PositionKey *key)
{
	int level = GetCurrentTransactionNestLevel();

	if (!callbacks_registered)
	{
		RegisterXactCallback(position_xact_callback, NULL);
		RegisterSubXactCallback(position_subxact_callback, NULL);
		callbacks_registered = true;
	}
	for (int i = ntouched - 1; i >= 0 && touched[i].nest_level == level; i--)
		if (memcmp(&touched[i].key, key, sizeof(PositionKey)) == 0)
			return;
	if (ntouched == ES_TOUCHED_MAX)
	{
		touched_overflow = true;
		return;
	}
	touched[ntouched].key = *key;
	touched[ntouched].nest_level = level;
	ntouched++;
}

void
es_position_cache_set(Oid events_relid, const char *tenant, int64 next)
{
	PositionKey	   key;
	PositionEntry *entry;
	uint32		   hashcode;
	bool		   found;

	if (positions == NULL)
		return;
	hashcode = make_key(&key, events_relid, tenant);
	remember_touched(&key);

	/* the usual case: the entry is there, and only we may change it */
	LWLockAcquire(partition_lock(hashcode), LW_SHARED);
	entry = hash_search_with_hash_value(positions, &key, hashcode, HASH_FIND, NULL);
	if (entry != NULL)
		pg_atomic_write_u64(&entry->next, (uint64) next);
	LWLockRelease(partition_lock(hashcode));
	if (entry != NULL)
		return;

	for (int attempt = 0; attempt < 2; attempt++)
	{
		LWLockAcquire(partition_lock(hashcode), LW_EXCLUSIVE);
		entry = hash_search_with_hash_value(positions, &key, hashcode,
											HASH_ENTER_NULL, &found);
		if (entry != NULL && !found)
			pg_atomic_init_u64(&entry->next, (uint64) next);
		else if (entry != NULL)
			pg_atomic_write_u64(&entry->next, (uint64) next);
		LWLockRelease(partition_lock(hashcode));
		if (entry != NULL)
			return;
		/* full: start over rather than track recency on every append */
		reset_all();
	}
}

void
es_position_cache_forget(Oid events_relid, const char *tenant)
{
	PositionKey key;

	if (positions == NULL)
		return;
	(void) make_key(&key, events_relid, tenant);
	forget_key(&key);
}
