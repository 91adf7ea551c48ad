/*-------------------------------------------------------------------------
 *
 * query.c
 *	  es_query: the query side's built-in types.
 *
 * "stream", "log" and "category" answer {"events": [...]} through the same
 * scans as the read functions (so "log" and "category" are gap-safe too).
 * Unknown types are ES422; registered query functions, "state" and
 * "projection" come with the CQRS runtime.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "errors.h"
#include "es_saas.h"
#include "read.h"
#include "spi_util.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(es_query);

#define DEFAULT_LIMIT 1000

typedef struct EventArray
{
	JsonbParseState *state;
	MemoryContext cxt;
} EventArray;

/* Sink appending each event object to a jsonb array under construction. */
static void
array_sink(void *arg, Datum *values)
{
	EventArray *array = (EventArray *) arg;
	MemoryContext old = MemoryContextSwitchTo(array->cxt);
	Jsonb	   *event = es_event_to_jsonb(values);
	JsonbValue	v;

	v.type = jbvBinary;
	v.val.binary.data = &event->root;
	v.val.binary.len = VARSIZE(event) - VARHDRSZ;
	pushJsonbValue(&array->state, WJB_ELEM, &v);
	MemoryContextSwitchTo(old);
}

/* Optional non-negative integer field; ES400 when negative. */
static int64
nonneg_field(Jsonb *query, const char *key, int64 dflt)
{
	int64		value;

	if (!es_jsonb_int_field(query, key, &value))
		return dflt;
	if (value < 0)
		es_raise(ERRCODE_ES_MALFORMED,
				 psprintf("{\"field\": %s}", es_json_quote(key)),
				 "%s must not be negative", key);
	return value;
}

static int
limit_field(Jsonb *query)
{
	int64		limit = nonneg_field(query, "limit", DEFAULT_LIMIT);

	return es_clamp_count((int32) Min(limit, PG_INT32_MAX));
}

/* es_query(tenant text, query jsonb) returns jsonb */
Datum
es_query(PG_FUNCTION_ARGS)
{
	char	   *tenant = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *query = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	char	   *type;
	EventArray	array = {NULL, CurrentMemoryContext};
	JsonbParseState *state = NULL;
	JsonbValue	key;
	JsonbValue *result;
	JsonbValue	events;
	Jsonb	   *events_jb;
	EsCall		call;

	es_validate_tenant_id(tenant);
	if (query == NULL || !JB_ROOT_IS_OBJECT(query))
		es_raise(ERRCODE_ES_INVALID, "{\"argument\": \"query\"}",
				 "query must be a JSON object");
	type = es_jsonb_required_text(query, "type");

	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	pushJsonbValue(&array.state, WJB_BEGIN_ARRAY, NULL);
	if (strcmp(type, "stream") == 0)
	{
		char	   *stream = es_jsonb_required_text(query, "stream");

		es_validate_stream(stream);
		es_scan_stream(tenant, stream, nonneg_field(query, "from_version", 1),
					   limit_field(query), array_sink, &array);
	}
	else if (strcmp(type, "log") == 0)
		es_scan_log(tenant, NULL, nonneg_field(query, "after_position", 0),
					limit_field(query), array_sink, &array);
	else if (strcmp(type, "category") == 0)
	{
		char	   *category = es_jsonb_required_text(query, "category");

		es_validate_stream(category);
		es_scan_log(tenant, category, nonneg_field(query, "after_position", 0),
					limit_field(query), array_sink, &array);
	}
	else
		es_raise(ERRCODE_ES_INVALID,
				 psprintf("{\"type\": %s}", es_json_quote(type)),
				 "unknown query type \"%s\"", type);
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
