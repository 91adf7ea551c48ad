/*-------------------------------------------------------------------------
 *
 * errors.h
 *	  The contract's ESnnn errors: one raise helper per error, and the
 *	  typed builder of their details (infrastructure layer).
 *
 * nnn is the HTTP status the gateway answers with.  errdetail is always a
 * JSON object whose first key is "reason", a snake_case word the gateway
 * and clients map on (never on the message text), followed by the facts
 * of the error (for ES409 on a stream: "stream", "current_version").
 * Messages are lowercase; facts go in the detail.  The reasons are listed
 * in the README (Reference: errors).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_ERRORS_H
#define ES_ERRORS_H

#include "postgres.h"

#include "lib/stringinfo.h"

#define ERRCODE_ES_MALFORMED MAKE_SQLSTATE('E', 'S', '4', '0', '0')
#define ERRCODE_ES_FORBIDDEN MAKE_SQLSTATE('E', 'S', '4', '0', '3')
#define ERRCODE_ES_NOT_FOUND MAKE_SQLSTATE('E', 'S', '4', '0', '4')
#define ERRCODE_ES_CONFLICT	 MAKE_SQLSTATE('E', 'S', '4', '0', '9')
#define ERRCODE_ES_TOO_LARGE MAKE_SQLSTATE('E', 'S', '4', '1', '3')
#define ERRCODE_ES_INVALID	 MAKE_SQLSTATE('E', 'S', '4', '2', '2')
#define ERRCODE_ES_SUSPENDED MAKE_SQLSTATE('E', 'S', '4', '2', '3')
#define ERRCODE_ES_LIMIT	 MAKE_SQLSTATE('E', 'S', '4', '2', '9')

/*
 * The facts of an error detail, built with typed setters that return the
 * builder, so that a call site reads
 *	  es_fact_int(es_fact_str(es_facts(), "stream", s), "max", n)
 * NULL stands for "no facts".
 */
typedef struct EsFacts
{
	StringInfoData buf; /* ", \"key\": value" pairs */
} EsFacts;

extern EsFacts *es_facts(void);
extern EsFacts *es_fact_str(EsFacts *f, const char *key, const char *value);
extern EsFacts *es_fact_int(EsFacts *f, const char *key, int64 value);

/* Shorthands for the most common single facts */
#define es_fact_argument(name) es_fact_str(es_facts(), "argument", (name))
#define es_fact_field(name)	   es_fact_str(es_facts(), "field", (name))

/* ES400 "invalid_argument": a malformed or missing argument */
extern void es_raise_malformed(EsFacts *facts, const char *fmt, ...)
	pg_attribute_printf(2, 3) pg_attribute_noreturn();
/* ES403 */
extern void es_raise_forbidden(const char *reason, EsFacts *facts, const char *fmt, ...)
	pg_attribute_printf(3, 4) pg_attribute_noreturn();
/* ES404 */
extern void es_raise_not_found(const char *reason, EsFacts *facts, const char *fmt, ...)
	pg_attribute_printf(3, 4) pg_attribute_noreturn();
/* ES409 */
extern void es_raise_conflict(const char *reason, EsFacts *facts, const char *fmt, ...)
	pg_attribute_printf(3, 4) pg_attribute_noreturn();
/* ES422 */
extern void es_raise_invalid(const char *reason, EsFacts *facts, const char *fmt, ...)
	pg_attribute_printf(3, 4) pg_attribute_noreturn();
/* ES413: a size limit (an event or a batch too large); not worth retrying */
extern void es_raise_too_large(const char *reason, EsFacts *facts, const char *fmt, ...)
	pg_attribute_printf(3, 4) pg_attribute_noreturn();
/* ES429: a rate limit, worth retrying later */
extern void es_raise_limit(const char *reason, EsFacts *facts, const char *fmt, ...)
	pg_attribute_printf(3, 4) pg_attribute_noreturn();

/* Errors raised from more than one place: message and detail written once */

/* ES400 "<name> must not be null" / "must not be negative" */
extern void es_raise_null_argument(const char *name) pg_attribute_noreturn();
extern void es_raise_negative_argument(const char *name) pg_attribute_noreturn();
/* the same for a field of a command or query object */
extern void es_raise_negative_field(const char *name) pg_attribute_noreturn();

/* ES409 on a stream: facts "stream", "current_version", then more */
extern void es_raise_stream_conflict(const char *reason, const char *stream,
									 int64 current_version, EsFacts *more,
									 const char *fmt, ...)
	pg_attribute_printf(5, 6) pg_attribute_noreturn();
extern void es_raise_wrong_expected_version(const char *stream, int64 expected,
											int64 current_version)
	pg_attribute_noreturn();

extern void es_raise_tenant_not_found(const char *tenant) pg_attribute_noreturn();
extern void es_raise_tenant_suspended(const char *tenant) pg_attribute_noreturn();
extern void es_raise_projection_not_registered(const char *name)
	pg_attribute_noreturn();
extern void es_raise_aggregate_not_registered(const char *category)
	pg_attribute_noreturn();

#endif /* ES_ERRORS_H */
