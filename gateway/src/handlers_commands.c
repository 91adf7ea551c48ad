/*
 * handlers_commands.c - POST /api/v1/commands/execute, GET
 * /api/v1/commands/{id}. The Idempotency-Key header is the command id: it must
 * be a UUID and may not contradict the body's "id".  It travels as its own SQL
 * parameter and is set as "id" with jsonb || in the statement, so the client's
 * JSON text (big numbers included) reaches es_execute untouched: no JSON is
 * spliced or re-serialised in the gateway.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "handlers.h"
#include "retry.h"
#include "util.h"

/* $3 is the Idempotency-Key (or NULL): it becomes the command's "id" */
static const es_stmt execute_command = {"es_execute",
										"SELECT es_execute($1::text, CASE WHEN $3::text IS NULL THEN $2::jsonb "
										"ELSE $2::jsonb || jsonb_build_object('id', $3::text) END)::text",
										3};

static const es_stmt get_command = {"es_get_command",
									"SELECT CASE WHEN r IS NULL THEN NULL ELSE jsonb_build_object('id', $2::uuid, "
									"'status', 'executed', 'result', r)::text END "
									"FROM es_get_command($1::text, $2::uuid) AS r",
									2};

/* Lowercase copy of a UUID. */
static void
lower_uuid(const char *in, char out[37])
{
	for (int i = 0; i < 36; i++)
		out[i] = (char) tolower((unsigned char) in[i]);
	out[36] = '\0';
}

es_status
es_h_execute_command(es_request *req, es_response *resp, es_error *err)
{
	const char	*key = mg_get_header(req->conn, "Idempotency-Key");
	const cJSON *id;
	char		 keybuf[37];
	const char	*params[3];
	char		*out = NULL;

	if (!cJSON_IsObject(req->json))
		return es_error_set(err, 400, "malformed_request",
							"command must be a JSON object");
	id = cJSON_GetObjectItemCaseSensitive(req->json, "id");
	if (id && !(cJSON_IsString(id) && es_uuid_valid(id->valuestring)))
		return es_error_set(err, 400, "malformed_request",
							"command \"id\" must be a UUID");
	if (key != NULL)
	{
		if (!es_uuid_valid(key))
			return es_error_set(err, 400, "malformed_request",
								"Idempotency-Key must be a UUID");
		if (id && strcasecmp(id->valuestring, key) != 0)
			return es_error_set(err, 400, "malformed_request",
								"Idempotency-Key differs from the command's \"id\"");
		lower_uuid(key, keybuf);
	}
	/* an id before the first try, so a retry after a connection lost
	 * mid-COMMIT gets the stored result instead of appending twice */
	if (key == NULL && id == NULL)
		es_uuid_generate(keybuf);
	params[0] = req->claims.tenant_id;
	params[1] = req->body;
	params[2] = key != NULL || id == NULL ? keybuf : NULL;
	if (es_db_call_text_idempotent(ES_SVC_EVENT_STORE, &execute_command,
								   params, &out, err) != ES_OK)
		return ES_FAIL;
	return es_response_json_or(resp, 200, out, err, 503, "command returned no result");
}

es_status
es_h_get_command(es_request *req, es_response *resp, es_error *err)
{
	const char *id = req->match.params[0];
	const char *params[2];
	char	   *out = NULL;

	if (!es_uuid_valid(id))
		return es_error_set(err, 400, "malformed_request", "command id must be a UUID");
	params[0] = req->claims.tenant_id;
	params[1] = id;
	if (es_db_call_text(ES_SVC_QUERY_HANDLER, &get_command, params, &out, err) != ES_OK)
		return ES_FAIL;
	return es_response_json_or(resp, 200, out, err, 404, "unknown command");
}
