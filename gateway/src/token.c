/*
 * token.c - `es-gateway token`: mint an HS256 token for development.
 *
 *   es-gateway token --tenant ID [--admin] [--ttl 1h]
 *
 * Signs with ES_JWT_SECRET and puts in exactly the claims the verifier
 * (auth.c) reads: tenant_id, roles ["admin"] with --admin, iat, exp = iat +
 * ttl, and aud / iss when ES_JWT_AUDIENCE / ES_JWT_ISSUER are configured,
 * so a gateway started with the same environment accepts the token.  A ttl
 * over ES_JWT_MAX_TTL_SECONDS is refused (that gateway would refuse the
 * token).  A development convenience: production tokens come from an
 * identity provider.  Prints the token and a newline on stdout.
 */
#include "token.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "util.h"

#define TOKEN_MAX_TTL (366LL * 24 * 3600)

es_status
es_parse_ttl(const char *s, long long *seconds)
{
	char	 *end = NULL;
	long long n, unit = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return ES_FAIL;
	n = strtoll(s, &end, 10);
	if (end == NULL || end == s)
		return ES_FAIL;
	if (*end != '\0')
	{
		switch (*end)
		{
			case 's':
				unit = 1;
				break;
			case 'm':
				unit = 60;
				break;
			case 'h':
				unit = 3600;
				break;
			case 'd':
				unit = 86400;
				break;
			default:
				return ES_FAIL;
		}
		if (end[1] != '\0')
			return ES_FAIL;
	}
	if (n <= 0 || n > TOKEN_MAX_TTL / unit)
		return ES_FAIL;
	*seconds = n * unit;
	return ES_OK;
}

static int
usage(void)
{
	fprintf(stderr,
			"usage: es-gateway token --tenant ID [--admin] [--ttl 1h]\n"
			"       es-gateway token --admin [--ttl 1h]\n"
			"Prints an HS256 token signed with ES_JWT_SECRET (development only).\n"
			"--ttl: seconds, or a number with s, m, h or d (default 1h, at most 366d).\n");
	return 2;
}

/* The claims as JSON text (malloc'd). */
static char *
claims_json(const es_config *cfg, const char *tenant, int admin, time_t now,
			long long ttl)
{
	cJSON *c = cJSON_CreateObject();
	char  *out;

	cJSON_AddStringToObject(c, "sub", "es-gateway-token");
	if (tenant)
		cJSON_AddStringToObject(c, "tenant_id", tenant);
	if (admin)
	{
		cJSON *roles = cJSON_AddArrayToObject(c, "roles");

		cJSON_AddItemToArray(roles, cJSON_CreateString("admin"));
	}
	if (cfg->jwt_audience && *cfg->jwt_audience)
		cJSON_AddStringToObject(c, "aud", cfg->jwt_audience);
	if (cfg->jwt_issuer && *cfg->jwt_issuer)
		cJSON_AddStringToObject(c, "iss", cfg->jwt_issuer);
	cJSON_AddNumberToObject(c, "iat", (double) now);
	cJSON_AddNumberToObject(c, "exp", (double) (now + ttl));
	out = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return out;
}

int
es_token_main(int argc, char **argv)
{
	const char *tenant = NULL;
	int			admin = 0, rc = 1;
	long long	ttl = 3600;
	es_config	cfg;
	char		errbuf[512];
	char	   *payload, *token;

	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc && argv[i + 1][0] != '\0')
			tenant = argv[++i];
		else if (strcmp(argv[i], "--admin") == 0)
			admin = 1;
		else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc)
		{
			if (es_parse_ttl(argv[++i], &ttl) != ES_OK)
			{
				fprintf(stderr, "es-gateway token: bad --ttl %s\n", argv[i]);
				return usage();
			}
		}
		else
			return usage();
	}
	if (tenant == NULL && !admin)
		return usage();
	if (es_config_load(&cfg, errbuf, sizeof(errbuf)) != ES_OK)
	{
		fprintf(stderr, "es-gateway token: configuration error: %s\n", errbuf);
		return 2;
	}
	if (cfg.jwt_secret == NULL || strlen(cfg.jwt_secret) < 32)
	{
		fprintf(stderr, "es-gateway token: ES_JWT_SECRET (at least 32 bytes) is required\n");
		es_config_free(&cfg);
		return 2;
	}
	if (cfg.jwt_max_ttl_seconds > 0 && ttl > cfg.jwt_max_ttl_seconds)
	{
		fprintf(stderr, "es-gateway token: --ttl %lld s exceeds ES_JWT_MAX_TTL_SECONDS (%lld)\n",
				ttl, cfg.jwt_max_ttl_seconds);
		es_config_free(&cfg);
		return 2;
	}
	payload = claims_json(&cfg, tenant, admin, time(NULL), ttl);
	token = es_jwt_sign_hs256(cfg.jwt_secret, payload);
	if (token != NULL)
	{
		printf("%s\n", token);
		rc = 0;
	}
	else
		fprintf(stderr, "es-gateway token: signing failed\n");
	free(token);
	free(payload);
	es_config_free(&cfg);
	return rc;
}
