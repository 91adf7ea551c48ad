/*-------------------------------------------------------------------------
 *
 * event_api.c
 *	  SQL entry points of the event store: es_append, es_read_stream,
 *	  es_read_log, es_read_category, es_stream_version.
 *
 * Top of the stack: validate the arguments, enter the call protocol
 * (spi_util.h), check the tenant (access.h), then call the storage layer;
 * after an append, run the runtime's after-append hook (projection.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "append.h"
#include "errors.h"
#include "event_api.h"
#include "funcapi.h"
#include "projection.h"
#include "read.h"
#include "spi_util.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(es_append);
PG_FUNCTION_INFO_V1(es_read_stream);
PG_FUNCTION_INFO_V1(es_read_log);
PG_FUNCTION_INFO_V1(es_read_category);
PG_FUNCTION_INFO_V1(es_stream_version);


/*
 * Materialized result for one of the SQL functions below.  The executor has
 * already built the row type: reuse it rather than rebuilding it from
 * pg_proc's OUT parameters on every call (about 5,600 instructions).
 */
static void
init_result(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		   have_desc = rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) &&
					 rsinfo->expectedDesc != NULL;

	InitMaterializedSRF(fcinfo, have_desc ? MAT_SRF_USE_EXPECTED_DESC : 0);
}
/*
 * es_append(tenant text, stream text, expected_version bigint, events jsonb)
 * returns table(version bigint, position bigint)
 */
Datum
es_append(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char *tenant = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char *stream = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		   has_expected = !PG_ARGISNULL(2);
	int64		   expected = has_expected ? PG_GETARG_INT64(2) : 0;
	Jsonb		  *events_arg = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	EsEventInput  *events;
	int			   nevents;
	EsAppendResult result;
	EsCall		   call;
	Datum		   values[2];
	bool		   nulls[2] = {false, false};

	es_validate_tenant_id(tenant);
	es_validate_stream(stream);
	if (has_expected && expected < 0)
		es_raise_negative_argument("expected_version");
	events = es_parse_events(events_arg, &nevents);

	init_result(fcinfo);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_WRITE);
	es_append_events(tenant, stream, has_expected, expected, events, nevents, &result);
	es_after_append(&call, tenant, stream, events, nevents, &result);
	es_call_end(&call);

	values[0] = Int64GetDatum(result.version);
	values[1] = Int64GetDatum(result.position);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/* Sink writing es_event rows into a materialized SRF result. */
static bool
tuplestore_sink(void *arg, Datum *values)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	bool		   nulls[ES_EVENT_NATTS] = {0};

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
		es_raise_null_argument(name);
}

/* es_read_stream(tenant, stream, from_version, max_count) */
Datum
es_read_stream(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char		  *tenant = text_arg(fcinfo, 0);
	char		  *stream = text_arg(fcinfo, 1);
	int64		   from_version;
	int			   max_count;
	EsCall		   call;

	es_validate_tenant_id(tenant);
	es_validate_stream(stream);
	require_arg(fcinfo, 2, "from_version");
	require_arg(fcinfo, 3, "max_count");
	from_version = PG_GETARG_INT64(2);
	if (from_version < 0)
		es_raise_negative_argument("from_version");
	max_count = es_clamp_count(PG_GETARG_INT32(3));

	init_result(fcinfo);
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
	char		  *tenant = text_arg(fcinfo, 0);
	int			   argoff = category ? 2 : 1;
	int64		   after;
	int			   max_count;
	EsCall		   call;

	es_validate_tenant_id(tenant);
	require_arg(fcinfo, argoff, "after_position");
	require_arg(fcinfo, argoff + 1, "max_count");
	after = PG_GETARG_INT64(argoff);
	if (after < 0)
		es_raise_negative_argument("after_position");
	max_count = es_clamp_count(PG_GETARG_INT32(argoff + 1));

	init_result(fcinfo);
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
	char *category = text_arg(fcinfo, 1);

	if (category == NULL)
		es_raise_null_argument("category");
	es_validate_stream(category);
	return read_log_common(fcinfo, category);
}

/* es_stream_version(tenant, stream) */
Datum
es_stream_version(PG_FUNCTION_ARGS)
{
	char  *tenant = text_arg(fcinfo, 0);
	char  *stream = text_arg(fcinfo, 1);
	EsCall call;
	int64  version;

	es_validate_tenant_id(tenant);
	es_validate_stream(stream);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	version = es_current_stream_version(tenant, stream, false);
	es_call_end(&call);
	PG_RETURN_INT64(version);
}
