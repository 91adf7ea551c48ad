/* tap.h - minimal TAP producer for the gateway unit tests (header-only). */
#ifndef ES_TAP_H
#define ES_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long long) (got), (long long) (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static int __attribute__((format(printf, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
	{
		tap_failed++;
		printf("#   Failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define tap_is_int(got, want, file, line, ...) \
	(tap_ok((got) == (want), file, line, __VA_ARGS__) ? 1 : \
	 (printf("#   got: %lld\n#   expected: %lld\n", (got), (want)), 0))

#define tap_is_str(got, want, file, line, ...) \
	(tap_ok((got) != NULL && (want) != NULL ? strcmp((got), (want)) == 0 : (got) == (want), file, line, __VA_ARGS__) ? 1 : \
	 (printf("#   got: '%s'\n#   expected: '%s'\n", (got) ? (got) : "(null)", (want) ? (want) : "(null)"), 0))

static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
