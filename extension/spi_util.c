/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *	  Kept SPI plans and the caller -> owner switch of every es_* entry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "es_saas.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "spi_util.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/*
 * Oids of es_saas relations, looked up once: every append opens several.
 * Emptied by any relcache invalidation of a cached relation (DROP
 * EXTENSION) or of everything.
 */
#define ES_RELID_CACHE 16

typedef struct RelidCacheEntry
{
	char		relname[NAMEDATALEN];
	Oid			relid;
} RelidCacheEntry;

static RelidCacheEntry relid_cache[ES_RELID_CACHE];
static int	relid_cache_used = 0;
static bool relid_callback_registered = false;

static void
relid_cache_inval(Datum arg, Oid relid)
{
	for (int i = 0; i < relid_cache_used; i++)
		if (relid == InvalidOid || relid_cache[i].relid == relid)
		{
			relid_cache_used = 0;
			return;
		}
}

/* Oid of es_saas.<relname>; cannot-happen error when the schema is damaged. */
Oid
es_relid(const char *relname)
{
	Oid			nsp;
	Oid			relid;

	for (int i = 0; i < relid_cache_used; i++)
		if (strcmp(relid_cache[i].relname, relname) == 0)
			return relid_cache[i].relid;

	nsp = get_namespace_oid(ES_SCHEMA, false);
	relid = get_relname_relid(relname, nsp);
	if (!OidIsValid(relid))
		elog(ERROR, "relation \"%s.%s\" of extension es_saas does not exist",
			 ES_SCHEMA, relname);

	if (!relid_callback_registered)
	{
		CacheRegisterRelcacheCallback(relid_cache_inval, (Datum) 0);
		relid_callback_registered = true;
	}
	if (relid_cache_used < ES_RELID_CACHE)
	{
		strlcpy(relid_cache[relid_cache_used].relname, relname, NAMEDATALEN);
		relid_cache[relid_cache_used].relid = relid;
		relid_cache_used++;
	}
	return relid;
}

/* Owner of the extension's tables; it must be a superuser (RLS bypass). */
Oid
es_table_owner(void)
{
	Oid			relid = es_relid("events");
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	if (!superuser_arg(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the tables of extension es_saas must be owned by a superuser")));
	return owner;
}

/* Record the caller, connect SPI and act as the table owner. */
void
es_call_begin(EsCall *call)
{
	MemoryContext callcxt = CurrentMemoryContext;

	call->caller = GetUserId();
	GetUserIdAndSecContext(&call->save_userid, &call->save_sec_context);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	call->connected = true;

	/*
	 * Keep allocating in the caller's context: results built between begin
	 * and end must survive SPI_finish, which frees SPI's own contexts.
	 * SPI result tuples stay in SPI memory and are copied when kept.
	 */
	MemoryContextSwitchTo(callcxt);
	SetUserIdAndSecContext(es_table_owner(),
						   call->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

/* Undo es_call_begin; on error, transaction abort undoes it instead. */
void
es_call_end(EsCall *call)
{
	SetUserIdAndSecContext(call->save_userid, call->save_sec_context);
	if (call->connected && SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	call->connected = false;
}

SPIPlanPtr
es_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	if (*slot == NULL)
	{
		MemoryContext cxt = CurrentMemoryContext;
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);

		MemoryContextSwitchTo(cxt);	/* SPI returns in its own context */

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*slot = plan;
	}
	return *slot;
}

uint64
es_exec(SPIPlanPtr plan, const Datum *values, const char *nulls,
		bool read_only, long count)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc = SPI_execute_plan(plan, (Datum *) values, nulls, read_only, count);

	/* SPI leaves us in its procedure context, freed by SPI_finish */
	MemoryContextSwitchTo(cxt);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

Datum
es_result_datum(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

Datum
es_result_copy(int row, int col, bool *isnull)
{
	Datum		d = es_result_datum(row, col, isnull);
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, col - 1);

	if (*isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, att->attbyval, att->attlen);
}

MemoryContext
es_upper_context(void)
{
	/* SPI_palloc allocates in the procedure context that called SPI_connect */
	void	   *probe = SPI_palloc(1);
	MemoryContext cxt = GetMemoryChunkContext(probe);

	pfree(probe);
	return cxt;
}
