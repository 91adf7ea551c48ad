/*-------------------------------------------------------------------------
 *
 * query.c
 *	  es_query: the query side's built-in types.
 *
 * "stream", "log" and "category" answer {"events": [...]} through the same
 * scans as the read functions (so "log" and "category" are gap-safe too).
 * "state" folds a stream with its registered aggregate (optionally as of a
 * version or a time: a temporal query), "projection" answers a read-model
 * document, and other types go to query functions registered by the
 * application, run as the caller with es_saas.tenant set to the tenant.
 * Unknown types are ES422.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "access/xact.h"
#include "docs.h"
#include "errors.h"
#include "handler.h"
#include "query.h"
#include "read.h"
#include "registry.h"
#include "spi_util.h"
#include "state.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(es_query);

#define DEFAULT_LIMIT 1000

typedef struct EventArray
{
	JsonbParseState *state;
	MemoryContext	 cxt;
} EventArray;

/* Sink appending each event object to a jsonb array under construction. */
static bool
array_sink(void *arg, Datum *values)
{
	EventArray	 *array = (EventArray *) arg;
	MemoryContext old = MemoryContextSwitchTo(array->cxt);
	Jsonb		 *event = es_event_to_jsonb(values);
	JsonbValue	  v;

	v.type = jbvBinary;
	v.val.binary.data = &event->root;
	v.val.binary.len = VARSIZE(event) - VARHDRSZ;
	pushJsonbValue(&array->state, WJB_ELEM, &v);
	MemoryContextSwitchTo(old);
	return true;
}

/* Optional non-negative integer field; ES400 when negative. */
static int64
nonneg_field(Jsonb *query, const char *key, int64 dflt)
{
	int64 value;

	if (!es_jsonb_int_field(query, key, &value))
		return dflt;
	if (value < 0)
		es_raise_negative_field(key);
	return value;
}

static int
limit_field(Jsonb *query)
{
	int64 limit = nonneg_field(query, "limit", DEFAULT_LIMIT);

	return es_clamp_count((int32) Min(limit, PG_INT32_MAX));
}

/* ES422: as_of_time is not a timestamp */
static void raise_bad_time(void) pg_attribute_noreturn();

static void
raise_bad_time(void)
{
	es_raise_invalid("invalid_query", es_fact_field("as_of_time"),
					 "as_of_time must be a timestamp (ISO 8601)");
}

typedef struct TimeParse
{
	const char *text;
	TimestampTz result;
} TimeParse;

static void
time_parse_call(void *arg)
{
	TimeParse *tp = (TimeParse *) arg;

	tp->result = DatumGetTimestampTz(
		DirectFunctionCall3(timestamptz_in, CStringGetDatum(tp->text),
							ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* n ASCII digits at *p, their value in *value; advances *p */
static bool
take_digits(const char **p, int n, int *value)
{
	*value = 0;
	for (int i = 0; i < n; i++)
	{
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		*value = *value * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/*
 * Whether text is ISO 8601 as the README promises, and nothing else that
 * timestamptz_in would take ("now", "epoch", "infinity", Julian days, BC
 * years, 24:00:00, a space for T):
 *	  YYYY-MM-DD
 *	  YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM]
 * Calendar validity (February 30) is left to timestamptz_in.
 */
static bool
iso8601_ok(const char *p)
{
	int v;

	if (!take_digits(&p, 4, &v) || *p++ != '-' || !take_digits(&p, 2, &v) || v < 1 ||
		v > 12 || *p++ != '-' || !take_digits(&p, 2, &v) || v < 1 || v > 31)
		return false;
	if (*p == '\0')
		return true;
	if (*p++ != 'T' || !take_digits(&p, 2, &v) || v > 23 || *p++ != ':' ||
		!take_digits(&p, 2, &v) || v > 59)
		return false;
	if (*p == ':')
	{
		p++;
		if (!take_digits(&p, 2, &v) || v > 59)
			return false;
		if (*p == '.')
		{
			p++;
			if (*p < '0' || *p > '9')
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-')
	{
		p++;
		return take_digits(&p, 2, &v) && v <= 15 && *p++ == ':' &&
			   take_digits(&p, 2, &v) && v <= 59 && *p == '\0';
	}
	return *p == '\0';
}

/* A timestamptz from ISO 8601 text; ES422 otherwise. */
static TimestampTz
parse_time(const char *text)
{
	TimeParse  tp = {text, 0};
	ErrorData *edata;

	if (!iso8601_ok(text) || !es_try(time_parse_call, &tp, &edata))
		raise_bad_time();
	return tp.result;
}

/* {"type":"state","stream","as_of_version"?|"as_of_time"?} */
static Jsonb *
state_query(EsCall *call, const char *tenant, Jsonb *query)
{
	char *stream = es_jsonb_required_text(query, "stream");
	char *category;
	bool  has_time;
	char *time_text = es_jsonb_text_field(query, "as_of_time", &has_time);
	int64 max_version = PG_INT64_MAX;
	bool  has_version;
	TimestampTz	   max_time;
	EsAggregate	   agg;
	EsStreamState  st;
	StringInfoData buf;

	es_validate_stream(stream);
	has_version = es_jsonb_int_field(query, "as_of_version", &max_version);
	if (has_version && max_version < 0)
		es_raise_negative_field("as_of_version");
	if (has_time && time_text == NULL)
		raise_bad_time();
	if (has_time && has_version)
		es_raise_invalid("invalid_query", es_fact_field("as_of_time"),
						 "give as_of_version or as_of_time, not both");
	if (has_time)
		max_time = parse_time(time_text);
	category = es_stream_category(stream);
	if (!es_registry_installed() || !es_lookup_aggregate(category, &agg))
		es_raise_aggregate_not_registered(category);
	es_load_state(call, tenant, stream, &agg, max_version,
				  has_time ? &max_time : NULL, &st);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"stream\": %s, \"version\": " INT64_FORMAT ", \"state\": %s}",
					 es_json_quote(stream), st.version,
					 JsonbToCString(NULL, &st.state->root, VARSIZE(st.state)));
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* {"type":"projection","name","key"}: the read-model document */
static Jsonb *
projection_query(const char *tenant, Jsonb *query)
{
	char  *name = es_jsonb_required_text(query, "name");
	char  *key = es_jsonb_required_text(query, "key");
	Jsonb *doc;

	if (!es_registry_installed() || es_lookup_projection(name) == NULL)
		es_raise_projection_not_registered(name);
	doc = es_doc_lookup(tenant, name, key);
	if (doc == NULL)
		es_raise_not_found("document_not_found",
						   es_fact_str(es_fact_str(es_facts(), "projection", name),
									   "key", key),
						   "projection \"%s\" has no document \"%s\"", name, key);
	return doc;
}

/* Registered query types: fn(tenant, params) as the caller, in the tenant. */
static Jsonb *
other_query(EsCall *call, const char *tenant, const char *type, Jsonb *query)
{
	Oid			fn;
	JsonbValue *params_value;
	Jsonb	   *params;
	Datum		result;
	bool		isnull;

	if (strcmp(type, "state") == 0)
		return state_query(call, tenant, query);
	if (strcmp(type, "projection") == 0)
		return projection_query(tenant, query);

	fn = es_registry_installed() ? es_lookup_query(type) : InvalidOid;
	if (!OidIsValid(fn))
		es_raise_invalid("unknown_query_type", es_fact_str(es_facts(), "type", type),
						 "unknown query type \"%s\"", type);
	params_value = es_jsonb_field(query, "params");
	if (params_value == NULL || params_value->type == jbvNull)
		params =
			DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	else if (params_value->type == jbvBinary &&
			 JsonContainerIsObject(params_value->val.binary.data))
		params = JsonbValueToJsonb(params_value);
	else
		es_raise_invalid("invalid_query", es_fact_field("params"),
						 "params must be a JSON object");
	result = es_call_handler(fn, call->caller, tenant, CStringGetTextDatum(tenant),
							 JsonbPGetDatum(params), &isnull);
	if (isnull)
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("null")));
	return DatumGetJsonbPCopy(result);
}

/* es_query(tenant text, query jsonb) returns jsonb */
Datum
es_query(PG_FUNCTION_ARGS)
{
	char *tenant = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb			*query = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	char			*type;
	EventArray		 array = {NULL, CurrentMemoryContext};
	JsonbParseState *state = NULL;
	JsonbValue		 key;
	JsonbValue		*result;
	JsonbValue		 events;
	Jsonb			*events_jb;
	EsCall			 call;

	es_validate_tenant_id(tenant);
	if (query == NULL || !JB_ROOT_IS_OBJECT(query))
		es_raise_invalid("invalid_query", es_fact_argument("query"),
						 "query must be a JSON object");
	type = es_jsonb_required_text(query, "type");

	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	pushJsonbValue(&array.state, WJB_BEGIN_ARRAY, NULL);
	if (strcmp(type, "stream") == 0)
	{
		char *stream = es_jsonb_required_text(query, "stream");

		es_validate_stream(stream);
		es_scan_stream(tenant, stream, nonneg_field(query, "from_version", 1),
					   limit_field(query), array_sink, &array);
	}
	else if (strcmp(type, "log") == 0)
		es_scan_log(tenant, NULL, nonneg_field(query, "after_position", 0),
					limit_field(query), array_sink, &array);
	else if (strcmp(type, "category") == 0)
	{
		char *category = es_jsonb_required_text(query, "category");

		es_validate_stream(category);
		es_scan_log(tenant, category, nonneg_field(query, "after_position", 0),
					limit_field(query), array_sink, &array);
	}
	else
	{
		Jsonb *answer = other_query(&call, tenant, type, query);

		es_call_end(&call);
		PG_RETURN_JSONB_P(answer);
	}
	events_jb = JsonbValueToJsonb(pushJsonbValue(&array.state, WJB_END_ARRAY, NULL));
	es_call_end(&call);

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	key.type = jbvString;
	key.val.string.val = "events";
	key.val.string.len = 6;
	pushJsonbValue(&state, WJB_KEY, &key);
	events.type = jbvBinary;
	events.val.binary.data = &events_jb->root;
	events.val.binary.len = VARSIZE(events_jb) - VARHDRSZ;
	pushJsonbValue(&state, WJB_VALUE, &events);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}
