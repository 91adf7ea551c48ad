/*
 * handlers_tenants.c - POST /api/v1/tenants, GET /api/v1/tenants/{id}.
 * Admin-only creation; reading is allowed to admins and to the tenant's own
 * token.  The body is passed to SQL as jsonb text (no re-serialisation).
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"

static const es_stmt create_tenant = {"es_create_tenant",
									  "SELECT es_create_tenant($1::jsonb->>'id', $1::jsonb->>'name', "
									  "coalesce(nullif($1::jsonb->'settings', 'null'::jsonb), '{}'::jsonb))::text",
									  1};

static const es_stmt get_tenant = {"es_get_tenant",
								   "SELECT es_get_tenant($1::text)::text", 1};

es_status
es_h_create_tenant(es_request *req, es_response *resp, es_error *err)
{
	const cJSON *id, *name, *settings;
	const char	*params[1];
	char		*out = NULL;

	if (!cJSON_IsObject(req->json))
		return es_error_set(err, 400, "malformed_request", "body must be a JSON object");
	id = cJSON_GetObjectItemCaseSensitive(req->json, "id");
	name = cJSON_GetObjectItemCaseSensitive(req->json, "name");
	settings = cJSON_GetObjectItemCaseSensitive(req->json, "settings");
	if (!cJSON_IsString(id) || id->valuestring[0] == '\0')
		return es_error_set(err, 400, "malformed_request",
							"\"id\" must be a non-empty string");
	if (name && !cJSON_IsString(name) && !cJSON_IsNull(name))
		return es_error_set(err, 400, "malformed_request", "\"name\" must be a string");
	if (settings && !cJSON_IsObject(settings) && !cJSON_IsNull(settings))
		return es_error_set(err, 400, "malformed_request",
							"\"settings\" must be an object");
	params[0] = req->body;
	if (es_db_call_text(ES_SVC_EVENT_STORE, &create_tenant, params, &out, err) != ES_OK)
		return ES_FAIL;
	return es_response_json_or(resp, 201, out, err, 503, "tenant was not created");
}

es_status
es_h_get_tenant(es_request *req, es_response *resp, es_error *err)
{
	const char *id = req->match.params[0];
	const char *params[1] = {id};
	char	   *out = NULL;

	if (!req->claims.is_admin &&
		(req->claims.tenant_id == NULL || strcmp(req->claims.tenant_id, id) != 0))
		return es_error_set(err, 403, "forbidden", "not allowed to read this tenant");
	if (es_db_call_text(ES_SVC_QUERY_HANDLER, &get_tenant, params, &out, err) != ES_OK)
		return ES_FAIL;
	return es_response_json_or(resp, 200, out, err, 404, "unknown tenant");
}
