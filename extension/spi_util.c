/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *	  Kept SPI plans and the caller -> owner switch of every es_* entry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "relation.h"
#include "spi_util.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

/* Owner of the extension's tables; it must be a superuser (RLS bypass). */
Oid
es_table_owner(void)
{
	Oid		  relid = es_relid(ES_REL_EVENTS);
	HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid		  owner;

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
	SetUserIdAndSecContext(es_table_owner(), call->save_sec_context |
												 SECURITY_LOCAL_USERID_CHANGE);
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
		SPIPlanPtr	  plan = SPI_prepare(sql, nargs, (Oid *) argtypes);

		MemoryContextSwitchTo(cxt); /* SPI returns in its own context */

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
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
	int rc = SPI_execute_plan(plan, (Datum *) values, nulls, read_only, count);

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
	Datum			  d = es_result_datum(row, col, isnull);
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, col - 1);

	if (*isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, att->attbyval, att->attlen);
}

MemoryContext
es_upper_context(void)
{
	/* SPI_palloc allocates in the procedure context that called SPI_connect */
	void		 *probe = SPI_palloc(1);
	MemoryContext cxt = GetMemoryChunkContext(probe);

	pfree(probe);
	return cxt;
}
