/*-------------------------------------------------------------------------
 *
 * errors.c
 *	  Single throw point for the contract's ESnnn errors, and their
 *	  detail objects {"reason": ..., facts...}.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "errors.h"
#include "utils/json.h"

EsFacts *
es_facts(void)
{
	EsFacts    *f = palloc(sizeof(EsFacts));

	initStringInfo(&f->buf);
	return f;
}

static void
append_key(EsFacts *f, const char *key)
{
	appendStringInfoString(&f->buf, ", ");
	escape_json(&f->buf, key);
	appendStringInfoString(&f->buf, ": ");
}

/* key: value as a JSON string (null when value is NULL) */
EsFacts *
es_fact_str(EsFacts *f, const char *key, const char *value)
{
	append_key(f, key);
	if (value)
		escape_json(&f->buf, value);
	else
		appendStringInfoString(&f->buf, "null");
	return f;
}

EsFacts *
es_fact_int(EsFacts *f, const char *key, int64 value)
{
	append_key(f, key);
	appendStringInfo(&f->buf, INT64_FORMAT, value);
	return f;
}

/* Raise sqlerrcode with the message and {"reason": reason, facts...}. */
static void
raise_va(int sqlerrcode, const char *reason, EsFacts *facts,
		 const char *fmt, va_list args)
	pg_attribute_printf(4, 0) pg_attribute_noreturn();

static void
raise_va(int sqlerrcode, const char *reason, EsFacts *facts,
		 const char *fmt, va_list args)
{
	StringInfoData msg;
	StringInfoData detail;

	initStringInfo(&msg);
	for (;;)
	{
		va_list		copy;
		int			needed;

		va_copy(copy, args);
		needed = appendStringInfoVA(&msg, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"reason\": ");
	escape_json(&detail, reason);
	if (facts)
		appendBinaryStringInfo(&detail, facts->buf.data, facts->buf.len);
	appendStringInfoChar(&detail, '}');

	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg_internal("%s", msg.data),
			 errdetail_internal("%s", detail.data)));
	pg_unreachable();
}

static void
raise_code(int sqlerrcode, const char *reason, EsFacts *facts, const char *fmt,...)
	pg_attribute_printf(4, 5) pg_attribute_noreturn();

static void
raise_code(int sqlerrcode, const char *reason, EsFacts *facts, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	raise_va(sqlerrcode, reason, facts, fmt, args);
}

#define DEFINE_RAISE(name, code) \
void \
name(const char *reason, EsFacts *facts, const char *fmt,...) \
{ \
	va_list		args; \
\
	va_start(args, fmt); \
	raise_va(code, reason, facts, fmt, args); \
}

DEFINE_RAISE(es_raise_forbidden, ERRCODE_ES_FORBIDDEN)
DEFINE_RAISE(es_raise_not_found, ERRCODE_ES_NOT_FOUND)
DEFINE_RAISE(es_raise_conflict, ERRCODE_ES_CONFLICT)
DEFINE_RAISE(es_raise_invalid, ERRCODE_ES_INVALID)
DEFINE_RAISE(es_raise_limit, ERRCODE_ES_LIMIT)

void
es_raise_malformed(EsFacts *facts, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	raise_va(ERRCODE_ES_MALFORMED, "invalid_argument", facts, fmt, args);
}

void
es_raise_null_argument(const char *name)
{
	es_raise_malformed(es_fact_argument(name), "%s must not be null", name);
}

void
es_raise_negative_argument(const char *name)
{
	es_raise_malformed(es_fact_argument(name), "%s must not be negative", name);
}

void
es_raise_negative_field(const char *name)
{
	es_raise_malformed(es_fact_field(name), "%s must not be negative", name);
}

void
es_raise_stream_conflict(const char *reason, const char *stream,
						 int64 current_version, EsFacts *more, const char *fmt,...)
{
	EsFacts    *facts = es_fact_int(es_fact_str(es_facts(), "stream", stream),
									"current_version", current_version);
	va_list		args;

	if (more)
		appendBinaryStringInfo(&facts->buf, more->buf.data, more->buf.len);
	va_start(args, fmt);
	raise_va(ERRCODE_ES_CONFLICT, reason, facts, fmt, args);
}

void
es_raise_wrong_expected_version(const char *stream, int64 expected, int64 current_version)
{
	es_raise_stream_conflict("wrong_expected_version", stream, current_version,
							 es_fact_int(es_facts(), "expected_version", expected),
							 "wrong expected version for stream \"%s\": expected "
							 INT64_FORMAT ", current " INT64_FORMAT,
							 stream, expected, current_version);
}

void
es_raise_tenant_not_found(const char *tenant)
{
	es_raise_not_found("tenant_not_found", es_fact_str(es_facts(), "tenant", tenant),
					   "tenant \"%s\" does not exist", tenant);
}

void
es_raise_tenant_suspended(const char *tenant)
{
	raise_code(ERRCODE_ES_SUSPENDED, "tenant_suspended",
			   es_fact_str(es_fact_str(es_facts(), "tenant", tenant), "status", "suspended"),
			   "tenant \"%s\" is suspended", tenant);
}

void
es_raise_projection_not_registered(const char *name)
{
	es_raise_not_found("projection_not_registered",
					   es_fact_str(es_facts(), "projection", name),
					   "projection \"%s\" is not registered", name);
}

/* ES422: es_execute and the "state" query need an aggregate for the category */
void
es_raise_aggregate_not_registered(const char *category)
{
	es_raise_invalid("aggregate_not_registered",
					 es_fact_str(es_facts(), "category", category),
					 "no aggregate is registered for category \"%s\"", category);
}
