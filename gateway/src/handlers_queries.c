/*
 * handlers_queries.c - POST /api/v1/queries/execute -> es_query.
 * Answers are kept in the fallback cache (tenant + canonical body) and
 * served stale on an infrastructure failure; ETag from the body (cache.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "db.h"
#include "handlers.h"
#include "util.h"

static const es_stmt execute_query = {"es_query",
									  "SELECT es_query($1::text, $2::jsonb)::text",
									  2};

es_status
es_h_execute_query(es_request *req, es_response *resp, es_error *err)
{
	const char *params[2];
	char	   *out = NULL;

	if (!cJSON_IsObject(req->json))
		return es_error_set(err, 400, "malformed_request",
							"query must be a JSON object");
	params[0] = req->claims.tenant_id;
	params[1] = req->body;
	if (es_db_call_text(ES_SVC_QUERY_HANDLER, &execute_query, params, &out, err) != ES_OK)
		return es_cache_finish(req, resp, err, ES_FAIL, NULL);
	if (out == NULL)
		out = es_xstrdup("null");
	es_response_json(resp, 200, out);
	return es_cache_finish(req, resp, err, ES_OK, NULL);
}
