/* test_config.c - env table defaults/validation, resilience YAML, dump masking. */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[] = "/tmp/es_cfg_XXXXXX";

static const char *
write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

int
main(void)
{
	es_config c;
	char err[512];
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	if (mkdtemp(dir) == NULL)
		return 1;
	unsetenv("ES_POOL_SIZE");
	setenv("ES_RESILIENCE_CONFIG", "/nonexistent/resilience.yaml", 1);
	ok(es_config_load(&c, err, sizeof(err)) == ES_FAIL, "explicit missing YAML refused: %s", err);
	es_config_free(&c);
	unsetenv("ES_RESILIENCE_CONFIG");
	if (chdir(dir) != 0)
		return 1;
	ok(es_config_load(&c, err, sizeof(err)) == ES_OK, "defaults load without YAML");
	is_int(c.pool_size, 8, "ES_POOL_SIZE default 8");
	is_int(c.max_body_bytes, 4194304, "ES_MAX_BODY_BYTES default 4 MiB");
	is_str(c.listen, "127.0.0.1:8080", "ES_LISTEN default");
	is_int(c.res.es_failure_threshold, 5, "event_store breaker default 5");
	is_int(c.res.statement_timeout_ms, 10000, "statement timeout default 10 s");
	es_config_free(&c);

	setenv("ES_POOL_SIZE", "0", 1);
	ok(es_config_load(&c, err, sizeof(err)) == ES_FAIL && strstr(err, "ES_POOL_SIZE"), "pool size 0 refused: %s", err);
	es_config_free(&c);
	setenv("ES_POOL_SIZE", "12abc", 1);
	ok(es_config_load(&c, err, sizeof(err)) == ES_FAIL, "trailing garbage refused");
	es_config_free(&c);
	setenv("ES_POOL_SIZE", "16", 1);
	setenv("ES_THREADS", "8", 1);
	setenv("ES_SSE_MAX_CLIENTS", "8", 1);
	ok(es_config_load(&c, err, sizeof(err)) == ES_FAIL && strstr(err, "ES_SSE_MAX_CLIENTS"), "SSE clients >= threads refused");
	es_config_free(&c);
	unsetenv("ES_THREADS");
	unsetenv("ES_SSE_MAX_CLIENTS");
	setenv("ES_LOG_LEVEL", "loud", 1);
	ok(es_config_load(&c, err, sizeof(err)) == ES_FAIL && strstr(err, "ES_LOG_LEVEL"), "bad log level refused");
	es_config_free(&c);
	unsetenv("ES_LOG_LEVEL");

	setenv("ES_RESILIENCE_CONFIG",
		   write_file("r.yaml", "circuit_breakers:\n  event_store:\n    failure_threshold: 7\n"
							   "  query_handler:\n    open_seconds: 12\n"
							   "timeouts:\n  database_statement_ms: 2500\nfallbacks:\n  command_spool: false\n"), 1);
	ok(es_config_load(&c, err, sizeof(err)) == ES_OK, "YAML loads: %s", err);
	is_int(c.pool_size, 16, "env override applied");
	is_int(c.res.es_failure_threshold, 7, "nested YAML key applied");
	is_int(c.res.qh_open_seconds, 12, "sibling mapping key applied");
	is_int(c.res.qh_failure_threshold, 3, "unset key keeps default");
	is_int(c.res.statement_timeout_ms, 2500, "timeouts applied");
	is_int(c.res.command_spool, 0, "boolean applied");

	setenv("ES_JWT_SECRET", "supersecretsupersecretsupersecret!!", 1);
	setenv("ES_DATABASE_URL", "postgresql://gw:hunter2@db/es", 1);
	es_config_free(&c);
	ok(es_config_load(&c, err, sizeof(err)) == ES_OK, "reload with secrets");
	mem = open_memstream(&buf, &len);
	es_config_dump(&c, mem);
	fclose(mem);
	ok(strstr(buf, "supersecret") == NULL && strstr(buf, "hunter2") == NULL, "dump masks secrets");
	ok(strstr(buf, "ES_JWT_SECRET=<set, 35 bytes>") != NULL, "dump says the secret is set");
	ok(strstr(buf, "ES_POOL_SIZE=16\n") != NULL, "dump shows env values");
	ok(strstr(buf, "resilience.circuit_breakers.event_store.failure_threshold=7\n") != NULL, "dump shows YAML values");
	free(buf);
	es_config_free(&c);

	{
		es_resilience r;

		es_resilience_defaults(&r);
		ok(es_config_load_yaml(write_file("u.yaml", "circuit_breakers:\n  event_store:\n    failure_treshold: 5\n"), &r, err, sizeof(err)) == ES_FAIL
		   && strstr(err, "unknown resilience key"), "unknown YAML key refused: %s", err);
		ok(es_config_load_yaml(write_file("v.yaml", "timeouts:\n  query_ms: -5\n"), &r, err, sizeof(err)) == ES_FAIL, "negative value refused");
		ok(es_config_load_yaml(write_file("w.yaml", "timeouts: [1, 2]\n"), &r, err, sizeof(err)) == ES_FAIL, "sequence refused");
		ok(es_config_load_yaml(write_file("x.yaml", "timeouts:\n  query_ms: 5\n bad indent: [\n"), &r, err, sizeof(err)) == ES_FAIL, "syntax error refused: %s", err);
		es_resilience_defaults(&r);
		ok(es_config_load_yaml(SRCDIR "/../../../gateway/config/resilience.yaml", &r, err, sizeof(err)) == ES_OK,
		   "shipped resilience.yaml parses: %s", err);
		is_int(r.qh_failure_threshold, 3, "shipped query_handler threshold 3");
		is_int(r.qh_open_seconds, 30, "shipped query_handler open 30 s");
		is_int(r.db_max_retries, 3, "shipped db retries 3");
		is_int(r.ev_initial_backoff_ms, 2000, "shipped event backoff 2 s");
		is_int(r.query_timeout_ms, 15000, "shipped query timeout 15 s");
	}
	return done_testing();
}
