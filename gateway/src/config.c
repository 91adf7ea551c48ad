/*
 * config.c - table-driven configuration (pgbouncer/redis style).
 *
 * Every ES_* variable is one row of env_table: name, type, offset, default,
 * bounds, secret flag.  Every resilience YAML key is one row of yaml_table.
 * Unknown YAML keys and out-of-range values are errors.  Not thread-safe by
 * design: runs once in main before any thread starts.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"

typedef enum
{
	CT_STR,
	CT_INT,
	CT_LL,
	CT_BOOL
} ctype;

typedef struct env_param
{
	const char *name;
	ctype		type;
	size_t		offset;
	const char *def;
	long long	min, max;
	int			secret;
	const char *help;
} env_param;

#define OFF(f) offsetof(es_config, f)

static const env_param env_table[] = {
	{"ES_DATABASE_URL", CT_STR, OFF(database_url), "dbname=es_saas", 0, 0, 1,
	 "libpq connection string"},
	{"ES_LISTEN", CT_STR, OFF(listen), "127.0.0.1:8080", 0, 0, 0, "host:port to bind"},
	{"ES_JWT_SECRET", CT_STR, OFF(jwt_secret), "", 0, 0, 1,
	 "HS256 shared secret (>= 32 bytes)"},
	{"ES_JWT_PUBLIC_KEY_FILE", CT_STR, OFF(jwt_public_key_file), "", 0, 0, 0,
	 "PEM public key for RS256/ES256"},
	{"ES_JWT_AUDIENCE", CT_STR, OFF(jwt_audience), "", 0, 0, 0, "required aud when set"},
	{"ES_JWT_ISSUER", CT_STR, OFF(jwt_issuer), "", 0, 0, 0, "required iss when set"},
	{"ES_JWT_LEEWAY_SECONDS", CT_INT, OFF(jwt_leeway_seconds), "30", 0, 30, 0,
	 "exp/nbf leeway"},
	{"ES_JWT_REQUIRE_EXP", CT_BOOL, OFF(jwt_require_exp), "true", 0, 1, 0,
	 "refuse tokens without exp"},
	{"ES_JWT_MAX_TTL_SECONDS", CT_LL, OFF(jwt_max_ttl_seconds), "0", 0, 315360000LL,
	 0, "refuse tokens living longer (exp - iat, else exp - now); 0 = no limit"},
	{"ES_POOL_SIZE", CT_INT, OFF(pool_size), "8", 1, 512, 0, "database connections"},
	{"ES_POOL_WAIT_MS", CT_INT, OFF(pool_wait_ms), "5000", 1, 600000, 0,
	 "wait for a free connection before 503"},
	{"ES_MAX_BODY_BYTES", CT_LL, OFF(max_body_bytes), "4194304", 1,
	 1073741824LL, 0, "request body limit (413)"},
	{"ES_RESILIENCE_CONFIG", CT_STR, OFF(resilience_config),
	 "config/resilience.yaml", 0, 0, 0, "resilience YAML path"},
	{"ES_THREADS", CT_INT, OFF(threads), "32", 2, 4096, 0,
	 "HTTP worker threads (concurrent connections)"},
	{"ES_CONNECTION_QUEUE", CT_INT, OFF(connection_queue), "128", 1, 65536, 0,
	 "accepted connections waiting for a worker"},
	{"ES_REQUEST_TIMEOUT_MS", CT_INT, OFF(request_timeout_ms), "30000", 100,
	 3600000, 0, "socket read/write timeout"},
	{"ES_MAX_HEADER_BYTES", CT_INT, OFF(max_header_bytes), "16384", 1024,
	 1048576, 0, "request line + headers limit"},
	{"ES_MAX_URL_BYTES", CT_INT, OFF(max_url_bytes), "4096", 64, 1048576, 0,
	 "request URI limit (414)"},
	{"ES_SSE_HEARTBEAT_SECONDS", CT_INT, OFF(sse_heartbeat_seconds), "15", 1,
	 3600, 0, "SSE heartbeat comment interval"},
	{"ES_SSE_POLL_MS", CT_INT, OFF(sse_poll_ms), "500", 10, 1000, 0,
	 "SSE poll interval without NOTIFY"},
	{"ES_SSE_BUFFER_BYTES", CT_LL, OFF(sse_buffer_bytes), "1048576", 4096,
	 1073741824LL, 0, "max bytes per SSE write batch"},
	{"ES_SSE_MAX_CLIENTS", CT_INT, OFF(sse_max_clients), "16", 0, 4096, 0,
	 "concurrent SSE subscriptions"},
	{"ES_CACHE_TTL_SECONDS", CT_INT, OFF(cache_ttl_seconds), "300", 0, 31536000, 0,
	 "how long a query/read answer may be served stale; 0 = no fallback cache"},
	{"ES_CACHE_MAX_BYTES", CT_LL, OFF(cache_max_bytes), "67108864", 4096,
	 68719476736LL, 0, "embedded cache bound (keys + answers)"},
	{"ES_REDIS_URL", CT_STR, OFF(redis_url), "", 0, 0, 1,
	 "redis://[[user]:password@]host[:port][/db]: shared cache instead of the embedded one"},
	{"ES_REDIS_TIMEOUT_MS", CT_INT, OFF(redis_timeout_ms), "100", 1, 10000, 0,
	 "bound of each Redis connect and command"},
	{"ES_LOG_LEVEL", CT_STR, OFF(log_level), "info", 0, 0, 0, "debug|info|warn|error"},
	{"ES_SPOOL_DIR", CT_STR, OFF(spool_dir), "", 0, 0, 0,
	 "command spool directory (empty = no spool)"},
	{"ES_BODY_DEADLINE_MS", CT_INT, OFF(body_deadline_ms), "15000", 0, 3600000,
	 0, "whole request body deadline (408, connection closed); 0 = none"},
	{"ES_RESERVE_THREADS", CT_INT, OFF(reserve_threads), "4", 0, 4096, 0,
	 "workers never given to body readers (for /health, /metrics)"},
	{"ES_MAX_CLIENT_BODY_READERS", CT_INT, OFF(max_client_body_readers), "0", 0, 4096,
	 0, "requests reading a body at once per client address (429); 0 = no cap"},
	{"ES_SPOOL_MAX_BYTES", CT_LL, OFF(spool_max_bytes), "67108864", 4096,
	 1099511627776LL, 0, "spool bound in bytes (503 when full)"},
	{"ES_SPOOL_MAX_COMMANDS", CT_INT, OFF(spool_max_commands), "10000", 1,
	 10000000, 0, "spool bound in commands (503 when full)"},
};

typedef struct yaml_param
{
	const char *key;
	ctype		type;
	size_t		offset;
	long long	min, max;
} yaml_param;

#define ROFF(f) offsetof(es_resilience, f)

static const yaml_param yaml_table[] = {
	{"circuit_breakers.event_store.failure_threshold", CT_INT,
	 ROFF(es_failure_threshold), 1, 1000},
	{"circuit_breakers.event_store.open_seconds", CT_INT,
	 ROFF(es_open_seconds), 1, 86400},
	{"circuit_breakers.event_store.half_open_probes", CT_INT,
	 ROFF(es_half_open_probes), 1, 100},
	{"circuit_breakers.query_handler.failure_threshold", CT_INT,
	 ROFF(qh_failure_threshold), 1, 1000},
	{"circuit_breakers.query_handler.open_seconds", CT_INT,
	 ROFF(qh_open_seconds), 1, 86400},
	{"circuit_breakers.query_handler.half_open_probes", CT_INT,
	 ROFF(qh_half_open_probes), 1, 100},
	{"retries.database.max_retries", CT_INT, ROFF(db_max_retries), 0, 100},
	{"retries.database.initial_backoff_ms", CT_INT,
	 ROFF(db_initial_backoff_ms), 0, 600000},
	{"retries.database.multiplier", CT_INT, ROFF(db_multiplier), 1, 100},
	{"retries.event_processing.max_retries", CT_INT, ROFF(ev_max_retries), 0, 100},
	{"retries.event_processing.initial_backoff_ms", CT_INT,
	 ROFF(ev_initial_backoff_ms), 0, 600000},
	{"retries.event_processing.multiplier", CT_INT, ROFF(ev_multiplier), 1, 100},
	{"timeouts.database_statement_ms", CT_INT, ROFF(statement_timeout_ms), 1, 3600000},
	{"timeouts.command_ms", CT_INT, ROFF(command_timeout_ms), 1, 3600000},
	{"timeouts.query_ms", CT_INT, ROFF(query_timeout_ms), 1, 3600000},
	{"fallbacks.stale_query_cache", CT_BOOL, ROFF(stale_query_cache), 0, 1},
	{"fallbacks.command_spool", CT_BOOL, ROFF(command_spool), 0, 1},
};

/* Contract section 5 defaults. */
void
es_resilience_defaults(es_resilience *r)
{
	*r = (es_resilience){
		.es_failure_threshold = 5,
		.es_open_seconds = 60,
		.es_half_open_probes = 1,
		.qh_failure_threshold = 3,
		.qh_open_seconds = 30,
		.qh_half_open_probes = 1,
		.db_max_retries = 3,
		.db_initial_backoff_ms = 1000,
		.db_multiplier = 2,
		.ev_max_retries = 2,
		.ev_initial_backoff_ms = 2000,
		.ev_multiplier = 2,
		.statement_timeout_ms = 10000,
		.command_timeout_ms = 45000,
		.query_timeout_ms = 15000,
		.stale_query_cache = 1,
		.command_spool = 1,
	};
}

/* Parse a bounded integer. */
static es_status
parse_ll(const char *s, long long min, long long max, long long *out)
{
	char	 *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return ES_FAIL;
	*out = v;
	return ES_OK;
}

/* Parse a YAML/env boolean. */
static es_status
parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") ||
			 !strcmp(s, "0"))
		*out = 0;
	else
		return ES_FAIL;
	return ES_OK;
}

/* Store one env value according to its table row. */
static es_status
set_env_param(es_config *c, const env_param *p, const char *val, char *errbuf,
			  size_t errlen)
{
	char	 *base = (char *) c;
	long long v;

	switch (p->type)
	{
		case CT_STR:
			free(*(char **) (base + p->offset));
			*(char **) (base + p->offset) = es_xstrdup(val);
			return ES_OK;
		case CT_INT:
		case CT_LL:
			if (parse_ll(val, p->min, p->max, &v) != ES_OK)
			{
				snprintf(errbuf, errlen, "%s must be an integer in [%lld, %lld]",
						 p->name, p->min, p->max);
				return ES_FAIL;
			}
			if (p->type == CT_INT)
				*(int *) (base + p->offset) = (int) v;
			else
				*(long long *) (base + p->offset) = v;
			return ES_OK;
		case CT_BOOL:
			if (parse_bool(val, (int *) (base + p->offset)) != ES_OK)
			{
				snprintf(errbuf, errlen, "%s must be a boolean", p->name);
				return ES_FAIL;
			}
			return ES_OK;
	}
	return ES_FAIL;
}

/* Load the environment then the YAML. */
es_status
es_config_load(es_config *c, char *errbuf, size_t errlen)
{
	int yaml_explicit;

	memset(c, 0, sizeof(*c));
	es_resilience_defaults(&c->res);
	for (size_t i = 0; i < sizeof(env_table) / sizeof(env_table[0]); i++)
	{
		const char *v = getenv(env_table[i].name);

		if (set_env_param(c, &env_table[i], env_table[i].def, errbuf, errlen) != ES_OK)
			return ES_FAIL;
		if (v != NULL && set_env_param(c, &env_table[i], v, errbuf, errlen) != ES_OK)
			return ES_FAIL;
	}
	if (strcmp(c->log_level, "debug") != 0 && strcmp(c->log_level, "info") != 0 &&
		strcmp(c->log_level, "warn") != 0 && strcmp(c->log_level, "error") != 0)
	{
		snprintf(errbuf, errlen, "ES_LOG_LEVEL must be debug, info, warn or error");
		return ES_FAIL;
	}
	if (c->sse_max_clients >= c->threads)
	{
		snprintf(errbuf, errlen,
				 "ES_SSE_MAX_CLIENTS (%d) must be below ES_THREADS (%d): each subscription holds a worker",
				 c->sse_max_clients, c->threads);
		return ES_FAIL;
	}
	if (strchr(c->listen, ':') == NULL)
	{
		snprintf(errbuf, errlen, "ES_LISTEN must be host:port");
		return ES_FAIL;
	}
	yaml_explicit = getenv("ES_RESILIENCE_CONFIG") != NULL;
	if (!yaml_explicit)
	{
		FILE *f = fopen(c->resilience_config, "r");

		if (f == NULL)
			return ES_OK; /* built-in defaults */
		fclose(f);
	}
	return es_config_load_yaml(c->resilience_config, &c->res, errbuf, errlen);
}

/* Store one YAML scalar under its dotted key. */
static es_status
set_yaml(es_resilience *r, const char *key, const char *val, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < sizeof(yaml_table) / sizeof(yaml_table[0]); i++)
	{
		const yaml_param *p = &yaml_table[i];
		long long		  v;

		if (strcmp(p->key, key) != 0)
			continue;
		if (p->type == CT_BOOL)
		{
			if (parse_bool(val, (int *) ((char *) r + p->offset)) != ES_OK)
			{
				snprintf(errbuf, errlen, "resilience key %s must be a boolean", key);
				return ES_FAIL;
			}
			return ES_OK;
		}
		if (parse_ll(val, p->min, p->max, &v) != ES_OK)
		{
			snprintf(errbuf, errlen,
					 "resilience key %s must be an integer in [%lld, %lld]",
					 key, p->min, p->max);
			return ES_FAIL;
		}
		*(int *) ((char *) r + p->offset) = (int) v;
		return ES_OK;
	}
	snprintf(errbuf, errlen, "unknown resilience key %s", key);
	return ES_FAIL;
}

/* Walk YAML events keeping a stack of mapping keys. */
es_status
es_config_load_yaml(const char *path, es_resilience *r, char *errbuf, size_t errlen)
{
	FILE		 *f = fopen(path, "r");
	yaml_parser_t parser;
	yaml_event_t  ev;
	char		  stack[8][64];
	int			  depth = 0; /* number of open mappings */
	int			  expect_key[8] = {0};
	es_status	  st = ES_OK;
	int			  done = 0;

	if (f == NULL)
	{
		snprintf(errbuf, errlen, "cannot open resilience config %s", path);
		return ES_FAIL;
	}
	if (!yaml_parser_initialize(&parser))
	{
		fclose(f);
		snprintf(errbuf, errlen, "yaml parser init failed");
		return ES_FAIL;
	}
	yaml_parser_set_input_file(&parser, f);
	while (!done && st == ES_OK)
	{
		if (!yaml_parser_parse(&parser, &ev))
		{
			snprintf(errbuf, errlen, "%s: YAML error at line %lu: %s", path,
					 (unsigned long) parser.problem_mark.line + 1,
					 parser.problem ? parser.problem : "?");
			st = ES_FAIL;
			break;
		}
		switch (ev.type)
		{
			case YAML_STREAM_END_EVENT:
				done = 1;
				break;
			case YAML_MAPPING_START_EVENT:
				if (depth >= 7)
				{
					snprintf(errbuf, errlen, "%s: nesting too deep", path);
					st = ES_FAIL;
					break;
				}
				if (depth > 0)
					expect_key[depth] = 1; /* the value of the current key was
											  this mapping */
				depth++;
				expect_key[depth] = 1;
				break;
			case YAML_MAPPING_END_EVENT:
				depth--;
				break;
			case YAML_SEQUENCE_START_EVENT:
				snprintf(errbuf, errlen, "%s: sequences are not allowed", path);
				st = ES_FAIL;
				break;
			case YAML_SCALAR_EVENT:
				if (depth == 0)
				{
					snprintf(errbuf, errlen, "%s: top level must be a mapping", path);
					st = ES_FAIL;
				}
				else if (expect_key[depth])
				{
					snprintf(stack[depth], sizeof(stack[depth]), "%s",
							 (const char *) ev.data.scalar.value);
					expect_key[depth] = 0;
				}
				else
				{
					char key[512] = "";

					for (int i = 1; i <= depth; i++)
					{
						strncat(key, stack[i], sizeof(key) - strlen(key) - 1);
						if (i < depth)
							strncat(key, ".", sizeof(key) - strlen(key) - 1);
					}
					st = set_yaml(r, key, (const char *) ev.data.scalar.value,
								  errbuf, errlen);
					expect_key[depth] = 1;
				}
				break;
			case YAML_ALIAS_EVENT:
				snprintf(errbuf, errlen, "%s: aliases are not allowed", path);
				st = ES_FAIL;
				break;
			default:
				break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return st;
}

/* Effective configuration; secrets masked. */
void
es_config_dump(const es_config *c, FILE *out)
{
	const char *base = (const char *) c;

	for (size_t i = 0; i < sizeof(env_table) / sizeof(env_table[0]); i++)
	{
		const env_param *p = &env_table[i];

		switch (p->type)
		{
			case CT_STR:
			{
				const char *s = *(char *const *) (base + p->offset);

				if (p->secret && s && *s)
					fprintf(out, "%s=<set, %zu bytes>\n", p->name, strlen(s));
				else
					fprintf(out, "%s=%s\n", p->name, s ? s : "");
				break;
			}
			case CT_INT:
				fprintf(out, "%s=%d\n", p->name, *(const int *) (base + p->offset));
				break;
			case CT_BOOL:
				fprintf(out, "%s=%s\n", p->name,
						*(const int *) (base + p->offset) ? "true" : "false");
				break;
			case CT_LL:
				fprintf(out, "%s=%lld\n", p->name,
						*(const long long *) (base + p->offset));
				break;
		}
	}
	for (size_t i = 0; i < sizeof(yaml_table) / sizeof(yaml_table[0]); i++)
	{
		int v = *(const int *) ((const char *) &c->res + yaml_table[i].offset);

		if (yaml_table[i].type == CT_BOOL)
			fprintf(out, "resilience.%s=%s\n", yaml_table[i].key, v ? "true" : "false");
		else
			fprintf(out, "resilience.%s=%d\n", yaml_table[i].key, v);
	}
}

void
es_config_free(es_config *c)
{
	char *base = (char *) c;

	for (size_t i = 0; i < sizeof(env_table) / sizeof(env_table[0]); i++)
		if (env_table[i].type == CT_STR)
		{
			char **s = (char **) (base + env_table[i].offset);

			if (env_table[i].secret && *s)
				memset(*s, 0, strlen(*s));
			free(*s);
			*s = NULL;
		}
}
