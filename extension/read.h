/*-------------------------------------------------------------------------
 *
 * read.h
 *	  Index scans of the event log, feeding a sink one event at a time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_READ_H
#define ES_READ_H

#include "postgres.h"

#include "access/skey.h"
#include "es_saas.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/* Called with the ES_EVENT_NATTS columns of the es_event type; false stops the scan */
typedef bool (*EsEventSink) (void *arg, Datum *values);

extern int	es_scan_stream(const char *tenant, const char *stream,
						   int64 from_version, int max_count,
						   EsEventSink sink, void *arg);
extern int	es_scan_log(const char *tenant, const char *category,
						int64 after_position, int max_count,
						EsEventSink sink, void *arg);
extern void es_init_text_key(ScanKey key, AttrNumber attno, Relation index,
							 const char *value);
extern int64 es_index_last_int8(Relation heap, Relation index, ScanKey keys,
								int nkeys, Snapshot snapshot,
								AttrNumber indexatt, AttrNumber heapatt);
extern int64 es_current_stream_version(const char *tenant, const char *stream,
										bool latest);

/* The event as a jsonb object with the contract's keys */
extern Jsonb *es_event_to_jsonb(Datum *values);

#endif							/* ES_READ_H */
