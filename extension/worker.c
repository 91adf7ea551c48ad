/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The async projection worker (needs shared_preload_libraries).
 *
 * es_saas.worker_count background workers serve es_saas.worker_database.
 * Worker i owns the tenants whose hash falls in its slot, so one tenant's
 * events are applied by one worker, in log order.  Each unit of work is
 * one transaction for one (tenant, projection): lock the checkpoint row,
 * read up to es_saas.worker_batch_size events after it with the gap-safe
 * reader, apply each in a subtransaction, move the checkpoint; the read
 * models and the checkpoint commit together, so every event is applied
 * exactly once across crashes and restarts.
 *
 * A failing event is retried with exponential backoff (the checkpoint
 * records when), and after es_saas.worker_max_attempts it is parked in
 * es_saas.dead_letters and the projection goes on, or stops when it was
 * registered with on_error => 'stop'.  A retrying or slow tenant only
 * delays itself: work is taken least recently served first, a batch has a
 * time budget, and a handler call has a timeout.
 *
 * Appends wake the workers through their latches at commit; without a
 * wake-up they poll every es_saas.worker_naptime.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "handler.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "read.h"
#include "registry.h"
#include "relation.h"
#include "spi_util.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "worker.h"

#include <limits.h>

#define ES_MAX_WORKERS 64

PGDLLEXPORT void es_worker_main(Datum main_arg);

int	  es_worker_count = 1;
char *es_worker_database = NULL;
int	  es_worker_batch_size = 100;
int	  es_worker_naptime = 1000;
int	  es_worker_max_attempts = 3;
int	  es_worker_retry_delay = 2000;
int	  es_worker_handler_timeout = 10000;
int	  es_worker_batch_time = 1000;
bool  es_preloaded = false;

typedef struct EsWorkerShared
{
	Latch *latches[ES_MAX_WORKERS];
} EsWorkerShared;

static EsWorkerShared		  *es_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool					   wake_pending = false;
static bool					   xact_callback_registered = false;
static int					   my_index = -1;

static void
es_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(EsWorkerShared)));
}

static void
es_shmem_startup(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	es_shared = ShmemInitStruct("es_saas worker", sizeof(EsWorkerShared), &found);
	if (!found)
		memset(es_shared, 0, sizeof(EsWorkerShared));
	LWLockRelease(AddinShmemInitLock);
}

static void
define_gucs(void)
{
	DefineCustomIntVariable("es_saas.worker_batch_size",
							"Events a worker applies per (tenant, projection) transaction.",
							NULL, &es_worker_batch_size, 100, 1, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_naptime",
							"How long an idle worker sleeps when no append wakes it.",
							NULL, &es_worker_naptime, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_max_attempts",
							"Attempts at an event before it is parked as a dead letter.",
							NULL, &es_worker_max_attempts, 3, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_retry_delay",
							"First backoff after a failed event; doubles per attempt.",
							NULL, &es_worker_retry_delay, 2000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_handler_timeout",
							"Longest a projection handler may run on one event (0: no limit).",
							NULL, &es_worker_handler_timeout, 10000, 0,
							INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.worker_batch_time",
							"Time budget of one (tenant, projection) batch, so others get their turn.",
							NULL, &es_worker_batch_time, 1000, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	/* PGC_POSTMASTER variables can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("es_saas.worker_count",
								"Number of async projection workers.",
								"Needs es_saas in shared_preload_libraries.",
								&es_worker_count, 1, 0, 64, PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

		DefineCustomStringVariable("es_saas.worker_database",
								   "Database whose async projections the workers apply.",
								   NULL, &es_worker_database, "postgres",
								   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	}
}

/* From _PG_init: GUCs; when preloading, shared memory and the workers. */
void
es_worker_init(void)
{
	BackgroundWorker worker;

	define_gucs();
	if (!process_shared_preload_libraries_in_progress)
		return;
	es_preloaded = true;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = es_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = es_shmem_startup;

	for (int i = 0; i < Min(es_worker_count, ES_MAX_WORKERS); i++)
	{
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = 1;
		strlcpy(worker.bgw_library_name, "es_saas", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "es_worker_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "es_saas projection worker %d", i);
		strlcpy(worker.bgw_type, "es_saas projection worker", BGW_MAXLEN);
		worker.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&worker);
	}
}

static void
wake_callback(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) &&
		wake_pending && es_shared != NULL)
	{
		for (int i = 0; i < ES_MAX_WORKERS; i++)
		{
			Latch *latch = es_shared->latches[i];

			if (latch != NULL)
				SetLatch(latch);
		}
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_pending = false;
}

void
es_worker_wake_at_commit(void)
{
	if (es_shared == NULL)
		return;
	if (!xact_callback_registered)
	{
		RegisterXactCallback(wake_callback, NULL);
		xact_callback_registered = true;
	}
	wake_pending = true;
}

typedef struct WorkItem
{
	char *projection;
	char *tenant;
} WorkItem;

typedef struct BatchEvent
{
	int64  position;
	char  *type;
	Jsonb *event;
} BatchEvent;

typedef struct Batch
{
	BatchEvent *events;
	int			n;
} Batch;

static bool
collect_sink(void *arg, Datum *values)
{
	Batch *b = (Batch *) arg;

	b->events[b->n].position = DatumGetInt64(values[0]);
	b->events[b->n].type = TextDatumGetCString(values[3]);
	b->events[b->n].event = es_event_to_jsonb(values);
	b->n++;
	return true;
}

/* (projection, tenant) pairs of this worker with events to apply. */
static List *
find_work(MemoryContext cxt)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[2] = {INT4OID, INT4OID};
	Datum			  values[2];
	List			 *items = NIL;
	uint64			  n;

	es_plan(&plan,
			"SELECT p.name, t.tenant_id FROM " ES_SQL_PROJECTIONS " p "
			"CROSS JOIN " ES_SQL_TENANTS " t "
			"LEFT JOIN " ES_SQL_PROJECTION_CHECKPOINTS " c "
			"  ON c.tenant_id OPERATOR(pg_catalog.=) t.tenant_id "
			"  AND c.projection OPERATOR(pg_catalog.=) p.name "
			"WHERE p.mode OPERATOR(pg_catalog.=) 'async' "
			"AND NOT COALESCE(c.stopped, false) "
			"AND (c.retry_at IS NULL OR c.retry_at OPERATOR(pg_catalog.<=) pg_catalog.now()) "
			"AND (pg_catalog.hashtext(t.tenant_id) OPERATOR(pg_catalog.&) 2147483647) "
			"    OPERATOR(pg_catalog.%) $1 OPERATOR(pg_catalog.=) $2 "
			"AND COALESCE(c.position, 0) OPERATOR(pg_catalog.<) (SELECT COALESCE(pg_catalog.max(e.position), 0) "
			"    FROM " ES_SQL_EVENTS " e WHERE e.tenant_id OPERATOR(pg_catalog.=) t.tenant_id) "
			"ORDER BY c.updated_at NULLS FIRST LIMIT 1000",
			2, types);
	values[0] = Int32GetDatum(Min(es_worker_count, ES_MAX_WORKERS));
	values[1] = Int32GetDatum(my_index);
	n = es_exec(plan, values, NULL, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		WorkItem	 *w = palloc(sizeof(WorkItem));

		w->projection =
			SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		w->tenant = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		items = lappend(items, w);
		MemoryContextSwitchTo(old);
	}
	return items;
}

/* Apply one event in a subtransaction, with a timeout; false with *error on
 * failure. */
static bool
apply_guarded(EsProjection *proj, const char *tenant, Jsonb *event, char **error)
{
	Datum	   result;
	bool	   isnull;
	ErrorData *edata;
	bool	   ok;

	es_projection_depth++;
	if (es_worker_handler_timeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, es_worker_handler_timeout);
	ok = es_call_handler_guarded(&proj->flinfo, proj->owner, tenant,
								 CStringGetTextDatum(tenant),
								 JsonbPGetDatum(event), &result, &isnull, &edata);
	if (es_worker_handler_timeout > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);
	es_projection_depth--;
	*error = ok ? NULL : pstrdup(edata->message ? edata->message : "unknown error");
	return ok;
}

/* Where one (tenant, projection) stands, and what this batch changed. */
typedef struct Checkpoint
{
	Datum key[2];	/* tenant, projection (text) */
	int64 position; /* last event applied or parked */
	int32 attempts; /* failed attempts at the next event */
	int32 new_errors;
	char *last_error; /* NULL: keep the stored one */
	int32 retry_ms;	  /* > 0: back off this long */
	bool  stopped;
} Checkpoint;

/* Start the transaction of one unit of work, with SPI and a snapshot. */
static void
begin_work(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	if (activity)
		pgstat_report_activity(STATE_RUNNING, activity);
}

static void
end_work(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Create the checkpoint row if missing, lock it and read it into cp. */
static void
lock_checkpoint(Checkpoint *cp)
{
	static SPIPlanPtr create_plan = NULL;
	static SPIPlanPtr read_plan = NULL;
	Oid				  types[2] = {TEXTOID, TEXTOID};
	bool			  isnull;

	es_plan(&create_plan,
			"INSERT INTO " ES_SQL_PROJECTION_CHECKPOINTS " (tenant_id, projection) "
			"VALUES ($1, $2) ON CONFLICT DO NOTHING",
			2, types);
	(void) es_exec(create_plan, cp->key, NULL, false, 0);
	es_plan(&read_plan,
			"SELECT position, attempts FROM " ES_SQL_PROJECTION_CHECKPOINTS " "
			"WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND projection OPERATOR(pg_catalog.=) $2 FOR UPDATE",
			2, types);
	if (es_exec(read_plan, cp->key, NULL, false, 1) != 1)
		elog(ERROR, "es_saas worker: checkpoint row missing");
	cp->position = DatumGetInt64(es_result_datum(0, 1, &isnull));
	cp->attempts = DatumGetInt32(es_result_datum(0, 2, &isnull));
}

/* Park an event that failed es_saas.worker_max_attempts times. */
static void
park_event(Checkpoint *cp, BatchEvent *ev, const char *error)
{
	static SPIPlanPtr plan = NULL;
	Oid	  types[6] = {TEXTOID, TEXTOID, INT8OID, JSONBOID, TEXTOID, INT4OID};
	Datum values[6];

	es_plan(&plan,
			"INSERT INTO " ES_SQL_DEAD_LETTERS " "
			"(tenant_id, projection, position, event, error, attempts) "
			"VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
			6, types);
	values[0] = cp->key[0];
	values[1] = cp->key[1];
	values[2] = Int64GetDatum(ev->position);
	values[3] = JsonbPGetDatum(ev->event);
	values[4] = CStringGetTextDatum(error);
	values[5] = Int32GetDatum(cp->attempts);
	(void) es_exec(plan, values, NULL, false, 0);
}

/* Store cp, with the retry time and error counters of this batch. */
static void
save_checkpoint(Checkpoint *cp)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[8] = {TEXTOID, TEXTOID, INT8OID, INT4OID,
								  INT4OID, TEXTOID, INT4OID, BOOLOID};
	Datum			  values[8];
	char			  nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	es_plan(&plan,
			"UPDATE " ES_SQL_PROJECTION_CHECKPOINTS " SET position = $3, attempts = $4, "
			"errors = errors OPERATOR(pg_catalog.+) $5, "
			"last_error = COALESCE($6, last_error), "
			"retry_at = CASE WHEN $7 OPERATOR(pg_catalog.>) 0 "
			"  THEN pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) "
			"       pg_catalog.make_interval(secs => $7 OPERATOR(pg_catalog./) 1000.0) END, "
			"stopped = $8, updated_at = pg_catalog.now() "
			"WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND projection OPERATOR(pg_catalog.=) $2",
			8, types);
	values[0] = cp->key[0];
	values[1] = cp->key[1];
	values[2] = Int64GetDatum(cp->position);
	values[3] = Int32GetDatum(cp->attempts);
	values[4] = Int32GetDatum(cp->new_errors);
	values[5] = cp->last_error ? CStringGetTextDatum(cp->last_error) : (Datum) 0;
	nulls[5] = cp->last_error ? ' ' : 'n';
	values[6] = Int32GetDatum(cp->retry_ms);
	values[7] = BoolGetDatum(cp->stopped);
	if (es_exec(plan, values, nulls, false, 0) != 1)
		elog(ERROR, "es_saas worker: could not save checkpoint");
}

/*
 * Backoff after the attempts-th failure: delay, 2 x delay, 4 x delay, ...
 * Computed in int64 (es_saas.worker_retry_delay may be an hour, and 2^16
 * times that overflows int) and clamped to what the checkpoint stores.
 */
static int32
retry_delay_ms(int32 attempts)
{
	int64 delay = (int64) es_worker_retry_delay << Min(Max(attempts - 1, 0), 16);

	return (int32) Min(delay, (int64) PG_INT32_MAX);
}

/*
 * A failed event: back off, stop the projection, or park the event and
 * go on.  Returns true when the batch must end here.
 */
static bool
handle_failure(EsProjection *proj, Checkpoint *cp, BatchEvent *ev, char *error)
{
	cp->attempts++;
	cp->new_errors++;
	cp->last_error = error;
	if (cp->attempts < es_worker_max_attempts)
	{
		cp->retry_ms = retry_delay_ms(cp->attempts);
		return true;
	}
	if (proj->stop_on_error)
	{
		cp->stopped = true;
		return true;
	}
	park_event(cp, ev, error);
	cp->position = ev->position;
	cp->attempts = 0;
	return false;
}

/*
 * Apply the events of batch in order, moving cp past each one applied
 * (or not wanted, or parked).  Stops at a backoff, a stop, or when the
 * batch's time budget is spent.
 */
static void
apply_batch(EsProjection *proj, const char *tenant, Batch *batch, Checkpoint *cp)
{
	TimestampTz started = GetCurrentTimestamp();

	for (int i = 0; i < batch->n; i++)
	{
		BatchEvent *ev = &batch->events[i];
		char	   *error;

		if (!es_projection_wants(proj, ev->type) ||
			apply_guarded(proj, tenant, ev->event, &error))
		{
			cp->position = ev->position;
			cp->attempts = 0;
		}
		else if (handle_failure(proj, cp, ev, error))
			break;
		if (TimestampDifferenceExceeds(started, GetCurrentTimestamp(),
									   es_worker_batch_time))
			break;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Apply the next batch of one (projection, tenant) in one transaction:
 * the read models and the checkpoint commit together.  Returns true when
 * the batch was full (more may be waiting).
 */
static bool
process_item(WorkItem *w)
{
	EsProjection *proj;
	Checkpoint	  cp = {0};
	Batch		  batch = {NULL, 0};
	bool		  full = false;

	begin_work("es_saas: applying projection");
	proj = es_lookup_projection(w->projection);
	if (proj != NULL && proj->async)
	{
		cp.key[0] = CStringGetTextDatum(w->tenant);
		cp.key[1] = CStringGetTextDatum(w->projection);
		lock_checkpoint(&cp);

		batch.events = palloc(sizeof(BatchEvent) * es_worker_batch_size);
		es_scan_log(w->tenant, NULL, cp.position, es_worker_batch_size,
					collect_sink, &batch);
		apply_batch(proj, w->tenant, &batch, &cp);
		save_checkpoint(&cp);
		full = batch.n == es_worker_batch_size && cp.retry_ms == 0 && !cp.stopped;
	}
	end_work();
	return full;
}

/* One pass over this worker's work; true when more is waiting. */
static bool
run_once(MemoryContext pass_cxt)
{
	List	 *items = NIL;
	ListCell *lc;
	bool	  more = false;

	begin_work(NULL);
	if (es_registry_installed())
		items = find_work(pass_cxt);
	end_work();

	foreach (lc, items)
	{
		more |= process_item((WorkItem *) lfirst(lc));
		CHECK_FOR_INTERRUPTS();
	}
	return more;
}

static void
clear_latch(int code, Datum arg)
{
	if (es_shared != NULL && my_index >= 0)
		es_shared->latches[my_index] = NULL;
}

void
es_worker_main(Datum main_arg)
{
	MemoryContext pass_cxt;

	my_index = DatumGetInt32(main_arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	pqsignal(SIGINT, StatementCancelHandler);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(es_worker_database, NULL, 0);
	pgstat_report_appname("es_saas worker");

	es_shared->latches[my_index] = &MyProc->procLatch;
	on_shmem_exit(clear_latch, (Datum) 0);
	pass_cxt = AllocSetContextCreate(TopMemoryContext, "es_saas worker pass",
									 ALLOCSET_DEFAULT_SIZES);
	elog(LOG, "es_saas projection worker %d started for database \"%s\"",
		 my_index, es_worker_database);

	for (;;)
	{
		bool more;

		MemoryContextReset(pass_cxt);
		more = run_once(pass_cxt);
		if (!more)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 es_worker_naptime, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
