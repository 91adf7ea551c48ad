/* test_config.c - env table defaults/validation, resilience YAML, dump
 * masking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"

static char				 dir[] = "/tmp/es_cfg_XXXXXX";
static const char *const written[] = {"r.yaml", "u.yaml", "v.yaml", "w.yaml", "x.yaml"};

static const char *
write_file(const char *name, const char *text)
{
	static char path[256];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* ES_POOL_SIZE=16 and ES_RESILIENCE_CONFIG pointing at r.yaml */
static void
use_r_yaml(void)
{
	setenv("ES_POOL_SIZE", "16", 1);
	setenv("ES_RESILIENCE_CONFIG",
		   write_file("r.yaml",
					  "circuit_breakers:\n  event_store:\n    failure_threshold: 7\n"
					  "  query_handler:\n    open_seconds: 12\n"
					  "timeouts:\n  database_statement_ms: 2500\nfallbacks:\n  command_spool: false\n"),
		   1);
}

/* run in an empty scratch directory so no config/resilience.yaml is found */
static int
group_setup(void **state)
{
	(void) state;
	if (mkdtemp(dir) == NULL)
		return -1;
	return chdir(dir) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char path[256];

	(void) state;
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
	{
		snprintf(path, sizeof(path), "%s/%s", dir, written[i]);
		unlink(path);
	}
	if (chdir("/") != 0 || rmdir(dir) != 0)
		return -1;
	return 0;
}

static void
test_missing_explicit_yaml(void **state)
{
	es_config c;
	char	  err[512] = "";

	(void) state;
	unsetenv("ES_POOL_SIZE");
	setenv("ES_RESILIENCE_CONFIG", "/nonexistent/resilience.yaml", 1);
	/* explicit missing YAML refused */
	assert_int_equal(es_config_load(&c, err, sizeof(err)), ES_FAIL);
	print_message("# %s\n", err);
	es_config_free(&c);
	unsetenv("ES_RESILIENCE_CONFIG");
}

static void
test_defaults(void **state)
{
	es_config c;
	char	  err[512] = "";

	(void) state;
	unsetenv("ES_POOL_SIZE");
	unsetenv("ES_RESILIENCE_CONFIG");
	assert_int_equal(es_config_load(&c, err, sizeof(err)), ES_OK); /* defaults
																	  load
																	  without
																	  YAML */
	assert_int_equal(c.pool_size, 8);			 /* ES_POOL_SIZE default 8 */
	assert_int_equal(c.max_body_bytes, 4194304); /* ES_MAX_BODY_BYTES default 4
													MiB */
	assert_string_equal(c.listen, "127.0.0.1:8080"); /* ES_LISTEN default */
	assert_int_equal(c.res.es_failure_threshold, 5); /* event_store breaker
														default 5 */
	assert_int_equal(c.res.statement_timeout_ms, 10000); /* statement timeout
															default 10 s */
	es_config_free(&c);
}

static void
test_env_validation(void **state)
{
	es_config c;
	char	  err[512] = "";

	(void) state;
	unsetenv("ES_RESILIENCE_CONFIG");
	/* pool size 0 refused */
	setenv("ES_POOL_SIZE", "0", 1);
	assert_int_equal(es_config_load(&c, err, sizeof(err)), ES_FAIL);
	assert_non_null(strstr(err, "ES_POOL_SIZE"));
	es_config_free(&c);
	/* trailing garbage refused */
	setenv("ES_POOL_SIZE", "12abc", 1);
	assert_int_equal(es_config_load(&c, err, sizeof(err)), ES_FAIL);
	es_config_free(&c);
	/* SSE clients >= threads refused */
	setenv("ES_POOL_SIZE", "16", 1);
	setenv("ES_THREADS", "8", 1);
	setenv("ES_SSE_MAX_CLIENTS", "8", 1);
	assert_int_equal(es_config_load(&c, err, sizeof(err)), ES_FAIL);
	assert_non_null(strstr(err, "ES_SSE_MAX_CLIENTS"));
	es_config_free(&c);
	unsetenv("ES_THREADS");
	unsetenv("ES_SSE_MAX_CLIENTS");
	/* bad log level refused */
	setenv("ES_LOG_LEVEL", "loud", 1);
	assert_int_equal(es_config_load(&c, err, sizeof(err)), ES_FAIL);
	assert_non_null(strstr(err, "ES_LOG_LEVEL"));
	es_config_free(&c);
	unsetenv("ES_LOG_LEVEL");
}

static void
test_resilience_yaml(void **state)
{
	es_config c;
	char	  err[512] = "";
	es_status st;

	(void) state;
	use_r_yaml();
	st = es_config_load(&c, err, sizeof(err));
	if (st != ES_OK)
		print_message("# %s\n", err);
	assert_int_equal(st, ES_OK);					 /* YAML loads */
	assert_int_equal(c.pool_size, 16);				 /* env override applied */
	assert_int_equal(c.res.es_failure_threshold, 7); /* nested YAML key applied
													  */
	assert_int_equal(c.res.qh_open_seconds, 12); /* sibling mapping key applied
												  */
	assert_int_equal(c.res.qh_failure_threshold, 3); /* unset key keeps default
													  */
	assert_int_equal(c.res.statement_timeout_ms, 2500); /* timeouts applied */
	assert_int_equal(c.res.command_spool, 0);			/* boolean applied */
	es_config_free(&c);
}

static void
test_dump_masks_secrets(void **state)
{
	es_config c;
	char	  err[512] = "";
	char	 *buf = NULL;
	size_t	  len = 0;
	FILE	 *mem;

	(void) state;
	use_r_yaml();
	setenv("ES_JWT_SECRET", "supersecretsupersecretsupersecret!!", 1);
	setenv("ES_DATABASE_URL", "postgresql://gw:hunter2@db/es", 1);
	assert_int_equal(es_config_load(&c, err, sizeof(err)), ES_OK); /* reload
																	  with
																	  secrets
																	*/
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	es_config_dump(&c, mem);
	fclose(mem);
	/* dump masks secrets */
	assert_null(strstr(buf, "supersecret"));
	assert_null(strstr(buf, "hunter2"));
	assert_non_null(strstr(buf, "ES_JWT_SECRET=<set, 35 bytes>")); /* dump says
																	  the
																	  secret is
																	  set */
	assert_non_null(strstr(buf, "ES_POOL_SIZE=16\n")); /* dump shows env values
														*/
	/* token lifetime rules: exp required by default, no maximum TTL */
	assert_non_null(strstr(buf, "ES_JWT_REQUIRE_EXP=true\n"));
	assert_non_null(strstr(buf, "ES_JWT_MAX_TTL_SECONDS=0\n"));
	/* dump shows YAML values */
	assert_non_null(
		strstr(buf, "resilience.circuit_breakers.event_store.failure_threshold=7\n"));
	free(buf);
	es_config_free(&c);
}

static void
test_yaml_refusals(void **state)
{
	es_resilience r;
	char		  err[512] = "";

	(void) state;
	es_resilience_defaults(&r);
	/* unknown YAML key refused */
	assert_int_equal(es_config_load_yaml(write_file("u.yaml", "circuit_breakers:\n  event_store:\n    failure_treshold: 5\n"),
										 &r, err, sizeof(err)),
					 ES_FAIL);
	print_message("# %s\n", err);
	assert_non_null(strstr(err, "unknown resilience key"));
	/* negative value refused */
	assert_int_equal(es_config_load_yaml(write_file("v.yaml", "timeouts:\n  query_ms: -5\n"),
										 &r, err, sizeof(err)),
					 ES_FAIL);
	/* sequence refused */
	assert_int_equal(es_config_load_yaml(write_file("w.yaml", "timeouts: [1, 2]\n"),
										 &r, err, sizeof(err)),
					 ES_FAIL);
	/* syntax error refused */
	assert_int_equal(es_config_load_yaml(write_file("x.yaml", "timeouts:\n  query_ms: 5\n bad indent: [\n"),
										 &r, err, sizeof(err)),
					 ES_FAIL);
	print_message("# %s\n", err);
}

static void
test_shipped_yaml(void **state)
{
	es_resilience r;
	char		  err[512] = "";
	es_status	  st;

	(void) state;
	es_resilience_defaults(&r);
	st = es_config_load_yaml(SRCDIR "/../../../gateway/config/resilience.yaml",
							 &r, err, sizeof(err));
	if (st != ES_OK)
		print_message("# %s\n", err);
	assert_int_equal(st, ES_OK); /* shipped resilience.yaml parses */
	assert_int_equal(r.qh_failure_threshold, 3); /* shipped query_handler
													threshold 3 */
	assert_int_equal(r.qh_open_seconds, 30); /* shipped query_handler open 30 s
											  */
	assert_int_equal(r.db_max_retries, 3);	 /* shipped db retries 3 */
	assert_int_equal(r.ev_initial_backoff_ms, 2000); /* shipped event backoff 2
														s */
	assert_int_equal(r.query_timeout_ms, 15000); /* shipped query timeout 15 s
												  */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_explicit_yaml),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_env_validation),
		cmocka_unit_test(test_resilience_yaml),
		cmocka_unit_test(test_dump_masks_secrets),
		cmocka_unit_test(test_yaml_refusals),
		cmocka_unit_test(test_shipped_yaml),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
