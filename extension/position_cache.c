/*-------------------------------------------------------------------------
 *
 * position_cache.c
 *	  Shared-memory allocation of log positions: per-tenant counters and
 *	  per-backend in-flight slots (the protocol is in positions.c).
 *
 * Counters live in a partitioned hash.  An entry is looked up and its
 * counter advanced (fetch-add) under the partition's LWLock in shared
 * mode, so an entry is never freed under a reserving backend; entries are
 * removed (full table, purge, foreign row) and created (rebuild) in
 * exclusive mode.  Each rebuild bumps an epoch, one of ES_EPOCHS chosen by
 * the tenant's tag, before the new counter becomes visible; a reader's
 * bound holds only while that epoch is unchanged (positions.c, rule 4).
 *
 * A slot is one cache line per backend (indexed by pgprocno): the tag of
 * the tenant (a 64-bit hash of the key; a collision only makes readers and
 * rebuilds more conservative), the lowest position the backend may be
 * inserting ("low", 0 when free) and one past its reservation ("end", 0
 * until known).  Its owner writes it under the slot's spinlock, which
 * only a rebuild also takes; readers read it without locks, low first.
 * A slot is cleared once its rows are in the index, on error, on
 * (sub)transaction abort and on backend exit, so no slot outlives its
 * reservation.
 *
 * Keys carry the database and the events table's oid, so a dropped and
 * re-created extension never meets its predecessor's entries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "position_cache.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "validate.h"

#define ES_POSITION_PARTITIONS 16
#define ES_EPOCHS			   1024

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
	pg_atomic_uint64 next; /* the next free position: fetch-add only */
} PositionEntry;

typedef struct InFlightSlot
{
	pg_atomic_uint64 tag;
	pg_atomic_uint64 low;
	pg_atomic_uint64 end;
	slock_t			 mutex;
} InFlightSlot;

/* one cache line each: writers of one tenant do not share lines */
typedef union PaddedSlot
{
	InFlightSlot slot;
	char		 pad[PG_CACHE_LINE_SIZE];
} PaddedSlot;

typedef struct PositionShared
{
	int				 nslots;
	pg_atomic_uint64 epochs[ES_EPOCHS];
	PaddedSlot		 slots[FLEXIBLE_ARRAY_MEMBER];
} PositionShared;

static HTAB					  *positions = NULL;
static LWLockPadded			  *partition_locks = NULL;
static PositionShared		  *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static InFlightSlot *my_slot = NULL; /* set while this backend has one
										published */
static bool callbacks_registered = false;

static Size
shared_size(void)
{
	return add_size(offsetof(PositionShared, slots),
					mul_size(MaxBackends, sizeof(PaddedSlot)));
}

static void
position_cache_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(
		hash_estimate_size(es_position_cache_size, sizeof(PositionEntry)));
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche("es_saas position cache", ES_POSITION_PARTITIONS);
}

static void
position_cache_startup(void)
{
	HASHCTL info;
	bool	found;

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
	shared = ShmemInitStruct("es_saas positions in flight", shared_size(), &found);
	if (!found)
	{
		shared->nslots = MaxBackends;
		for (int i = 0; i < ES_EPOCHS; i++)
			pg_atomic_init_u64(&shared->epochs[i], 0);
		for (int i = 0; i < MaxBackends; i++)
		{
			InFlightSlot *slot = &shared->slots[i].slot;

			pg_atomic_init_u64(&slot->tag, 0);
			pg_atomic_init_u64(&slot->low, 0);
			pg_atomic_init_u64(&slot->end, 0);
			SpinLockInit(&slot->mutex);
		}
	}
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
							"Tenants whose log position counter is kept in shared memory (0: off).",
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

bool
es_position_cache_enabled(void)
{
	return positions != NULL;
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

/* The tenant's tag in the slots: never 0 (a free tag). */
static uint64
key_tag(const PositionKey *key)
{
	uint64 tag = hash_bytes_extended((const unsigned char *) key,
									 sizeof(PositionKey), 0x45533132);

	return tag == 0 ? 1 : tag;
}

static LWLock *
partition_lock(uint32 hashcode)
{
	return &partition_locks[hashcode % ES_POSITION_PARTITIONS].lock;
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
release_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		es_position_cache_release();
}

static void
release_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		es_position_cache_release();
}

static void
release_on_exit(int code, Datum arg)
{
	es_position_cache_release();
}

static InFlightSlot *
backend_slot(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(release_callback, NULL);
		RegisterSubXactCallback(release_subxact_callback, NULL);
		before_shmem_exit(release_on_exit, (Datum) 0);
		callbacks_registered = true;
	}
	if (MyProc == NULL || MyProc->pgprocno < 0 || MyProc->pgprocno >= shared->nslots)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("this process cannot append events")));
	return &shared->slots[MyProc->pgprocno].slot;
}

bool
es_position_cache_reserve(Oid events_relid, const char *tenant, int n, int64 *first)
{
	PositionKey	   key;
	PositionEntry *entry;
	InFlightSlot  *slot = backend_slot();
	uint32		   hashcode;
	uint64		   low;
	uint64		   start;

	es_position_cache_release();
	hashcode = make_key(&key, events_relid, tenant);
	LWLockAcquire(partition_lock(hashcode), LW_SHARED);
	entry = hash_search_with_hash_value(positions, &key, hashcode, HASH_FIND, NULL);
	if (entry == NULL)
	{
		LWLockRelease(partition_lock(hashcode));
		return false;
	}

	/* a lower bound of what the fetch-add returns: the counter only grows */
	low = pg_atomic_read_u64(&entry->next);
	SpinLockAcquire(&slot->mutex);
	pg_atomic_write_u64(&slot->end, 0);
	pg_atomic_write_u64(&slot->tag, key_tag(&key));
	pg_write_barrier(); /* a reader that sees low sees the tag */
	pg_atomic_write_u64(&slot->low, low);
	SpinLockRelease(&slot->mutex);
	my_slot = slot;

	/* a full barrier: the slot is visible before the counter moves */
	start = pg_atomic_fetch_add_u64(&entry->next, (uint64) n);

	/* before the entry can be removed, so a rebuild sees the end */
	SpinLockAcquire(&slot->mutex);
	pg_atomic_write_u64(&slot->end, start + (uint64) n);
	SpinLockRelease(&slot->mutex);
	LWLockRelease(partition_lock(hashcode));
	*first = (int64) start;
	return true;
}

void
es_position_cache_release(void)
{
	InFlightSlot *slot = my_slot;

	if (slot == NULL)
		return;
	/* the rows (or the abort that kills them) come before the clear */
	pg_memory_barrier();
	SpinLockAcquire(&slot->mutex);
	pg_atomic_write_u64(&slot->low, 0);
	pg_atomic_write_u64(&slot->end, 0);
	SpinLockRelease(&slot->mutex);
	my_slot = NULL;
}

bool
es_position_cache_bound(Oid events_relid, const char *tenant, int64 *bound,
						EsPositionEpoch *epoch)
{
	PositionKey	   key;
	PositionEntry *entry;
	uint32		   hashcode;
	uint64		   tag;
	uint64		   lowest;

	hashcode = make_key(&key, events_relid, tenant);
	tag = key_tag(&key);
	epoch->index = (int) (tag % ES_EPOCHS);
	LWLockAcquire(partition_lock(hashcode), LW_SHARED);
	entry = hash_search_with_hash_value(positions, &key, hashcode, HASH_FIND, NULL);
	if (entry != NULL)
	{
		lowest = pg_atomic_read_u64(&entry->next);
		epoch->value = pg_atomic_read_u64(&shared->epochs[epoch->index]);
	}
	LWLockRelease(partition_lock(hashcode));
	if (entry == NULL)
		return false;

	/* the counter before the slots (positions.c, rule 2) */
	pg_memory_barrier();
	for (int i = 0; i < shared->nslots; i++)
	{
		InFlightSlot *slot = &shared->slots[i].slot;
		uint64		  low = pg_atomic_read_u64(&slot->low);

		if (low == 0 || low >= lowest)
			continue;
		pg_read_barrier();
		if (pg_atomic_read_u64(&slot->tag) == tag)
			lowest = low;
	}
	*bound = (int64) lowest - 1;
	return true;
}

bool
es_position_cache_epoch_holds(const EsPositionEpoch *epoch)
{
	/* the row just read comes before the epoch read */
	pg_read_barrier();
	return pg_atomic_read_u64(&shared->epochs[epoch->index]) == epoch->value;
}

bool
es_position_cache_exists(Oid events_relid, const char *tenant)
{
	PositionKey key;
	uint32		hashcode = make_key(&key, events_relid, tenant);
	bool		found;

	LWLockAcquire(partition_lock(hashcode), LW_SHARED);
	(void) hash_search_with_hash_value(positions, &key, hashcode, HASH_FIND, &found);
	LWLockRelease(partition_lock(hashcode));
	return found;
}

int64
es_position_cache_in_flight_end(Oid events_relid, const char *tenant)
{
	PositionKey key;
	uint64		tag;
	uint64		result = 0;

	(void) make_key(&key, events_relid, tenant);
	tag = key_tag(&key);
	for (int i = 0; i < shared->nslots; i++)
	{
		InFlightSlot *slot = &shared->slots[i].slot;

		SpinLockAcquire(&slot->mutex);
		if (pg_atomic_read_u64(&slot->low) != 0 && pg_atomic_read_u64(&slot->tag) == tag)
			result = Max(result, pg_atomic_read_u64(&slot->end));
		SpinLockRelease(&slot->mutex);
	}
	return (int64) result;
}

void
es_position_cache_install(Oid events_relid, const char *tenant, int64 next)
{
	PositionKey	   key;
	PositionEntry *entry;
	uint32		   hashcode;
	bool		   found;

	hashcode = make_key(&key, events_relid, tenant);
	for (int attempt = 0; attempt < 2; attempt++)
	{
		LWLockAcquire(partition_lock(hashcode), LW_EXCLUSIVE);
		entry = hash_search_with_hash_value(positions, &key, hashcode,
											HASH_ENTER_NULL, &found);
		if (entry != NULL && !found)
		{
			/* the epoch moves before anyone can reserve from the counter */
			(void) pg_atomic_fetch_add_u64(&shared->epochs[key_tag(&key) % ES_EPOCHS],
										   1);
			pg_atomic_init_u64(&entry->next, (uint64) next);
		}
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
	uint32		hashcode;

	if (positions == NULL)
		return;
	hashcode = make_key(&key, events_relid, tenant);
	LWLockAcquire(partition_lock(hashcode), LW_EXCLUSIVE);
	(void) hash_search_with_hash_value(positions, &key, hashcode, HASH_REMOVE, NULL);
	LWLockRelease(partition_lock(hashcode));
}
