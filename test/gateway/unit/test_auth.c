/*
 * test_auth.c - JWT verification with real tokens signed here with OpenSSL:
 * HS256, RS256, ES256; alg none; algorithm confusion; exp/nbf leeway;
 * aud/iss; tampering; malformed tokens; claims.
 */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth.h"
#include "token.h"
#include "util.h"

#define SECRET "0123456789abcdef0123456789abcdef-test"

static const char *const HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char *const RS = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
static const char *const ESH = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";

/* keys and verifiers shared by the group (built in group_setup) */
static EVP_PKEY *rsa, *ec, *rsa_other;
static char		 rsa_pem[64], ec_pem[64];
static char		*rsa_pem_text;
static es_auth	*hs, *pk, *both, *ecauth, *audauth;
static time_t	 now;

/* header.payload with base64url parts. */
static char *
signing_input(const char *header, const char *payload)
{
	char *h = es_b64url_encode((const unsigned char *) header, strlen(header));
	char *p = es_b64url_encode((const unsigned char *) payload, strlen(payload));
	char *out = malloc(strlen(h) + strlen(p) + 2);

	sprintf(out, "%s.%s", h, p);
	free(h);
	free(p);
	return out;
}

static char *
join(char *input, const unsigned char *sig, size_t siglen)
{
	char *s = es_b64url_encode(sig, siglen);
	char *out = malloc(strlen(input) + strlen(s) + 2);

	sprintf(out, "%s.%s", input, s);
	free(s);
	free(input);
	return out;
}

static char *
hs256(const char *header, const char *payload, const void *key, size_t keylen)
{
	char		 *in = signing_input(header, payload);
	unsigned char mac[32];
	unsigned int  n = 0;

	HMAC(EVP_sha256(), key, (int) keylen, (unsigned char *) in, strlen(in), mac, &n);
	return join(in, mac, n);
}

static char *
pkey_sign(EVP_PKEY *k, const char *header, const char *payload, int jose_ecdsa)
{
	char		 *in = signing_input(header, payload);
	EVP_MD_CTX	 *md = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t		  n = sizeof(sig);

	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k);
	EVP_DigestSign(md, sig, &n, (unsigned char *) in, strlen(in));
	EVP_MD_CTX_free(md);
	if (jose_ecdsa)
	{
		const unsigned char *p = sig;
		ECDSA_SIG			*es = d2i_ECDSA_SIG(NULL, &p, (long) n);
		unsigned char		 raw[64];

		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		return join(in, raw, 64);
	}
	return join(in, sig, n);
}

static int
write_pub(EVP_PKEY *k, char *path)
{
	int	  fd;
	FILE *f;

	strcpy(path, "/tmp/es_auth_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	PEM_write_PUBKEY(f, k);
	fclose(f);
	return 0;
}

/* Verify and return 1 on success; claims freed. */
static int
verify(const es_auth *a, const char *tok, time_t at, es_claims *out)
{
	es_claims c;
	es_error  e = {0};
	int		  r = es_auth_verify(a, tok, at, &c, &e) == ES_OK;

	if (!r)
	{
		if (e.http_status != 401 || strcmp(e.code, "invalid_token") != 0)
			print_message("# unexpected error shape %d %s\n", e.http_status, e.code);
	}
	if (out)
		*out = c;
	else
		es_claims_free(&c);
	es_error_clear(&e);
	return r;
}

/* HS256 token signed with SECRET */
static char *
hs_token(const char *payload)
{
	return hs256(HS, payload, SECRET, strlen(SECRET));
}

static int
group_setup(void **state)
{
	es_auth_options o;
	char			err[256];
	FILE		   *f;
	size_t			n;

	(void) state;
	now = time(NULL);
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!rsa || !ec || !rsa_other)
		return 0; /* test_keys_generated reports it */
	if (write_pub(rsa, rsa_pem) != 0 || write_pub(ec, ec_pem) != 0)
		return -1;
	f = fopen(rsa_pem, "r");
	if (f == NULL)
		return -1;
	rsa_pem_text = calloc(1, 4096);
	n = fread(rsa_pem_text, 1, 4095, f);
	rsa_pem_text[n] = '\0';
	fclose(f);

	o = (es_auth_options){.hs_secret = SECRET, .leeway_seconds = 30};
	hs = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options){.public_key_file = rsa_pem, .leeway_seconds = 30};
	pk = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options){.hs_secret = SECRET,
						  .public_key_file = rsa_pem,
						  .leeway_seconds = 30};
	both = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options){.public_key_file = ec_pem, .leeway_seconds = 30};
	ecauth = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options){.hs_secret = SECRET,
						  .audience = "es-api",
						  .issuer = "https://idp",
						  .leeway_seconds = 30};
	audauth = es_auth_new(&o, err, sizeof(err));
	return 0;
}

static int
group_teardown(void **state)
{
	(void) state;
	es_auth_free(hs);
	es_auth_free(pk);
	es_auth_free(both);
	es_auth_free(ecauth);
	es_auth_free(audauth);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_other);
	EVP_PKEY_free(ec);
	if (rsa_pem[0])
		unlink(rsa_pem);
	if (ec_pem[0])
		unlink(ec_pem);
	free(rsa_pem_text);
	return 0;
}

/* generated RSA-2048 and EC P-256 keys */
static void
test_keys_generated(void **state)
{
	(void) state;
	assert_non_null(rsa);
	assert_non_null(ec);
	assert_non_null(rsa_other);
}

/* configuration refusals */
static void
test_config_refusals(void **state)
{
	es_auth_options o = {0};
	char			err[256] = "";

	(void) state;
	/* secret < 32 bytes refused */
	o.hs_secret = "short-secret";
	assert_null(es_auth_new(&o, err, sizeof(err)));
	print_message("# %s\n", err);
	assert_non_null(strstr(err, "32"));
	/* no key at all refused */
	o.hs_secret = NULL;
	assert_null(es_auth_new(&o, err, sizeof(err)));
	/* missing PEM refused */
	o.public_key_file = "/nonexistent.pem";
	assert_null(es_auth_new(&o, err, sizeof(err)));
}

/* verifiers built */
static void
test_verifiers_built(void **state)
{
	(void) state;
	assert_non_null(hs);
	assert_non_null(pk);
	assert_non_null(both);
	assert_non_null(ecauth);
	assert_non_null(audauth);
}

static void
test_hs256(void **state)
{
	char	  payload[512];
	char	 *t;
	es_claims c;

	(void) state;
	snprintf(payload, sizeof(payload),
			 "{\"sub\":\"u1\",\"tenant_id\":\"acme\",\"roles\":[\"reader\",\"admin\"],\"exp\":%ld}",
			 (long) now + 300);
	t = hs_token(payload);
	assert_true(verify(hs, t, now, &c));	  /* HS256 valid token accepted */
	assert_string_equal(c.tenant_id, "acme"); /* tenant_id claim */
	assert_int_equal(c.is_admin, 1);		  /* roles contains admin */
	es_claims_free(&c);
	assert_true(verify(both, t, now, NULL)); /* HS256 accepted when both key
												kinds configured */
	assert_false(verify(pk, t, now, NULL)); /* HS256 refused when only a public
											   key is configured */
	{
		char *bad = strdup(t);
		char *dot = strrchr(bad, '.');

		dot[1] = dot[1] == 'A' ? 'B' : 'A';
		assert_false(verify(hs, bad, now, NULL)); /* flipped signature refused
												   */
		free(bad);
	}
	free(t);
	t = hs256(HS, payload, "another-secret-another-secret-another", 36);
	assert_false(verify(hs, t, now, NULL)); /* wrong secret refused */
	free(t);
}

/* tampered payload keeps the old signature */
static void
test_payload_swap(void **state)
{
	char  payload[512];
	char *good, *evil, *g1, *g2, *e1, *e2;
	char  forged[2048];

	(void) state;
	snprintf(payload, sizeof(payload),
			 "{\"sub\":\"u1\",\"tenant_id\":\"acme\",\"roles\":[\"reader\",\"admin\"],\"exp\":%ld}",
			 (long) now + 300);
	good = hs_token(payload);
	evil = hs256(HS, "{\"tenant_id\":\"victim\"}", SECRET, 5);
	g1 = strchr(good, '.');
	g2 = strrchr(good, '.');
	e1 = strchr(evil, '.');
	e2 = strrchr(evil, '.');
	snprintf(forged, sizeof(forged), "%.*s%.*s%s", (int) (g1 - good), good,
			 (int) (e2 - e1), e1, g2);
	assert_false(verify(hs, forged, now, NULL)); /* payload swapped under a
													valid signature refused */
	free(good);
	free(evil);
}

/* alg none and unknown algs */
static void
test_alg_none_and_unknown(void **state)
{
	char *t, *none;

	(void) state;
	t = signing_input("{\"alg\":\"none\"}", "{\"tenant_id\":\"acme\"}");
	none = malloc(strlen(t) + 2);
	sprintf(none, "%s.", t);
	assert_false(verify(hs, none, now, NULL)); /* alg none with empty signature
												  refused */
	assert_false(verify(both, none, now, NULL)); /* alg none refused with every
													config */
	free(none);
	free(t);
	t = hs256("{\"alg\":\"None\"}", "{\"tenant_id\":\"acme\"}", SECRET,
			  strlen(SECRET));
	assert_false(verify(hs, t, now, NULL)); /* alg None (HMAC-signed) refused
											 */
	free(t);
	t = hs256("{\"alg\":\"HS512\"}", "{\"tenant_id\":\"acme\"}", SECRET,
			  strlen(SECRET));
	assert_false(verify(hs, t, now, NULL)); /* alg HS512 refused */
	free(t);
	t = hs256("{\"typ\":\"JWT\"}", "{\"tenant_id\":\"acme\"}", SECRET, strlen(SECRET));
	assert_false(verify(hs, t, now, NULL)); /* missing alg refused */
	free(t);
}

static void
test_rs256(void **state)
{
	char	 *t;
	es_claims c;

	(void) state;
	t = pkey_sign(rsa, RS, "{\"tenant_id\":\"acme\",\"roles\":[]}", 0);
	assert_true(verify(pk, t, now, &c)); /* RS256 valid token accepted */
	assert_int_equal(c.is_admin, 0);	 /* no admin role */
	es_claims_free(&c);
	assert_true(verify(both, t, now, NULL)); /* RS256 accepted with both
												configured */
	assert_false(verify(hs, t, now, NULL));	 /* RS256 refused when only HS256
												configured */
	assert_false(verify(ecauth, t, now, NULL)); /* RS256 refused by an EC key
												 */
	free(t);
	t = pkey_sign(rsa_other, RS, "{\"tenant_id\":\"acme\"}", 0);
	assert_false(verify(pk, t, now, NULL)); /* RS256 signed by another key
											   refused */
	free(t);
}

static void
test_es256(void **state)
{
	char *t;

	(void) state;
	t = pkey_sign(ec, ESH, "{\"tenant_id\":\"acme\"}", 1);
	assert_true(verify(ecauth, t, now, NULL)); /* ES256 valid token accepted */
	assert_false(verify(pk, t, now, NULL)); /* ES256 refused by an RSA key */
	assert_false(verify(hs, t, now, NULL)); /* ES256 refused with HS256 only */
	free(t);
	t = pkey_sign(ec, ESH, "{\"tenant_id\":\"acme\"}", 0); /* DER, not JOSE
															  r||s */
	assert_false(verify(ecauth, t, now, NULL)); /* ES256 with DER signature
												   refused */
	free(t);
	t = pkey_sign(ec, RS, "{\"tenant_id\":\"acme\"}", 0);
	assert_false(verify(both, t, now, NULL)); /* EC signature labelled RS256
												 refused */
	free(t);
}

/* algorithm confusion: HS256 keyed with the public key PEM */
static void
test_alg_confusion(void **state)
{
	char *t;

	(void) state;
	assert_non_null(rsa_pem_text);
	t = hs256(HS, "{\"tenant_id\":\"acme\",\"roles\":[\"admin\"]}",
			  rsa_pem_text, strlen(rsa_pem_text));
	assert_false(verify(pk, t, now, NULL)); /* HS256 signed with the RSA public
											   key refused (public key only) */
	assert_false(verify(both, t, now, NULL)); /* HS256 signed with the RSA
												 public key refused (both
												 configured) */
	free(t);
}

/* kid only selects among configured keys */
static void
test_kid(void **state)
{
	char *t;

	(void) state;
	t = hs256("{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}",
			  "{\"tenant_id\":\"acme\"}", "", 0);
	assert_false(verify(hs, t, now, NULL)); /* kid naming a file with empty
											   HMAC key refused */
	free(t);
	t = hs256("{\"alg\":\"HS256\",\"kid\":\"k1\"}", "{\"tenant_id\":\"acme\"}",
			  SECRET, strlen(SECRET));
	assert_true(verify(hs, t, now, NULL)); /* kid string with the configured
											  key accepted */
	free(t);
	t = hs256("{\"alg\":\"HS256\",\"kid\":7}", "{\"tenant_id\":\"acme\"}",
			  SECRET, strlen(SECRET));
	assert_false(verify(hs, t, now, NULL)); /* non-string kid refused */
	free(t);
}

/* exp / nbf with 30 s leeway */
static void
test_exp_nbf(void **state)
{
	char  payload[512];
	char *t;

	(void) state;
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":%ld}",
			 (long) now - 31);
	t = hs_token(payload);
	assert_false(verify(hs, t, now, NULL)); /* expired 31 s ago refused */
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":%ld}",
			 (long) now - 10);
	t = hs_token(payload);
	assert_true(verify(hs, t, now, NULL)); /* expired 10 s ago accepted within
											  leeway */
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":\"%ld\"}",
			 (long) now + 100);
	t = hs_token(payload);
	assert_false(verify(hs, t, now, NULL)); /* string exp refused */
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"nbf\":%ld}",
			 (long) now + 60);
	t = hs_token(payload);
	assert_false(verify(hs, t, now, NULL)); /* nbf 60 s ahead refused */
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"nbf\":%ld}",
			 (long) now + 10);
	t = hs_token(payload);
	assert_true(verify(hs, t, now, NULL)); /* nbf 10 s ahead accepted within
											  leeway */
	free(t);
}

/* exp required (ES_JWT_REQUIRE_EXP) and the maximum lifetime
 * (ES_JWT_MAX_TTL_SECONDS): exp - iat, or exp - now without iat */
static void
test_exp_required_and_ttl(void **state)
{
	es_auth_options o = {.hs_secret = SECRET, .leeway_seconds = 30};
	es_auth		   *strict, *lax;
	char			err[256] = "";
	char			payload[512];
	char		   *t;

	(void) state;
	o.require_exp = 1;
	o.max_ttl_seconds = 3600;
	strict = es_auth_new(&o, err, sizeof(err));
	o.require_exp = 0;
	o.max_ttl_seconds = 0;
	lax = es_auth_new(&o, err, sizeof(err));
	assert_non_null(strict);
	assert_non_null(lax);

	t = hs_token("{\"tenant_id\":\"a\"}");
	assert_false(verify(strict, t, now, NULL)); /* no exp: refused */
	assert_true(verify(lax, t, now, NULL));		/* ES_JWT_REQUIRE_EXP=false */
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"iat\":%ld,\"exp\":%ld}",
			 (long) now, (long) now + 3600);
	t = hs_token(payload);
	assert_true(verify(strict, t, now, NULL)); /* lifetime exactly the max */
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"iat\":%ld,\"exp\":%ld}",
			 (long) now - 7200, (long) now + 60);
	t = hs_token(payload);
	assert_false(verify(strict, t, now, NULL)); /* exp - iat = 2 h 1 min */
	assert_true(verify(lax, t, now, NULL));
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":%ld}",
			 (long) now + 3601);
	t = hs_token(payload);
	assert_false(verify(strict, t, now, NULL)); /* no iat: exp - now > max */
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":%ld}",
			 (long) now + 600);
	t = hs_token(payload);
	assert_true(verify(strict, t, now, NULL)); /* no iat: exp - now <= max */
	free(t);
	snprintf(payload, sizeof(payload),
			 "{\"tenant_id\":\"a\",\"iat\":\"x\",\"exp\":%ld}", (long) now + 600);
	t = hs_token(payload);
	assert_false(verify(strict, t, now, NULL)); /* non-numeric iat refused */
	free(t);
	es_auth_free(strict);
	es_auth_free(lax);
}

/* es-gateway token: the signer's tokens verify; ttl parsing */
static void
test_token_subcommand_parts(void **state)
{
	char	  payload[256];
	char	 *t;
	es_claims c;
	long long ttl = 0;

	(void) state;
	snprintf(payload, sizeof(payload),
			 "{\"tenant_id\":\"acme\",\"roles\":[\"admin\"],\"iat\":%ld,\"exp\":%ld}",
			 (long) now, (long) now + 3600);
	t = es_jwt_sign_hs256(SECRET, payload);
	assert_non_null(t);
	assert_true(verify(hs, t, now, &c)); /* minted token verifies */
	assert_string_equal(c.tenant_id, "acme");
	assert_int_equal(c.is_admin, 1);
	es_claims_free(&c);
	assert_false(verify(hs, t, now + 3700, NULL)); /* and expires */
	free(t);
	t = es_jwt_sign_hs256("another-secret-of-at-least-32-bytes!!", payload);
	assert_false(verify(hs, t, now, NULL)); /* other secret: refused */
	free(t);

	assert_int_equal(es_parse_ttl("1h", &ttl), ES_OK);
	assert_int_equal(ttl, 3600);
	assert_int_equal(es_parse_ttl("90", &ttl), ES_OK);
	assert_int_equal(ttl, 90);
	assert_int_equal(es_parse_ttl("30m", &ttl), ES_OK);
	assert_int_equal(ttl, 1800);
	assert_int_equal(es_parse_ttl("2d", &ttl), ES_OK);
	assert_int_equal(ttl, 172800);
	assert_int_equal(es_parse_ttl("0", &ttl), ES_FAIL);
	assert_int_equal(es_parse_ttl("-1h", &ttl), ES_FAIL);
	assert_int_equal(es_parse_ttl("1y", &ttl), ES_FAIL);
	assert_int_equal(es_parse_ttl("1hh", &ttl), ES_FAIL);
	assert_int_equal(es_parse_ttl("", &ttl), ES_FAIL);
	assert_int_equal(es_parse_ttl("367d", &ttl), ES_FAIL);
	assert_int_equal(es_parse_ttl("99999999999999999999h", &ttl), ES_FAIL);
}

/* aud / iss */
static void
test_aud_iss(void **state)
{
	char *t;

	(void) state;
	t = hs_token("{\"tenant_id\":\"a\",\"aud\":\"es-api\",\"iss\":\"https://idp\"}");
	assert_true(verify(audauth, t, now, NULL)); /* matching aud and iss
												   accepted */
	free(t);
	t = hs_token("{\"tenant_id\":\"a\",\"aud\":[\"x\",\"es-api\"],\"iss\":\"https://idp\"}");
	assert_true(verify(audauth, t, now, NULL)); /* aud array containing the
												   audience accepted */
	free(t);
	t = hs_token("{\"tenant_id\":\"a\",\"aud\":\"other\",\"iss\":\"https://idp\"}");
	assert_false(verify(audauth, t, now, NULL)); /* wrong aud refused */
	free(t);
	t = hs_token("{\"tenant_id\":\"a\",\"iss\":\"https://idp\"}");
	assert_false(verify(audauth, t, now, NULL)); /* missing aud refused when
													required */
	free(t);
	t = hs_token("{\"tenant_id\":\"a\",\"aud\":\"es-api\",\"iss\":\"https://evil\"}");
	assert_false(verify(audauth, t, now, NULL)); /* wrong iss refused */
	free(t);
}

/* claims shape */
static void
test_claims_shape(void **state)
{
	char	 *t;
	es_claims c;

	(void) state;
	t = hs_token("{\"tenant_id\":42}");
	assert_false(verify(hs, t, now, NULL)); /* numeric tenant_id refused */
	free(t);
	t = hs_token("{\"tenant_id\":\"a\",\"roles\":\"admin\"}");
	assert_false(verify(hs, t, now, NULL)); /* roles as a string refused */
	free(t);
	/* token without tenant_id verifies (403 later) */
	t = hs_token("{\"sub\":\"ops\"}");
	assert_true(verify(hs, t, now, &c));
	assert_null(c.tenant_id);
	es_claims_free(&c);
	free(t);
	t = hs_token("[1,2]");
	assert_false(verify(hs, t, now, NULL)); /* non-object payload refused */
	free(t);
}

/* malformed compact serialisations */
static void
test_malformed_tokens(void **state)
{
	char *huge;

	(void) state;
	assert_false(verify(hs, "", now, NULL));		/* empty token refused */
	assert_false(verify(hs, "abc.def", now, NULL)); /* two parts refused */
	assert_false(verify(hs, "a.b.c.d", now, NULL)); /* four parts refused */
	assert_false(verify(hs, "!!!.???.###", now, NULL)); /* bad base64 refused
														 */
	huge = malloc(20000);
	assert_non_null(huge);
	memset(huge, 'A', 19999);
	huge[19999] = '\0';
	huge[100] = '.';
	huge[200] = '.';
	assert_false(verify(hs, huge, now, NULL)); /* oversized token refused */
	free(huge);
}

static void
test_bearer_header(void **state)
{
	const char *tok;
	es_error	e = {0};

	(void) state;
	/* no header: missing_token */
	assert_int_equal(es_auth_bearer(NULL, &tok, &e), ES_FAIL);
	assert_string_equal(e.code, "missing_token");
	/* Basic credentials: invalid_token */
	assert_int_equal(es_auth_bearer("Basic dXNlcjpwYXNz", &tok, &e), ES_FAIL);
	assert_string_equal(e.code, "invalid_token");
	assert_int_equal(e.http_status, 401);
	/* empty Bearer: missing_token */
	assert_int_equal(es_auth_bearer("Bearer ", &tok, &e), ES_FAIL);
	assert_string_equal(e.code, "missing_token");
	/* scheme is case-insensitive */
	assert_int_equal(es_auth_bearer("bearer abc", &tok, &e), ES_OK);
	assert_string_equal(tok, "abc");
	es_error_clear(&e);
}

/* mutation fuzz: every single-character change of a valid token is refused */
static void
test_mutation_fuzz(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
	char  *good = hs_token("{\"tenant_id\":\"acme\",\"roles\":[\"admin\"]}");
	size_t len = strlen(good);
	int	   tried = 0;

	(void) state;
	srand(12345);
	for (int i = 0; i < 3000; i++)
	{
		char  *m = strdup(good);
		size_t pos = (size_t) rand() % len;
		char   ch = alphabet[rand() % (int) (sizeof(alphabet) - 1)];
		int	   accepted;

		if (m[pos] == ch)
		{
			free(m);
			continue;
		}
		m[pos] = ch;
		tried++;
		accepted = verify(hs, m, now, NULL);
		if (accepted)
			print_message("# accepted mutation: %s\n", m);
		free(m);
		assert_false(accepted); /* this mutation refused */
	}
	print_message("# %d single-character mutations of a valid token: none accepted\n",
				  tried);
	assert_true(tried > 2500);
	assert_true(verify(hs, good, now, NULL)); /* the unmutated token still
												 verifies */
	free(good);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_generated),
		cmocka_unit_test(test_config_refusals),
		cmocka_unit_test(test_verifiers_built),
		cmocka_unit_test(test_hs256),
		cmocka_unit_test(test_payload_swap),
		cmocka_unit_test(test_alg_none_and_unknown),
		cmocka_unit_test(test_rs256),
		cmocka_unit_test(test_es256),
		cmocka_unit_test(test_alg_confusion),
		cmocka_unit_test(test_kid),
		cmocka_unit_test(test_exp_nbf),
		cmocka_unit_test(test_exp_required_and_ttl),
		cmocka_unit_test(test_token_subcommand_parts),
		cmocka_unit_test(test_aud_iss),
		cmocka_unit_test(test_claims_shape),
		cmocka_unit_test(test_malformed_tokens),
		cmocka_unit_test(test_bearer_header),
		cmocka_unit_test(test_mutation_fuzz),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("auth", tests, group_setup, group_teardown);
}
