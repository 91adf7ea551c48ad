/*-------------------------------------------------------------------------
 *
 * docs.c
 *	  The read-model document store: es_doc_put/get/delete/find.
 *
 * Documents are tenant data (forced RLS on es_saas.documents).  Writes
 * count as writes of the tenant (ES423 when suspended), except from
 * inside a projection handler: events appended before a suspension still
 * reach the read models.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "catalog/pg_type.h"
#include "docs.h"
#include "errors.h"
#include "funcapi.h"
#include "handler.h"
#include "relation.h"
#include "spi_util.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(es_doc_put);
PG_FUNCTION_INFO_V1(es_doc_get);
PG_FUNCTION_INFO_V1(es_doc_delete);
PG_FUNCTION_INFO_V1(es_doc_find);

#define ES_MAX_DOC_KEY_LEN 1024

/* Validate (tenant, collection[, key]) arguments; ES400 on bad ones. */
static void
doc_args(FunctionCallInfo fcinfo, char **tenant, char **collection, char **key)
{
	*tenant = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	es_validate_tenant_id(*tenant);
	if (PG_ARGISNULL(1))
		es_raise_null_argument("collection");
	*collection = text_to_cstring(PG_GETARG_TEXT_PP(1));
	es_validate_stream(*collection);
	if (key == NULL)
		return;
	if (PG_ARGISNULL(2))
		es_raise_null_argument("key");
	*key = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if ((*key)[0] == '\0' || strlen(*key) > ES_MAX_DOC_KEY_LEN)
		es_raise_malformed(es_fact_int(es_fact_argument("key"), "max_bytes",
									   ES_MAX_DOC_KEY_LEN),
						   "key must be 1 to %d bytes long", ES_MAX_DOC_KEY_LEN);
}

/* es_doc_put(tenant, collection, key, doc) */
Datum
es_doc_put(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[4] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID};
	Datum			  values[4];
	char			 *tenant;
	char			 *collection;
	char			 *key;
	Jsonb			 *doc;
	EsCall			  call;

	doc_args(fcinfo, &tenant, &collection, &key);
	if (PG_ARGISNULL(3))
		es_raise_null_argument("doc");
	doc = PG_GETARG_JSONB_P(3);
	if (es_jsonb_depth(doc) > es_max_json_depth)
		es_raise_invalid("document_too_deep", es_fact_argument("doc"),
						 "doc is nested deeper than es_saas.max_json_depth (%d)",
						 es_max_json_depth);

	es_call_begin(&call);
	es_check_tenant(&call, tenant,
					es_projection_depth > 0 ? ES_ACCESS_READ : ES_ACCESS_WRITE);
	es_plan(&plan,
			"INSERT INTO " ES_SQL_DOCUMENTS " (tenant_id, collection, key, doc) "
			"VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, collection, key) "
			"DO UPDATE SET doc = excluded.doc, updated_at = pg_catalog.now()",
			4, types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(collection);
	values[2] = CStringGetTextDatum(key);
	values[3] = JsonbPGetDatum(doc);
	es_exec(plan, values, NULL, false, 0);
	es_call_end(&call);
	PG_RETURN_VOID();
}

/* The document (copied out of SPI) or NULL; SPI must be connected. */
Jsonb *
es_doc_lookup(const char *tenant, const char *collection, const char *key)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum			  values[3];
	bool			  isnull;

	es_plan(&plan,
			"SELECT doc FROM " ES_SQL_DOCUMENTS " WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND collection OPERATOR(pg_catalog.=) $2 AND key OPERATOR(pg_catalog.=) $3",
			3, types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(collection);
	values[2] = CStringGetTextDatum(key);
	if (es_exec(plan, values, NULL, false, 1) == 0)
		return NULL;
	return DatumGetJsonbP(es_result_copy(0, 1, &isnull));
}

/* es_doc_get(tenant, collection, key) returns jsonb */
Datum
es_doc_get(PG_FUNCTION_ARGS)
{
	char  *tenant;
	char  *collection;
	char  *key;
	Jsonb *doc;
	EsCall call;

	doc_args(fcinfo, &tenant, &collection, &key);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	doc = es_doc_lookup(tenant, collection, key);
	es_call_end(&call);
	if (doc == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(doc);
}

/* es_doc_delete(tenant, collection, key) returns bool */
Datum
es_doc_delete(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid				  types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum			  values[3];
	char			 *tenant;
	char			 *collection;
	char			 *key;
	uint64			  n;
	EsCall			  call;

	doc_args(fcinfo, &tenant, &collection, &key);
	es_call_begin(&call);
	es_check_tenant(&call, tenant,
					es_projection_depth > 0 ? ES_ACCESS_READ : ES_ACCESS_WRITE);
	es_plan(&plan,
			"DELETE FROM " ES_SQL_DOCUMENTS " WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND collection OPERATOR(pg_catalog.=) $2 AND key OPERATOR(pg_catalog.=) $3",
			3, types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(collection);
	values[2] = CStringGetTextDatum(key);
	n = es_exec(plan, values, NULL, false, 0);
	es_call_end(&call);
	PG_RETURN_BOOL(n > 0);
}

/* es_doc_find(tenant, collection, filter, max_count) returns setof jsonb */
Datum
es_doc_find(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	ReturnSetInfo	 *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid				  types[4] = {TEXTOID, TEXTOID, JSONBOID, INT8OID};
	Datum			  values[4];
	char			 *tenant;
	char			 *collection;
	Jsonb			 *filter;
	int				  max_count;
	uint64			  n;
	EsCall			  call;

	doc_args(fcinfo, &tenant, &collection, NULL);
	if (PG_ARGISNULL(2))
		es_raise_null_argument("filter");
	filter = PG_GETARG_JSONB_P(2);
	if (!JB_ROOT_IS_OBJECT(filter))
		es_raise_invalid("invalid_filter", es_fact_argument("filter"),
						 "filter must be a JSON object");
	if (PG_ARGISNULL(3))
		es_raise_null_argument("max_count");
	max_count = es_clamp_count(PG_GETARG_INT32(3));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	es_call_begin(&call);
	es_check_tenant(&call, tenant, ES_ACCESS_READ);
	es_plan(&plan,
			"SELECT doc FROM " ES_SQL_DOCUMENTS " WHERE tenant_id OPERATOR(pg_catalog.=) $1 "
			"AND collection OPERATOR(pg_catalog.=) $2 AND doc OPERATOR(pg_catalog.@>) $3 "
			"ORDER BY key LIMIT $4",
			4, types);
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(collection);
	values[2] = JsonbPGetDatum(filter);
	values[3] = Int64GetDatum(max_count);
	n = es_exec(plan, values, NULL, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		bool  isnull;
		Datum doc = es_result_datum(i, 1, &isnull);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &doc, &isnull);
	}
	es_call_end(&call);
	return (Datum) 0;
}
