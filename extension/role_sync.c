/*-------------------------------------------------------------------------
 *
 * role_sync.c
 *	  Shared dependencies of granted roles, and grants that follow renames
 *	  and DROP OWNED (see role_sync.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_shdepend.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "relation.h"
#include "role_sync.h"
#include "spi_util.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(es_tenant_grants_sync);

static ProcessUtility_hook_type prev_process_utility = NULL;

/* Does the shared dependency of (grants column roleatt) on roleid exist? */
static bool
binding_exists(Oid grants_relid, AttrNumber roleatt, Oid roleid)
{
	Relation	sdep = table_open(SharedDependRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&keys[0], Anum_pg_shdepend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(AuthIdRelationId));
	ScanKeyInit(&keys[1], Anum_pg_shdepend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(sdep, SharedDependReferenceIndexId, true, NULL, 2, keys);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_shdepend d = (Form_pg_shdepend) GETSTRUCT(tup);

		found = d->dbid == MyDatabaseId && d->classid == RelationRelationId &&
				d->objid == grants_relid && d->objsubid == roleatt &&
				d->deptype == SHARED_DEPENDENCY_ACL;
	}
	systable_endscan(scan);
	table_close(sdep, AccessShareLock);
	return found;
}

/* Does rolename hold a grant in this database?  SPI connected. */
static bool
role_has_grants(const char *rolename)
{
	static SPIPlanPtr plan = NULL;
	Oid				  argtypes[1] = {NAMEOID};
	Datum			  values[1];
	NameData		  name;

	namestrcpy(&name, rolename);
	es_plan(&plan,
			"SELECT FROM " ES_SQL_TENANT_GRANTS
			" WHERE role OPERATOR(pg_catalog.=) $1 LIMIT 1",
			1, argtypes);
	values[0] = NameGetDatum(&name);
	return es_exec(plan, values, NULL, false, 1) > 0;
}

/*
 * Make the shared dependency of the role named rolename match whether it
 * holds grants.  A name without a role binds nothing (a restore before
 * its role exists): such a grant acts for nobody until granted again.
 */
static void
reconcile(Relation grants, AttrNumber roleatt, const char *rolename)
{
	Oid	 roleid = get_role_oid(rolename, true);
	Oid	 owner = grants->rd_rel->relowner;
	bool wanted;
	bool present;
	Oid *member;

	if (!OidIsValid(roleid))
		return;
	wanted = role_has_grants(rolename);
	present = binding_exists(RelationGetRelid(grants), roleatt, roleid);
	if (wanted == present)
		return;
	/* updateAclDependencies pfrees its arrays */
	member = palloc(sizeof(Oid));
	*member = roleid;
	if (wanted)
		updateAclDependencies(RelationRelationId, RelationGetRelid(grants),
							  roleatt, owner, 0, NULL, 1, member);
	else
		updateAclDependencies(RelationRelationId, RelationGetRelid(grants),
							  roleatt, owner, 1, member, 0, NULL);
}

/* The role name of a tenant_grants row */
static char *
row_role(HeapTuple tuple, TupleDesc desc, AttrNumber roleatt)
{
	bool  isnull;
	Datum d = heap_getattr(tuple, roleatt, desc, &isnull);

	return isnull ? NULL : pstrdup(NameStr(*DatumGetName(d)));
}

/*
 * Trigger AFTER INSERT OR UPDATE OR DELETE ON tenant_grants FOR EACH ROW.
 * Also fires for the rows pg_restore copies back, so a restored grant is
 * bound to the restored role of that name.
 */
Datum
es_tenant_grants_sync(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	 rel;
	TupleDesc	 desc;
	AttrNumber	 roleatt;
	char		*old_role = NULL;
	char		*new_role = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "es_tenant_grants_sync: not called as an AFTER ROW trigger");

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	roleatt = SPI_fnumber(desc, "role");
	if (roleatt <= 0)
		elog(ERROR, "es_tenant_grants_sync: %s has no column role",
			 RelationGetRelationName(rel));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		new_role = row_role(trigdata->tg_trigtuple, desc, roleatt);
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		old_role = row_role(trigdata->tg_trigtuple, desc, roleatt);
	else
	{
		old_role = row_role(trigdata->tg_trigtuple, desc, roleatt);
		new_role = row_role(trigdata->tg_newtuple, desc, roleatt);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "es_tenant_grants_sync: SPI_connect failed");
	if (old_role && (new_role == NULL || strcmp(old_role, new_role) != 0))
		reconcile(rel, roleatt, old_role);
	if (new_role)
		reconcile(rel, roleatt, new_role);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "es_tenant_grants_sync: SPI_finish failed");

	return PointerGetDatum(NULL);
}

/*
 * Run sql (one name or two as $1, $2) on tenant_grants as the owner of
 * the extension's tables, when es_saas is installed here.  The trigger
 * above keeps the shared dependencies in step.
 */
static void
update_grants(const char *sql, const char *name1, const char *name2)
{
	Oid		 argtypes[2] = {NAMEOID, NAMEOID};
	Datum	 values[2];
	NameData names[2];
	EsCall	 call;

	if (!OidIsValid(get_extension_oid("es_saas", true)) ||
		!es_relation_exists("tenant_grants") || !es_grants_by_name())
		return;
	namestrcpy(&names[0], name1);
	values[0] = NameGetDatum(&names[0]);
	if (name2)
	{
		namestrcpy(&names[1], name2);
		values[1] = NameGetDatum(&names[1]);
	}
	es_call_begin(&call);
	if (SPI_execute_with_args(sql, name2 ? 2 : 1, argtypes, values, NULL, false, 0) < 0)
		elog(ERROR, "es_saas: could not update tenant grants");
	es_call_end(&call);
}

/*
 * DROP OWNED BY revokes the roles' tenant grants first (else their
 * shared dependency would make PostgreSQL revoke table privileges they do
 * not have); a renamed role keeps its grants.
 */
static void
es_process_utility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, DropOwnedStmt) && IsTransactionState())
	{
		ListCell *lc;

		foreach (lc, ((DropOwnedStmt *) parsetree)->roles)
		{
			RoleSpec *spec = lfirst_node(RoleSpec, lc);

			if (spec->roletype == ROLESPEC_CSTRING)
				update_grants("DELETE FROM " ES_SQL_TENANT_GRANTS
							  " WHERE role OPERATOR(pg_catalog.=) $1",
							  spec->rolename, NULL);
			else
			{
				Oid roleid = get_rolespec_oid(spec, true);

				if (OidIsValid(roleid))
					update_grants("DELETE FROM " ES_SQL_TENANT_GRANTS
								  " WHERE role OPERATOR(pg_catalog.=) $1",
								  GetUserNameFromId(roleid, false), NULL);
			}
		}
	}

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	if (IsA(parsetree, RenameStmt) &&
		((RenameStmt *) parsetree)->renameType == OBJECT_ROLE && IsTransactionState())
	{
		RenameStmt *rename = (RenameStmt *) parsetree;

		update_grants("UPDATE " ES_SQL_TENANT_GRANTS
					  " SET role = $2 WHERE role OPERATOR(pg_catalog.=) $1",
					  rename->subname, rename->newname);
	}
}

void
es_role_sync_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = es_process_utility;
}
