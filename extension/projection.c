/*-------------------------------------------------------------------------
 *
 * projection.c
 *	  Inline projections and the after-append hook (runtime layer), with
 *	  the entry points es_rebuild_projection and es_projection_status.
 *
 * Inline projections run inside the appending transaction, after the rows
 * are in and the log lock is released, as the appending role: the read
 * model is always consistent with the log and a failing handler fails the
 * append.  Async projections are applied by the worker (worker.c); a
 * rebuild of one resets its checkpoint and lets the worker replay while
 * appends go on.  An inline rebuild replays in the calling transaction,
 * holding the tenant's writers off meanwhile.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "errors.h"
#include "funcapi.h"
#include "handler.h"
#include "locks.h"
#include "miscadmin.h"
#include "projection.h"
#include "read.h"
#include "registry.h"
#include "relation.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(es_rebuild_projection);
PG_FUNCTION_INFO_V1(es_projection_status);

static Jsonb *empty_object(void);

/* Run one projection handler on one event, as role. */
static void
apply_event(EsProjection *proj, Oid role, const char *tenant, Jsonb *event)
{
	bool isnull;

	es_projection_depth++;
	PG_TRY();
	{
		(void) es_call_handler_fi(&proj->flinfo, role, tenant,
								  CStringGetTextDatum(tenant),
								  JsonbPGetDatum(event), &isnull);
	}
	PG_FINALLY();
	{
		es_projection_depth--;
	}
	PG_END_TRY();
}

static void
run_inline_projections(EsCall *call, const char *tenant, const char *stream,
					   EsEventInput *events, int nevents, EsAppendResult *result)
{
	List	 *projections = es_inline_projections();
	ListCell *lc;

	if (projections == NIL)
		return;
	for (int i = 0; i < nevents; i++)
	{
		Datum  values[ES_EVENT_NATTS];
		Jsonb *event = NULL;

		foreach (lc, projections)
		{
			EsProjection *proj = (EsProjection *) lfirst(lc);

			if (!es_projection_wants(proj, events[i].type))
				continue;
			if (event == NULL)
			{
				values[0] = Int64GetDatum(result->first_position + i);
				values[1] = CStringGetTextDatum(stream);
				values[2] = Int64GetDatum(result->first_version + i);
				values[3] = CStringGetTextDatum(events[i].type);
				values[4] = JsonbPGetDatum(events[i].data);
				values[5] = JsonbPGetDatum(events[i].metadata ? events[i].metadata
															  : empty_object());
				values[6] = UUIDPGetDatum(&events[i].id);
				values[7] =
					TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
				event = es_event_to_jsonb(values);
			}
			apply_event(proj, call->caller, tenant, event);
		}
	}
}

/*
 * Does an async projection want one of these events?  Only then is the
 * worker woken: under a busy log with no such projection, every commit
 * would otherwise wake it for nothing (it also polls every naptime, so a
 * stale cache can only delay work, never lose it).
 */
static bool
async_work_appended(EsEventInput *events, int nevents)
{
	ListCell *lc;

	foreach (lc, es_async_projections())
	{
		EsProjection *proj = (EsProjection *) lfirst(lc);

		for (int i = 0; i < nevents; i++)
			if (es_projection_wants(proj, events[i].type))
				return true;
	}
	return false;
}

/*
 * The runtime's after-append hook: inline projections, then the worker
 * wake-up at commit when an async projection has work.  An idempotent replay
 * wrote nothing: nothing runs.
 */
void
es_after_append(EsCall *call, const char *tenant, const char *stream,
				EsEventInput *events, int nevents, EsAppendResult *result)
{
	if (result->replayed)
		return;
	run_inline_projections(call, tenant, stream, events, nevents, result);
	if (async_work_appended(events, nevents))
		es_worker_wake_at_commit();
}

static Jsonb *
empty_object(void)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
}

typedef struct ReplayContext
{
	EsProjection *proj;
	Oid			  role;
	const char	 *tenant;
	int64		  last_position;
	int64		  applied;
} ReplayContext;

static bool
replay_sink(void *arg, Datum *values)
{
	ReplayContext *rc = (ReplayContext *) arg;
	char		  *type = TextDatumGetCString(values[3]);

	rc->last_position = DatumGetInt64(values[0]);
	if (es_projection_wants(rc->proj, type))
	{
		apply_event(rc->proj, rc->role, rc->tenant, es_event_to_jsonb(values));
		rc->applied++;
	}
	return true;
}

/* Clear the projection's documents of tenant; reset its checkpoint. */
static void
reset_tenant(EsProjection *proj, const char *tenant)
{
	static SPIPlanPtr clear_docs = NULL;
	static SPIPlanPtr reset_checkpoint = NULL;
	static SPIPlanPtr clear_dead = NULL;
	Oid				  types[2] = {TEXTOID, TEXTOID};
	Datum			  values[2];

	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(proj->name);
	es_plan(&clear_docs,
			"DELETE FROM " ES_SQL_DOCUMENTS " WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND collection OPERATOR(pg_catalog.=) $2",
			2, types);
	es_exec(clear_docs, values, NULL, false, 0);
	es_plan(&reset_checkpoint,
			"INSERT INTO " ES_SQL_PROJECTION_CHECKPOINTS " (tenant_id, projection) "
			"VALUES ($1, $2) ON CONFLICT (tenant_id, projection) DO UPDATE SET "
			"position = 0, attempts = 0, errors = 0, last_error = NULL, retry_at = NULL, "
			"stopped = false, updated_at = pg_catalog.now()",
			2, types);
	es_exec(reset_checkpoint, values, NULL, false, 0);
	es_plan(&clear_dead,
			"DELETE FROM " ES_SQL_DEAD_LETTERS " WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND projection OPERATOR(pg_catalog.=) $2",
			2, types);
	es_exec(clear_dead, values, NULL, false, 0);
}

/* Replay tenant's whole log through an inline projection, in this transaction.
 */
static int64
replay_inline(EsCall *call, EsProjection *proj, const char *tenant)
{
	ReplayContext rc = {proj, call->caller, tenant, 0, 0};

	/* writers of this tenant wait: the replay must not interleave with them */
	es_lock(ES_LOCK_TENANT_STATE, tenant, NULL, 0, ExclusiveLock);
	for (;;)
	{
		int n = es_scan_log(tenant, NULL, rc.last_position, 1000, replay_sink, &rc);

		if (n == 0)
			break;
	}
	return rc.applied;
}

static void
warn_if_no_worker(EsProjection *proj)
{
	if (proj->async && !ES_WORKERS_CONFIGURED())
		ereport(WARNING, (errmsg("async projection \"%s\" is not being applied: the es_saas worker is not loaded",
								 proj->name),
						  errhint(ES_NO_WORKER_HINT)));
}

/* es_rebuild_projection(name, tenant default null) returns jsonb */
Datum
es_rebuild_projection(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr all_tenants = NULL;
	char			 *name;
	char *tenant = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	EsProjection *proj;
	List		 *tenants = NIL;
	ListCell	 *lc;
	int64		  replayed = 0;
	EsCall		  call;

	if (PG_ARGISNULL(0))
		es_raise_null_argument("name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (tenant)
		es_validate_tenant_id(tenant);

	es_call_begin(&call);
	es_require_admin(&call, false);
	proj = es_lookup_projection(name);
	if (proj == NULL)
		es_raise_projection_not_registered(name);
	if (tenant)
	{
		es_check_tenant(&call, tenant, ES_ACCESS_READ);
		tenants = list_make1(tenant);
	}
	else
	{
		uint64 n;

		es_plan(&all_tenants,
				"SELECT tenant_id FROM " ES_SQL_TENANTS " ORDER BY tenant_id",
				0, NULL);
		n = es_exec(all_tenants, NULL, NULL, false, 0);
		for (uint64 i = 0; i < n; i++)
		{
			bool  isnull;
			char *t = TextDatumGetCString(es_result_datum(i, 1, &isnull));

			tenants = lappend(tenants, t);
		}
	}
	foreach (lc, tenants)
	{
		char *t = (char *) lfirst(lc);

		reset_tenant(proj, t);
		if (!proj->async)
			replayed += replay_inline(&call, proj, t);
	}
	if (proj->async)
		es_worker_wake_at_commit();
	es_call_end(&call);
	warn_if_no_worker(proj);

	PG_RETURN_JSONB_P(DatumGetJsonbP(
		DirectFunctionCall1(jsonb_in,
							CStringGetDatum(
								psprintf("{\"projection\": %s, \"mode\": \"%s\", \"tenants\": %d, \"events_replayed\": %s}",
										 es_json_quote(name), proj->async ? "async" : "inline",
										 list_length(tenants),
										 proj->async ? "null"
													 : psprintf(INT64_FORMAT,
																replayed))))));
}

/*
 * Whether a projection worker serves this database; else *detail and *hint
 * say why not.  Not preloaded and es_saas.worker_count = 0 read the same, so
 * that the regression suite gives one output with and without preloading.
 */
static bool
workers_serve_this_database(const char **detail, const char **hint)
{
	const char *db;

	if (!ES_WORKERS_CONFIGURED())
	{
		*detail = "no es_saas projection worker runs (es_saas is not in "
				  "shared_preload_libraries, or es_saas.worker_count is 0)";
		*hint = ES_NO_WORKER_HINT;
		return false;
	}
	db = get_database_name(MyDatabaseId);
	if (es_worker_database == NULL || db == NULL || strcmp(es_worker_database, db) != 0)
	{
		*detail = psprintf("the es_saas projection workers serve database \"%s\" "
						   "(es_saas.worker_database), not this one",
						   es_worker_database ? es_worker_database : "");
		*hint = "Set es_saas.worker_database to this database and restart the server.";
		return false;
	}
	*detail = *hint = NULL;
	return true;
}

/*
 * es_projection_status() returns setof jsonb.  Async rows say "not_running"
 * (with "detail" and "hint") when no worker serves this database: their lag
 * would otherwise only grow under a "running" status.
 */
Datum
es_projection_status(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan[2] = {NULL, NULL};
	ReturnSetInfo	 *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid				  types[4] = {OIDOID, BOOLOID, TEXTOID, TEXTOID};
	bool			  by_name;
	Datum			  values[4];
	char			  nulls[4] = {' ', ' ', ' ', ' '};
	const char		 *detail, *hint;
	bool			  served;
	bool			  any_async = false;
	uint64			  n;
	EsCall			  call;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	es_call_begin(&call);
	by_name = es_grants_by_name();
	if (plan[by_name] == NULL)
		es_plan(&plan[by_name],
				psprintf("SELECT pg_catalog.jsonb_build_object("
						 "  'name', p.name, 'tenant', t.tenant_id, 'mode', p.mode,"
						 "  'position', CASE WHEN p.mode OPERATOR(pg_catalog.=) 'inline' THEN h.head"
						 "                   ELSE COALESCE(c.position, 0) END,"
						 "  'lag', CASE WHEN p.mode OPERATOR(pg_catalog.=) 'inline' THEN 0"
						 "              ELSE h.head OPERATOR(pg_catalog.-) COALESCE(c.position, 0) END,"
						 "  'errors', COALESCE(c.errors, 0), 'last_error', c.last_error,"
						 "  'dead_letters', (SELECT pg_catalog.count(*) FROM " ES_SQL_DEAD_LETTERS " d"
						 "     WHERE d.tenant_id OPERATOR(pg_catalog.=) t.tenant_id"
						 "     AND d.projection OPERATOR(pg_catalog.=) p.name),"
						 "  'status', CASE WHEN p.mode OPERATOR(pg_catalog.=) 'inline' THEN 'inline'"
						 "                 WHEN c.stopped THEN 'stopped'"
						 "                 WHEN $3 IS NOT NULL THEN 'not_running'"
						 "                 WHEN c.retry_at IS NOT NULL THEN 'retrying'"
						 "                 ELSE 'running' END,"
						 "  'updated_at', c.updated_at) OPERATOR(pg_catalog.||)"
						 "  CASE WHEN p.mode OPERATOR(pg_catalog.=) 'async' AND NOT COALESCE(c.stopped, false)"
						 "       AND $3 IS NOT NULL"
						 "  THEN pg_catalog.jsonb_build_object('detail', $3, 'hint', $4)"
						 "  ELSE '{}'::pg_catalog.jsonb END,"
						 "  p.mode OPERATOR(pg_catalog.=) 'async' "
						 "FROM " ES_SQL_PROJECTIONS " p CROSS JOIN " ES_SQL_TENANTS " t "
						 "LEFT JOIN " ES_SQL_PROJECTION_CHECKPOINTS " c "
						 "  ON c.tenant_id OPERATOR(pg_catalog.=) t.tenant_id"
						 "  AND c.projection OPERATOR(pg_catalog.=) p.name "
						 "CROSS JOIN LATERAL (SELECT COALESCE(pg_catalog.max(e.position), 0) AS head"
						 "  FROM " ES_SQL_EVENTS " e WHERE e.tenant_id OPERATOR(pg_catalog.=) t.tenant_id) h "
						 "WHERE $2 OR EXISTS (SELECT FROM " ES_SQL_TENANT_GRANTS " g"
						 "  JOIN pg_catalog.pg_roles r ON %s"
						 "  WHERE g.tenant_id OPERATOR(pg_catalog.=) t.tenant_id"
						 "  AND pg_catalog.pg_has_role($1, r.oid, 'USAGE')) "
						 "ORDER BY p.name, t.tenant_id",
						 ES_SQL_GRANT_ROLE_JOIN(by_name)),
				4, types);
	served = workers_serve_this_database(&detail, &hint);
	values[0] = ObjectIdGetDatum(call.caller);
	values[1] = BoolGetDatum(es_role_is_admin(call.caller) ||
							 es_role_is_gateway(call.caller));
	values[2] = served ? (Datum) 0 : CStringGetTextDatum(detail);
	values[3] = served ? (Datum) 0 : CStringGetTextDatum(hint);
	nulls[2] = nulls[3] = served ? 'n' : ' ';
	n = es_exec(plan[by_name], values, nulls, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		bool  isnull;
		Datum row = es_result_datum(i, 1, &isnull);

		any_async |= DatumGetBool(es_result_datum(i, 2, &isnull));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &row, &isnull);
	}
	es_call_end(&call);
	if (any_async && !ES_WORKERS_CONFIGURED())
		ereport(WARNING, (errmsg("async projections are not being applied: the es_saas worker is not loaded"),
						  errhint(ES_NO_WORKER_HINT)));
	else if (any_async && !served)
		ereport(WARNING,
				(errmsg("async projections are not being applied in this database"),
				 errdetail_internal("%s", detail), errhint("%s", hint)));
	return (Datum) 0;
}
