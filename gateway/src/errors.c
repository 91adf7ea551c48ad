/*
 * errors.c - error values and the single SQLSTATE -> HTTP table.
 *
 * ESnnn -> nnn (the extension's contract); class 08, 57P01..03, 53xxx and
 * transient 40001/40P01 -> 503 unavailable with Retry-After; 57014 -> 504;
 * 22xxx (bad data reached SQL) and 54xxx (input too complex) -> 400; 23xxx ->
 * 409 conflict; anything else
 * -> 503 unavailable.  Never 500.  Pure, thread-safe.
 *
 * The finer code of an ES409/ES422 comes from machine-readable facts only:
 * the SQLSTATE and the "reason" key the extension puts in every errdetail
 * JSON object -- never from the message or detail wording.
 */
#include "errors.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct status_code
{
	int			status;
	const char *code;
} status_code;

static const status_code status_codes[] = {
	{400, "malformed_request"},
	{401, "invalid_token"},
	{403, "forbidden"},
	{404, "not_found"},
	{405, "method_not_allowed"},
	{409, "conflict"},
	{413, "payload_too_large"},
	{414, "uri_too_long"},
	{415, "unsupported_media_type"},
	{422, "invalid_content"},
	{423, "tenant_suspended"},
	{429, "limit_exceeded"},
	{431, "headers_too_large"},
	{503, "unavailable"},
	{504, "timeout"},
	{505, "http_version_not_supported"},
};

/* Default code for an HTTP status. */
const char *
es_error_code_for_status(int status)
{
	for (size_t i = 0; i < sizeof(status_codes) / sizeof(status_codes[0]); i++)
		if (status_codes[i].status == status)
			return status_codes[i].code;
	return status >= 500 ? "unavailable" : "malformed_request";
}

/* Reset an error and free its details. */
void
es_error_clear(es_error *err)
{
	free(err->details);
	memset(err, 0, sizeof(*err));
}

/* Fill err; returns ES_FAIL so callers can `return es_error_set(...)`. */
es_status
es_error_set(es_error *err, int http_status, const char *code, const char *fmt, ...)
{
	va_list ap;

	free(err->details);
	err->details = NULL;
	err->http_status = http_status;
	snprintf(err->code, sizeof(err->code), "%s",
			 code ? code : es_error_code_for_status(http_status));
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->retry_after = (http_status == 503) ? 5 : 0;
	return ES_FAIL;
}

es_status
es_error_method_not_allowed(es_error *err, const char *method, const char *allow)
{
	es_error_set(err, 405, "method_not_allowed",
				 "method %.16s not allowed; allowed: %.64s", method, allow);
	snprintf(err->allow, sizeof(err->allow), "%s", allow);
	return ES_FAIL;
}

/* Details from errdetail: kept only when it is a JSON object. */
static char *
details_from_detail(const char *detail)
{
	cJSON *j;
	char  *out = NULL;

	if (detail == NULL || *detail == '\0')
		return NULL;
	j = cJSON_Parse(detail);
	if (j != NULL && cJSON_IsObject(j))
		out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return out;
}

/* Whether the details object's "reason" is the string want. */
static int
reason_is(const char *details, const char *want)
{
	cJSON		*j;
	const cJSON *r;
	int			 match;

	if (details == NULL)
		return 0;
	j = cJSON_Parse(details);
	r = cJSON_GetObjectItemCaseSensitive(j, "reason");
	match = cJSON_IsString(r) && strcmp(r->valuestring, want) == 0;
	cJSON_Delete(j);
	return match;
}

/*
 * ESnnn statuses with finer codes: (status, reason) -> code, else the
 * status's default code.  A decider that lost every retry to concurrent
 * appends asks the client for what a wrong expected version asks: read
 * again and retry.
 */
static const struct
{
	int			status;
	const char *reason;
	const char *code;
} es_reasons[] = {
	{409, "wrong_expected_version", "wrong_expected_version"},
	{409, "command_retries_exhausted", "wrong_expected_version"},
	{422, "command_rejected", "command_rejected"},
};

static const char *
es_code(int status, const char *details)
{
	for (size_t i = 0; i < sizeof(es_reasons) / sizeof(es_reasons[0]); i++)
		if (es_reasons[i].status == status && reason_is(details, es_reasons[i].reason))
			return es_reasons[i].code;
	return es_error_code_for_status(status);
}

/* The SQLSTATE -> HTTP table. */
void
es_error_from_sqlstate(es_error *err, const char *sqlstate,
					   const char *message, const char *detail)
{
	const char *ss = sqlstate ? sqlstate : "";
	int			status = 503;
	const char *code = "unavailable";
	const char *msg = "database unavailable";
	int			is_es = 0;

	if (strlen(ss) == 5 && ss[0] == 'E' && ss[1] == 'S' &&
		isdigit((unsigned char) ss[2]) && isdigit((unsigned char) ss[3]) &&
		isdigit((unsigned char) ss[4]))
	{
		int n = (int) strtol(ss + 2, NULL, 10);

		is_es = 1;
		msg = (message && *message) ? message : "request refused";
		if (n >= 400 && n < 500)
		{
			status = n;
			code = es_error_code_for_status(n);
		}
		else if (n == 504)
		{
			status = 504;
			code = "timeout";
		}
		else
		{
			status = 503; /* ES5xx other than 504: never 500 */
			code = "unavailable";
		}
	}
	else if (strncmp(ss, "08", 2) == 0 || strcmp(ss, "57P01") == 0 ||
			 strcmp(ss, "57P02") == 0 || strcmp(ss, "57P03") == 0 ||
			 strncmp(ss, "53", 2) == 0 || strcmp(ss, "40001") == 0 ||
			 strcmp(ss, "40P01") == 0 || strcmp(ss, "55P03") == 0)
	{
		status = 503;
		code = "unavailable";
		msg = "database unavailable";
	}
	else if (strcmp(ss, "57014") == 0)
	{
		status = 504;
		code = "timeout";
		msg = "database statement timed out";
	}
	else if (strncmp(ss, "22", 2) == 0 || strncmp(ss, "54", 2) == 0)
	{
		status = 400;
		code = "malformed_request";
		msg = "malformed argument";
	}
	else if (strncmp(ss, "23", 2) == 0)
	{
		status = 409;
		code = "conflict";
		msg = "conflict";
	}

	es_error_clear(err);
	err->http_status = status;
	snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", ss);
	if (is_es)
		err->details = details_from_detail(detail);
	if (is_es && status >= 400 && status < 500)
		code = es_code(status, err->details);
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->message, sizeof(err->message), "%s", msg);
	err->retry_after = (status == 503) ? 5 : 0;
}

/* Render the contract error body. */
char *
es_error_body(const es_error *err)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(root, "error");
	cJSON *d = NULL;
	char  *out;

	cJSON_AddStringToObject(e, "code",
							err->code[0]
								? err->code
								: es_error_code_for_status(err->http_status));
	cJSON_AddStringToObject(e, "message", err->message);
	if (err->details)
		d = cJSON_Parse(err->details);
	if (d == NULL || !cJSON_IsObject(d))
	{
		cJSON_Delete(d);
		d = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(e, "details", d);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}
