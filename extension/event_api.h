/*-------------------------------------------------------------------------
 *
 * event_api.h
 *	  SQL entry points of the event store (es_append, es_read_*,
 *	  es_stream_version).  Called by the fmgr only: nothing is exported
 *	  to other modules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_EVENT_API_H
#define ES_EVENT_API_H

#include "postgres.h"

/* es_append, es_read_stream, es_read_log, es_read_category, es_stream_version:
 * declared by PG_FUNCTION_INFO_V1 in event_api.c, called through the fmgr */

#endif /* ES_EVENT_API_H */
