/*-------------------------------------------------------------------------
 *
 * tenant.c
 *	  Tenant lifecycle and grants, the RLS tenant function, and the
 *	  immutability trigger of the event table.
 *
 * Administrators (superusers and members of es_admin) manage tenants.
 * The gateway role may create, read and list them, because the REST API
 * exposes those to admin tokens.  Suspend and delete take the tenant
 * state lock exclusively, so they wait for in-flight writes and no write
 * lands after they commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "errors.h"
#include "funcapi.h"
#include "locks.h"
#include "miscadmin.h"
#include "position_cache.h"
#include "relation.h"
#include "spi_util.h"
#include "storage/proc.h"
#include "tenant.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(es_create_tenant);
PG_FUNCTION_INFO_V1(es_get_tenant);
PG_FUNCTION_INFO_V1(es_list_tenants);
PG_FUNCTION_INFO_V1(es_suspend_tenant);
PG_FUNCTION_INFO_V1(es_resume_tenant);
PG_FUNCTION_INFO_V1(es_delete_tenant);
PG_FUNCTION_INFO_V1(es_grant_tenant);
PG_FUNCTION_INFO_V1(es_revoke_tenant);
PG_FUNCTION_INFO_V1(es_current_tenant);
PG_FUNCTION_INFO_V1(es_events_immutable);

/*
 * The columns of a tenant's JSON, in tenant_row_json's order.  Plain
 * columns, also in RETURNING: the JSON is built in C, so no statement
 * evaluates a non-immutable expression per row (distribution-friendly).
 */
#define TENANT_COLUMNS \
	"t.tenant_id, t.name, t.status, t.created_at, t.settings"

/* Tenant whose rows es_delete_tenant is erasing; NULL otherwise */
static char *purging_tenant = NULL;

static char *
text_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* Row i of the last SPI result (TENANT_COLUMNS) as the tenant's jsonb. */
static Jsonb *
tenant_row_json(uint64 i)
{
	JsonbParseState *state = NULL;
	bool			 isnull;
	Datum			 d;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	es_jsonb_push_string(&state, "id",
						 TextDatumGetCString(es_result_datum(i, 1, &isnull)));
	d = es_result_datum(i, 2, &isnull);
	es_jsonb_push_string(&state, "name", isnull ? NULL : TextDatumGetCString(d));
	es_jsonb_push_string(&state, "status",
						 TextDatumGetCString(es_result_datum(i, 3, &isnull)));
	d = es_result_datum(i, 4, &isnull);
	es_jsonb_push_string(&state, "created_at",
						 isnull ? NULL
								: JsonEncodeDateTime(NULL, d, TIMESTAMPTZOID, NULL));
	d = es_result_datum(i, 5, &isnull);
	if (isnull)
		es_jsonb_push_string(&state, "settings", NULL);
	else
		es_jsonb_push_jsonb(&state, "settings", DatumGetJsonbP(d));
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

/* The tenant as jsonb, built out of SPI; NULL when it does not exist. */
static Jsonb *
tenant_json(const char *tenant)
{
	static SPIPlanPtr plan = NULL;
	Oid				  argtypes[1] = {TEXTOID};
	Datum			  values[1];

	es_plan(&plan,
			"SELECT " TENANT_COLUMNS " FROM " ES_SQL_TENANTS " t "
			"WHERE t.tenant_id OPERATOR(pg_catalog.=) $1",
			1, argtypes);
	values[0] = CStringGetTextDatum(tenant);
	if (es_exec(plan, values, NULL, false, 1) == 0)
		return NULL;
	return tenant_row_json(0);
}

/* es_create_tenant(tenant text, name text, settings jsonb) returns jsonb */
Datum
es_create_tenant(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  argtypes[3] = {TEXTOID, TEXTOID, JSONBOID};
	char			 *tenant = text_arg(fcinfo, 0);
	Datum			  values[3];
	char			  nulls[3] = {' ', ' ', ' '};
	Jsonb			 *settings = NULL;
	Jsonb			 *result;
	EsCall			  call;

	es_validate_tenant_id(tenant);
	if (!PG_ARGISNULL(2))
	{
		settings = PG_GETARG_JSONB_P(2);
		if (!JB_ROOT_IS_OBJECT(settings))
			es_raise_invalid("invalid_settings", es_fact_argument("settings"),
							 "settings must be a JSON object");
	}

	es_call_begin(&call);
	es_require_admin(&call, true);
	es_plan(&plan,
			"INSERT INTO " ES_SQL_TENANTS " AS t (tenant_id, name, settings) "
			"VALUES ($1, $2, COALESCE($3, '{}'::pg_catalog.jsonb)) "
			"ON CONFLICT DO NOTHING RETURNING " TENANT_COLUMNS,
			3, argtypes);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[1] = PG_ARGISNULL(1) ? 'n' : ' ';
	values[2] = settings ? JsonbPGetDatum(settings) : (Datum) 0;
	nulls[2] = settings ? ' ' : 'n';
	if (es_exec(plan, values, nulls, false, 0) == 0)
		es_raise_conflict("tenant_exists", es_fact_str(es_facts(), "tenant", tenant),
						  "tenant \"%s\" already exists", tenant);
	/* a counter left by a rolled-back incarnation would start past 1 */
	es_position_cache_forget(es_relid(ES_REL_EVENTS), tenant);
	result = tenant_row_json(0);
	es_call_end(&call);
	PG_RETURN_JSONB_P(result);
}

/* es_get_tenant(tenant text) returns jsonb */
Datum
es_get_tenant(PG_FUNCTION_ARGS)
{
	char  *tenant = text_arg(fcinfo, 0);
	Jsonb *result;
	EsCall call;

	es_validate_tenant_id(tenant);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	result = tenant_json(tenant);
	if (result == NULL)
		es_raise_tenant_not_found(tenant);
	es_call_end(&call);
	PG_RETURN_JSONB_P(result);
}

/* es_list_tenants() returns setof jsonb: all for admins, else the granted ones
 */
Datum
es_list_tenants(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr all_plan = NULL;
	static SPIPlanPtr granted_plan[2] = {NULL, NULL};
	ReturnSetInfo	 *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid				  argtypes[1] = {OIDOID};
	Datum			  values[1];
	EsCall			  call;
	uint64			  n;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	es_call_begin(&call);
	if (es_role_is_admin(call.caller) || es_role_is_gateway(call.caller))
	{
		es_plan(&all_plan,
				"SELECT " TENANT_COLUMNS " FROM " ES_SQL_TENANTS
				" t ORDER BY t.tenant_id",
				0, NULL);
		n = es_exec(all_plan, NULL, NULL, true, 0);
	}
	else
	{
		bool by_name = es_grants_by_name();

		if (granted_plan[by_name] == NULL)
			es_plan(&granted_plan[by_name],
					psprintf("SELECT " TENANT_COLUMNS " FROM " ES_SQL_TENANTS " t "
							 "WHERE EXISTS (SELECT FROM " ES_SQL_TENANT_GRANTS " g "
							 "JOIN pg_catalog.pg_roles r ON %s "
							 "WHERE g.tenant_id OPERATOR(pg_catalog.=) t.tenant_id "
							 "AND pg_catalog.pg_has_role($1, r.oid, 'USAGE')) "
							 "ORDER BY t.tenant_id",
							 ES_SQL_GRANT_ROLE_JOIN(by_name)),
					1, argtypes);
		values[0] = ObjectIdGetDatum(call.caller);
		n = es_exec(granted_plan[by_name], values, NULL, true, 0);
	}
	for (uint64 i = 0; i < n; i++)
	{
		bool  isnull = false;
		Datum row = JsonbPGetDatum(tenant_row_json(i));

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &row, &isnull);
	}
	es_call_end(&call);
	return (Datum) 0;
}

/* Set a tenant's status, waiting for its in-flight writes. */
static Datum
set_status(FunctionCallInfo fcinfo, const char *status)
{
	static SPIPlanPtr plan = NULL;
	Oid				  argtypes[2] = {TEXTOID, TEXTOID};
	char			 *tenant = text_arg(fcinfo, 0);
	Datum			  values[2];
	Jsonb			 *result;
	EsCall			  call;

	es_validate_tenant_id(tenant);
	es_call_begin(&call);
	es_require_admin(&call, false);
	es_lock(ES_LOCK_TENANT_STATE, tenant, NULL, 0, ExclusiveLock);
	es_plan(&plan,
			"UPDATE " ES_SQL_TENANTS " AS t SET status = $2 "
			"WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 RETURNING " TENANT_COLUMNS,
			2, argtypes);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(status);
	if (es_exec(plan, values, NULL, false, 0) == 0)
		es_raise_tenant_not_found(tenant);
	result = tenant_row_json(0);
	es_tenants_changed();
	es_call_end(&call);
	PG_RETURN_JSONB_P(result);
}

/* es_suspend_tenant(tenant text) returns jsonb */
Datum
es_suspend_tenant(PG_FUNCTION_ARGS)
{
	return set_status(fcinfo, "suspended");
}

/* es_resume_tenant(tenant text) returns jsonb */
Datum
es_resume_tenant(PG_FUNCTION_ARGS)
{
	return set_status(fcinfo, "active");
}

/* Run one DELETE ... WHERE tenant_id = $1 of the purge; returns rows deleted.
 */
static uint64
purge_table(SPIPlanPtr *slot, const char *sql, const char *tenant)
{
	Oid	  argtypes[1] = {TEXTOID};
	Datum values[1];

	es_plan(slot, sql, 1, argtypes);
	values[0] = CStringGetTextDatum(tenant);
	return es_exec(*slot, values, NULL, false, 0);
}

/*
 * es_delete_tenant(tenant text) returns jsonb
 *
 * Erases every row of the tenant from every table of the extension, and
 * nothing else.  The only path allowed past the immutability trigger.
 */
Datum
es_delete_tenant(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr		 plans[4];
	static const char *const runtime_tables[] = {"documents", "snapshots",
												 "projection_checkpoints",
												 "dead_letters"};
	static SPIPlanPtr		 runtime_plans[lengthof(runtime_tables)];
	char					*tenant = text_arg(fcinfo, 0);
	uint64					 events_deleted = 0;
	EsCall					 call;
	Jsonb					*result;

	es_validate_tenant_id(tenant);
	es_call_begin(&call);
	es_require_admin(&call, false);
	es_lock(ES_LOCK_TENANT_STATE, tenant, NULL, 0, ExclusiveLock);
	if (tenant_json(tenant) == NULL)
		es_raise_tenant_not_found(tenant);

	/* until commit, nobody may cache the positions being erased */
	es_lock(ES_LOCK_LOG, tenant, NULL, 0, ExclusiveLock);
	es_position_cache_forget(es_relid(ES_REL_EVENTS), tenant);

	purging_tenant = MemoryContextStrdup(TopTransactionContext, tenant);
	PG_TRY();
	{
		events_deleted = purge_table(&plans[0],
									 "DELETE FROM " ES_SQL_EVENTS " "
									 "WHERE tenant_id OPERATOR(pg_catalog.=) $1",
									 tenant);
	}
	PG_FINALLY();
	{
		purging_tenant = NULL;
	}
	PG_END_TRY();
	purge_table(&plans[1],
				"DELETE FROM " ES_SQL_COMMANDS
				" WHERE tenant_id OPERATOR(pg_catalog.=) $1",
				tenant);
	/* tables of the CQRS runtime (1.1 on) */
	for (size_t i = 0; i < lengthof(runtime_tables); i++)
	{
		if (es_relation_exists(runtime_tables[i]))
			purge_table(&runtime_plans[i],
						psprintf("DELETE FROM " ES_SCHEMA
								 ".%s WHERE tenant_id OPERATOR(pg_catalog.=) $1",
								 runtime_tables[i]),
						tenant);
	}
	purge_table(&plans[2],
				"DELETE FROM " ES_SQL_TENANT_GRANTS
				" WHERE tenant_id OPERATOR(pg_catalog.=) $1",
				tenant);
	purge_table(&plans[3],
				"DELETE FROM " ES_SQL_TENANTS
				" WHERE tenant_id OPERATOR(pg_catalog.=) $1",
				tenant);
	es_tenants_changed();
	es_call_end(&call);

	result = DatumGetJsonbP(
		DirectFunctionCall1(jsonb_in,
							CStringGetDatum(
								psprintf("{\"id\": %s, \"status\": \"deleted\", \"events_deleted\": " UINT64_FORMAT
										 "}",
										 es_json_quote(tenant), events_deleted))));
	PG_RETURN_JSONB_P(result);
}

/* Role argument as an existing role's oid; ES400/ES404 otherwise. */
static Oid
role_arg(FunctionCallInfo fcinfo)
{
	char *role;
	Oid	  roleid;

	if (PG_ARGISNULL(0))
		es_raise_null_argument("role");
	role = pstrdup(NameStr(*PG_GETARG_NAME(0)));
	roleid = get_role_oid(role, true);
	if (!OidIsValid(roleid))
		es_raise_not_found("role_not_found", es_fact_str(es_facts(), "role", role),
						   "role \"%s\" does not exist", role);
	return roleid;
}

/* Insert or delete the grant row of (role, tenant). */
static void
change_grant(FunctionCallInfo fcinfo, bool grant)
{
	static SPIPlanPtr grant_plan[2] = {NULL, NULL};
	static SPIPlanPtr revoke_plan[2] = {NULL, NULL};
	bool			  by_name;
	Oid				  argtypes[2] = {TEXTOID, NAMEOID};
	Oid				  role = role_arg(fcinfo);
	NameData		  rolename;
	char			 *tenant = text_arg(fcinfo, 1);
	Datum			  values[2];
	EsCall			  call;

	es_validate_tenant_id(tenant);
	es_call_begin(&call);
	es_require_admin(&call, false);
	if (tenant_json(tenant) == NULL)
		es_raise_tenant_not_found(tenant);
	values[0] = CStringGetTextDatum(tenant);
	/* grants name their role, portable (role_sync.h); oids before 1.2 */
	by_name = es_grants_by_name();
	if (by_name)
	{
		namestrcpy(&rolename, GetUserNameFromId(role, false));
		values[1] = NameGetDatum(&rolename);
	}
	else
	{
		argtypes[1] = REGROLEOID;
		values[1] = ObjectIdGetDatum(role);
	}
	if (grant)
	{
		es_plan(&grant_plan[by_name],
				"INSERT INTO " ES_SQL_TENANT_GRANTS " (tenant_id, role) "
				"VALUES ($1, $2) ON CONFLICT DO NOTHING",
				2, argtypes);
		es_exec(grant_plan[by_name], values, NULL, false, 0);
	}
	else
	{
		es_plan(&revoke_plan[by_name],
				"DELETE FROM " ES_SQL_TENANT_GRANTS " "
				"WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
				"AND role OPERATOR(pg_catalog.=) $2",
				2, argtypes);
		es_exec(revoke_plan[by_name], values, NULL, false, 0);
	}
	es_call_end(&call);
}

/* es_grant_tenant(role name, tenant text) */
Datum
es_grant_tenant(PG_FUNCTION_ARGS)
{
	change_grant(fcinfo, true);
	PG_RETURN_VOID();
}

/* es_revoke_tenant(role name, tenant text) */
Datum
es_revoke_tenant(PG_FUNCTION_ARGS)
{
	change_grant(fcinfo, false);
	PG_RETURN_VOID();
}

/*
 * es_saas.current_tenant() returns text
 *
 * The tenant row-level security shows: es_saas.tenant when the current
 * role may act for it, else NULL, so a missing or forged setting shows
 * nothing.  Cached per statement, role and setting, because policies
 * call it once per row.
 */
Datum
es_current_tenant(PG_FUNCTION_ARGS)
{
	static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
	static TimestampTz		  cached_stmt = 0;
	static CommandId		  cached_cid = InvalidCommandId;
	static Oid				  cached_role = InvalidOid;
	static char				  cached_setting[ES_MAX_TENANT_LEN + 1];
	static bool				  cached_allowed = false;
	const char				 *setting = es_tenant_setting;
	Oid						  role = GetUserId();

	if (setting == NULL || setting[0] == '\0' || strlen(setting) > ES_MAX_TENANT_LEN)
		PG_RETURN_NULL();

	/*
	 * Valid for one statement and command: a grant or revoke (ours, or
	 * another session's in read committed) is seen by the next one.
	 */
	if (!(cached_lxid == MyProc->lxid && cached_role == role &&
		  cached_stmt == GetCurrentStatementStartTimestamp() &&
		  cached_cid == GetCurrentCommandId(false) &&
		  strcmp(cached_setting, setting) == 0))
	{
		bool allowed;

		if (es_role_is_admin(role) || es_role_is_gateway(role))
			allowed = true;
		else
			allowed = es_role_has_grant(role, setting);
		cached_lxid = MyProc->lxid;
		cached_stmt = GetCurrentStatementStartTimestamp();
		cached_cid = GetCurrentCommandId(false);
		cached_role = role;
		strlcpy(cached_setting, setting, sizeof(cached_setting));
		cached_allowed = allowed;
	}
	if (!cached_allowed)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(setting));
}

/*
 * Trigger refusing UPDATE, DELETE and TRUNCATE of stored events, for the
 * table owner too; only es_delete_tenant's purge of its own tenant passes.
 */
Datum
es_events_immutable(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "es_events_immutable: not called by trigger manager");

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) &&
		TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) && purging_tenant != NULL)
	{
		bool  isnull;
		Datum t = heap_getattr(trigdata->tg_trigtuple, Anum_es_events_tenant_id,
							   trigdata->tg_relation->rd_att, &isnull);

		if (!isnull && strcmp(TextDatumGetCString(t), purging_tenant) == 0)
			return PointerGetDatum(trigdata->tg_trigtuple);
	}
	es_raise_forbidden("events_immutable",
					   es_fact_str(es_facts(), "table", ES_SQL_EVENTS),
					   "events are immutable: UPDATE, DELETE and TRUNCATE are not allowed");
}
