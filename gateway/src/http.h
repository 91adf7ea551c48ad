/*
 * http.h - request/response values and civetweb I/O: body reading with the
 * ES_MAX_BODY_BYTES limit (413 for Content-Length and chunked bodies),
 * content-type check (415), JSON body parsing, response writing.
 */
#ifndef ES_HTTP_H
#define ES_HTTP_H

#include <civetweb.h>
#include <cjson/cJSON.h>

#include "auth.h"
#include "errors.h"
#include "router.h"

#define ES_MAX_JSON_DEPTH 128

typedef struct es_request {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	const char *path;           /* raw path */
	const char *query;          /* raw query string or "" */
	es_route_match match;
	es_claims claims;
	int authenticated;
	char *body;                 /* NUL-terminated, may be NULL */
	size_t body_len;
	cJSON *json;                /* parsed body (ES_ROUTE_BODY routes) */
} es_request;

typedef struct es_response {
	int status;
	char *body;                 /* malloc'd */
	const char *content_type;   /* default application/json */
	char extra_headers[256];    /* "Name: value\r\n" lines */
} es_response;

/* Read the whole body, enforcing max bytes. 413 payload_too_large, or 400
 * when the body is truncated. */
es_status es_http_read_body(es_request *req, long long max_bytes, es_error *err) ES_MUSTCHECK;

/* 415 unless Content-Type is application/json (parameters allowed). */
es_status es_http_check_json_type(const char *content_type, es_error *err) ES_MUSTCHECK;

/* Parse req->body as JSON (valid UTF-8, no trailing data) into req->json. */
es_status es_http_parse_json(es_request *req, es_error *err) ES_MUSTCHECK;

/* Set a JSON response body (takes ownership of body). */
void es_response_json(es_response *resp, int status, char *body);

/* Write a response; returns bytes written or -1. */
int es_http_send(struct mg_connection *conn, const es_response *resp, int close_conn);

/* Write an error response. */
int es_http_send_error(struct mg_connection *conn, const es_error *err, int close_conn);

void es_request_free(es_request *req);
void es_response_free(es_response *resp);

#endif
