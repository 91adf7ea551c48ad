/*-------------------------------------------------------------------------
 *
 * append.h
 *	  Appending a validated batch of events to one stream (storage layer).
 *
 * Takes the stream lock (until commit) and the log lock (while inserting),
 * checks the expected version, recognises an idempotent retry, and writes
 * the rows straight into the heap and its indexes.  It never calls the
 * runtime: after a successful, non-replayed append the caller runs
 * es_after_append (projection.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_APPEND_H
#define ES_APPEND_H

#include "postgres.h"

#include "validate.h"

typedef struct EsAppendResult
{
	int64 version;	/* stream version after the append */
	int64 position; /* position of the last event */
	int64 first_version;
	int64 first_position;
	bool  replayed; /* idempotent retry: nothing was written */
} EsAppendResult;

/* GUC es_saas.notify */
extern bool es_notify;

/* Define the GUCs of the append path; from _PG_init. */
extern void es_append_init(void);

/*
 * Append events to stream.  The caller has passed es_check_tenant with
 * ES_ACCESS_WRITE (and so holds the tenant state lock) and runs inside
 * es_call_begin.  has_expected false means "any version".  Event ids
 * missing from the input are generated and written back into events.
 */
extern void es_append_events(const char *tenant, const char *stream,
							 bool has_expected, int64 expected, EsEventInput *events,
							 int nevents, EsAppendResult *result);

#endif /* ES_APPEND_H */
