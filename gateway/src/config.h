/*
 * config.h - the gateway's configuration: one table of ES_* environment
 * variables (type, default, bounds) plus the resilience YAML keys.
 * Loaded once in main before threads start; read-only afterwards.
 */
#ifndef ES_CONFIG_H
#define ES_CONFIG_H

#include <stdio.h>

#include "errors.h"

typedef struct es_resilience
{
	int es_failure_threshold, es_open_seconds, es_half_open_probes;
	int qh_failure_threshold, qh_open_seconds, qh_half_open_probes;
	int db_max_retries, db_initial_backoff_ms, db_multiplier;
	int ev_max_retries, ev_initial_backoff_ms, ev_multiplier;
	int statement_timeout_ms, command_timeout_ms, query_timeout_ms;
	int stale_query_cache, command_spool;
} es_resilience;

typedef struct es_config
{
	char		 *database_url;
	char		 *listen;
	char		 *jwt_secret;
	char		 *jwt_public_key_file;
	char		 *jwt_audience;
	char		 *jwt_issuer;
	int			  jwt_leeway_seconds;
	int			  jwt_require_exp;
	long long	  jwt_max_ttl_seconds;
	int			  pool_size;
	int			  pool_wait_ms;
	long long	  max_body_bytes;
	char		 *resilience_config;
	int			  threads;
	int			  connection_queue;
	int			  request_timeout_ms;
	int			  max_header_bytes;
	int			  max_url_bytes;
	int			  sse_heartbeat_seconds;
	int			  sse_poll_ms;
	long long	  sse_buffer_bytes;
	int			  sse_max_clients;
	int			  cache_ttl_seconds;
	long long	  cache_max_bytes;
	char		 *redis_url;
	int			  redis_timeout_ms;
	char		 *log_level;
	char		 *spool_dir;
	long long	  spool_max_bytes;
	int			  body_deadline_ms;
	int			  reserve_threads;
	int			  max_client_body_readers;
	int			  spool_max_commands;
	es_resilience res;
} es_config;

/* Fill c from the environment (getenv) and the resilience YAML.
 * On failure errbuf says which variable/key is wrong. */
es_status es_config_load(es_config *c, char *errbuf, size_t errlen) ES_MUSTCHECK;

/* Parse a resilience YAML file into r (keys not in the file keep their value).
 */
es_status es_config_load_yaml(const char *path, es_resilience *r, char *errbuf,
							  size_t errlen) ES_MUSTCHECK;

/* Set built-in resilience defaults (contract section 5). */
void es_resilience_defaults(es_resilience *r);

/* Print the effective configuration, secrets masked. */
void es_config_dump(const es_config *c, FILE *out);

void es_config_free(es_config *c);

#endif
