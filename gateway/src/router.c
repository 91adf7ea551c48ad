/*
 * router.c - template matching and OpenAPI generation from the route table.
 *
 * Matching works on the raw path split at '/', so an encoded "%2F" inside a
 * stream name stays inside its segment; each captured segment is then
 * percent-decoded (malformed escapes, NUL, invalid UTF-8 => bad param).
 * The OpenAPI document is built from the table plus the fixed schemas of
 * openapi.h.  Pure: no state.
 */
#include "router.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi.h"
#include "util.h"

/* Try one template; returns 1 on a path match (params captured raw). */
static int
match_template(const char *tpl, const char *path, const char *seg_start[],
			   size_t seg_len[], int *nparams)
{
	const char *t = tpl, *p = path;

	*nparams = 0;
	while (*t && *p)
	{
		const char *tend = strchr(t, '/');
		const char *pend = strchr(p, '/');
		size_t		tl, pl;

		if (*t == '/' && *p == '/')
		{
			t++;
			p++;
			continue;
		}
		if (*t == '/' || *p == '/')
			return 0;
		tl = tend ? (size_t) (tend - t) : strlen(t);
		pl = pend ? (size_t) (pend - p) : strlen(p);
		if (t[0] == '{')
		{
			if (pl == 0 || *nparams >= ES_MAX_PATH_PARAMS)
				return 0;
			seg_start[*nparams] = p;
			seg_len[*nparams] = pl;
			(*nparams)++;
		}
		else if (tl != pl || memcmp(t, p, tl) != 0)
			return 0;
		t += tl;
		p += pl;
	}
	return *t == '\0' && *p == '\0';
}

/* Match method + raw path. */
es_match
es_router_match(const es_route *table, size_t n, const char *method,
				const char *raw_path, es_route_match *m)
{
	const char *segs[ES_MAX_PATH_PARAMS];
	size_t		lens[ES_MAX_PATH_PARAMS];
	int			np = 0;
	int			path_seen = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++)
	{
		if (!match_template(table[i].template, raw_path, segs, lens, &np))
			continue;
		if (strcmp(table[i].method, method) != 0)
		{
			size_t al = strlen(m->allow);

			if (al + strlen(table[i].method) + 3 < sizeof(m->allow) &&
				!strstr(m->allow, table[i].method))
				snprintf(m->allow + al, sizeof(m->allow) - al, "%s%s",
						 al ? ", " : "", table[i].method);
			path_seen = 1;
			continue;
		}
		m->route = &table[i];
		for (int k = 0; k < np; k++)
		{
			m->params[k] = es_pct_decode(segs[k], lens[k], 0);
			m->nparams = k + 1;
			if (m->params[k] == NULL)
				return ES_MATCH_BAD_PARAM;
		}
		return ES_MATCH_OK;
	}
	return path_seen ? ES_MATCH_BAD_METHOD : ES_MATCH_NOT_FOUND;
}

void
es_route_match_free(es_route_match *m)
{
	for (int k = 0; k < ES_MAX_PATH_PARAMS; k++)
		free(m->params[k]);
	memset(m, 0, sizeof(*m));
}

/* Lowercase method name into buf. */
static void
lower(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = (char) ((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	buf[i] = '\0';
}

/* Parse openapi.h's single-quoted JSON. */
static cJSON *
parse_sq(const char *src)
{
	char  *copy = es_xstrdup(src);
	cJSON *j;

	for (char *c = copy; *c; c++)
		if (*c == '\'')
			*c = '"';
	j = cJSON_Parse(copy);
	free(copy);
	return j;
}

/* Reference to a component: kind "schemas" or "responses". */
static cJSON *
ref(const char *kind, const char *name)
{
	char   buf[128];
	cJSON *o = cJSON_CreateObject();

	snprintf(buf, sizeof(buf), "#/components/%s/%s", kind, name);
	cJSON_AddStringToObject(o, "$ref", buf);
	return o;
}

/* Content object with one media type and its schema. */
static cJSON *
content(const char *media, cJSON *schema)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *m = cJSON_AddObjectToObject(c, media);

	cJSON_AddItemToObject(m, "schema", schema);
	return c;
}

/* A parameter object. */
static void
add_param(cJSON *arr, const char *name, const char *in, const char *type,
		  const char *format, int required, const char *description)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "in", in);
	cJSON_AddBoolToObject(p, "required", required);
	if (description)
		cJSON_AddStringToObject(p, "description", description);
	cJSON_AddStringToObject(s, "type", type);
	if (format)
		cJSON_AddStringToObject(s, "format", format);
	if (strcmp(type, "integer") == 0)
		cJSON_AddNumberToObject(s, "minimum", 0);
	cJSON_AddItemToObject(p, "schema", s);
	cJSON_AddItemToArray(arr, p);
}

static const char *
error_response_name(int status)
{
	for (size_t i = 0; i < sizeof(es_openapi_error_responses) /
							   sizeof(es_openapi_error_responses[0]);
		 i++)
		if (es_openapi_error_responses[i].status == status)
			return es_openapi_error_responses[i].name;
	return NULL;
}

/* Whether any route lists status as a plain Error response. */
static int
status_used(const es_route *table, size_t n, int status)
{
	char want[8];

	snprintf(want, sizeof(want), "%d", status);
	for (size_t i = 0; i < n; i++)
	{
		const char *e = table[i].errors;

		while (e && *e)
		{
			size_t len = strcspn(e, ",");

			if (len == strlen(want) && strncmp(e, want, len) == 0)
				return 1;
			e += len;
			if (*e == ',')
				e++;
		}
	}
	return 0;
}

/* A header object with a schema of type. */
static void
add_header(cJSON *resp, const char *name, const char *type, const char *description)
{
	cJSON *hs = cJSON_GetObjectItemCaseSensitive(resp, "headers");
	cJSON *h;

	if (hs == NULL)
		hs = cJSON_AddObjectToObject(resp, "headers");
	h = cJSON_AddObjectToObject(hs, name);
	cJSON_AddStringToObject(h, "description", description);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(h, "schema"), "type", type);
}

/* components.responses: the Error answers the table uses. */
static cJSON *
error_responses(const es_route *table, size_t n)
{
	cJSON *resps = cJSON_CreateObject();

	for (size_t i = 0; i < sizeof(es_openapi_error_responses) /
							   sizeof(es_openapi_error_responses[0]);
		 i++)
	{
		int			status = es_openapi_error_responses[i].status;
		const char *code = es_error_code_for_status(status);
		cJSON	   *r, *c, *ex, *e;

		if (!status_used(table, n, status))
			continue;
		r = cJSON_AddObjectToObject(resps, es_openapi_error_responses[i].name);
		cJSON_AddStringToObject(r, "description", code);
		c = content("application/json", ref("schemas", "Error"));
		ex = cJSON_AddObjectToObject(cJSON_GetObjectItemCaseSensitive(c, "application/json"),
									 "example");
		e = cJSON_AddObjectToObject(ex, "error");
		if (status == 409)
		{
			cJSON *d;

			cJSON_AddStringToObject(e, "code", "wrong_expected_version");
			cJSON_AddStringToObject(e, "message", "wrong expected version");
			d = cJSON_AddObjectToObject(e, "details");
			cJSON_AddStringToObject(d, "reason", "wrong_expected_version");
			cJSON_AddStringToObject(d, "stream", "order-1");
			cJSON_AddNumberToObject(d, "current_version", 3);
			cJSON_AddNumberToObject(d, "expected_version", 2);
		}
		else
		{
			cJSON_AddStringToObject(e, "code", code);
			cJSON_AddStringToObject(e, "message", code);
			cJSON_AddObjectToObject(e, "details");
		}
		cJSON_AddItemToObject(r, "content", c);
		if (status == 401)
			add_header(r, "WWW-Authenticate", "string", "Bearer challenge");
		if (status == 503)
			add_header(r, "Retry-After", "integer", "seconds to wait before retrying");
	}
	return resps;
}

/* The document's head: info, servers, tags, global security, components. */
static cJSON *
openapi_skeleton(const es_route *table, size_t n, const char *version)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *info, *lic, *srv, *comp, *sec, *b;

	cJSON_AddStringToObject(root, "openapi", "3.1.0");
	info = cJSON_AddObjectToObject(root, "info");
	cJSON_AddStringToObject(info, "title", "es_saas gateway");
	cJSON_AddStringToObject(info, "version", version);
	cJSON_AddStringToObject(info, "description",
							"REST access to the es_saas event store: tenants, commands, "
							"queries, streams and the tenant log. Tokens are JWTs (HS256, "
							"RS256 or ES256) carrying tenant_id, or the admin role. Errors are "
							"{\"error\": {\"code\", \"message\", \"details\"}}. Besides the "
							"statuses each operation lists, a request the HTTP layer refuses "
							"before routing (bad framing, headers too large) gets 400, 411, "
							"413, 431 or 505 with message \"request rejected by the HTTP "
							"layer\".");
	lic = cJSON_AddObjectToObject(info, "license");
	cJSON_AddStringToObject(lic, "name", "Proprietary");
	cJSON_AddStringToObject(lic, "identifier", "LicenseRef-Proprietary");
	srv = cJSON_AddArrayToObject(root, "servers");
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "url", "/");
	cJSON_AddStringToObject(b, "description", "the gateway that served this document");
	cJSON_AddItemToArray(srv, b);
	cJSON_AddItemToObject(root, "tags", parse_sq(es_openapi_tags));
	b = cJSON_CreateObject();
	cJSON_AddItemToObject(b, "bearer", cJSON_CreateArray());
	cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "security"), b);
	cJSON_AddObjectToObject(root, "paths");
	comp = cJSON_AddObjectToObject(root, "components");
	cJSON_AddItemToObject(comp, "schemas", parse_sq(es_openapi_schemas));
	cJSON_AddItemToObject(comp, "responses", error_responses(table, n));
	sec = cJSON_AddObjectToObject(comp, "securitySchemes");
	b = cJSON_AddObjectToObject(sec, "bearer");
	cJSON_AddStringToObject(b, "type", "http");
	cJSON_AddStringToObject(b, "scheme", "bearer");
	cJSON_AddStringToObject(b, "bearerFormat", "JWT");
	return root;
}

/* Path parameters from the template, query parameters, and the headers
 * the route reads; NULL when there are none. */
static cJSON *
operation_parameters(const es_route *r)
{
	cJSON *params = cJSON_CreateArray();

	for (const char *t = strchr(r->template, '{'); t; t = strchr(t + 1, '{'))
	{
		char		name[64];
		const char *end = strchr(t, '}');
		size_t		l = end ? (size_t) (end - t - 1) : 0;

		if (l == 0 || l >= sizeof(name))
			continue;
		memcpy(name, t + 1, l);
		name[l] = '\0';
		add_param(params, name, "path", "string",
				  strcmp(r->template, "/api/v1/commands/{id}") == 0 ? "uuid" : NULL,
				  1, "percent-encoded path segment");
	}
	if (r->query_params)
	{
		char *copy = es_xstrdup(r->query_params), *save = NULL;

		for (char *tok = strtok_r(copy, ",", &save); tok;
			 tok = strtok_r(NULL, ",", &save))
		{
			char *colon = strchr(tok, ':');

			if (colon)
				*colon++ = '\0';
			add_param(params, tok, "query", colon ? colon : "string",
					  colon && strcmp(colon, "integer") == 0 ? "int64" : NULL,
					  0, NULL);
		}
		free(copy);
	}
	if (r->flags & ES_ROUTE_SSE)
		add_param(params, "Last-Event-ID", "header", "integer", "int64", 0,
				  "with Accept: text/event-stream: resume after this position "
				  "(overrides after)");
	if (r->errors && strstr(r->errors, "304"))
		add_param(params, "If-None-Match", "header", "string", NULL, 0,
				  "ETag values of answers the client holds: 304 when one still matches");
	if (strcmp(r->template, "/api/v1/commands/execute") == 0)
		add_param(params, "Idempotency-Key", "header", "string", "uuid", 0,
				  "the command id (must equal the body's id when both are given)");
	if (cJSON_GetArraySize(params) == 0)
	{
		cJSON_Delete(params);
		return NULL;
	}
	return params;
}

/* The success answer. */
static cJSON *
success_response(const es_route *r)
{
	cJSON *ok = cJSON_CreateObject();

	cJSON_AddStringToObject(ok, "description", r->summary ? r->summary : "success");
	if (r->flags & ES_ROUTE_TEXT)
	{
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "type", "string");
		cJSON_AddItemToObject(ok, "content", content("text/plain; version=0.0.4", s));
	}
	else if (r->response_schema)
	{
		cJSON *c = content("application/json", ref("schemas", r->response_schema));

		if (r->flags & ES_ROUTE_SSE)
		{
			cJSON *s = cJSON_CreateObject();

			cJSON_AddStringToObject(s, "type", "string");
			cJSON_AddStringToObject(s, "description",
									"Server-sent events: one frame per event, "
									"\"id: <position>\" then \"data: <Event as JSON>\"; "
									"\": heartbeat\" comments keep the connection alive.");
			cJSON_AddItemToObject(cJSON_AddObjectToObject(c, "text/event-stream"),
								  "schema", s);
		}
		cJSON_AddItemToObject(ok, "content", c);
	}
	return ok;
}

/* The success answer and every error answer the route can give. */
static cJSON *
operation_responses(const es_route *r)
{
	cJSON	   *resps = cJSON_CreateObject();
	char		status[8];
	const char *e = r->errors;

	snprintf(status, sizeof(status), "%d", r->success_status);
	cJSON_AddItemToObject(resps, status, success_response(r));
	while (e && *e)
	{
		size_t		len = strcspn(e, ",");
		char		tok[64];
		char	   *colon;
		int			st;
		const char *name;

		snprintf(tok, sizeof(tok), "%.*s", (int) (len < 63 ? len : 63), e);
		e += len;
		if (*e == ',')
			e++;
		colon = strchr(tok, ':');
		if (colon)
			*colon++ = '\0';
		st = (int) strtol(tok, NULL, 10);
		if (colon)
		{
			cJSON *er = cJSON_AddObjectToObject(resps, tok);

			cJSON_AddStringToObject(er, "description", es_error_code_for_status(st));
			cJSON_AddItemToObject(er, "content",
								  content("application/json", ref("schemas", colon)));
			continue;
		}
		if (st == 304)
		{
			/* conditional reads (cache.c): no body */
			cJSON *nm = cJSON_AddObjectToObject(resps, tok);

			cJSON_AddStringToObject(nm, "description",
									"not_modified: If-None-Match matched the ETag (no body)");
			continue;
		}
		name = error_response_name(st);
		if (name)
			cJSON_AddItemToObject(resps, tok, ref("responses", name));
	}
	return resps;
}

/* One route as an operation under its path. */
static void
add_operation(cJSON *paths, const es_route *r)
{
	cJSON *path = cJSON_GetObjectItemCaseSensitive(paths, r->template);
	cJSON *op, *params;
	char   m[16];

	if (path == NULL)
		path = cJSON_AddObjectToObject(paths, r->template);
	lower(r->method, m, sizeof(m));
	op = cJSON_AddObjectToObject(path, m);
	cJSON_AddStringToObject(op, "summary", r->summary ? r->summary : "");
	if (r->flags & ES_ROUTE_SSE)
		cJSON_AddStringToObject(op, "description",
								"With Accept: text/event-stream the answer is a live "
								"subscription: the events after `after` (or Last-Event-ID), "
								"then new ones as they commit. Otherwise one JSON page.");
	if (r->operation_id)
		cJSON_AddStringToObject(op, "operationId", r->operation_id);
	if (r->tag)
		cJSON_AddItemToObject(op, "tags", cJSON_CreateStringArray(&r->tag, 1));
	params = operation_parameters(r);
	if (params)
		cJSON_AddItemToObject(op, "parameters", params);
	if ((r->flags & ES_ROUTE_BODY) && r->request_schema)
	{
		cJSON *rb = cJSON_AddObjectToObject(op, "requestBody");

		cJSON_AddBoolToObject(rb, "required", 1);
		cJSON_AddItemToObject(rb, "content",
							  content("application/json",
									  ref("schemas", r->request_schema)));
	}
	/* the global requirement is the bearer token; public routes lift it */
	if (!(r->flags & ES_ROUTE_AUTH))
		cJSON_AddArrayToObject(op, "security");
	cJSON_AddItemToObject(op, "responses", operation_responses(r));
}

/* Build the OpenAPI document. */
char *
es_router_openapi(const es_route *table, size_t n, const char *version)
{
	cJSON *root = openapi_skeleton(table, n, version);
	cJSON *paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
	char  *out;

	for (size_t i = 0; i < n; i++)
		add_operation(paths, &table[i]);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}
