/*-------------------------------------------------------------------------
 *
 * state.h
 *	  The folded state of a stream and its snapshots (runtime layer).
 *
 * evolve runs as the caller (handler.h), with the tenant's RLS context;
 * SPI must be connected (es_call_begin).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_STATE_H
#define ES_STATE_H

#include "postgres.h"

#include "registry.h"
#include "spi_util.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* GUC es_saas.snapshot_every */
extern int es_snapshot_every;

/* Define es_saas.snapshot_every; from _PG_init. */
extern void es_state_init(void);

typedef struct EsStreamState
{
	Jsonb *state;
	int64  version;
	int64  snapshot_version; /* version of the snapshot it started from (0:
								none) */
} EsStreamState;

/*
 * Fold the stream up to max_version (and, when max_time is given, up to
 * that recording time: then no snapshot is used).
 */
extern void es_load_state(EsCall *call, const char *tenant, const char *stream,
						  EsAggregate *agg, int64 max_version,
						  const TimestampTz *max_time, EsStreamState *out);

/* After an append up to new_version: store a snapshot when one is due. */
extern void es_fold_appended(EsCall *call, const char *tenant, const char *stream,
							 EsAggregate *agg, EsStreamState *st, int64 new_version);

#endif /* ES_STATE_H */
