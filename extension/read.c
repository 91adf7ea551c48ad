/*-------------------------------------------------------------------------
 *
 * read.c
 *	  es_read_stream, es_read_log, es_read_category, es_stream_version.
 *
 * Stream reads use an ordinary MVCC snapshot: versions of a stream are
 * written under the stream lock, so a snapshot sees a prefix of them.
 * Log and category reads follow the gap-safe rule of log.c: they scan up
 * to the safe bound with a dirty snapshot and stop at the first row whose
 * transaction is still in progress.  These scans read the tables
 * directly, after es_check_tenant; row-level security guards the tables
 * against direct access by other roles.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "access/detoast.h"
#include "access/genam.h"
#include "access/itup.h"
#include "access/visibilitymap.h"
#include "storage/bufmgr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "errors.h"
#include "es_saas.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "log.h"
#include "miscadmin.h"
#include "read.h"
#include "spi_util.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "catalog/pg_type.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(es_read_stream);
PG_FUNCTION_INFO_V1(es_read_log);
PG_FUNCTION_INFO_V1(es_read_category);
PG_FUNCTION_INFO_V1(es_stream_version);

/* events columns that make up the es_event output, in output order */
static const AttrNumber event_columns[ES_EVENT_NATTS] = {
	Anum_es_events_position, Anum_es_events_stream, Anum_es_events_version,
	Anum_es_events_type, Anum_es_events_data, Anum_es_events_metadata,
	Anum_es_events_id, Anum_es_events_recorded_at
};

/* Equality on text column attno of index (its collation) with value. */
void
es_init_text_key(ScanKey key, AttrNumber attno, Relation index, const char *value)
{
	ScanKeyEntryInitialize(key, 0, attno, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[attno - 1], F_TEXTEQ,
						   CStringGetTextDatum(value));
}

/*
 * Run an index scan over keys and hand each row to sink.  With a dirty
 * snapshot, stop at the first row inserted by a transaction still in
 * progress (the gap-safe rule).  Returns the number of events delivered.
 */
static int
scan_events(const char *indexname, ScanKey keys, int nkeys, Snapshot snapshot,
			ScanDirection dir, int max_count, EsEventSink sink, void *arg)
{
	Relation	heap = table_open(es_relid("events"), AccessShareLock);
	Relation	index = index_open(es_relid(indexname), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc scan;
	int			count = 0;
	Datum		values[ES_EVENT_NATTS];

	/* scan keys were built against index collations; rebuild not needed */
	scan = index_beginscan(heap, index, snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (count < max_count && index_getnext_slot(scan, dir, slot))
	{
		if (snapshot->snapshot_type == SNAPSHOT_DIRTY &&
			TransactionIdIsValid(snapshot->xmin))
			break;				/* in flight: later positions must wait */

		slot_getallattrs(slot);
		for (int i = 0; i < ES_EVENT_NATTS; i++)
		{
			Datum		v = slot->tts_values[event_columns[i] - 1];

			/* the result outlives the scan: never hand out TOAST pointers */
			if (!TupleDescAttr(slot->tts_tupleDescriptor, event_columns[i] - 1)->attbyval &&
				TupleDescAttr(slot->tts_tupleDescriptor, event_columns[i] - 1)->attlen == -1 &&
				VARATT_IS_EXTERNAL(DatumGetPointer(v)))
				v = PointerGetDatum(detoast_external_attr((struct varlena *) DatumGetPointer(v)));
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
	Relation	index = index_open(es_relid("events_stream_version_key"), AccessShareLock);
	ScanKeyData keys[3];
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	int			n;

	es_init_text_key(&keys[0], 1, index, tenant);
	es_init_text_key(&keys[1], 2, index, stream);
	ScanKeyEntryInitialize(&keys[2], 0, 3, BTGreaterEqualStrategyNumber,
						   InvalidOid, InvalidOid, F_INT8GE,
						   Int64GetDatum(from_version));
	index_close(index, AccessShareLock);
	n = scan_events("events_stream_version_key", keys, 3, snapshot,
					ForwardScanDirection, max_count, sink, arg);
	UnregisterSnapshot(snapshot);
	return n;
}

int
es_scan_log(const char *tenant, const char *category, int64 after_position,
			int max_count, EsEventSink sink, void *arg)
{
	const char *indexname = category ? "events_category_idx" : "events_pkey";
	Relation	index;
	ScanKeyData keys[4];
	SnapshotData dirty;
	int			nkeys = 0;
	int64		bound;
	AttrNumber	posatt = category ? 3 : 2;

	if (max_count == 0)
		return 0;
	bound = es_log_safe_bound(tenant);
	if (bound <= after_position)
		return 0;

	index = index_open(es_relid(indexname), AccessShareLock);
	es_init_text_key(&keys[nkeys++], 1, index, tenant);
	if (category)
		es_init_text_key(&keys[nkeys++], 2, index, category);
	ScanKeyEntryInitialize(&keys[nkeys++], 0, posatt, BTGreaterStrategyNumber,
						   InvalidOid, InvalidOid, F_INT8GT,
						   Int64GetDatum(after_position));
	ScanKeyEntryInitialize(&keys[nkeys++], 0, posatt, BTLessEqualStrategyNumber,
						   InvalidOid, InvalidOid, F_INT8LE, Int64GetDatum(bound));
	index_close(index, AccessShareLock);

	InitDirtySnapshot(dirty);
	return scan_events(indexname, keys, nkeys, &dirty, ForwardScanDirection,
					   max_count, sink, arg);
}

/*
 * Highest value of an int8 column among the rows matching keys (equality
 * on the leading index columns) that snapshot sees; 0 when there is none.
 * Index-only where the visibility map allows, as IndexOnlyNext does: the
 * value is also index column indexatt, and the heap page holding a quiet
 * stream's or tenant's last row is then never read.
 */
int64
es_index_last_int8(Relation heap, Relation index, ScanKey keys, int nkeys,
				   Snapshot snapshot, AttrNumber indexatt, AttrNumber heapatt)
{
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc scan;
	ItemPointer tid;
	Buffer		vmbuffer = InvalidBuffer;
	int64		result = 0;
	bool		isnull;

	scan = index_beginscan(heap, index, snapshot, nkeys, 0);
	scan->xs_want_itup = true;
	index_rescan(scan, keys, nkeys, NULL, 0);
	while ((tid = index_getnext_tid(scan, BackwardScanDirection)) != NULL)
	{
		if (VM_ALL_VISIBLE(heap, ItemPointerGetBlockNumber(tid), &vmbuffer))
		{
			result = DatumGetInt64(index_getattr(scan->xs_itup, indexatt,
												 scan->xs_itupdesc, &isnull));
			break;
		}
		if (index_fetch_heap(scan, slot))
		{
			result = DatumGetInt64(slot_getattr(slot, heapatt, &isnull));
			break;
		}
	}
	if (vmbuffer != InvalidBuffer)
		ReleaseBuffer(vmbuffer);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return result;
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
	Relation	heap = table_open(es_relid("events"), AccessShareLock);
	Relation	index = index_open(es_relid("events_stream_version_key"), AccessShareLock);
	SnapshotData dirty;
	Snapshot	snapshot;
	ScanKeyData keys[2];
	int64		version;

	if (latest)
	{
		InitDirtySnapshot(dirty);
		snapshot = &dirty;
	}
	else
		snapshot = RegisterSnapshot(GetTransactionSnapshot());

	es_init_text_key(&keys[0], 1, index, tenant);
	es_init_text_key(&keys[1], 2, index, stream);
	version = es_index_last_int8(heap, index, keys, 2, snapshot,
								 3, Anum_es_events_version);
	if (!latest)
		UnregisterSnapshot(snapshot);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	return version;
}

/* Sink writing es_event rows into a materialized SRF result. */
static bool
tuplestore_sink(void *arg, Datum *values)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	bool		nulls[ES_EVENT_NATTS] = {0};

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return true;
}

static char *
text_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* ES400 when a required argument is NULL. */
static void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		es_raise(ERRCODE_ES_MALFORMED,
				 psprintf("{\"argument\": %s}", es_json_quote(name)),
				 "%s must not be null", name);
}

/* es_read_stream(tenant, stream, from_version, max_count) */
Datum
es_read_stream(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *tenant = text_arg(fcinfo, 0);
	char	   *stream = text_arg(fcinfo, 1);
	int64		from_version;
	int			max_count;
	EsCall		call;

	es_validate_tenant_id(tenant);
	es_validate_stream(stream);
	require_arg(fcinfo, 2, "from_version");
	require_arg(fcinfo, 3, "max_count");
	from_version = PG_GETARG_INT64(2);
	if (from_version < 0)
		es_raise(ERRCODE_ES_MALFORMED, "{\"argument\": \"from_version\"}",
				 "from_version must not be negative");
	max_count = es_clamp_count(PG_GETARG_INT32(3));

	InitMaterializedSRF(fcinfo, 0);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	es_scan_stream(tenant, stream, from_version, max_count, tuplestore_sink, rsinfo);
	es_call_end(&call);
	return (Datum) 0;
}

static Datum
read_log_common(FunctionCallInfo fcinfo, const char *category)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *tenant = text_arg(fcinfo, 0);
	int			argoff = category ? 2 : 1;
	int64		after;
	int			max_count;
	EsCall		call;

	es_validate_tenant_id(tenant);
	require_arg(fcinfo, argoff, "after_position");
	require_arg(fcinfo, argoff + 1, "max_count");
	after = PG_GETARG_INT64(argoff);
	if (after < 0)
		es_raise(ERRCODE_ES_MALFORMED, "{\"argument\": \"after_position\"}",
				 "after_position must not be negative");
	max_count = es_clamp_count(PG_GETARG_INT32(argoff + 1));

	InitMaterializedSRF(fcinfo, 0);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	es_scan_log(tenant, category, after, max_count, tuplestore_sink, rsinfo);
	es_call_end(&call);
	return (Datum) 0;
}

/* es_read_log(tenant, after_position, max_count) */
Datum
es_read_log(PG_FUNCTION_ARGS)
{
	return read_log_common(fcinfo, NULL);
}

/* es_read_category(tenant, category, after_position, max_count) */
Datum
es_read_category(PG_FUNCTION_ARGS)
{
	char	   *category = text_arg(fcinfo, 1);

	if (category == NULL)
		es_raise(ERRCODE_ES_MALFORMED, "{\"argument\": \"category\"}",
				 "category must not be null");
	es_validate_stream(category);
	return read_log_common(fcinfo, category);
}

/* es_stream_version(tenant, stream) */
Datum
es_stream_version(PG_FUNCTION_ARGS)
{
	char	   *tenant = text_arg(fcinfo, 0);
	char	   *stream = text_arg(fcinfo, 1);
	EsCall		call;
	int64		version;

	es_validate_tenant_id(tenant);
	es_validate_stream(stream);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	version = es_current_stream_version(tenant, stream, false);
	es_call_end(&call);
	PG_RETURN_INT64(version);
}

/* Push "key": value (a Datum of the given kind) into an object being built. */
static void
push_key(JsonbParseState **state, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &k);
}

static void
push_string(JsonbParseState **state, const char *key, char *str)
{
	JsonbValue	v;

	push_key(state, key);
	v.type = jbvString;
	v.val.string.val = str;
	v.val.string.len = strlen(str);
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_int8(JsonbParseState **state, const char *key, int64 value)
{
	JsonbValue	v;

	push_key(state, key);
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(value)));
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_jsonb(JsonbParseState **state, const char *key, Jsonb *jb)
{
	JsonbValue	v;

	push_key(state, key);
	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue *scalar = getIthJsonbValueFromContainer(&jb->root, 0);

		pushJsonbValue(state, WJB_VALUE, scalar);
		return;
	}
	v.type = jbvBinary;
	v.val.binary.data = &jb->root;
	v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	pushJsonbValue(state, WJB_VALUE, &v);
}

Jsonb *
es_event_to_jsonb(Datum *values)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_int8(&state, "position", DatumGetInt64(values[0]));
	push_string(&state, "stream", TextDatumGetCString(values[1]));
	push_int8(&state, "version", DatumGetInt64(values[2]));
	push_string(&state, "type", TextDatumGetCString(values[3]));
	push_jsonb(&state, "data", DatumGetJsonbP(values[4]));
	push_jsonb(&state, "metadata", DatumGetJsonbP(values[5]));
	push_string(&state, "id",
				DatumGetCString(DirectFunctionCall1(uuid_out, values[6])));
	push_string(&state, "recorded_at",
				JsonEncodeDateTime(NULL, values[7], TIMESTAMPTZOID, NULL));
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}
