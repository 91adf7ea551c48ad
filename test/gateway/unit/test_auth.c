/*
 * test_auth.c - JWT verification with real tokens signed here with OpenSSL:
 * HS256, RS256, ES256; alg none; algorithm confusion; exp/nbf leeway;
 * aud/iss; tampering; malformed tokens; claims.
 */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "tap.h"
#include "util.h"

#define SECRET "0123456789abcdef0123456789abcdef-test"

static EVP_PKEY *rsa, *ec, *rsa_other;
static char rsa_pem[64], ec_pem[64];
static char *rsa_pem_text;

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
	char *in = signing_input(header, payload);
	unsigned char mac[32];
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, (int) keylen, (unsigned char *) in, strlen(in), mac, &n);
	return join(in, mac, n);
}

static char *
pkey_sign(EVP_PKEY *k, const char *header, const char *payload, int jose_ecdsa)
{
	char *in = signing_input(header, payload);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t n = sizeof(sig);

	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k);
	EVP_DigestSign(md, sig, &n, (unsigned char *) in, strlen(in));
	EVP_MD_CTX_free(md);
	if (jose_ecdsa)
	{
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long) n);
		unsigned char raw[64];

		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		return join(in, raw, 64);
	}
	return join(in, sig, n);
}

static void
write_pub(EVP_PKEY *k, char *path)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/es_auth_XXXXXX");
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	PEM_write_PUBKEY(f, k);
	fclose(f);
}

/* Verify and return 1 on success; claims freed. */
static int
verify(const es_auth *a, const char *tok, time_t now, es_claims *out)
{
	es_claims c;
	es_error e = {0};
	int r = es_auth_verify(a, tok, now, &c, &e) == ES_OK;

	if (!r)
	{
		if (e.http_status != 401 || strcmp(e.code, "invalid_token") != 0)
			printf("# unexpected error shape %d %s\n", e.http_status, e.code);
	}
	if (out)
		*out = c;
	else
		es_claims_free(&c);
	es_error_clear(&e);
	return r;
}

int
main(void)
{
	es_auth_options o = {0};
	es_auth *hs, *pk, *both, *ecauth, *audauth;
	char err[256];
	time_t now = time(NULL);
	char payload[512];
	char *t;
	es_claims c;
	const char *HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	const char *RS = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	const char *ESH = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";

	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ok(rsa && ec && rsa_other, "generated RSA-2048 and EC P-256 keys");
	write_pub(rsa, rsa_pem);
	write_pub(ec, ec_pem);
	{
		FILE *f = fopen(rsa_pem, "r");
		size_t n;

		rsa_pem_text = calloc(1, 4096);
		n = fread(rsa_pem_text, 1, 4095, f);
		rsa_pem_text[n] = '\0';
		fclose(f);
	}

	/* configuration refusals */
	o.hs_secret = "short-secret";
	ok(es_auth_new(&o, err, sizeof(err)) == NULL && strstr(err, "32"), "secret < 32 bytes refused: %s", err);
	o.hs_secret = NULL;
	ok(es_auth_new(&o, err, sizeof(err)) == NULL, "no key at all refused");
	o.public_key_file = "/nonexistent.pem";
	ok(es_auth_new(&o, err, sizeof(err)) == NULL, "missing PEM refused");

	o = (es_auth_options) {.hs_secret = SECRET, .leeway_seconds = 30};
	hs = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options) {.public_key_file = rsa_pem, .leeway_seconds = 30};
	pk = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options) {.hs_secret = SECRET, .public_key_file = rsa_pem, .leeway_seconds = 30};
	both = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options) {.public_key_file = ec_pem, .leeway_seconds = 30};
	ecauth = es_auth_new(&o, err, sizeof(err));
	o = (es_auth_options) {.hs_secret = SECRET, .audience = "es-api", .issuer = "https://idp", .leeway_seconds = 30};
	audauth = es_auth_new(&o, err, sizeof(err));
	ok(hs && pk && both && ecauth && audauth, "verifiers built");

	/* HS256 */
	snprintf(payload, sizeof(payload), "{\"sub\":\"u1\",\"tenant_id\":\"acme\",\"roles\":[\"reader\",\"admin\"],\"exp\":%ld}", (long) now + 300);
	t = hs256(HS, payload, SECRET, strlen(SECRET));
	ok(verify(hs, t, now, &c), "HS256 valid token accepted");
	is_str(c.tenant_id, "acme", "tenant_id claim");
	is_int(c.is_admin, 1, "roles contains admin");
	es_claims_free(&c);
	ok(verify(both, t, now, NULL), "HS256 accepted when both key kinds configured");
	ok(!verify(pk, t, now, NULL), "HS256 refused when only a public key is configured");
	{
		char *bad = strdup(t);
		char *dot = strrchr(bad, '.');

		dot[1] = dot[1] == 'A' ? 'B' : 'A';
		ok(!verify(hs, bad, now, NULL), "flipped signature refused");
		free(bad);
	}
	free(t);
	t = hs256(HS, payload, "another-secret-another-secret-another", 36);
	ok(!verify(hs, t, now, NULL), "wrong secret refused");
	free(t);
	{
		/* tampered payload keeps the old signature */
		char *good = hs256(HS, payload, SECRET, strlen(SECRET));
		char *evil = hs256(HS, "{\"tenant_id\":\"victim\"}", SECRET, 5);
		char *g1 = strchr(good, '.'), *g2 = strrchr(good, '.');
		char *e1 = strchr(evil, '.'), *e2 = strrchr(evil, '.');
		char forged[2048];

		snprintf(forged, sizeof(forged), "%.*s%.*s%s", (int) (g1 - good), good, (int) (e2 - e1), e1, g2);
		ok(!verify(hs, forged, now, NULL), "payload swapped under a valid signature refused");
		free(good);
		free(evil);
	}

	/* alg none and unknown algs */
	t = signing_input("{\"alg\":\"none\"}", "{\"tenant_id\":\"acme\"}");
	{
		char *none = malloc(strlen(t) + 2);

		sprintf(none, "%s.", t);
		ok(!verify(hs, none, now, NULL), "alg none with empty signature refused");
		ok(!verify(both, none, now, NULL), "alg none refused with every config");
		free(none);
	}
	free(t);
	t = hs256("{\"alg\":\"None\"}", "{\"tenant_id\":\"acme\"}", SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "alg None (HMAC-signed) refused");
	free(t);
	t = hs256("{\"alg\":\"HS512\"}", "{\"tenant_id\":\"acme\"}", SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "alg HS512 refused");
	free(t);
	t = hs256("{\"typ\":\"JWT\"}", "{\"tenant_id\":\"acme\"}", SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "missing alg refused");
	free(t);

	/* RS256 / ES256 */
	t = pkey_sign(rsa, RS, "{\"tenant_id\":\"acme\",\"roles\":[]}", 0);
	ok(verify(pk, t, now, &c), "RS256 valid token accepted");
	is_int(c.is_admin, 0, "no admin role");
	es_claims_free(&c);
	ok(verify(both, t, now, NULL), "RS256 accepted with both configured");
	ok(!verify(hs, t, now, NULL), "RS256 refused when only HS256 configured");
	ok(!verify(ecauth, t, now, NULL), "RS256 refused by an EC key");
	free(t);
	t = pkey_sign(rsa_other, RS, "{\"tenant_id\":\"acme\"}", 0);
	ok(!verify(pk, t, now, NULL), "RS256 signed by another key refused");
	free(t);
	t = pkey_sign(ec, ESH, "{\"tenant_id\":\"acme\"}", 1);
	ok(verify(ecauth, t, now, NULL), "ES256 valid token accepted");
	ok(!verify(pk, t, now, NULL), "ES256 refused by an RSA key");
	ok(!verify(hs, t, now, NULL), "ES256 refused with HS256 only");
	free(t);
	t = pkey_sign(ec, ESH, "{\"tenant_id\":\"acme\"}", 0); /* DER, not JOSE r||s */
	ok(!verify(ecauth, t, now, NULL), "ES256 with DER signature refused");
	free(t);
	t = pkey_sign(ec, RS, "{\"tenant_id\":\"acme\"}", 0);
	ok(!verify(both, t, now, NULL), "EC signature labelled RS256 refused");
	free(t);

	/* algorithm confusion: HS256 keyed with the public key PEM */
	t = hs256(HS, "{\"tenant_id\":\"acme\",\"roles\":[\"admin\"]}", rsa_pem_text, strlen(rsa_pem_text));
	ok(!verify(pk, t, now, NULL), "HS256 signed with the RSA public key refused (public key only)");
	ok(!verify(both, t, now, NULL), "HS256 signed with the RSA public key refused (both configured)");
	free(t);

	/* kid only selects among configured keys */
	t = hs256("{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}", "{\"tenant_id\":\"acme\"}", "", 0);
	ok(!verify(hs, t, now, NULL), "kid naming a file with empty HMAC key refused");
	free(t);
	t = hs256("{\"alg\":\"HS256\",\"kid\":\"k1\"}", "{\"tenant_id\":\"acme\"}", SECRET, strlen(SECRET));
	ok(verify(hs, t, now, NULL), "kid string with the configured key accepted");
	free(t);
	t = hs256("{\"alg\":\"HS256\",\"kid\":7}", "{\"tenant_id\":\"acme\"}", SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "non-string kid refused");
	free(t);

	/* exp / nbf with 30 s leeway */
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":%ld}", (long) now - 31);
	t = hs256(HS, payload, SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "expired 31 s ago refused");
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":%ld}", (long) now - 10);
	t = hs256(HS, payload, SECRET, strlen(SECRET));
	ok(verify(hs, t, now, NULL), "expired 10 s ago accepted within leeway");
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"exp\":\"%ld\"}", (long) now + 100);
	t = hs256(HS, payload, SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "string exp refused");
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"nbf\":%ld}", (long) now + 60);
	t = hs256(HS, payload, SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "nbf 60 s ahead refused");
	free(t);
	snprintf(payload, sizeof(payload), "{\"tenant_id\":\"a\",\"nbf\":%ld}", (long) now + 10);
	t = hs256(HS, payload, SECRET, strlen(SECRET));
	ok(verify(hs, t, now, NULL), "nbf 10 s ahead accepted within leeway");
	free(t);

	/* aud / iss */
	t = hs256(HS, "{\"tenant_id\":\"a\",\"aud\":\"es-api\",\"iss\":\"https://idp\"}", SECRET, strlen(SECRET));
	ok(verify(audauth, t, now, NULL), "matching aud and iss accepted");
	free(t);
	t = hs256(HS, "{\"tenant_id\":\"a\",\"aud\":[\"x\",\"es-api\"],\"iss\":\"https://idp\"}", SECRET, strlen(SECRET));
	ok(verify(audauth, t, now, NULL), "aud array containing the audience accepted");
	free(t);
	t = hs256(HS, "{\"tenant_id\":\"a\",\"aud\":\"other\",\"iss\":\"https://idp\"}", SECRET, strlen(SECRET));
	ok(!verify(audauth, t, now, NULL), "wrong aud refused");
	free(t);
	t = hs256(HS, "{\"tenant_id\":\"a\",\"iss\":\"https://idp\"}", SECRET, strlen(SECRET));
	ok(!verify(audauth, t, now, NULL), "missing aud refused when required");
	free(t);
	t = hs256(HS, "{\"tenant_id\":\"a\",\"aud\":\"es-api\",\"iss\":\"https://evil\"}", SECRET, strlen(SECRET));
	ok(!verify(audauth, t, now, NULL), "wrong iss refused");
	free(t);

	/* claims shape */
	t = hs256(HS, "{\"tenant_id\":42}", SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "numeric tenant_id refused");
	free(t);
	t = hs256(HS, "{\"tenant_id\":\"a\",\"roles\":\"admin\"}", SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "roles as a string refused");
	free(t);
	t = hs256(HS, "{\"sub\":\"ops\"}", SECRET, strlen(SECRET));
	ok(verify(hs, t, now, &c) && c.tenant_id == NULL, "token without tenant_id verifies (403 later)");
	es_claims_free(&c);
	free(t);
	t = hs256(HS, "[1,2]", SECRET, strlen(SECRET));
	ok(!verify(hs, t, now, NULL), "non-object payload refused");
	free(t);

	/* malformed compact serialisations */
	ok(!verify(hs, "", now, NULL), "empty token refused");
	ok(!verify(hs, "abc.def", now, NULL), "two parts refused");
	ok(!verify(hs, "a.b.c.d", now, NULL), "four parts refused");
	ok(!verify(hs, "!!!.???.###", now, NULL), "bad base64 refused");
	{
		char *huge = malloc(20000);

		memset(huge, 'A', 19999);
		huge[19999] = '\0';
		huge[100] = '.';
		huge[200] = '.';
		ok(!verify(hs, huge, now, NULL), "oversized token refused");
		free(huge);
	}
	{
		const char *tok;
		es_error e = {0};

		ok(es_auth_bearer(NULL, &tok, &e) == ES_FAIL && strcmp(e.code, "missing_token") == 0, "no header: missing_token");
		ok(es_auth_bearer("Basic dXNlcjpwYXNz", &tok, &e) == ES_FAIL && strcmp(e.code, "invalid_token") == 0 && e.http_status == 401,
		   "Basic credentials: invalid_token");
		ok(es_auth_bearer("Bearer ", &tok, &e) == ES_FAIL && strcmp(e.code, "missing_token") == 0, "empty Bearer: missing_token");
		ok(es_auth_bearer("bearer abc", &tok, &e) == ES_OK && strcmp(tok, "abc") == 0, "scheme is case-insensitive");
		es_error_clear(&e);
	}

	/* mutation fuzz: every single-character change of a valid token is refused */
	{
		static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
		char *good = hs256(HS, "{\"tenant_id\":\"acme\",\"roles\":[\"admin\"]}", SECRET, strlen(SECRET));
		size_t len = strlen(good);
		int accepted = 0, tried = 0;

		srand(12345);
		for (int i = 0; i < 3000; i++)
		{
			char *m = strdup(good);
			size_t pos = (size_t) rand() % len;
			char ch = alphabet[rand() % (int) (sizeof(alphabet) - 1)];

			if (m[pos] == ch)
			{
				free(m);
				continue;
			}
			m[pos] = ch;
			tried++;
			if (verify(hs, m, now, NULL))
			{
				accepted++;
				printf("# accepted mutation: %s\n", m);
			}
			free(m);
		}
		ok(tried > 2500 && accepted == 0, "%d single-character mutations of a valid token: none accepted", tried);
		ok(verify(hs, good, now, NULL), "the unmutated token still verifies");
		free(good);
	}

	es_auth_free(hs);
	es_auth_free(pk);
	es_auth_free(both);
	es_auth_free(ecauth);
	es_auth_free(audauth);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_other);
	EVP_PKEY_free(ec);
	unlink(rsa_pem);
	unlink(ec_pem);
	free(rsa_pem_text);
	return done_testing();
}
