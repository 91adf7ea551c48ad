/*-------------------------------------------------------------------------
 *
 * read.c
 *	  The scan engine of the event log (storage layer): stream and log
 *	  scans feeding a sink, the current stream version, event -> jsonb.
 *
 * Stream reads use an ordinary MVCC snapshot: versions of a stream are
 * written under the stream lock, so a snapshot sees a prefix of them.
 * Log and category reads follow the gap-safe rule of positions.c: they scan up
 * to the safe bound with a dirty snapshot and stop at the first row whose
 * transaction is still in progress.  These scans read the tables
 * directly; callers have passed es_check_tenant (access.h), and
 * row-level security guards the tables against direct access by other
 * roles.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "indexscan.h"
#include "miscadmin.h"
#include "positions.h"
#include "read.h"
#include "relation.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"
#include "validate.h"

#include <malloc.h>

/* events columns that make up the es_event output, in output order */
static const AttrNumber event_columns[ES_EVENT_NATTS] =
	{Anum_es_events_position, Anum_es_events_stream,
	 Anum_es_events_version,  Anum_es_events_type,
	 Anum_es_events_data,	  Anum_es_events_metadata,
	 Anum_es_events_id,		  Anum_es_events_recorded_at};

/*
 * Reads build their result in a tuplestore; with glibc's default
 * thresholds its larger blocks are mmap'd and returned to the kernel on
 * every call, and page faults then dominate the cost of a read.  Raised
 * once per backend on its first read, never in the postmaster (where
 * _PG_init runs when preloaded, and every child would inherit it).
 */
static void
tune_malloc_once(void)
{
	static bool done = false;

	if (done || !IsUnderPostmaster)
		return;
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	done = true;
}

/*
 * Run an index scan over keys and hand each row to sink.  With a dirty
 * snapshot, stop at the first row inserted by a transaction still in
 * progress (the gap-safe rule).  Returns the number of events delivered.
 */
static int
scan_events(EsRel indexrel, ScanKey keys, int nkeys, Snapshot snapshot,
			const EsLogBound *bound, ScanDirection dir, int max_count,
			EsEventSink sink, void *arg)
{
	Relation heap = table_open(es_relid(ES_REL_EVENTS), AccessShareLock);
	Relation index = index_open(es_relid(indexrel), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc	scan;
	int				count = 0;
	Datum			values[ES_EVENT_NATTS];

	tune_malloc_once();
	/* scan keys were built against index collations; rebuild not needed */
	scan = index_beginscan(heap, index, snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (count < max_count && index_getnext_slot(scan, dir, slot))
	{
		if (bound && !es_log_bound_holds(bound))
			break; /* a counter was rebuilt: this row may follow a reused
					  number */
		if (snapshot->snapshot_type == SNAPSHOT_DIRTY &&
			TransactionIdIsValid(snapshot->xmin))
			break; /* in flight: later positions must wait */

		slot_getallattrs(slot);
		for (int i = 0; i < ES_EVENT_NATTS; i++)
		{
			Datum v = slot->tts_values[event_columns[i] - 1];

			/* the result outlives the scan: never hand out TOAST pointers */
			if (!TupleDescAttr(slot->tts_tupleDescriptor, event_columns[i] - 1)->attbyval &&
				TupleDescAttr(slot->tts_tupleDescriptor, event_columns[i] - 1)->attlen ==
					-1 &&
				VARATT_IS_EXTERNAL(DatumGetPointer(v)))
				v = PointerGetDatum(
					detoast_external_attr((struct varlena *) DatumGetPointer(v)));
			values[i] = v;
		}
		count++;
		if (!sink(arg, values))
			break;
		CHECK_FOR_INTERRUPTS();
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	return count;
}

int
es_scan_stream(const char *tenant, const char *stream, int64 from_version,
			   int max_count, EsEventSink sink, void *arg)
{
	Relation index =
		index_open(es_relid(ES_REL_EVENTS_STREAM_VERSION), AccessShareLock);
	ScanKeyData keys[3];
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	int			n;

	es_init_text_key(&keys[0], 1, index, tenant);
	es_init_text_key(&keys[1], 2, index, stream);
	ScanKeyEntryInitialize(&keys[2], 0, 3, BTGreaterEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_INT8GE, Int64GetDatum(from_version));
	index_close(index, AccessShareLock);
	n = scan_events(ES_REL_EVENTS_STREAM_VERSION, keys, 3, snapshot, NULL,
					ForwardScanDirection, max_count, sink, arg);
	UnregisterSnapshot(snapshot);
	return n;
}

int
es_scan_log(const char *tenant, const char *category, int64 after_position,
			int max_count, EsEventSink sink, void *arg)
{
	EsRel	 indexrel = category ? ES_REL_EVENTS_CATEGORY : ES_REL_EVENTS_PKEY;
	Relation index;
	ScanKeyData	 keys[4];
	SnapshotData dirty;
	int			 nkeys = 0;
	EsLogBound	 bound;
	AttrNumber	 posatt = category ? 3 : 2;

	if (max_count == 0)
		return 0;
	es_log_safe_bound(tenant, &bound);
	if (bound.bound <= after_position)
		return 0;

	index = index_open(es_relid(indexrel), AccessShareLock);
	es_init_text_key(&keys[nkeys++], 1, index, tenant);
	if (category)
		es_init_text_key(&keys[nkeys++], 2, index, category);
	ScanKeyEntryInitialize(&keys[nkeys++], 0, posatt, BTGreaterStrategyNumber,
						   InvalidOid, InvalidOid, F_INT8GT,
						   Int64GetDatum(after_position));
	ScanKeyEntryInitialize(&keys[nkeys++], 0, posatt,
						   BTLessEqualStrategyNumber, InvalidOid, InvalidOid,
						   F_INT8LE, Int64GetDatum(bound.bound));
	index_close(index, AccessShareLock);

	InitDirtySnapshot(dirty);
	return scan_events(indexrel, keys, nkeys, &dirty, &bound,
					   ForwardScanDirection, max_count, sink, arg);
}

/*
 * Version of the stream's last event, 0 when it has none: as of the
 * transaction's snapshot for readers, as of now (latest) for appenders.
 * Appenders hold the stream lock, so no other transaction has rows of
 * the stream in flight, and a dirty snapshot (no snapshot to build) sees
 * exactly the committed rows plus their own.
 */
int64
es_current_stream_version(const char *tenant, const char *stream, bool latest)
{
	/*
	 * Writers ask for the latest version and insert next: they take the
	 * insert's RowExclusiveLock now, so the insert finds it already held.
	 * Locks are kept to the end of the transaction, as the executor does.
	 */
	LOCKMODE mode = latest ? RowExclusiveLock : AccessShareLock;
	Relation heap = table_open(es_relid(ES_REL_EVENTS), mode);
	Relation index = index_open(es_relid(ES_REL_EVENTS_STREAM_VERSION), mode);
	SnapshotData dirty;
	Snapshot	 snapshot;
	ScanKeyData	 keys[2];
	int64		 version;

	if (latest)
	{
		InitDirtySnapshot(dirty);
		snapshot = &dirty;
	}
	else
		snapshot = RegisterSnapshot(GetTransactionSnapshot());

	es_init_text_key(&keys[0], 1, index, tenant);
	es_init_text_key(&keys[1], 2, index, stream);
	version = es_index_last_int8(heap, index, keys, 2, snapshot, 3,
								 Anum_es_events_version);
	if (!latest)
		UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	return version;
}

Jsonb *
es_event_to_jsonb(Datum *values)
{
	JsonbParseState *state = NULL;
	JsonbValue		*result;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	es_jsonb_push_int8(&state, "position", DatumGetInt64(values[0]));
	es_jsonb_push_string(&state, "stream", TextDatumGetCString(values[1]));
	es_jsonb_push_int8(&state, "version", DatumGetInt64(values[2]));
	es_jsonb_push_string(&state, "type", TextDatumGetCString(values[3]));
	es_jsonb_push_jsonb(&state, "data", DatumGetJsonbP(values[4]));
	es_jsonb_push_jsonb(&state, "metadata", DatumGetJsonbP(values[5]));
	es_jsonb_push_string(&state, "id",
						 DatumGetCString(DirectFunctionCall1(uuid_out, values[6])));
	es_jsonb_push_string(&state, "recorded_at",
						 JsonEncodeDateTime(NULL, values[7], TIMESTAMPTZOID, NULL));
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}
