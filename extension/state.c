/*-------------------------------------------------------------------------
 *
 * state.c
 *	  Folding streams into state, and snapshots (runtime layer).
 *
 * A stream's state is its latest snapshot, then evolve(state, event) over
 * the events after it, run as the caller.  Once es_saas.snapshot_every
 * events lie after the last snapshot a new one is stored, so no command
 * folds more than that many events and its cost stays flat as the stream
 * grows.  Snapshots remember the evolve function that made them;
 * registering an aggregate again drops its category's snapshots.  The
 * decider loop that uses this is in command.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "errors.h"
#include "handler.h"
#include "miscadmin.h"
#include "read.h"
#include "relation.h"
#include "state.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include <limits.h>

int es_snapshot_every = 100;

void
es_state_init(void)
{
	DefineCustomIntVariable("es_saas.snapshot_every",
							"Store a stream's folded state every this many events (0: never).",
							NULL, &es_snapshot_every, 100, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
}

typedef struct FoldContext
{
	FmgrInfo		   evolve;
	EsCall			  *call;
	const char		  *tenant;
	EsAggregate		  *agg;
	EsStreamState	  *st;
	const TimestampTz *max_time;
} FoldContext;

/* Sink: state = evolve(state, event), as the caller. */
static bool
fold_sink(void *arg, Datum *values)
{
	FoldContext *fc = (FoldContext *) arg;
	Jsonb		*event;
	Datum		 result;
	bool		 isnull;

	if (fc->max_time && DatumGetTimestampTz(values[7]) > *fc->max_time)
		return false;
	event = es_event_to_jsonb(values);
	result = es_call_handler_fi(&fc->evolve, fc->call->caller, fc->tenant,
								JsonbPGetDatum(fc->st->state),
								JsonbPGetDatum(event), &isnull);
	if (isnull)
		es_raise_invalid("evolve_returned_null",
						 es_fact_str(es_facts(), "function", "evolve"),
						 "evolve returned NULL at version " INT64_FORMAT,
						 DatumGetInt64(values[2]));
	fc->st->state = DatumGetJsonbPCopy(result);
	fc->st->version = DatumGetInt64(values[2]);
	return true;
}

/* Latest usable snapshot at or below max_version; false when none. */
static bool
find_snapshot(const char *tenant, const char *stream, EsAggregate *agg,
			  int64 max_version, EsStreamState *out)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[4] = {TEXTOID, TEXTOID, INT8OID, REGPROCEDUREOID};
	Datum			  values[4];
	bool			  isnull;

	es_plan(&plan,
			"SELECT version, state FROM " ES_SQL_SNAPSHOTS " "
			"WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND stream OPERATOR(pg_catalog.=) $2 "
			"AND version OPERATOR(pg_catalog.<=) $3 AND evolve OPERATOR(pg_catalog.=) $4 "
			"ORDER BY version DESC LIMIT 1",
			4, types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(stream);
	values[2] = Int64GetDatum(max_version);
	values[3] = ObjectIdGetDatum(agg->evolve);
	if (es_exec(plan, values, NULL, false, 1) == 0)
		return false;
	out->version = DatumGetInt64(es_result_datum(0, 1, &isnull));
	out->state = DatumGetJsonbP(es_result_copy(0, 2, &isnull));
	return true;
}

/* Fold events from st->version + 1 up to max_version into st. */
static void
fold_from(EsCall *call, const char *tenant, const char *stream, EsAggregate *agg,
		  int64 max_version, const TimestampTz *max_time, EsStreamState *st)
{
	FoldContext fc;

	fmgr_info(agg->evolve, &fc.evolve);
	fc.call = call;
	fc.tenant = tenant;
	fc.agg = agg;
	fc.st = st;
	fc.max_time = max_time;

	while (st->version < max_version)
	{
		int64 from = st->version + 1;
		int64 want = max_version - st->version;
		int	  batch = (int) Min(want, 10000);
		int64 before = st->version;

		es_scan_stream(tenant, stream, from, batch, fold_sink, &fc);
		/* fewer events than asked for, or stopped by the time bound */
		if (st->version - before < batch)
			break;
	}
}

void
es_load_state(EsCall *call, const char *tenant, const char *stream, EsAggregate *agg,
			  int64 max_version, const TimestampTz *max_time, EsStreamState *out)
{
	out->state = agg->initial_state;
	out->version = 0;
	/* a snapshot may include events after max_time: time bounds fold all */
	if (max_time == NULL && es_snapshot_every > 0)
		(void) find_snapshot(tenant, stream, agg, max_version, out);
	out->snapshot_version = out->version;
	fold_from(call, tenant, stream, agg, max_version, max_time, out);
}

/*
 * After an append up to new_version: when es_saas.snapshot_every events or
 * more now lie after the snapshot the state was loaded from, fold the new
 * events in and store a snapshot, so that no load folds more than that.
 */
void
es_fold_appended(EsCall *call, const char *tenant, const char *stream,
				 EsAggregate *agg, EsStreamState *st, int64 new_version)
{
	static SPIPlanPtr plan = NULL;
	Oid	  types[5] = {TEXTOID, TEXTOID, INT8OID, JSONBOID, REGPROCEDUREOID};
	Datum values[5];

	if (es_snapshot_every <= 0 || new_version - st->snapshot_version < es_snapshot_every)
		return;
	fold_from(call, tenant, stream, agg, new_version, NULL, st);
	es_plan(&plan,
			"INSERT INTO " ES_SQL_SNAPSHOTS " (tenant_id, stream, version, state, evolve) "
			"VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
			5, types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(stream);
	values[2] = Int64GetDatum(st->version);
	values[3] = JsonbPGetDatum(st->state);
	values[4] = ObjectIdGetDatum(agg->evolve);
	es_exec(plan, values, NULL, false, 0);
}
