/*
 * http.c - civetweb-facing I/O and the reply renderer.  Every byte of an
 * HTTP head the gateway sends is composed here.  No shared state; each
 * function works on one connection owned by the calling worker thread.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util.h"

#define CONTINUE_LINE "HTTP/1.1 100 Continue\r\n\r\n"

/*
 * Whether the client waits for "100 Continue" before sending its body.
 * civetweb 1.15 answers Expect only for its own PUT/CGI file handling,
 * never for a request handler, so clients (curl waits 1 s) stall unless we
 * answer.  Called once the request is acceptable so far (authorised,
 * Content-Length within the limit); a refusal before that is the final
 * answer and the body is never read (the connection is closed).
 */
static int
expects_continue(const es_request *req)
{
	const char *expect = mg_get_header(req->conn, "Expect");

	return expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
		   req->ri->http_version != NULL &&
		   strcmp(req->ri->http_version, "1.1") == 0;
}

es_status
es_http_read_body(es_request *req, long long max_bytes, es_error *err)
{
	long long cl = req->ri->content_length;
	size_t	  cap, len = 0;
	char	 *buf;

	req->body = NULL;
	req->body_len = 0;
	if (cl > max_bytes)
		return es_error_set(err, 413, "payload_too_large",
							"request body exceeds %lld bytes", max_bytes);
	if (expects_continue(req) &&
		mg_write(req->conn, CONTINUE_LINE, sizeof(CONTINUE_LINE) - 1) !=
			(int) (sizeof(CONTINUE_LINE) - 1))
		return es_error_set(err, 400, "malformed_request",
							"request body could not be read");
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
			return es_error_set(err, 400, "malformed_request",
								"request body could not be read");
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
		return es_error_set(err, 415, "unsupported_media_type",
							"Content-Type must be application/json");
	while (*ct == ' ')
		ct++;
	n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n) == 0 &&
		(ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
		return ES_OK;
	return es_error_set(err, 415, "unsupported_media_type",
						"Content-Type must be application/json");
}

es_status
es_http_parse_json(es_request *req, es_error *err)
{
	if (req->body == NULL || req->body_len == 0)
		return es_error_set(err, 400, "malformed_request", "request body required");
	if (!es_utf8_valid(req->body, req->body_len))
		return es_error_set(err, 400, "malformed_request",
							"request body is not valid UTF-8");
	if (!es_json_depth_ok(req->body, req->body_len, ES_MAX_JSON_DEPTH))
		return es_error_set(err, 400, "malformed_request",
							"JSON nested deeper than %d levels", ES_MAX_JSON_DEPTH);
	/* body is NUL-terminated and NUL-free (checked above): include the NUL so
	 * cJSON's require_null_terminated check sees the true end */
	req->json = cJSON_ParseWithLengthOpts(req->body, req->body_len + 1, NULL, 1);
	if (req->json == NULL)
		return es_error_set(err, 400, "malformed_request",
							"request body is not valid JSON");
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

es_status
es_response_json_or(es_response *resp, int status, char *json, es_error *err,
					int missing_status, const char *message)
{
	if (json == NULL)
		return es_error_set(err, missing_status, NULL, "%s", message);
	es_response_json(resp, status, json);
	return ES_OK;
}

/* Reason phrase. */
static const char *
reason(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 201:
			return "Created";
		case 202:
			return "Accepted";
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 409:
			return "Conflict";
		case 413:
			return "Payload Too Large";
		case 414:
			return "URI Too Long";
		case 415:
			return "Unsupported Media Type";
		case 422:
			return "Unprocessable Entity";
		case 423:
			return "Locked";
		case 429:
			return "Too Many Requests";
		case 431:
			return "Request Header Fields Too Large";
		case 503:
			return "Service Unavailable";
		case 504:
			return "Gateway Timeout";
		case 505:
			return "HTTP Version Not Supported";
		default:
			return "Status";
	}
}

void
es_render_error(es_error *err, es_response *resp)
{
	if (err->http_status == 0)
		es_error_set(err, 503, "unavailable", "internal failure");
	else if (err->http_status == 500)
	{
		err->http_status = 503;
		snprintf(err->code, sizeof(err->code), "%s", "unavailable");
		err->retry_after = 5;
	}
	memset(resp, 0, sizeof(*resp));
	resp->status = err->http_status;
	resp->body = es_error_body(err);
	resp->content_type = "application/json";
	if (resp->status == 401)
		resp->www_authenticate =
			strcmp(err->code, "missing_token") == 0
				? "Bearer realm=\"es_saas\""
				: "Bearer realm=\"es_saas\", error=\"invalid_token\"";
	else
		resp->retry_after = err->retry_after;
	if (resp->status == 405)
		snprintf(resp->allow, sizeof(resp->allow), "%s", err->allow);
}

int
es_render_head(const es_response *resp, size_t body_len, int close_conn,
			   char *buf, size_t len)
{
	char extra[160] = "";
	char loc[128] = "";
	int	 n;

	if (resp->www_authenticate)
		snprintf(extra, sizeof(extra), "WWW-Authenticate: %s\r\n",
				 resp->www_authenticate);
	else if (resp->allow[0])
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", resp->allow);
	else if (resp->retry_after > 0)
		snprintf(extra, sizeof(extra), "Retry-After: %d\r\n", resp->retry_after);
	if (resp->location[0])
		snprintf(loc, sizeof(loc), "Location: %s\r\n", resp->location);
	n = snprintf(buf, len,
				 "HTTP/1.1 %d %s\r\n"
				 "Content-Type: %s\r\n"
				 "Content-Length: %zu\r\n"
				 "Cache-Control: no-store\r\n"
				 "X-Content-Type-Options: nosniff\r\n"
				 "%s%s%s\r\n",
				 resp->status, reason(resp->status),
				 resp->content_type ? resp->content_type : "application/json",
				 body_len, extra, loc, close_conn ? "Connection: close\r\n" : "");
	return (n < 0 || (size_t) n >= len) ? -1 : n;
}

const char *
es_render_stream_head(size_t *len)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
		"Connection: close\r\n\r\nretry: 1000\n\n";

	*len = sizeof(head) - 1;
	return head;
}

char *
es_render_stream_error(const es_error *err)
{
	char  *body = es_error_body(err);
	es_buf eb;

	es_buf_init(&eb);
	es_buf_printf(&eb, "event: error\ndata: %s\n\n", body);
	free(body);
	return eb.data;
}

/* Write head and body; -1 when the client went away. */
static int
write_reply(struct mg_connection *conn, const es_response *resp, int close_conn)
{
	const char *body = resp->body ? resp->body : "";
	size_t		len = strlen(body);
	char		head[1024];
	int			n = es_render_head(resp, len, close_conn, head, sizeof(head));
	const struct mg_request_info *ri = mg_get_request_info(conn);

	if (n < 0 || mg_write(conn, head, (size_t) n) != n)
		return -1;
	/* a HEAD answer carries the headers only */
	if (ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0)
		return 0;
	if (len > 0 && mg_write(conn, body, len) <= 0)
		return -1;
	return 0;
}

int
es_http_reply(struct mg_connection *conn, const es_response *resp, int close_conn)
{
	if (write_reply(conn, resp, close_conn) < 0)
		es_log(ES_LOG_DEBUG, "client went away before the response");
	return resp->status;
}

int
es_http_reply_error(struct mg_connection *conn, es_error *err, int close_conn)
{
	es_response resp;

	es_render_error(err, &resp);
	(void) write_reply(conn, &resp, close_conn);
	es_response_free(&resp);
	return resp.status;
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
