/*-------------------------------------------------------------------------
 *
 * register.c
 *	  es_register_*, es_unregister: the registry's SQL entry points.
 *
 * Registration is for administrators.  Split from registry.c (the
 * lookups the runtime uses) so that the lookups sit below the worker and
 * the registration entry points above it: the worker reads the registry,
 * registration warns when no worker runs, and neither file includes the
 * other's layer upwards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "catalog/pg_type.h"
#include "errors.h"
#include "handler.h"
#include "register.h"
#include "relation.h"
#include "spi_util.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "validate.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(es_register_aggregate);
PG_FUNCTION_INFO_V1(es_register_command);
PG_FUNCTION_INFO_V1(es_register_query);
PG_FUNCTION_INFO_V1(es_register_projection);
PG_FUNCTION_INFO_V1(es_unregister);

static const char *const builtin_queries[] = {"stream", "log", "category",
											  "state", "projection"};

/* A registry name: 1..255 bytes, no control characters (ES400). */
static char *
name_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	char *name;

	if (PG_ARGISNULL(argno))
		es_raise_null_argument(what);
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	es_validate_stream(name); /* same rules as stream names */
	return name;
}

static Oid
proc_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		es_raise_null_argument(what);
	return PG_GETARG_OID(argno);
}

/* Run an INSERT ... ON CONFLICT DO UPDATE of the registry as the owner. */
static void
upsert(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types, Datum *values,
	   char *nulls)
{
	es_plan(slot, sql, nargs, types);
	es_exec(*slot, values, nulls, false, 0);
}

/* es_register_aggregate(category, evolve, initial_state) */
Datum
es_register_aggregate(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr drop_snapshots = NULL;
	Oid	   types[4] = {TEXTOID, REGPROCEDUREOID, JSONBOID, REGROLEOID};
	Oid	   evolve_args[2] = {JSONBOID, JSONBOID};
	char  *category = name_arg(fcinfo, 0, "category");
	Oid	   evolve = proc_arg(fcinfo, 1, "evolve");
	Datum  values[4];
	char   nulls[4] = {' ', ' ', ' ', ' '};
	EsCall call;

	if (strchr(category, '-') != NULL)
		es_raise_malformed(es_fact_argument("category"),
						   "category must not contain '-': it is the part of a stream name before the first '-'");
	es_check_signature(evolve, "evolve", 2, evolve_args, JSONBOID);

	es_call_begin(&call);
	es_require_admin(&call, false);
	values[0] = CStringGetTextDatum(category);
	values[1] = ObjectIdGetDatum(evolve);
	values[2] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[2] = PG_ARGISNULL(2) ? 'n' : ' ';
	values[3] = ObjectIdGetDatum(call.caller);
	upsert(&plan,
		   "INSERT INTO " ES_SQL_AGGREGATES " (category, evolve, initial_state, registered_by) "
		   "VALUES ($1, $2, COALESCE($3, '{}'::pg_catalog.jsonb), $4) "
		   "ON CONFLICT (category) DO UPDATE SET evolve = excluded.evolve, "
		   "initial_state = excluded.initial_state, registered_by = excluded.registered_by, "
		   "registered_at = pg_catalog.now()",
		   4, types, values, nulls);
	/* states folded by the previous registration are no longer valid */
	upsert(&drop_snapshots,
		   "DELETE FROM " ES_SQL_SNAPSHOTS " "
		   "WHERE pg_catalog.split_part(stream, '-', 1) OPERATOR(pg_catalog.=) $1",
		   1, types, values, NULL);
	es_call_end(&call);
	PG_RETURN_VOID();
}

/* es_register_command(command_type, decide) */
Datum
es_register_command(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[3] = {TEXTOID, REGPROCEDUREOID, REGROLEOID};
	Oid				  decide_args[2] = {JSONBOID, JSONBOID};
	char			 *type = name_arg(fcinfo, 0, "command_type");
	Oid				  decide = proc_arg(fcinfo, 1, "decide");
	Datum			  values[3];
	EsCall			  call;

	if (strcmp(type, "append") == 0)
		es_raise_invalid("builtin_type",
						 es_fact_str(es_facts(), "command_type", "append"),
						 "command type \"append\" is built in");
	es_check_signature(decide, "decide", 2, decide_args, JSONBOID);

	es_call_begin(&call);
	es_require_admin(&call, false);
	values[0] = CStringGetTextDatum(type);
	values[1] = ObjectIdGetDatum(decide);
	values[2] = ObjectIdGetDatum(call.caller);
	upsert(&plan,
		   "INSERT INTO " ES_SQL_COMMAND_HANDLERS " (command_type, decide, registered_by) "
		   "VALUES ($1, $2, $3) ON CONFLICT (command_type) DO UPDATE SET "
		   "decide = excluded.decide, registered_by = excluded.registered_by, "
		   "registered_at = pg_catalog.now()",
		   3, types, values, NULL);
	es_call_end(&call);
	PG_RETURN_VOID();
}

/* es_register_query(query_type, fn) */
Datum
es_register_query(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[3] = {TEXTOID, REGPROCEDUREOID, REGROLEOID};
	Oid				  fn_args[2] = {TEXTOID, JSONBOID};
	char			 *type = name_arg(fcinfo, 0, "query_type");
	Oid				  fn = proc_arg(fcinfo, 1, "fn");
	Datum			  values[3];
	EsCall			  call;

	for (size_t i = 0; i < lengthof(builtin_queries); i++)
		if (strcmp(type, builtin_queries[i]) == 0)
			es_raise_invalid("builtin_type",
							 es_fact_str(es_facts(), "query_type", type),
							 "query type \"%s\" is built in", type);
	es_check_signature(fn, "query", 2, fn_args, JSONBOID);

	es_call_begin(&call);
	es_require_admin(&call, false);
	values[0] = CStringGetTextDatum(type);
	values[1] = ObjectIdGetDatum(fn);
	values[2] = ObjectIdGetDatum(call.caller);
	upsert(&plan,
		   "INSERT INTO " ES_SQL_QUERY_HANDLERS " (query_type, fn, registered_by) "
		   "VALUES ($1, $2, $3) ON CONFLICT (query_type) DO UPDATE SET "
		   "fn = excluded.fn, registered_by = excluded.registered_by, "
		   "registered_at = pg_catalog.now()",
		   3, types, values, NULL);
	es_call_end(&call);
	PG_RETURN_VOID();
}

/* es_register_projection(name, handler, event_types, mode, on_error) */
Datum
es_register_projection(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[6] = {TEXTOID, REGPROCEDUREOID, TEXTARRAYOID,
								  TEXTOID, TEXTOID,			REGROLEOID};
	Oid				  handler_args[2] = {TEXTOID, JSONBOID};
	char			 *name = name_arg(fcinfo, 0, "name");
	Oid				  handler = proc_arg(fcinfo, 1, "handler");
	char *mode = PG_ARGISNULL(3) ? "inline" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	char *on_error =
		PG_ARGISNULL(4) ? "park" : text_to_cstring(PG_GETARG_TEXT_PP(4));
	Datum  values[6];
	char   nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	EsCall call;

	if (strcmp(mode, "inline") != 0 && strcmp(mode, "async") != 0)
		es_raise_invalid("invalid_registration", es_fact_argument("mode"),
						 "mode must be 'inline' or 'async'");
	if (strcmp(on_error, "park") != 0 && strcmp(on_error, "stop") != 0)
		es_raise_invalid("invalid_registration", es_fact_argument("on_error"),
						 "on_error must be 'park' or 'stop'");
	if (!PG_ARGISNULL(2) && array_contains_nulls(PG_GETARG_ARRAYTYPE_P(2)))
		es_raise_invalid("invalid_registration", es_fact_argument("event_types"),
						 "event_types must not contain nulls");
	es_check_signature(handler, "projection handler", 2, handler_args, VOIDOID);

	es_call_begin(&call);
	es_require_admin(&call, false);
	values[0] = CStringGetTextDatum(name);
	values[1] = ObjectIdGetDatum(handler);
	values[2] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[2] = PG_ARGISNULL(2) ? 'n' : ' ';
	values[3] = CStringGetTextDatum(mode);
	values[4] = CStringGetTextDatum(on_error);
	values[5] = ObjectIdGetDatum(call.caller);
	upsert(&plan,
		   "INSERT INTO " ES_SQL_PROJECTIONS
		   " (name, handler, event_types, mode, on_error, registered_by) "
		   "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET "
		   "handler = excluded.handler, event_types = excluded.event_types, "
		   "mode = excluded.mode, on_error = excluded.on_error, "
		   "registered_by = excluded.registered_by, registered_at = pg_catalog.now()",
		   6, types, values, nulls);
	es_call_end(&call);

	if (strcmp(mode, "async") == 0 && !ES_WORKERS_CONFIGURED())
		ereport(WARNING, (errmsg("async projection \"%s\" will not run: the es_saas worker is not loaded",
								 name),
						  errhint(ES_NO_WORKER_HINT)));
	PG_RETURN_VOID();
}

/* es_unregister(kind, name) */
Datum
es_unregister(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plans[4];
	static SPIPlanPtr drop_checkpoints = NULL;
	static SPIPlanPtr drop_dead = NULL;
	static const char *const kinds[4] = {"aggregate", "command", "query", "projection"};
	static const char *const sql[4] = {"DELETE FROM " ES_SQL_AGGREGATES
									   " WHERE category OPERATOR(pg_catalog.=) $1",
									   "DELETE FROM " ES_SQL_COMMAND_HANDLERS
									   " WHERE command_type OPERATOR(pg_catalog.=) $1",
									   "DELETE FROM " ES_SQL_QUERY_HANDLERS
									   " WHERE query_type OPERATOR(pg_catalog.=) $1",
									   "DELETE FROM " ES_SQL_PROJECTIONS
									   " WHERE name OPERATOR(pg_catalog.=) $1"};
	Oid						 types[1] = {TEXTOID};
	char					*kind = name_arg(fcinfo, 0, "kind");
	char					*name = name_arg(fcinfo, 1, "name");
	Datum					 values[1];
	int						 k;
	EsCall					 call;

	for (k = 0; k < 4; k++)
		if (strcmp(kind, kinds[k]) == 0)
			break;
	if (k == 4)
		es_raise_invalid("invalid_registration", es_fact_argument("kind"),
						 "kind must be one of aggregate, command, query, projection");

	es_call_begin(&call);
	es_require_admin(&call, false);
	values[0] = CStringGetTextDatum(name);
	es_plan(&plans[k], sql[k], 1, types);
	if (es_exec(plans[k], values, NULL, false, 0) == 0)
		es_raise_not_found("not_registered",
						   es_fact_str(es_fact_str(es_facts(), "kind", kind),
									   "name", name),
						   "%s \"%s\" is not registered", kind, name);
	if (k == 3)
	{
		/* a projection registered again starts from the beginning */
		es_plan(&drop_checkpoints,
				"DELETE FROM " ES_SQL_PROJECTION_CHECKPOINTS
				" WHERE projection OPERATOR(pg_catalog.=) $1",
				1, types);
		es_exec(drop_checkpoints, values, NULL, false, 0);
		es_plan(&drop_dead,
				"DELETE FROM " ES_SQL_DEAD_LETTERS
				" WHERE projection OPERATOR(pg_catalog.=) $1",
				1, types);
		es_exec(drop_dead, values, NULL, false, 0);
	}
	es_call_end(&call);
	PG_RETURN_VOID();
}
