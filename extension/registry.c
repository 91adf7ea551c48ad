/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Lookups in the application registry (runtime layer).
 *
 * The list of inline projections is read on every append, so it is
 * cached per backend and dropped when a statement trigger on
 * es_saas.projections sends a relcache invalidation (commit-time, to
 * every backend).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "registry.h"
#include "relation.h"
#include "spi_util.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(es_registry_changed);

static List *inline_cache = NIL;
static List *async_cache = NIL;
static bool	 cache_valid = false;
static bool	 inval_callback_registered = false;

bool
es_registry_installed(void)
{
	return es_relation_exists(es_relname(ES_REL_PROJECTIONS));
}

bool
es_lookup_aggregate(const char *category, EsAggregate *agg)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[1] = {TEXTOID};
	Datum			  values[1];
	bool			  isnull;

	es_plan(&plan,
			"SELECT evolve, initial_state FROM " ES_SQL_AGGREGATES " "
			"WHERE category OPERATOR(pg_catalog.=) $1",
			1, types);
	values[0] = CStringGetTextDatum(category);
	if (es_exec(plan, values, NULL, false, 1) == 0)
		return false;
	agg->evolve = DatumGetObjectId(es_result_datum(0, 1, &isnull));
	agg->initial_state = DatumGetJsonbP(es_result_copy(0, 2, &isnull));
	return true;
}

static Oid
lookup_fn(SPIPlanPtr *slot, const char *sql, const char *key)
{
	Oid	  types[1] = {TEXTOID};
	Datum values[1];
	bool  isnull;

	es_plan(slot, sql, 1, types);
	values[0] = CStringGetTextDatum(key);
	if (es_exec(*slot, values, NULL, false, 1) == 0)
		return InvalidOid;
	return DatumGetObjectId(es_result_datum(0, 1, &isnull));
}

Oid
es_lookup_command(const char *command_type)
{
	static SPIPlanPtr plan = NULL;

	return lookup_fn(&plan,
					 "SELECT decide FROM " ES_SQL_COMMAND_HANDLERS " "
					 "WHERE command_type OPERATOR(pg_catalog.=) $1",
					 command_type);
}

Oid
es_lookup_query(const char *query_type)
{
	static SPIPlanPtr plan = NULL;

	return lookup_fn(&plan,
					 "SELECT fn FROM " ES_SQL_QUERY_HANDLERS " "
					 "WHERE query_type OPERATOR(pg_catalog.=) $1",
					 query_type);
}

/* Build an EsProjection from row i of the last SPI result, in cxt. */
static EsProjection *
projection_from_row(uint64 i, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	EsProjection *p = palloc0(sizeof(EsProjection));
	bool		  isnull;
	Datum		  types;

	p->name = TextDatumGetCString(es_result_datum(i, 1, &isnull));
	p->handler = DatumGetObjectId(es_result_datum(i, 2, &isnull));
	types = es_result_datum(i, 3, &isnull);
	if (!isnull)
	{
		Datum *elems;
		int	   n;

		deconstruct_array(DatumGetArrayTypeP(types), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, NULL, &n);
		p->ntypes = n;
		p->types = palloc(sizeof(char *) * Max(n, 1));
		for (int j = 0; j < n; j++)
			p->types[j] = TextDatumGetCString(elems[j]);
		/* an empty array wants nothing; keep it distinct from "all" */
		if (n == 0)
			p->ntypes = -1;
	}
	p->async =
		strcmp(TextDatumGetCString(es_result_datum(i, 4, &isnull)), "async") == 0;
	p->stop_on_error =
		strcmp(TextDatumGetCString(es_result_datum(i, 5, &isnull)), "stop") == 0;
	p->owner = DatumGetObjectId(es_result_datum(i, 6, &isnull));
	fmgr_info_cxt(p->handler, &p->flinfo, cxt);
	MemoryContextSwitchTo(old);
	return p;
}

#define PROJECTION_COLUMNS                                                                      \
	"SELECT name, handler, event_types, mode, on_error, registered_by FROM " ES_SQL_PROJECTIONS \
	" "

EsProjection *
es_lookup_projection(const char *name)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[1] = {TEXTOID};
	Datum			  values[1];

	es_plan(&plan, PROJECTION_COLUMNS "WHERE name OPERATOR(pg_catalog.=) $1", 1, types);
	values[0] = CStringGetTextDatum(name);
	if (es_exec(plan, values, NULL, false, 1) == 0)
		return NULL;
	/* copy out of SPI memory: the caller outlives SPI_finish */
	return projection_from_row(0, es_upper_context());
}

bool
es_projection_wants(EsProjection *proj, const char *type)
{
	if (proj->ntypes == 0)
		return true;
	for (int i = 0; i < proj->ntypes; i++)
		if (strcmp(proj->types[i], type) == 0)
			return true;
	return false;
}

static Oid projections_relid = InvalidOid;

/* Relcache callback: drop the cache when es_saas.projections changed. */
static void
registry_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == projections_relid)
		cache_valid = false;
}

/*
 * Load the projections into the per-backend cache, split by mode, unless
 * it is still valid.
 */
static void
load_projections(void)
{
	static SPIPlanPtr	 plan = NULL;
	static MemoryContext cache_cxt = NULL;
	uint64				 n;

	if (!inval_callback_registered)
	{
		CacheRegisterRelcacheCallback(registry_inval, (Datum) 0);
		inval_callback_registered = true;
	}
	if (cache_valid)
		return;

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "es_saas projections",
										  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(cache_cxt);
	inline_cache = NIL;
	async_cache = NIL;
	/* before 1.1 is installed there is nothing to cache (or invalidate) */
	if (!es_registry_installed())
		return;
	projections_relid = es_relid(ES_REL_PROJECTIONS);
	es_plan(&plan, PROJECTION_COLUMNS "ORDER BY name", 0, NULL);
	n = es_exec(plan, NULL, NULL, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		EsProjection *p = projection_from_row(i, cache_cxt);
		MemoryContext old = MemoryContextSwitchTo(cache_cxt);

		if (p->async)
			async_cache = lappend(async_cache, p);
		else
			inline_cache = lappend(inline_cache, p);
		MemoryContextSwitchTo(old);
	}
	cache_valid = true;
}

List *
es_inline_projections(void)
{
	load_projections();
	return inline_cache;
}

List *
es_async_projections(void)
{
	load_projections();
	return async_cache;
}

/*
 * Statement trigger on es_saas.projections: every backend drops its cached
 * list of inline projections when the change commits.
 */
Datum
es_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "es_registry_changed: not called by trigger manager");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
