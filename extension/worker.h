/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The async projection worker (runtime layer): its GUCs, registration
 *	  while preloading, and the wake-up at commit of an appending
 *	  transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_WORKER_H
#define ES_WORKER_H

#include "postgres.h"

/* GUCs */
extern int	 es_worker_count;
extern char *es_worker_database;
extern int	 es_worker_batch_size;
extern int	 es_worker_naptime;
extern int	 es_worker_max_attempts;
extern int	 es_worker_retry_delay;
extern int	 es_worker_handler_timeout;
extern int	 es_worker_batch_time;

/* True when the library was loaded by shared_preload_libraries */
extern bool es_preloaded;

/* Are async projection workers configured to run?  (else warn) */
#define ES_WORKERS_CONFIGURED() (es_preloaded && es_worker_count > 0)
#define ES_NO_WORKER_HINT \
	"Add es_saas to shared_preload_libraries with es_saas.worker_count above 0, and restart the server."

/*
 * Define the worker GUCs; while shared_preload_libraries are loaded also
 * the PGC_POSTMASTER ones, the shared memory and the background workers.
 */
extern void es_worker_init(void);

/* Wake the async workers when this transaction commits */
extern void es_worker_wake_at_commit(void);

#endif /* ES_WORKER_H */
