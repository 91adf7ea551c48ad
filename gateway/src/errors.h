/*
 * errors.h - gateway error values and the SQLSTATE -> HTTP table.
 *
 * Functions return an es_status and fill a caller-owned es_error; only the
 * renderer in http.c turns an es_error into an HTTP response.
 * Pure module: no shared state.
 */
#ifndef ES_ERRORS_H
#define ES_ERRORS_H

#define ES_MUSTCHECK __attribute__((warn_unused_result))

typedef enum es_status
{
	ES_OK = 0,
	ES_FAIL = 1,
	ES_STREAMED = 2 /* handler wrote the response itself (SSE) */
} es_status;

typedef struct es_error
{
	int	  http_status;
	char  code[40];
	char  message[256];
	char *details;	   /* JSON object text (malloc) or NULL => {} */
	int	  retry_after; /* seconds, 0 = no header */
	char  sqlstate[6];
	char  allow[64]; /* 405 only: the methods the path accepts */
} es_error;

/* Reset an error to "no error" and release its details. */
void es_error_clear(es_error *err);

/* Fill err with a status, code and printf-style message; always returns
 * ES_FAIL. */
es_status es_error_set(es_error *err, int http_status, const char *code,
					   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* 405 for a path that exists with other methods; always returns ES_FAIL. */
es_status es_error_method_not_allowed(es_error *err, const char *method,
									  const char *allow);

/* Map a SQLSTATE plus primary message and detail to an HTTP error; never
 * 500.  For ESnnn the detail (a JSON object) becomes details, and its
 * "reason" refines the code (ES409 wrong_expected_version, ES422
 * command_rejected); the message is shown, never interpreted. */
void es_error_from_sqlstate(es_error *err, const char *sqlstate,
							const char *message, const char *detail);

/* Render {"error":{"code","message","details"}}; malloc'd string. */
char *es_error_body(const es_error *err);

/* Default snake_case code for a status (e.g. 413 -> payload_too_large). */
const char *es_error_code_for_status(int status);

#endif
