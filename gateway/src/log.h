/*
 * log.h - JSON-lines logging to stdout (access log) and stderr (events).
 * Never pass tokens or secrets.  A mutex serialises lines.
 */
#ifndef ES_LOG_H
#define ES_LOG_H

typedef enum
{
	ES_LOG_DEBUG,
	ES_LOG_INFO,
	ES_LOG_WARN,
	ES_LOG_ERROR
} es_log_level;

void es_log_set_level(const char *level);

/* One event line {"ts","level","msg"} to stderr. */
void es_log(es_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One access-log line to stdout.  endpoint is the route template. */
void es_log_access(const char *method, const char *path, const char *endpoint,
				   int status, double duration_ms, long long bytes_in,
				   const char *tenant, const char *error_code, const char *sqlstate);

#endif
