/* test_cache_lru.c - the embedded cache map: get/put, replacement, expiry,
 * the byte bound with least-recently-used eviction, oversized values,
 * many keys (table growth) and concurrent use. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cache_lru.h"

static void
test_put_get_replace(void **state)
{
	es_lru *l = es_lru_new(1 << 20);
	char   *v = NULL;
	size_t	n = 0;

	(void) state;
	assert_int_equal(es_lru_get(l, "k", 0, &v, &n), 0);
	assert_null(v);
	assert_int_equal(es_lru_put(l, "k", "hello", 5, 1000), 0);
	assert_int_equal(es_lru_get(l, "k", 0, &v, &n), 1);
	assert_int_equal(n, 5);
	assert_string_equal(v, "hello");
	free(v);
	/* values are binary-safe copies */
	assert_int_equal(es_lru_put(l, "k", "a\0b", 3, 1000), 0);
	assert_int_equal(es_lru_get(l, "k", 0, &v, &n), 1);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "a\0b", 3);
	free(v);
	assert_int_equal(es_lru_count(l), 1);
	es_lru_free(l);
}

static void
test_expiry(void **state)
{
	es_lru *l = es_lru_new(1 << 20);
	char   *v = NULL;
	size_t	n = 0;

	(void) state;
	assert_int_equal(es_lru_put(l, "k", "x", 1, 100), 0);
	assert_int_equal(es_lru_get(l, "k", 99, &v, &n), 1);
	free(v);
	assert_int_equal(es_lru_get(l, "k", 100, &v, &n), 0);
	/* an expired entry is removed when met */
	assert_int_equal(es_lru_count(l), 0);
	assert_int_equal(es_lru_bytes(l), 0);
	es_lru_free(l);
}

static void
test_bound_and_lru_order(void **state)
{
	char	value[1000];
	es_lru *l = es_lru_new(5000);
	char   *v = NULL;
	size_t	n = 0;

	(void) state;
	memset(value, 'v', sizeof(value));
	/* each entry costs a bit over 1000 bytes: four fit, not five */
	assert_int_equal(es_lru_put(l, "a", value, sizeof(value), 1000), 0);
	assert_int_equal(es_lru_put(l, "b", value, sizeof(value), 1000), 0);
	assert_int_equal(es_lru_put(l, "c", value, sizeof(value), 1000), 0);
	assert_int_equal(es_lru_put(l, "d", value, sizeof(value), 1000), 0);
	assert_int_equal(es_lru_count(l), 4);
	/* touch a: b is now the least recently used */
	assert_int_equal(es_lru_get(l, "a", 0, &v, &n), 1);
	free(v);
	assert_int_equal(es_lru_put(l, "e", value, sizeof(value), 1000), 0);
	assert_true(es_lru_bytes(l) <= 5000);
	assert_int_equal(es_lru_get(l, "b", 0, &v, &n), 0);
	assert_int_equal(es_lru_get(l, "a", 0, &v, &n), 1);
	free(v);
	assert_int_equal(es_lru_get(l, "e", 0, &v, &n), 1);
	free(v);
	/* a value larger than the whole bound is refused and evicts nothing */
	{
		char *big = calloc(1, 6000);

		assert_int_equal(es_lru_put(l, "big", big, 6000, 1000), -1);
		free(big);
	}
	assert_int_equal(es_lru_get(l, "big", 0, &v, &n), 0);
	assert_int_equal(es_lru_count(l), 4);
	es_lru_free(l);
}

static void
test_many_keys(void **state)
{
	es_lru *l = es_lru_new(64u << 20);
	char	key[32];
	char   *v = NULL;
	size_t	n = 0;

	(void) state;
	for (int i = 0; i < 20000; i++)
	{
		snprintf(key, sizeof(key), "key-%d", i);
		assert_int_equal(es_lru_put(l, key, key, strlen(key), 1000), 0);
	}
	assert_int_equal(es_lru_count(l), 20000);
	for (int i = 0; i < 20000; i += 997)
	{
		snprintf(key, sizeof(key), "key-%d", i);
		assert_int_equal(es_lru_get(l, key, 0, &v, &n), 1);
		assert_string_equal(v, key);
		free(v);
	}
	es_lru_free(l);
}

static es_lru *shared;

static void *
worker(void *arg)
{
	int	   id = (int) (intptr_t) arg;
	char   key[32];
	char  *v = NULL;
	size_t n = 0;

	for (int i = 0; i < 5000; i++)
	{
		snprintf(key, sizeof(key), "t%d-%d", id, i % 50);
		if (es_lru_put(shared, key, key, strlen(key), 1000) != 0)
			return (void *) 1;
		if (es_lru_get(shared, key, 0, &v, &n) == 1)
		{
			int bad = strcmp(v, key) != 0;

			free(v);
			if (bad)
				return (void *) 1;
		}
	}
	return NULL;
}

static void
test_concurrent(void **state)
{
	pthread_t th[4];

	(void) state;
	shared = es_lru_new(8192); /* small: constant eviction */
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, (void *) (intptr_t) i), 0);
	for (int i = 0; i < 4; i++)
	{
		void *rv = (void *) 1;

		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
	}
	assert_true(es_lru_bytes(shared) <= 8192);
	es_lru_free(shared);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_bound_and_lru_order),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_concurrent),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("cache_lru", tests, NULL, NULL);
}
