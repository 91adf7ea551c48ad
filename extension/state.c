/*-------------------------------------------------------------------------
 *
 * state.c
 *	  Folding streams into state, snapshots, and the decider loop of
 *	  es_execute for registered command types.
 *
 * es_execute: load the stream's state (latest snapshot, then evolve over
 * the events after it), call decide(state, command) as the caller, append
 * with the version that was read; on ES409 reload and decide again, up to
 * es_saas.command_retries times.  Once es_saas.snapshot_every events lie
 * after the last snapshot a new one is stored, so no command folds more
 * than that many events and its cost stays flat as the stream grows.  Snapshots remember the evolve function that made
 * them; registering an aggregate again drops its category's snapshots.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "errors.h"
#include "es_saas.h"
#include "handler.h"
#include "miscadmin.h"
#include "read.h"
#include "runtime.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

int			es_command_retries = 10;
int			es_snapshot_every = 100;

typedef struct FoldContext
{
	FmgrInfo	evolve;
	EsCall	   *call;
	const char *tenant;
	EsAggregate *agg;
	EsStreamState *st;
	const TimestampTz *max_time;
} FoldContext;

/* Sink: state = evolve(state, event), as the caller. */
static bool
fold_sink(void *arg, Datum *values)
{
	FoldContext *fc = (FoldContext *) arg;
	Jsonb	   *event;
	Datum		result;
	bool		isnull;

	if (fc->max_time && DatumGetTimestampTz(values[7]) > *fc->max_time)
		return false;
	event = es_event_to_jsonb(values);
	result = es_call_handler_fi(&fc->evolve, fc->call->caller, fc->tenant,
								JsonbPGetDatum(fc->st->state), JsonbPGetDatum(event),
								&isnull);
	if (isnull)
		es_raise(ERRCODE_ES_INVALID, "{\"function\": \"evolve\"}",
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
	Oid			types[4] = {TEXTOID, TEXTOID, INT8OID, REGPROCEDUREOID};
	Datum		values[4];
	bool		isnull;

	es_plan(&plan,
			"SELECT version, state FROM es_saas.snapshots "
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
		int64		from = st->version + 1;
		int64		want = max_version - st->version;
		int			batch = (int) Min(want, 10000);
		int64		before = st->version;

		es_scan_stream(tenant, stream, from, batch, fold_sink, &fc);
		/* fewer events than asked for, or stopped by the time bound */
		if (st->version - before < batch)
			break;
	}
}

void
es_load_state(EsCall *call, const char *tenant, const char *stream,
			  EsAggregate *agg, int64 max_version, const TimestampTz *max_time,
			  EsStreamState *out)
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
	Oid			types[5] = {TEXTOID, TEXTOID, INT8OID, JSONBOID, REGPROCEDUREOID};
	Datum		values[5];

	if (es_snapshot_every <= 0 ||
		new_version - st->snapshot_version < es_snapshot_every)
		return;
	fold_from(call, tenant, stream, agg, new_version, NULL, st);
	es_plan(&plan,
			"INSERT INTO es_saas.snapshots (tenant_id, stream, version, state, evolve) "
			"VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
			5, types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(stream);
	values[2] = Int64GetDatum(st->version);
	values[3] = JsonbPGetDatum(st->state);
	values[4] = ObjectIdGetDatum(agg->evolve);
	es_exec(plan, values, NULL, false, 0);
}

/*
 * Call decide(state, command) as the caller.  An ordinary error rejects
 * the command: ES422 "command rejected: <message>".  ESnnn errors raised
 * by the handler on purpose pass through unchanged.
 */
static Jsonb *
call_decide(EsCall *call, Oid decide, const char *tenant, const char *type,
			Jsonb *state, Jsonb *command)
{
	Datum		result;
	bool		isnull;
	ErrorData  *edata;
	FmgrInfo	flinfo;

	fmgr_info(decide, &flinfo);
	if (!es_call_handler_guarded(&flinfo, call->caller, tenant, JsonbPGetDatum(state),
								 JsonbPGetDatum(command), &result, &isnull, &edata))
	{
		const char *state_code = unpack_sql_state(edata->sqlerrcode);

		if (strncmp(state_code, "ES", 2) == 0)
			ReThrowError(edata);
		es_raise(ERRCODE_ES_INVALID,
				 psprintf("{\"command_type\": %s, \"reason\": %s}",
						  es_json_quote(type), es_json_quote(edata->message)),
				 "command rejected: %s", edata->message);
	}
	return isnull ? NULL : DatumGetJsonbP(result);
}

typedef struct AppendArgs
{
	EsCall	   *call;
	const char *tenant;
	const char *stream;
	int64		expected;
	EsEventInput *events;
	int			nevents;
	EsAppendResult *result;
} AppendArgs;

static void
append_call(void *arg)
{
	AppendArgs *a = (AppendArgs *) arg;

	es_append_events(a->call, a->tenant, a->stream, true, a->expected,
					 a->events, a->nevents, a->result);
}

/* Append in a subtransaction; false (nothing written) on ES409. */
static bool
try_append(EsCall *call, const char *tenant, const char *stream, int64 expected,
		   EsEventInput *events, int nevents, EsAppendResult *result)
{
	AppendArgs	args = {call, tenant, stream, expected, events, nevents, result};
	ErrorData  *edata;

	if (es_try(append_call, &args, &edata))
		return true;
	if (edata->sqlerrcode != ERRCODE_ES_CONFLICT)
		ReThrowError(edata);
	return false;
}

/* es_execute for a registered command type (the decider loop). */
Jsonb *
es_execute_registered(EsCall *call, const char *tenant, const char *type,
					  Jsonb *command)
{
	Oid			decide = es_registry_installed() ? es_lookup_command(type) : InvalidOid;
	char	   *stream;
	char	   *category;
	EsAggregate agg;

	if (!OidIsValid(decide))
		es_raise(ERRCODE_ES_INVALID,
				 psprintf("{\"type\": %s}", es_json_quote(type)),
				 "unknown command type \"%s\"", type);
	stream = es_jsonb_required_text(command, "stream");
	es_validate_stream(stream);
	category = es_stream_category(stream);
	if (!es_lookup_aggregate(category, &agg))
		es_raise(ERRCODE_ES_INVALID,
				 psprintf("{\"category\": %s}", es_json_quote(category)),
				 "no aggregate is registered for category \"%s\"", category);

	for (int attempt = 0; attempt <= es_command_retries; attempt++)
	{
		EsStreamState st;
		Jsonb	   *decided;
		EsEventInput *events;
		int			nevents;
		EsAppendResult result;

		es_load_state(call, tenant, stream, &agg, PG_INT64_MAX, NULL, &st);
		decided = call_decide(call, decide, tenant, type, st.state, command);
		if (decided == NULL ||
			(JB_ROOT_IS_ARRAY(decided) && !JB_ROOT_IS_SCALAR(decided) &&
			 JB_ROOT_COUNT(decided) == 0))
		{
			/* nothing to do: the command is accepted and changes nothing */
			return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(
				psprintf("{\"stream\": %s, \"version\": " INT64_FORMAT
						 ", \"position\": null, \"events\": []}",
						 es_json_quote(stream), st.version))));
		}
		events = es_parse_events(decided, &nevents);
		if (try_append(call, tenant, stream, st.version, events, nevents, &result))
		{
			Jsonb	   *out = es_append_result_json(stream, events, nevents, &result);

			es_fold_appended(call, tenant, stream, &agg, &st, result.version);
			return out;
		}
		CHECK_FOR_INTERRUPTS();
	}
	es_raise(ERRCODE_ES_CONFLICT,
			 psprintf("{\"stream\": %s, \"current_version\": " INT64_FORMAT ", \"attempts\": %d}",
					  es_json_quote(stream), es_current_stream_version(tenant, stream, true),
					  es_command_retries + 1),
			 "command gave up after %d conflicting attempts on stream \"%s\"",
			 es_command_retries + 1, stream);
}
