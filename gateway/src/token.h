/*
 * token.h - the `es-gateway token` subcommand (development tokens).
 */
#ifndef ES_TOKEN_H
#define ES_TOKEN_H

#include "errors.h"

/* "3600", "90s", "30m", "1h", "7d" -> seconds (1 s .. 366 d); ES_FAIL else. */
es_status es_parse_ttl(const char *s, long long *seconds) ES_MUSTCHECK;

/* Run the subcommand on the arguments after "token"; returns the exit code
 * (0 token printed, 2 bad arguments or configuration). */
int es_token_main(int argc, char **argv);

#endif
