/*-------------------------------------------------------------------------
 *
 * append.c
 *	  Appending a validated batch to one stream (storage layer):
 *	  optimistic concurrency and idempotent retries.
 *
 * Concurrency invariants:
 *	- The stream lock (access.h), held until commit, serializes appends to
 *	  one stream, so the version read after taking it is the truth and
 *	  versions stay contiguous.  Appends to other streams of the tenant
 *	  do not wait for it.
 *	- Positions come from positions.c: reserved from the tenant's shared
 *	  counter when es_saas is preloaded (no wait for other writers), else
 *	  under the tenant's log lock; either way only until the rows are in.
 *	- The tenant state lock (share mode) keeps suspend/delete out until
 *	  commit.
 *
 * Idempotency: a batch whose ids are all stored, in order, as one batch of
 * this stream returns the original result and writes nothing; any other
 * reuse of a stored id is ES409.
 *
 * Nothing here calls up into the runtime: the SQL entry point that
 * appended calls the after-append hook (projection.h) itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "append.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "errors.h"
#include "executor/executor.h"
#include "locks.h"
#include "position_cache.h"
#include "positions.h"
#include "read.h"
#include "relation.h"
#include "spi_util.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

bool es_notify = false;

void
es_append_init(void)
{
	DefineCustomBoolVariable("es_saas.notify",
							 "Send NOTIFY es_saas_events (empty payload) on every append.",
							 "Off by default: NOTIFY serializes committing transactions.",
							 &es_notify, false, PGC_SUSET, 0, NULL, NULL, NULL);
}

/*
 * A random (version 4) UUID, as gen_random_uuid() makes, from the same
 * source.  pg_strong_random (OpenSSL's RAND_bytes) costs about 8,500
 * instructions a call whatever the length, so a backend draws 64 ids' worth
 * at once and hands them out; the pool is per process (backends never fork)
 * and each id's bytes are wiped once taken.
 */
#define UUID_POOL 64

static void
generate_uuid(pg_uuid_t *uuid)
{
	static uint8 pool[UUID_POOL * UUID_LEN];
	static int	 left = 0;
	uint8		*take;

	if (left == 0)
	{
		if (!pg_strong_random(pool, sizeof(pool)))
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
							errmsg("could not generate random values")));
		left = UUID_POOL;
	}
	take = pool + (UUID_POOL - left) * UUID_LEN;
	memcpy(uuid->data, take, UUID_LEN);
	explicit_bzero(take, UUID_LEN); /* each id's bytes exist once */
	left--;
	uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40;
	uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;
}

static char *
uuid_text(pg_uuid_t *uuid)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(uuid)));
}

static Datum
metadata_datum(EsEventInput *ev)
{
	static Jsonb *empty = NULL;

	if (ev->metadata)
		return JsonbPGetDatum(ev->metadata);
	if (empty == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		empty = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
		MemoryContextSwitchTo(old);
	}
	return JsonbPGetDatum(empty);
}


/*
 * Look for an earlier append of this very batch.  Returns true (and fills
 * result) on an exact replay; raises ES409 when the first id is stored in
 * any other way; returns false when the first id is new.
 */
static bool
find_replay(const char *tenant, const char *stream, EsEventInput *events,
			int nevents, int64 current, EsAppendResult *result)
{
	static SPIPlanPtr first_plan = NULL;
	static SPIPlanPtr batch_plan = NULL;
	Oid				  first_types[2] = {TEXTOID, UUIDOID};
	Oid				  batch_types[4] = {TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum			  values[4];
	bool			  isnull;
	char			 *stored_stream;
	int64			  version;
	int64			  position;
	int32			  batch_size;
	int32			  batch_index;
	uint64			  n;

	es_plan(&first_plan,
			"SELECT stream, version, position, batch_size, batch_index "
			"FROM " ES_SQL_EVENTS " WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND id OPERATOR(pg_catalog.=) $2",
			2, first_types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = UUIDPGetDatum(&events[0].id);
	if (es_exec(first_plan, values, NULL, false, 1) == 0)
		return false;

	stored_stream = TextDatumGetCString(es_result_datum(0, 1, &isnull));
	version = DatumGetInt64(es_result_datum(0, 2, &isnull));
	position = DatumGetInt64(es_result_datum(0, 3, &isnull));
	batch_size = DatumGetInt32(es_result_datum(0, 4, &isnull));
	batch_index = DatumGetInt32(es_result_datum(0, 5, &isnull));

	if (strcmp(stored_stream, stream) != 0 || batch_index != 0 || batch_size != nevents)
		es_raise_stream_conflict("duplicate_id", stream, current,
								 es_fact_str(es_facts(), "duplicate_id",
											 uuid_text(&events[0].id)),
								 "event id is already stored in another append");

	es_plan(&batch_plan,
			"SELECT id FROM " ES_SQL_EVENTS " "
			"WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND stream OPERATOR(pg_catalog.=) $2 "
			"AND version OPERATOR(pg_catalog.>=) $3 "
			"AND version OPERATOR(pg_catalog.<=) $4 ORDER BY version",
			4, batch_types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(stream);
	values[2] = Int64GetDatum(version);
	values[3] = Int64GetDatum(version + nevents - 1);
	n = es_exec(batch_plan, values, NULL, false, 0);
	for (int i = 0; i < nevents; i++)
	{
		if ((uint64) i >= n || !events[i].id_given ||
			memcmp(DatumGetUUIDP(es_result_datum(i, 1, &isnull))->data,
				   events[i].id.data, UUID_LEN) != 0)
			es_raise_stream_conflict("duplicate_id", stream, current, NULL,
									 "batch only partly matches a stored append");
	}

	result->first_version = version;
	result->first_position = position;
	result->version = version + nevents - 1;
	result->position = position + nevents - 1;
	result->replayed = true;
	return true;
}

/*
 * Insert the rows at positions first_position.. and versions
 * first_version.., straight into the heap and its indexes (as logical
 * replication's apply does): no plan, no executor start-up, under the log
 * lock.  The table has no insert triggers and every column is given, so
 * nothing else would run; unique indexes are checked as usual.
 */
static void
insert_events(const char *tenant, const char *stream, const char *category,
			  EsEventInput *events, int nevents, int64 first_version,
			  int64 first_position)
{
	Relation	   rel = table_open(es_relid(ES_REL_EVENTS), RowExclusiveLock);
	EState		  *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TupleTableSlot *slot;
	Datum			values[Natts_es_events];
	bool			nulls[Natts_es_events] = {0};
	Datum now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsHeapTuple);

	values[Anum_es_events_tenant_id - 1] = CStringGetTextDatum(tenant);
	values[Anum_es_events_stream - 1] = CStringGetTextDatum(stream);
	values[Anum_es_events_recorded_at - 1] = now;
	values[Anum_es_events_category - 1] = CStringGetTextDatum(category);
	values[Anum_es_events_batch_size - 1] = Int32GetDatum(nevents);
	for (int i = 0; i < nevents; i++)
	{
		HeapTuple tuple;

		values[Anum_es_events_position - 1] = Int64GetDatum(first_position + i);
		values[Anum_es_events_version - 1] = Int64GetDatum(first_version + i);
		values[Anum_es_events_type - 1] = CStringGetTextDatum(events[i].type);
		values[Anum_es_events_data - 1] = JsonbPGetDatum(events[i].data);
		values[Anum_es_events_metadata - 1] = metadata_datum(&events[i]);
		values[Anum_es_events_id - 1] = UUIDPGetDatum(&events[i].id);
		values[Anum_es_events_batch_index - 1] = Int32GetDatum(i);

		tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
		ExecStoreHeapTuple(tuple, slot, true);
		simple_table_tuple_insert(rel, slot);
		(void) ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);
		ExecClearTuple(slot);
	}

	/* as ExecCloseIndices, but the locks are kept to the end of the
	 * transaction (the executor's own rule): no release now, and the next
	 * append of the transaction finds them held */
	for (int i = 0; i < rri->ri_NumIndices; i++)
		index_close(rri->ri_IndexRelationDescs[i], NoLock);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	/* later statements of this transaction see the new rows */
	CommandCounterIncrement();
}

/*
 * Insert at reserved positions; a unique violation is a reused id or a
 * foreign row in the way (40001, and the retry allocates past it).
 */
static void
insert_with_positions(const char *tenant, const char *stream, int64 current,
					  EsEventInput *events, int nevents, EsAppendResult *result)
{
	char		 *category = es_stream_category(stream);
	MemoryContext oldcxt = CurrentMemoryContext;
	int64		  first_position;

	first_position = es_log_begin_append(tenant, nevents);
	PG_TRY();
	{
		insert_events(tenant, stream, category, events, nevents, current + 1,
					  first_position);
	}
	PG_CATCH();
	{
		ErrorData *edata;

		es_log_cancel_append();
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			PG_RE_THROW();
		FlushErrorState();
		if (edata->constraint_name &&
			strcmp(edata->constraint_name, "events_pkey") == 0)
		{
			/* rows were added behind es_append's back: the cache is stale */
			es_position_cache_forget(es_relid(ES_REL_EVENTS), tenant);
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not allocate a log position for tenant \"%s\"", tenant),
					 errdetail("A position from " INT64_FORMAT
							   " on is taken by a row not written by es_append.",
							   first_position),
					 errhint("Retry the transaction.")));
		}
		es_raise_stream_conflict("duplicate_id", stream, current, NULL,
								 "an event id of this batch is already stored");
	}
	PG_END_TRY();
	es_log_end_append(tenant);

	result->first_version = current + 1;
	result->first_position = first_position;
	result->version = current + nevents;
	result->position = first_position + nevents - 1;
	result->replayed = false;
}

/* Refuse a batch that names the same id twice: it could never be stored. */
static void
check_duplicate_ids(EsEventInput *events, int nevents)
{
	for (int i = 1; i < nevents; i++)
	{
		if (!events[i].id_given)
			continue;
		for (int j = 0; j < i; j++)
			if (events[j].id_given &&
				memcmp(events[i].id.data, events[j].id.data, UUID_LEN) == 0)
				es_raise_invalid("invalid_event",
								 es_fact_int(es_fact_str(es_fact_int(es_facts(), "index", i),
														 "field", "id"),
											 "same_as", j),
								 "events[%d].id repeats events[%d].id", i, j);
	}
}

void
es_append_events(const char *tenant, const char *stream, bool has_expected,
				 int64 expected, EsEventInput *events, int nevents,
				 EsAppendResult *result)
{
	int64 current;

	check_duplicate_ids(events, nevents);
	es_lock(ES_LOCK_STREAM, tenant, stream, strlen(stream), ExclusiveLock);
	current = es_current_stream_version(tenant, stream, true);

	if (events[0].id_given &&
		find_replay(tenant, stream, events, nevents, current, result))
		return;

	if (has_expected && expected != current)
		es_raise_wrong_expected_version(stream, expected, current);

	for (int i = 0; i < nevents; i++)
		if (!events[i].id_given)
			generate_uuid(&events[i].id);

	insert_with_positions(tenant, stream, current, events, nevents, result);

	if (es_notify)
		Async_Notify("es_saas_events", "");
}
