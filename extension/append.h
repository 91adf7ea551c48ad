/*-------------------------------------------------------------------------
 *
 * append.h
 *	  Appending a validated batch of events to one stream.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_APPEND_H
#define ES_APPEND_H

#include "postgres.h"

#include "es_saas.h"
#include "spi_util.h"

typedef struct EsAppendResult
{
	int64		version;		/* stream version after the append */
	int64		position;		/* position of the last event */
	int64		first_version;
	int64		first_position;
	bool		replayed;		/* idempotent retry: nothing was written */
} EsAppendResult;

/*
 * Append events to stream.  The caller has passed es_check_tenant with
 * ES_ACCESS_WRITE.  has_expected false means "any version".  Event ids
 * missing from the input are generated and written back into events.
 */
extern void es_append_events(EsCall *call, const char *tenant, const char *stream,
							 bool has_expected, int64 expected,
							 EsEventInput *events, int nevents,
							 EsAppendResult *result);

/* The es_execute result document of an append */
extern Jsonb *es_append_result_json(const char *stream, EsEventInput *events,
									int nevents, EsAppendResult *r);

#endif							/* ES_APPEND_H */
