/*-------------------------------------------------------------------------
 *
 * es_saas.c
 *	  Module entry point: GUC definitions, worker registration.
 *
 * Appends, reads, es_execute and es_query work without
 * shared_preload_libraries; the library is loaded on first use.  Only the
 * async projection worker needs preloading.  Limits are PGC_SUSET so that
 * a client cannot raise its own quota.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "es_saas.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "position_cache.h"
#include "registry.h"
#include "runtime.h"
#include "utils/guc.h"

#include <limits.h>
#include <malloc.h>

PG_MODULE_MAGIC;

int			es_max_batch_events = 1000;
int			es_max_event_bytes = 1024 * 1024;
int			es_max_read_count = 10000;
int			es_max_json_depth = 100;
bool		es_notify = false;
char	   *es_tenant_setting = NULL;

void		_PG_init(void);

/* Define the es_saas.* GUCs and reserve the prefix. */
void
_PG_init(void)
{
	DefineCustomIntVariable("es_saas.max_batch_events",
							"Maximum number of events in one append.",
							"Larger batches are refused with ES429.",
							&es_max_batch_events,
							1000, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_event_bytes",
							"Maximum size of one event: data plus metadata as JSON text.",
							"Larger events are refused with ES429.",
							&es_max_event_bytes,
							1024 * 1024, 64, 256 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_read_count",
							"Cap on max_count of the read functions.",
							"A larger max_count is clamped to this value.",
							&es_max_read_count,
							10000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_json_depth",
							"Maximum nesting depth of event data and metadata.",
							"Deeper documents are refused with ES422.",
							&es_max_json_depth,
							100, 2, 10000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("es_saas.notify",
							 "Send NOTIFY es_saas_events (empty payload) on every append.",
							 "Off by default: NOTIFY serializes committing transactions.",
							 &es_notify,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("es_saas.tenant",
							   "Tenant established for row-level security in this transaction.",
							   "Only honoured when the current role may act for the tenant.",
							   &es_tenant_setting,
							   NULL,
							   PGC_USERSET, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.command_retries",
							"Times es_execute decides again after a concurrent append (ES409).",
							NULL, &es_command_retries,
							10, 0, 1000, PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.snapshot_every",
							"Store a stream's folded state every this many events (0: never).",
							NULL, &es_snapshot_every,
							100, 0, INT_MAX, PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_batch_size",
							"Events a worker applies per (tenant, projection) transaction.",
							NULL, &es_worker_batch_size,
							100, 1, 100000, PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_naptime",
							"How long an idle worker sleeps when no append wakes it.",
							NULL, &es_worker_naptime,
							1000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_max_attempts",
							"Attempts at an event before it is parked as a dead letter.",
							NULL, &es_worker_max_attempts,
							3, 1, 1000, PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_retry_delay",
							"First backoff after a failed event; doubles per attempt.",
							NULL, &es_worker_retry_delay,
							1000, 0, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_handler_timeout",
							"Longest a projection handler may run on one event (0: no limit).",
							NULL, &es_worker_handler_timeout,
							10000, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_batch_time",
							"Time budget of one (tenant, projection) batch, so others get their turn.",
							NULL, &es_worker_batch_time,
							1000, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	/* PGC_POSTMASTER variables can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("es_saas.worker_count",
								"Number of async projection workers.",
								"Needs es_saas in shared_preload_libraries.",
								&es_worker_count,
								1, 0, 64, PGC_POSTMASTER, 0, NULL, NULL, NULL);

		DefineCustomStringVariable("es_saas.worker_database",
								   "Database whose async projections the workers apply.",
								   NULL, &es_worker_database,
								   "postgres", PGC_POSTMASTER, 0, NULL, NULL, NULL);

		DefineCustomIntVariable("es_saas.position_cache_size",
								"Tenants whose next log position is kept in shared memory (0: off).",
								"Needs es_saas in shared_preload_libraries.",
								&es_position_cache_size,
								16384, 0, 1024 * 1024, PGC_POSTMASTER, 0, NULL, NULL, NULL);

		es_preloaded = true;
		es_position_cache_init();
		es_worker_init();
	}

	MarkGUCPrefixReserved("es_saas");

	/*
	 * Reads build their result in a tuplestore; with glibc's default
	 * thresholds its larger blocks are mmap'd and returned to the kernel
	 * on every call, and page faults then dominate the cost of a read.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}
