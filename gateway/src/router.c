/*
 * router.c - template matching and OpenAPI generation from the route table.
 *
 * Matching works on the raw path split at '/', so an encoded "%2F" inside a
 * stream name stays inside its segment; each captured segment is then
 * percent-decoded (malformed escapes, NUL, invalid UTF-8 => bad param).
 * Pure: no state.
 */
#include "router.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Add a parameter object to an array. */
static void
add_param(cJSON *arr, const char *name, const char *in, const char *type, int required)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "in", in);
	cJSON_AddBoolToObject(p, "required", required);
	cJSON_AddStringToObject(s, "type", type);
	cJSON_AddItemToObject(p, "schema", s);
	cJSON_AddItemToArray(arr, p);
}

/* Reference to a components schema. */
static cJSON *
ref(const char *name)
{
	char   buf[128];
	cJSON *o = cJSON_CreateObject();

	snprintf(buf, sizeof(buf), "#/components/schemas/%s", name);
	cJSON_AddStringToObject(o, "$ref", buf);
	return o;
}

/* JSON content object with a schema. */
static cJSON *
content(const char *media, cJSON *schema)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *m = cJSON_AddObjectToObject(c, media);

	cJSON_AddItemToObject(m, "schema", schema);
	return c;
}

/* The document's head: info, the Error/Event/Object schemas, bearer auth. */
static cJSON *
openapi_skeleton(const char *version)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *info, *comp, *schemas, *sec, *err, *e, *ev, *props;

	cJSON_AddStringToObject(root, "openapi", "3.0.3");
	info = cJSON_AddObjectToObject(root, "info");
	cJSON_AddStringToObject(info, "title", "es_saas gateway");
	cJSON_AddStringToObject(info, "version", version);
	cJSON_AddObjectToObject(root, "paths");
	comp = cJSON_AddObjectToObject(root, "components");
	schemas = cJSON_AddObjectToObject(comp, "schemas");
	err = cJSON_AddObjectToObject(schemas, "Error");
	cJSON_AddStringToObject(err, "type", "object");
	props = cJSON_AddObjectToObject(err, "properties");
	e = cJSON_AddObjectToObject(props, "error");
	cJSON_AddStringToObject(e, "type", "object");
	{
		cJSON *ep = cJSON_AddObjectToObject(e, "properties");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(ep, "code"), "type", "string");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(ep, "message"), "type",
								"string");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(ep, "details"), "type",
								"object");
	}
	ev = cJSON_AddObjectToObject(schemas, "Event");
	cJSON_AddStringToObject(ev, "type", "object");
	props = cJSON_AddObjectToObject(ev, "properties");
	{
		static const char *const k[][2] = {{"position", "integer"},
										   {"stream", "string"},
										   {"version", "integer"},
										   {"type", "string"},
										   {"data", "object"},
										   {"metadata", "object"},
										   {"id", "string"},
										   {"recorded_at", "string"}};
		for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
			cJSON_AddStringToObject(cJSON_AddObjectToObject(props, k[i][0]),
									"type", k[i][1]);
	}
	cJSON_AddStringToObject(cJSON_AddObjectToObject(schemas, "Object"), "type",
							"object");
	sec = cJSON_AddObjectToObject(comp, "securitySchemes");
	{
		cJSON *b = cJSON_AddObjectToObject(sec, "bearer");
		cJSON_AddStringToObject(b, "type", "http");
		cJSON_AddStringToObject(b, "scheme", "bearer");
		cJSON_AddStringToObject(b, "bearerFormat", "JWT");
	}
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
		add_param(params, name, "path", "string", 1);
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
			add_param(params, tok, "query", colon ? colon : "string", 0);
		}
		free(copy);
	}
	if (r->flags & ES_ROUTE_SSE)
		add_param(params, "Last-Event-ID", "header", "integer", 0);
	if (strcmp(r->template, "/api/v1/commands/execute") == 0)
		add_param(params, "Idempotency-Key", "header", "string", 0);
	if (cJSON_GetArraySize(params) == 0)
	{
		cJSON_Delete(params);
		return NULL;
	}
	return params;
}

/* The success answer and every error answer the route can give. */
static cJSON *
operation_responses(const es_route *r)
{
	static const int errs[] = {400, 401, 403, 404, 409, 413,
							   415, 422, 423, 429, 503, 504};
	cJSON			*resps = cJSON_CreateObject();
	cJSON			*ok;
	char			 status[8];

	snprintf(status, sizeof(status), "%d", r->success_status);
	ok = cJSON_AddObjectToObject(resps, status);
	cJSON_AddStringToObject(ok, "description", "success");
	if (r->flags & ES_ROUTE_SSE)
	{
		cJSON *c = content("application/json", ref("Object"));
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "type", "string");
		cJSON_AddItemToObject(cJSON_AddObjectToObject(c, "text/event-stream"),
							  "schema", s);
		cJSON_AddItemToObject(ok, "content", c);
	}
	else
		cJSON_AddItemToObject(ok, "content",
							  content("application/json", ref("Object")));
	for (size_t k = 0; k < sizeof(errs) / sizeof(errs[0]); k++)
	{
		cJSON *er;

		if (!(r->flags & ES_ROUTE_AUTH) && (errs[k] == 401 || errs[k] == 403))
			continue;
		if (!(r->flags & ES_ROUTE_BODY) && (errs[k] == 413 || errs[k] == 415))
			continue;
		snprintf(status, sizeof(status), "%d", errs[k]);
		er = cJSON_AddObjectToObject(resps, status);
		cJSON_AddStringToObject(er, "description", es_error_code_for_status(errs[k]));
		cJSON_AddItemToObject(er, "content",
							  content("application/json", ref("Error")));
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
	if (r->tag)
		cJSON_AddItemToObject(op, "tags", cJSON_CreateStringArray(&r->tag, 1));
	params = operation_parameters(r);
	if (params)
		cJSON_AddItemToObject(op, "parameters", params);
	if (r->flags & ES_ROUTE_BODY)
	{
		cJSON *rb = cJSON_AddObjectToObject(op, "requestBody");
		cJSON_AddBoolToObject(rb, "required", 1);
		cJSON_AddItemToObject(rb, "content",
							  content("application/json", ref("Object")));
	}
	if (r->flags & ES_ROUTE_AUTH)
	{
		cJSON *sr = cJSON_CreateArray();
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "bearer", cJSON_CreateArray());
		cJSON_AddItemToArray(sr, o);
		cJSON_AddItemToObject(op, "security", sr);
	}
	cJSON_AddItemToObject(op, "responses", operation_responses(r));
}

/* Build the OpenAPI document. */
char *
es_router_openapi(const es_route *table, size_t n, const char *version)
{
	cJSON *root = openapi_skeleton(version);
	cJSON *paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
	char  *out;

	for (size_t i = 0; i < n; i++)
		add_operation(paths, &table[i]);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}
