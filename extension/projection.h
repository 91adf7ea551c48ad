/*-------------------------------------------------------------------------
 *
 * projection.h
 *	  Inline projections and the runtime's after-append hook.
 *
 * Every SQL entry point that appends (es_append, es_execute) calls
 * es_after_append after es_append_events, inside the appending
 * transaction and as the appending role: inline projections run on the
 * new events (a failing handler fails the append), and the async workers
 * are woken at commit.  The storage layer never calls up here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_PROJECTION_H
#define ES_PROJECTION_H

#include "postgres.h"

#include "append.h"
#include "spi_util.h"

extern void es_after_append(EsCall *call, const char *tenant,
							const char *stream, EsEventInput *events,
							int nevents, EsAppendResult *result);

#endif /* ES_PROJECTION_H */
