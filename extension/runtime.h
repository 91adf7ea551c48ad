/*-------------------------------------------------------------------------
 *
 * runtime.h
 *	  The CQRS runtime between modules: state folding, inline projections,
 *	  documents, worker wake-up.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_RUNTIME_H
#define ES_RUNTIME_H

#include "postgres.h"

#include "append.h"
#include "registry.h"
#include "spi_util.h"
#include "utils/timestamp.h"

/* GUCs */
extern int	es_command_retries;
extern int	es_snapshot_every;

/* state.c: the folded state of a stream */
typedef struct EsStreamState
{
	Jsonb	   *state;
	int64		version;
	int64		snapshot_version;	/* version of the snapshot it started from (0: none) */
} EsStreamState;

extern void es_load_state(EsCall *call, const char *tenant, const char *stream,
						  EsAggregate *agg, int64 max_version,
						  const TimestampTz *max_time, EsStreamState *out);
extern void es_fold_appended(EsCall *call, const char *tenant, const char *stream,
							 EsAggregate *agg, EsStreamState *st, int64 new_version);
extern Jsonb *es_execute_registered(EsCall *call, const char *tenant,
									const char *type, Jsonb *command);

/* projection.c */
extern void es_run_inline_projections(EsCall *call, const char *tenant,
									  const char *stream, EsEventInput *events,
									  int nevents, EsAppendResult *result);

/* docs.c */
extern Jsonb *es_doc_lookup(const char *tenant, const char *collection, const char *key);

/* worker.c: GUCs; wake the async workers when this transaction commits */
extern int	es_worker_count;
extern char *es_worker_database;
extern int	es_worker_batch_size;
extern int	es_worker_naptime;
extern int	es_worker_max_attempts;
extern int	es_worker_retry_delay;
extern int	es_worker_handler_timeout;
extern int	es_worker_batch_time;

extern void es_worker_wake_at_commit(void);
extern void es_worker_init(void);

#endif							/* ES_RUNTIME_H */
