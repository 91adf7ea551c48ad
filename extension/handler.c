/*-------------------------------------------------------------------------
 *
 * handler.c
 *	  Calling application functions as the right role, in the right tenant.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "errors.h"
#include "handler.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

int es_projection_depth = 0;

Datum
es_call_handler_fi(FmgrInfo *flinfo, Oid role, const char *tenant, Datum arg1,
				   Datum arg2, bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 2);
	Oid	  save_userid;
	int	  save_sec_context;
	int	  save_nestlevel;
	Datum result;

	InitFunctionCallInfoData(*fcinfo, flinfo, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("es_saas.tenant", tenant, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SetUserIdAndSecContext(role, save_sec_context & ~SECURITY_LOCAL_USERID_CHANGE);

	result = FunctionCallInvoke(fcinfo);
	*isnull = fcinfo->isnull;

	SetUserIdAndSecContext(save_userid, save_sec_context);
	AtEOXact_GUC(true, save_nestlevel);
	return result;
}

Datum
es_call_handler(Oid fn, Oid role, const char *tenant, Datum arg1, Datum arg2,
				bool *isnull)
{
	FmgrInfo flinfo;

	fmgr_info(fn, &flinfo);
	return es_call_handler_fi(&flinfo, role, tenant, arg1, arg2, isnull);
}

/*
 * Run fn(arg) in a subtransaction.  On an ERROR the subtransaction is
 * rolled back and false returned with the error in *error; the caller
 * decides whether to rethrow it (ReThrowError) or go on.
 */
bool
es_try(void (*fn)(void *arg), void *arg, ErrorData **error)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;

	*error = NULL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		*error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

typedef struct GuardedCall
{
	FmgrInfo	 *flinfo;
	Oid			  role;
	const char	 *tenant;
	Datum		  arg1;
	Datum		  arg2;
	Datum		  result;
	bool		  isnull;
	MemoryContext result_cxt;
} GuardedCall;

static void
guarded_call(void *arg)
{
	GuardedCall *gc = (GuardedCall *) arg;
	Datum r = es_call_handler_fi(gc->flinfo, gc->role, gc->tenant, gc->arg1,
								 gc->arg2, &gc->isnull);
	Oid	  rettype = get_func_rettype(gc->flinfo->fn_oid);

	/* a by-reference result lives in the subtransaction's context */
	if (!gc->isnull && !get_typbyval(rettype))
	{
		MemoryContext old = MemoryContextSwitchTo(gc->result_cxt);

		r = datumCopy(r, false, get_typlen(rettype));
		MemoryContextSwitchTo(old);
	}
	gc->result = r;
}

bool
es_call_handler_guarded(FmgrInfo *flinfo, Oid role, const char *tenant, Datum arg1,
						Datum arg2, Datum *result, bool *isnull, ErrorData **error)
{
	GuardedCall gc = {flinfo, role,		 tenant, arg1,
					  arg2,	  (Datum) 0, true,	 CurrentMemoryContext};
	bool		ok = es_try(guarded_call, &gc, error);

	*result = gc.result;
	*isnull = gc.isnull;
	return ok;
}

void
es_check_signature(Oid fn, const char *what, int nargs, const Oid *argtypes, Oid rettype)
{
	HeapTuple	 tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	Form_pg_proc proc;
	bool		 ok;

	if (!HeapTupleIsValid(tup))
		es_raise_not_found("function_not_found", NULL,
						   "%s function %u does not exist", what, fn);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	ok = proc->pronargs == nargs && proc->prorettype == rettype &&
		 !proc->proretset && proc->prokind == PROKIND_FUNCTION;
	for (int i = 0; ok && i < nargs; i++)
		ok = proc->proargtypes.values[i] == argtypes[i];
	ReleaseSysCache(tup);
	if (!ok)
	{
		StringInfoData sig;

		initStringInfo(&sig);
		for (int i = 0; i < nargs; i++)
			appendStringInfo(&sig, "%s%s", i ? ", " : "",
							 format_type_be(argtypes[i]));
		es_raise_invalid("invalid_handler_signature",
						 es_fact_str(es_fact_str(es_facts(), "function",
												 format_procedure(fn)),
									 "expected",
									 psprintf("(%s) returns %s", sig.data,
											  format_type_be(rettype))),
						 "%s function must take (%s) and return %s", what,
						 sig.data, format_type_be(rettype));
	}
}
