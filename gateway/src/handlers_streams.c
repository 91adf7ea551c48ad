/*
 * handlers_streams.c - GET /api/v1/streams/{stream}?from_version=&limit=.
 * Version and events come from one statement (one snapshot).  A stream
 * with no events is 404.  Events are the extension's es_event rows as jsonb.
 * ETag "v<version>": events are immutable, so the stream version (with the
 * URL's from_version and limit) fixes the answer.  Answers are kept in the
 * fallback cache and served stale on an infrastructure failure (cache.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "db.h"
#include "handlers.h"
#include "util.h"

static const es_stmt read_stream =
	{"es_read_stream",
	 "SELECT v, CASE WHEN v = 0 THEN NULL ELSE jsonb_build_object('stream', $2::text, "
	 "'version', v, 'events', (SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.version), "
	 "'[]'::jsonb) FROM es_read_stream($1::text, $2::text, $3::bigint, $4::int) AS e))::text END "
	 "FROM es_stream_version($1::text, $2::text) AS v",
	 4};

es_status
es_h_read_stream(es_request *req, es_response *resp, es_error *err)
{
	char	   *fv = NULL, *lim = NULL;
	long long	from_version = 1, limit = 1000;
	char		fvbuf[24], limbuf[24];
	const char *params[4];
	PGresult   *r;
	es_status	st = ES_FAIL;
	char		etag[40] = "";

	if (es_query_param(req->query, "from_version", &fv) != ES_OK ||
		es_query_param(req->query, "limit", &lim) != ES_OK ||
		(fv && es_parse_nonneg(fv, 9223372036854775807LL, &from_version) != ES_OK) ||
		(lim && es_parse_nonneg(lim, 2147483647LL, &limit) != ES_OK))
	{
		es_error_set(err, 400, "malformed_request",
					 "from_version and limit must be non-negative integers");
		goto out;
	}
	snprintf(fvbuf, sizeof(fvbuf), "%lld", from_version);
	snprintf(limbuf, sizeof(limbuf), "%lld", limit);
	params[0] = req->claims.tenant_id;
	params[1] = req->match.params[0];
	params[2] = fvbuf;
	params[3] = limbuf;
	if (es_db_call(ES_SVC_QUERY_HANDLER, &read_stream, params, &r, err) != ES_OK)
	{
		st = es_cache_finish(req, resp, err, ES_FAIL, NULL);
		goto out;
	}
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 1))
		es_error_set(err, 404, "not_found", "stream has no events");
	else
	{
		es_response_json(resp, 200, es_xstrdup(PQgetvalue(r, 0, 1)));
		snprintf(etag, sizeof(etag), "\"v%s\"", PQgetvalue(r, 0, 0));
		st = ES_OK;
	}
	PQclear(r);
	if (st == ES_OK)
		st = es_cache_finish(req, resp, err, st, etag);
out:
	free(fv);
	free(lim);
	return st;
}
