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
	EsFacts *f = palloc(sizeof(EsFacts));

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

/*
 * Format fmt with the caller's variadic arguments into a palloc'd string.
 * A macro, so that va_start and va_end stay in the variadic function itself.
 */
#define FORMAT_MESSAGE(result, fmt)                          \
	do                                                       \
	{                                                        \
		StringInfoData buf_;                                 \
                                                             \
		initStringInfo(&buf_);                               \
		for (;;)                                             \
		{                                                    \
			va_list args_;                                   \
			int		needed_;                                 \
                                                             \
			va_start(args_, fmt);                            \
			needed_ = appendStringInfoVA(&buf_, fmt, args_); \
			va_end(args_);                                   \
			if (needed_ == 0)                                \
				break;                                       \
			enlargeStringInfo(&buf_, needed_);               \
		}                                                    \
		(result) = buf_.data;                                \
	} while (0)

/* Raise sqlerrcode with message and {"reason": reason, facts...}. */
static void raise_detail(int sqlerrcode, const char *reason, EsFacts *facts,
						 const char *message) pg_attribute_noreturn();

static void
raise_detail(int sqlerrcode, const char *reason, EsFacts *facts, const char *message)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"reason\": ");
	escape_json(&detail, reason);
	if (facts)
		appendBinaryStringInfo(&detail, facts->buf.data, facts->buf.len);
	appendStringInfoChar(&detail, '}');

	ereport(ERROR, (errcode(sqlerrcode), errmsg_internal("%s", message),
					errdetail_internal("%s", detail.data)));
	pg_unreachable();
}

static void raise_code(int sqlerrcode, const char *reason, EsFacts *facts,
					   const char *fmt, ...) pg_attribute_printf(4, 5)
	pg_attribute_noreturn();

static void
raise_code(int sqlerrcode, const char *reason, EsFacts *facts, const char *fmt, ...)
{
	char *message;

	FORMAT_MESSAGE(message, fmt);
	raise_detail(sqlerrcode, reason, facts, message);
}

#define DEFINE_RAISE(name, code)                                        \
	void name(const char *reason, EsFacts *facts, const char *fmt, ...) \
	{                                                                   \
		char *message;                                                  \
                                                                        \
		FORMAT_MESSAGE(message, fmt);                                   \
		raise_detail(code, reason, facts, message);                     \
	}

DEFINE_RAISE(es_raise_forbidden, ERRCODE_ES_FORBIDDEN)
DEFINE_RAISE(es_raise_not_found, ERRCODE_ES_NOT_FOUND)
DEFINE_RAISE(es_raise_conflict, ERRCODE_ES_CONFLICT)
DEFINE_RAISE(es_raise_invalid, ERRCODE_ES_INVALID)
DEFINE_RAISE(es_raise_too_large, ERRCODE_ES_TOO_LARGE)
DEFINE_RAISE(es_raise_limit, ERRCODE_ES_LIMIT)

void
es_raise_malformed(EsFacts *facts, const char *fmt, ...)
{
	char *message;

	FORMAT_MESSAGE(message, fmt);
	raise_detail(ERRCODE_ES_MALFORMED, "invalid_argument", facts, message);
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
						 int64 current_version, EsFacts *more, const char *fmt, ...)
{
	EsFacts *facts = es_fact_int(es_fact_str(es_facts(), "stream", stream),
								 "current_version", current_version);
	char	*message;

	if (more)
		appendBinaryStringInfo(&facts->buf, more->buf.data, more->buf.len);
	FORMAT_MESSAGE(message, fmt);
	raise_detail(ERRCODE_ES_CONFLICT, reason, facts, message);
}

void
es_raise_wrong_expected_version(const char *stream, int64 expected, int64 current_version)
{
	es_raise_stream_conflict("wrong_expected_version", stream, current_version,
							 es_fact_int(es_facts(), "expected_version", expected),
							 "wrong expected version for stream \"%s\": expected " INT64_FORMAT
							 ", current " INT64_FORMAT,
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
			   es_fact_str(es_fact_str(es_facts(), "tenant", tenant), "status",
						   "suspended"),
			   "tenant \"%s\" is suspended", tenant);
}

void
es_raise_projection_not_registered(const char *name)
{
	es_raise_not_found("projection_not_registered",
					   es_fact_str(es_facts(), "projection", name),
					   "projection \"%s\" is not registered", name);
}

/* ES422: es_execute and the "state" query need an aggregate for the category
 */
void
es_raise_aggregate_not_registered(const char *category)
{
	es_raise_invalid("aggregate_not_registered",
					 es_fact_str(es_facts(), "category", category),
					 "no aggregate is registered for category \"%s\"", category);
}
