/*
 * http.c - civetweb-facing I/O.  No shared state; each function works on
 * one connection owned by the calling worker thread.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

es_status
es_http_read_body(es_request *req, long long max_bytes, es_error *err)
{
	long long cl = req->ri->content_length;
	size_t cap, len = 0;
	char *buf;

	req->body = NULL;
	req->body_len = 0;
	if (cl > max_bytes)
		return es_error_set(err, 413, "payload_too_large",
							"request body exceeds %lld bytes", max_bytes);
	cap = cl >= 0 ? (size_t) cl + 1 : 4096;
	buf = es_xmalloc(cap);
	for (;;)
	{
		int n;

		if (len + 1 >= cap)
		{
			if ((long long) len > max_bytes)
				break;
			cap = cap * 2 > (size_t) max_bytes + 2 ? (size_t) max_bytes + 2 : cap * 2;
			buf = es_xrealloc(buf, cap);
		}
		n = mg_read(req->conn, buf + len, cap - len - 1);
		if (n < 0)
		{
			free(buf);
			return es_error_set(err, 400, "malformed_request", "request body could not be read");
		}
		if (n == 0)
			break;
		len += (size_t) n;
		if ((long long) len > max_bytes)
		{
			free(buf);
			return es_error_set(err, 413, "payload_too_large",
								"request body exceeds %lld bytes", max_bytes);
		}
	}
	if (cl >= 0 && (long long) len != cl)
	{
		free(buf);
		return es_error_set(err, 400, "malformed_request", "request body truncated");
	}
	buf[len] = '\0';
	req->body = buf;
	req->body_len = len;
	return ES_OK;
}

es_status
es_http_check_json_type(const char *ct, es_error *err)
{
	size_t n;

	if (ct == NULL)
		return es_error_set(err, 415, "unsupported_media_type", "Content-Type must be application/json");
	while (*ct == ' ')
		ct++;
	n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n) == 0 &&
		(ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
		return ES_OK;
	return es_error_set(err, 415, "unsupported_media_type", "Content-Type must be application/json");
}

es_status
es_http_parse_json(es_request *req, es_error *err)
{
	if (req->body == NULL || req->body_len == 0)
		return es_error_set(err, 400, "malformed_request", "request body required");
	if (!es_utf8_valid(req->body, req->body_len))
		return es_error_set(err, 400, "malformed_request", "request body is not valid UTF-8");
	if (!es_json_depth_ok(req->body, req->body_len, ES_MAX_JSON_DEPTH))
		return es_error_set(err, 400, "malformed_request", "JSON nested deeper than %d levels", ES_MAX_JSON_DEPTH);
	/* body is NUL-terminated and NUL-free (checked above): include the NUL so
	 * cJSON's require_null_terminated check sees the true end */
	req->json = cJSON_ParseWithLengthOpts(req->body, req->body_len + 1, NULL, 1);
	if (req->json == NULL)
		return es_error_set(err, 400, "malformed_request", "request body is not valid JSON");
	return ES_OK;
}

void
es_response_json(es_response *resp, int status, char *body)
{
	free(resp->body);
	resp->status = status;
	resp->body = body;
	resp->content_type = "application/json";
}

/* Reason phrase. */
static const char *
reason(int status)
{
	switch (status)
	{
		case 200: return "OK";
		case 201: return "Created";
		case 202: return "Accepted";
		case 400: return "Bad Request";
		case 401: return "Unauthorized";
		case 403: return "Forbidden";
		case 404: return "Not Found";
		case 405: return "Method Not Allowed";
		case 409: return "Conflict";
		case 413: return "Payload Too Large";
		case 414: return "URI Too Long";
		case 415: return "Unsupported Media Type";
		case 422: return "Unprocessable Entity";
		case 423: return "Locked";
		case 429: return "Too Many Requests";
		case 431: return "Request Header Fields Too Large";
		case 503: return "Service Unavailable";
		case 504: return "Gateway Timeout";
		default: return "Status";
	}
}

int
es_http_send(struct mg_connection *conn, const es_response *resp, int close_conn)
{
	const char *body = resp->body ? resp->body : "";
	size_t len = strlen(body);
	int n;

	n = mg_printf(conn,
				  "HTTP/1.1 %d %s\r\n"
				  "Content-Type: %s\r\n"
				  "Content-Length: %zu\r\n"
				  "Cache-Control: no-store\r\n"
				  "X-Content-Type-Options: nosniff\r\n"
				  "%s%s\r\n",
				  resp->status, reason(resp->status),
				  resp->content_type ? resp->content_type : "application/json", len,
				  resp->extra_headers, close_conn ? "Connection: close\r\n" : "");
	if (n <= 0)
		return -1;
	{
		const struct mg_request_info *ri = mg_get_request_info(conn);

		/* a HEAD answer carries the headers only */
		if (ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0)
			return n;
	}
	if (len > 0 && mg_write(conn, body, len) <= 0)
		return -1;
	return n + (int) len;
}

int
es_http_send_error(struct mg_connection *conn, const es_error *err, int close_conn)
{
	es_response resp = {0};
	int n;

	resp.status = err->http_status ? err->http_status : 503;
	resp.body = es_error_body(err);
	resp.content_type = "application/json";
	if (resp.status == 401)
		snprintf(resp.extra_headers, sizeof(resp.extra_headers), "%s",
				 strcmp(err->code, "missing_token") == 0
					 ? "WWW-Authenticate: Bearer realm=\"es_saas\"\r\n"
					 : "WWW-Authenticate: Bearer realm=\"es_saas\", error=\"invalid_token\"\r\n");
	else if (err->retry_after > 0)
		snprintf(resp.extra_headers, sizeof(resp.extra_headers), "Retry-After: %d\r\n", err->retry_after);
	n = es_http_send(conn, &resp, close_conn);
	free(resp.body);
	return n;
}

void
es_request_free(es_request *req)
{
	es_route_match_free(&req->match);
	es_claims_free(&req->claims);
	free(req->body);
	cJSON_Delete(req->json);
	req->body = NULL;
	req->json = NULL;
}

void
es_response_free(es_response *resp)
{
	free(resp->body);
	resp->body = NULL;
}
