/*
 * auth.h - JWT verification (HS256 / RS256 / ES256) with OpenSSL EVP.
 *
 * An es_auth is built once at startup and is read-only afterwards, so any
 * number of worker threads may verify concurrently without a lock.
 */
#ifndef ES_AUTH_H
#define ES_AUTH_H

#include <time.h>

#include "errors.h"

typedef struct es_auth es_auth;

typedef struct es_claims
{
	char *tenant_id; /* NULL when the token has none */
	int	  is_admin;
	char *subject; /* "sub" or NULL, for logs */
} es_claims;

typedef struct es_auth_options
{
	const char *hs_secret; /* NULL/"" = HS256 disabled; else >= 32 bytes */
	const char *public_key_file; /* PEM (RSA => RS256, EC P-256 => ES256) */
	const char *audience;		 /* NULL/"" = not checked */
	const char *issuer;			 /* NULL/"" = not checked */
	int			leeway_seconds;	 /* clamped to 0..30 */
	int			require_exp;	 /* refuse a token without exp */
	long long	max_ttl_seconds; /* 0 = unlimited; else exp - iat (exp - now
								  * without iat) may not exceed it */
} es_auth_options;

/* Build the verifier; errbuf explains a refusal (short secret, bad PEM). */
es_auth *es_auth_new(const es_auth_options *opt, char *errbuf, size_t errlen) ES_MUSTCHECK;
void	 es_auth_free(es_auth *a);

/* Verify a compact JWS; fills claims (caller frees with es_claims_free).
 * On failure err is 401 invalid_token. */
es_status es_auth_verify(const es_auth *a, const char *token, time_t now,
						 es_claims *claims, es_error *err) ES_MUSTCHECK;

/* Extract the token from an Authorization header value; 401 missing_token
 * when absent or not a Bearer credential. */
es_status es_auth_bearer(const char *header, const char **token, es_error *err) ES_MUSTCHECK;

void es_claims_free(es_claims *c);

/* An HS256 token "header.payload.signature" of payload_json signed with
 * secret (malloc'd), or NULL when HMAC fails.  For the token subcommand. */
char *es_jwt_sign_hs256(const char *secret, const char *payload_json);

#endif
