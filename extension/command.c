/*-------------------------------------------------------------------------
 *
 * command.c
 *	  es_execute, the command bus, and es_get_command.
 *
 * A command with an "id" runs at most once per tenant: the command lock on
 * (tenant, id) is held until commit, and the stored result is returned to
 * every later execution.  The built-in "append" command is es_append in
 * envelope form; other types go to the decider loop below and are ES422
 * until registered.  Runtime layer plus its SQL entry points: after each
 * append the after-append hook (projection.h) runs, as for es_append.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "append.h"
#include "catalog/pg_type.h"
#include "command.h"
#include "errors.h"
#include "handler.h"
#include "lib/stringinfo.h"
#include "locks.h"
#include "miscadmin.h"
#include "projection.h"
#include "read.h"
#include "registry.h"
#include "relation.h"
#include "spi_util.h"
#include "state.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
#include "validate.h"

int es_command_retries = 10;

void
es_command_init(void)
{
	DefineCustomIntVariable("es_saas.command_retries",
							"Times es_execute decides again after a concurrent append (ES409).",
							NULL, &es_command_retries, 10, 0, 1000, PGC_SUSET,
							0, NULL, NULL, NULL);
}

PG_FUNCTION_INFO_V1(es_execute);
PG_FUNCTION_INFO_V1(es_get_command);

/* Stored result of (tenant, id), copied out of SPI; NULL when none. */
static Jsonb *
stored_result(const char *tenant, pg_uuid_t *id)
{
	static SPIPlanPtr plan = NULL;
	Oid				  argtypes[2] = {TEXTOID, UUIDOID};
	Datum			  values[2];
	bool			  isnull;

	es_plan(&plan,
			"SELECT result FROM " ES_SQL_COMMANDS " "
			"WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND command_id OPERATOR(pg_catalog.=) $2",
			2, argtypes);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = UUIDPGetDatum(id);
	if (es_exec(plan, values, NULL, false, 1) == 0)
		return NULL;
	return DatumGetJsonbP(es_result_copy(0, 1, &isnull));
}

static void
store_result(const char *tenant, pg_uuid_t *id, const char *type, Jsonb *result)
{
	static SPIPlanPtr plan = NULL;
	Oid				  argtypes[4] = {TEXTOID, UUIDOID, TEXTOID, JSONBOID};
	Datum			  values[4];

	es_plan(&plan,
			"INSERT INTO " ES_SQL_COMMANDS " (tenant_id, command_id, type, result) "
			"VALUES ($1, $2, $3, $4)",
			4, argtypes);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = UUIDPGetDatum(id);
	values[2] = CStringGetTextDatum(type);
	values[3] = JsonbPGetDatum(result);
	es_exec(plan, values, NULL, false, 0);
}

/* The command's "id" as a UUID; false when absent; ES400 when malformed. */
static bool
command_id(Jsonb *command, pg_uuid_t *id)
{
	JsonbValue *v = es_jsonb_field(command, "id");

	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type != jbvString ||
		!es_parse_uuid(pnstrdup(v->val.string.val, v->val.string.len), id))
		es_raise_malformed(es_fact_field("id"), "command id must be a UUID");
	return true;
}

/* Result document of an append: {"stream","version","position","events"} */
Jsonb *
es_append_result_json(const char *stream, EsEventInput *events, int nevents,
					  EsAppendResult *r)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"stream\": ");
	escape_json(&buf, stream);
	appendStringInfo(&buf,
					 ", \"version\": " INT64_FORMAT
					 ", \"position\": " INT64_FORMAT ", \"events\": [",
					 r->version, r->position);
	for (int i = 0; i < nevents; i++)
	{
		appendStringInfo(&buf, "%s{\"id\": \"%s\", \"type\": ", i ? ", " : "",
						 DatumGetCString(
							 DirectFunctionCall1(uuid_out,
												 UUIDPGetDatum(&events[i].id))));
		escape_json(&buf, events[i].type);
		appendStringInfo(&buf,
						 ", \"version\": " INT64_FORMAT
						 ", \"position\": " INT64_FORMAT "}",
						 r->first_version + i, r->first_position + i);
	}
	appendStringInfoString(&buf, "]}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* The built-in {"type":"append","stream","expected_version"?,"events"} */
static Jsonb *
execute_append(EsCall *call, const char *tenant, Jsonb *command)
{
	char		  *stream = es_jsonb_required_text(command, "stream");
	JsonbValue	  *events_value = es_jsonb_field(command, "events");
	int64		   expected = 0;
	bool		   has_expected;
	EsEventInput  *events;
	int			   nevents;
	EsAppendResult result;

	es_validate_stream(stream);
	has_expected = es_jsonb_int_field(command, "expected_version", &expected);
	if (has_expected && expected < 0)
		es_raise_negative_field("expected_version");
	events = es_parse_events(events_value ? JsonbValueToJsonb(events_value) : NULL,
							 &nevents);
	es_append_events(tenant, stream, has_expected, expected, events, nevents, &result);
	es_after_append(call, tenant, stream, events, nevents, &result);
	return es_append_result_json(stream, events, nevents, &result);
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
	Datum	   result;
	bool	   isnull;
	ErrorData *edata;
	FmgrInfo   flinfo;

	fmgr_info(decide, &flinfo);
	if (!es_call_handler_guarded(&flinfo, call->caller, tenant, JsonbPGetDatum(state),
								 JsonbPGetDatum(command), &result, &isnull, &edata))
	{
		const char *state_code = unpack_sql_state(edata->sqlerrcode);

		if (strncmp(state_code, "ES", 2) == 0)
			ReThrowError(edata);
		es_raise_invalid("command_rejected",
						 es_fact_str(es_fact_str(es_facts(), "command_type", type),
									 "message", edata->message),
						 "command rejected: %s", edata->message);
	}
	return isnull ? NULL : DatumGetJsonbP(result);
}

typedef struct AppendArgs
{
	EsCall		   *call;
	const char	   *tenant;
	const char	   *stream;
	int64			expected;
	EsEventInput   *events;
	int				nevents;
	EsAppendResult *result;
} AppendArgs;

static void
append_call(void *arg)
{
	AppendArgs *a = (AppendArgs *) arg;

	es_append_events(a->tenant, a->stream, true, a->expected, a->events,
					 a->nevents, a->result);
	/* in the subtransaction, as es_append's own would be */
	es_after_append(a->call, a->tenant, a->stream, a->events, a->nevents, a->result);
}

/* Append in a subtransaction; false (nothing written) on ES409. */
static bool
try_append(EsCall *call, const char *tenant, const char *stream, int64 expected,
		   EsEventInput *events, int nevents, EsAppendResult *result)
{
	AppendArgs args = {call,   tenant,	stream, expected,
					   events, nevents, result};
	ErrorData *edata;

	if (es_try(append_call, &args, &edata))
		return true;
	if (edata->sqlerrcode != ERRCODE_ES_CONFLICT)
		ReThrowError(edata);
	return false;
}

/*
 * es_execute for a registered command type: the decider loop.  Load the
 * stream's state, call decide(state, command) as the caller, append with
 * the version that was read; on ES409 reload and decide again, up to
 * es_saas.command_retries times.
 */
static Jsonb *
execute_registered(EsCall *call, const char *tenant, const char *type, Jsonb *command)
{
	Oid decide = es_registry_installed() ? es_lookup_command(type) : InvalidOid;
	char	   *stream;
	char	   *category;
	EsAggregate agg;

	if (!OidIsValid(decide))
		es_raise_invalid("unknown_command_type",
						 es_fact_str(es_facts(), "type", type),
						 "unknown command type \"%s\"", type);
	stream = es_jsonb_required_text(command, "stream");
	es_validate_stream(stream);
	category = es_stream_category(stream);
	if (!es_lookup_aggregate(category, &agg))
		es_raise_aggregate_not_registered(category);

	for (int attempt = 0; attempt <= es_command_retries; attempt++)
	{
		EsStreamState  st;
		Jsonb		  *decided;
		EsEventInput  *events;
		int			   nevents;
		EsAppendResult result;

		es_load_state(call, tenant, stream, &agg, PG_INT64_MAX, NULL, &st);
		decided = call_decide(call, decide, tenant, type, st.state, command);
		if (decided == NULL ||
			(JB_ROOT_IS_ARRAY(decided) && !JB_ROOT_IS_SCALAR(decided) &&
			 JB_ROOT_COUNT(decided) == 0))
		{
			/* nothing to do: the command is accepted and changes nothing */
			return DatumGetJsonbP(
				DirectFunctionCall1(jsonb_in,
									CStringGetDatum(
										psprintf("{\"stream\": %s, \"version\": " INT64_FORMAT
												 ", \"position\": null, \"events\": []}",
												 es_json_quote(stream), st.version))));
		}
		events = es_parse_events(decided, &nevents);
		if (try_append(call, tenant, stream, st.version, events, nevents, &result))
		{
			Jsonb *out = es_append_result_json(stream, events, nevents, &result);

			es_fold_appended(call, tenant, stream, &agg, &st, result.version);
			return out;
		}
		CHECK_FOR_INTERRUPTS();
	}
	es_raise_stream_conflict("command_retries_exhausted", stream,
							 es_current_stream_version(tenant, stream, true),
							 es_fact_int(es_facts(), "attempts", es_command_retries + 1),
							 "command gave up after %d conflicting attempts on stream \"%s\"",
							 es_command_retries + 1, stream);
}

/* es_execute(tenant text, command jsonb) returns jsonb */
Datum
es_execute(PG_FUNCTION_ARGS)
{
	char *tenant = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	 *command = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	char	 *type;
	pg_uuid_t id;
	bool	  has_id;
	Jsonb	 *result = NULL;
	EsCall	  call;

	es_validate_tenant_id(tenant);
	if (command == NULL || !JB_ROOT_IS_OBJECT(command))
		es_raise_invalid("invalid_command", es_fact_argument("command"),
						 "command must be a JSON object");
	type = es_jsonb_required_text(command, "type");
	has_id = command_id(command, &id);

	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_WRITE);
	if (has_id)
	{
		es_lock(ES_LOCK_COMMAND, tenant, (const char *) id.data, UUID_LEN,
				ExclusiveLock);
		result = stored_result(tenant, &id);
	}
	if (result == NULL)
	{
		if (strcmp(type, "append") == 0)
			result = execute_append(&call, tenant, command);
		else
			result = execute_registered(&call, tenant, type, command);
		if (has_id)
			store_result(tenant, &id, type, result);
	}
	es_call_end(&call);
	PG_RETURN_JSONB_P(result);
}

/* es_get_command(tenant text, command_id uuid) returns jsonb */
Datum
es_get_command(PG_FUNCTION_ARGS)
{
	char *tenant = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb *result;
	EsCall call;

	es_validate_tenant_id(tenant);
	if (PG_ARGISNULL(1))
		es_raise_null_argument("command_id");
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	result = stored_result(tenant, PG_GETARG_UUID_P(1));
	es_call_end(&call);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(result);
}
