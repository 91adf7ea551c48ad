/*-------------------------------------------------------------------------
 *
 * errors.h
 *	  The contract's ESnnn SQLSTATEs and the one place they are raised.
 *
 * nnn is the HTTP status the gateway answers with.  errdetail always holds
 * a JSON object with the machine-readable facts (for ES409 the stream's
 * current version), so that clients can parse it without scraping text.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_ERRORS_H
#define ES_ERRORS_H

#include "postgres.h"

#define ERRCODE_ES_MALFORMED		MAKE_SQLSTATE('E','S','4','0','0')
#define ERRCODE_ES_FORBIDDEN		MAKE_SQLSTATE('E','S','4','0','3')
#define ERRCODE_ES_NOT_FOUND		MAKE_SQLSTATE('E','S','4','0','4')
#define ERRCODE_ES_CONFLICT			MAKE_SQLSTATE('E','S','4','0','9')
#define ERRCODE_ES_INVALID			MAKE_SQLSTATE('E','S','4','2','2')
#define ERRCODE_ES_SUSPENDED		MAKE_SQLSTATE('E','S','4','2','3')
#define ERRCODE_ES_LIMIT			MAKE_SQLSTATE('E','S','4','2','9')

/*
 * Raise an ESnnn error.  detail_json is a JSON object text (or NULL for
 * "{}"); the primary message is built from fmt.
 */
extern void es_raise(int sqlerrcode, const char *detail_json,
					 const char *fmt,...) pg_attribute_printf(3, 4) pg_attribute_noreturn();

/* Quote str as a JSON string into a palloc'd buffer */
extern char *es_json_quote(const char *str);

#endif							/* ES_ERRORS_H */
