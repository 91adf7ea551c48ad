/*
 * handlers_commands.c - POST /api/v1/commands/execute, GET
 * /api/v1/commands/{id}. The Idempotency-Key header is the command id: it must
 * be a UUID and may not contradict the body's "id".  It travels as its own SQL
 * parameter and is set as "id" with jsonb || in the statement, so the client's
 * JSON text (big numbers included) reaches es_execute untouched: no JSON is
 * spliced or re-serialised in the gateway.
 *
 * With a spool (ES_SPOOL_DIR) every command gets its id before the first
 * try (the key, the body id, else a random UUID), so a command whose
 * outcome is unknown can be spooled and replayed without applying twice:
 * when es_execute fails with 503 (event store unreachable) the command is
 * spooled and answered 202 with Location; so is a command whose stream
 * already has spooled commands (per-stream order).  "Prefer: wait" gets
 * the 503 instead.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "db.h"
#include "handlers.h"
#include "retry.h"
#include "spool.h"
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
es_command_apply(const char *tenant, const char *id, const char *body, es_error *err)
{
	const char *params[3] = {tenant, body, id};
	char	   *out = NULL;

	if (es_db_call_text(ES_SVC_EVENT_STORE, &execute_command, params, &out, err) != ES_OK)
		return ES_FAIL;
	free(out);
	return ES_OK;
}

/* "Prefer: wait" (RFC 7240): the client wants the outcome, not a 202. */
static int
prefers_wait(es_request *req)
{
	const char *p = mg_get_header(req->conn, "Prefer");

	return p != NULL && strstr(p, "wait") != NULL;
}

/* 202 {"id","status":"pending"} with Location. */
static es_status
accepted(es_response *resp, const char *id)
{
	es_buf b;

	es_buf_init(&b);
	es_buf_printf(&b, "{\"id\":\"%s\",\"status\":\"pending\"}", id);
	es_response_json(resp, 202, b.data);
	snprintf(resp->location, sizeof(resp->location), "/api/v1/commands/%s", id);
	return ES_OK;
}

/* Spool the command (id already decided). */
static es_status
spool(es_request *req, es_response *resp, es_error *err, const char *id)
{
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(req->json, "stream");
	const char	*s = cJSON_IsString(stream) ? stream->valuestring : "";

	if (es_spool_pending(req->claims.tenant_id, id))
		return accepted(resp, id);
	es_error_clear(err);
	if (es_spool_put(req->claims.tenant_id, id, s, req->body, req->body_len, err) != ES_OK)
		return ES_FAIL;
	return accepted(resp, id);
}

es_status
es_h_execute_command(es_request *req, es_response *resp, es_error *err)
{
	const char	*key = mg_get_header(req->conn, "Idempotency-Key");
	const cJSON *id;
	char		 keybuf[37];
	const char	*params[3];
	char		*out = NULL;
	int			 spooling = es_spool_enabled();

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
	else if (id)
		lower_uuid(id->valuestring, keybuf);
	else
	{
		/* an id before the first try: a retry after a connection lost
		 * mid-COMMIT gets the stored result instead of appending twice,
		 * and a spooled command keeps it */
		es_uuid_generate(keybuf);
	}
	if (spooling && !prefers_wait(req))
	{
		const cJSON *stream = cJSON_GetObjectItemCaseSensitive(req->json, "stream");

		/* behind spooled commands of the same stream (or the same id) */
		if (es_spool_pending(req->claims.tenant_id, keybuf) ||
			(cJSON_IsString(stream) &&
			 es_spool_stream_pending(req->claims.tenant_id, stream->valuestring)))
			return spool(req, resp, err, keybuf);
	}
	params[0] = req->claims.tenant_id;
	params[1] = req->body;
	params[2] = keybuf;
	if (es_db_call_text_idempotent(ES_SVC_EVENT_STORE, &execute_command,
								   params, &out, err) != ES_OK)
	{
		if (spooling && err->http_status == 503 && !prefers_wait(req))
			return spool(req, resp, err, keybuf);
		return ES_FAIL;
	}
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
	{
		char lid[37];
		int	 status;

		lower_uuid(id, lid);
		if (es_spool_pending(req->claims.tenant_id, lid))
			return accepted(resp, lid);
		/* refused on replay: the error the database gave, as it gave it */
		if (es_spool_failed(req->claims.tenant_id, lid, &status, &out))
		{
			es_response_json(resp, status, out);
			return ES_OK;
		}
	}
	if (es_db_call_text(ES_SVC_QUERY_HANDLER, &get_command, params, &out, err) != ES_OK)
		return ES_FAIL;
	return es_response_json_or(resp, 200, out, err, 404, "unknown command");
}
