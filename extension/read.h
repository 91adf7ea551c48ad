/*-------------------------------------------------------------------------
 *
 * read.h
 *	  The scan engine of the event log (storage layer): index scans of the
 *	  event table, feeding a sink one event at a time.
 *
 * Callers have checked access (es_check_tenant).  Stream scans use the
 * transaction snapshot; log and category scans are gap-safe (positions.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_READ_H
#define ES_READ_H

#include "postgres.h"

#include "utils/jsonb.h"

/* Columns of the es_event output type, in contract order */
#define ES_EVENT_NATTS 8

/* Called with the ES_EVENT_NATTS columns of the es_event type; false stops the
 * scan */
typedef bool (*EsEventSink)(void *arg, Datum *values);

extern int es_scan_stream(const char *tenant, const char *stream, int64 from_version,
						  int max_count, EsEventSink sink, void *arg);
extern int es_scan_log(const char *tenant, const char *category, int64 after_position,
					   int max_count, EsEventSink sink, void *arg);

/*
 * Version of the stream's last event (0: none), as of the transaction
 * snapshot, or as of now (latest) for appenders holding the stream lock.
 */
extern int64 es_current_stream_version(const char *tenant, const char *stream,
									   bool latest);

/* The event as a jsonb object with the contract's keys */
extern Jsonb *es_event_to_jsonb(Datum *values);

#endif /* ES_READ_H */
