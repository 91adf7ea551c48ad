/*
 * log.c - JSON-lines logging.  The level is set once at startup; each line
 * is formatted into a private buffer and written under log_lock so lines
 * from different worker threads never interleave.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static es_log_level min_level = ES_LOG_INFO; /* written before threads start */

void
es_log_set_level(const char *level)
{
	if (strcmp(level, "debug") == 0)
		min_level = ES_LOG_DEBUG;
	else if (strcmp(level, "warn") == 0)
		min_level = ES_LOG_WARN;
	else if (strcmp(level, "error") == 0)
		min_level = ES_LOG_ERROR;
	else
		min_level = ES_LOG_INFO;
}

/* ISO-8601 UTC timestamp with milliseconds. */
static void
timestamp(char *buf, size_t len)
{
	struct timeval tv;
	struct tm	   tm;
	char		   base[32];
	long		   ms;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	ms = (long) (tv.tv_usec / 1000) % 1000;
	snprintf(buf, len, "%.32s.%03ldZ", base, ms);
}

/* Write a finished line. */
static void
emit(FILE *f, es_buf *b)
{
	es_buf_append(b, "\n", 1);
	pthread_mutex_lock(&log_lock);
	fwrite(b->data, 1, b->len, f);
	fflush(f);
	pthread_mutex_unlock(&log_lock);
	es_buf_free(b);
}

void
es_log(es_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	char					 ts[64], msg[1024];
	va_list					 ap;
	es_buf					 b;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	timestamp(ts, sizeof(ts));
	es_buf_init(&b);
	es_buf_puts(&b, "{\"ts\":");
	es_buf_json_string(&b, ts);
	es_buf_printf(&b, ",\"level\":\"%s\",\"msg\":", names[level]);
	es_buf_json_string(&b, msg);
	es_buf_puts(&b, "}");
	emit(stderr, &b);
}

void
es_log_access(const char *method, const char *path, const char *endpoint,
			  int status, double duration_ms, long long bytes_in,
			  const char *tenant, const char *error_code, const char *sqlstate)
{
	char   ts[64];
	es_buf b;

	if (min_level > ES_LOG_INFO)
		return;
	timestamp(ts, sizeof(ts));
	es_buf_init(&b);
	es_buf_puts(&b, "{\"ts\":");
	es_buf_json_string(&b, ts);
	es_buf_puts(&b, ",\"type\":\"access\",\"method\":");
	es_buf_json_string(&b, method);
	es_buf_puts(&b, ",\"path\":");
	es_buf_json_string(&b, path);
	es_buf_puts(&b, ",\"endpoint\":");
	es_buf_json_string(&b, endpoint);
	es_buf_printf(&b, ",\"status\":%d,\"duration_ms\":%.3f,\"bytes_in\":%lld",
				  status, duration_ms, bytes_in);
	if (tenant)
	{
		es_buf_puts(&b, ",\"tenant\":");
		es_buf_json_string(&b, tenant);
	}
	if (error_code && *error_code)
	{
		es_buf_puts(&b, ",\"error\":");
		es_buf_json_string(&b, error_code);
	}
	if (sqlstate && *sqlstate)
	{
		es_buf_puts(&b, ",\"sqlstate\":");
		es_buf_json_string(&b, sqlstate);
	}
	es_buf_puts(&b, "}");
	emit(stdout, &b);
}
