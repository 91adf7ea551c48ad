/*-------------------------------------------------------------------------
 *
 * handler.h
 *	  Calling application functions (evolve, decide, queries, projections).
 *
 * Application code never runs as the extension's superuser: a handler runs
 * as the role that called the es_* function (or, in the async worker, as
 * the role that registered the projection), with es_saas.tenant set to the
 * tenant so that row-level security shows that tenant's rows only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_HANDLER_H
#define ES_HANDLER_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

/* Nesting depth of projection handlers (doc writes in suspended tenants) */
extern int es_projection_depth;

/*
 * Call fn(arg1, arg2) as role with es_saas.tenant = tenant.  Returns the
 * result (NULL for void or SQL NULL results: *isnull tells).
 */
extern Datum es_call_handler(Oid fn, Oid role, const char *tenant, Datum arg1,
							 Datum arg2, bool *isnull);

/*
 * The same with a FmgrInfo the caller keeps across calls, so that a SQL
 * function is planned once per fold or batch, not once per event.
 */
extern Datum es_call_handler_fi(FmgrInfo *flinfo, Oid role, const char *tenant,
								Datum arg1, Datum arg2, bool *isnull);

/*
 * Like es_call_handler, inside a subtransaction.  On error the
 * subtransaction is rolled back and false returned with the error in
 * *error (NULL on success); other errors than ordinary ERRORs propagate.
 */
extern bool es_call_handler_guarded(FmgrInfo *flinfo, Oid role, const char *tenant,
									Datum arg1, Datum arg2, Datum *result,
									bool *isnull, ErrorData **error);

/* Run fn(arg) in a subtransaction; false with the error on ERROR */
extern bool es_try(void (*fn)(void *arg), void *arg, ErrorData **error);

/* ES422 unless fn has argument types argtypes and returns rettype */
extern void es_check_signature(Oid fn, const char *what, int nargs,
							   const Oid *argtypes, Oid rettype);

#endif /* ES_HANDLER_H */
