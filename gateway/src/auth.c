/*
 * auth.c - JWT verification.
 *
 * Rules: the algorithm comes from the token header but is only accepted when
 * a key of that family is configured: HS256 needs ES_JWT_SECRET, RS256 needs
 * an RSA public key, ES256 an EC P-256 public key.  "none" and every other
 * alg are refused, so an HS256 token "signed" with the public key can never
 * verify (HS256 only ever uses the shared secret).  A "kid" header never
 * names a key source: there is at most one key per family, so kid is only
 * checked to be a string.  HMACs are compared with CRYPTO_memcmp.  Tokens
 * must carry exp unless require_exp is off; with a maximum TTL, a token
 * whose exp - iat (exp - now without iat) exceeds it is refused.
 * Read-only after es_auth_new: safe for concurrent use.
 */
#include "auth.h"

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define ES_JWT_MAX_LEN 8192

struct es_auth
{
	unsigned char *secret;
	size_t		   secret_len;
	EVP_PKEY	  *rsa; /* RS256 key or NULL */
	EVP_PKEY	  *ec;	/* ES256 key or NULL */
	char		  *audience;
	char		  *issuer;
	int			   leeway;
	int			   require_exp;
	long long	   max_ttl;
};

/* Copy a string or NULL when empty. */
static char *
dup_nonempty(const char *s)
{
	return (s && *s) ? es_xstrdup(s) : NULL;
}

/* Build the verifier from options. */
es_auth *
es_auth_new(const es_auth_options *opt, char *errbuf, size_t errlen)
{
	es_auth *a = es_xcalloc(1, sizeof(*a));

	if (opt->hs_secret && *opt->hs_secret)
	{
		a->secret_len = strlen(opt->hs_secret);
		if (a->secret_len < 32)
		{
			snprintf(errbuf, errlen, "ES_JWT_SECRET must be at least 32 bytes (got %zu)",
					 a->secret_len);
			goto fail;
		}
		a->secret = (unsigned char *) es_xstrdup(opt->hs_secret);
	}
	if (opt->public_key_file && *opt->public_key_file)
	{
		FILE	 *f = fopen(opt->public_key_file, "r");
		EVP_PKEY *k;

		if (f == NULL)
		{
			snprintf(errbuf, errlen, "cannot open ES_JWT_PUBLIC_KEY_FILE %s",
					 opt->public_key_file);
			goto fail;
		}
		k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		fclose(f);
		if (k == NULL)
		{
			snprintf(errbuf, errlen, "ES_JWT_PUBLIC_KEY_FILE is not a PEM public key");
			goto fail;
		}
		if (EVP_PKEY_is_a(k, "RSA"))
		{
			if (EVP_PKEY_get_bits(k) < 2048)
			{
				EVP_PKEY_free(k);
				snprintf(errbuf, errlen, "RSA public key must have at least 2048 bits");
				goto fail;
			}
			a->rsa = k;
		}
		else if (EVP_PKEY_is_a(k, "EC"))
		{
			char   group[64] = "";
			size_t glen = 0;

			if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
												group, sizeof(group), &glen) ||
				strcmp(group, "prime256v1") != 0)
			{
				EVP_PKEY_free(k);
				snprintf(errbuf, errlen, "EC public key must be on P-256 for ES256");
				goto fail;
			}
			a->ec = k;
		}
		else
		{
			EVP_PKEY_free(k);
			snprintf(errbuf, errlen, "public key must be RSA or EC P-256");
			goto fail;
		}
	}
	if (a->secret == NULL && a->rsa == NULL && a->ec == NULL)
	{
		snprintf(errbuf, errlen,
				 "no JWT key configured (ES_JWT_SECRET or ES_JWT_PUBLIC_KEY_FILE)");
		goto fail;
	}
	a->audience = dup_nonempty(opt->audience);
	a->issuer = dup_nonempty(opt->issuer);
	a->leeway = opt->leeway_seconds < 0
					? 0
					: (opt->leeway_seconds > 30 ? 30 : opt->leeway_seconds);
	a->require_exp = opt->require_exp != 0;
	a->max_ttl = opt->max_ttl_seconds > 0 ? opt->max_ttl_seconds : 0;
	return a;
fail:
	es_auth_free(a);
	return NULL;
}

/* Free the verifier, wiping the secret. */
void
es_auth_free(es_auth *a)
{
	if (a == NULL)
		return;
	if (a->secret)
	{
		OPENSSL_cleanse(a->secret, a->secret_len);
		free(a->secret);
	}
	EVP_PKEY_free(a->rsa);
	EVP_PKEY_free(a->ec);
	free(a->audience);
	free(a->issuer);
	free(a);
}

void
es_claims_free(es_claims *c)
{
	free(c->tenant_id);
	free(c->subject);
	memset(c, 0, sizeof(*c));
}

/* Parse "Bearer <token>". */
es_status
es_auth_bearer(const char *header, const char **token, es_error *err)
{
	const char *p;

	*token = NULL;
	if (header == NULL || *header == '\0')
		return es_error_set(err, 401, "missing_token", "authorization required");
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return es_error_set(err, 401, "invalid_token",
							"authorization must be a Bearer token");
	p = header + 7;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return es_error_set(err, 401, "missing_token", "authorization required");
	*token = p;
	return ES_OK;
}

/* Verify HS256 over signing input. */
static int
verify_hs256(const es_auth *a, const char *input, size_t inlen,
			 const unsigned char *sig, size_t siglen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int  maclen = 0;

	if (a->secret == NULL || siglen != 32)
		return 0;
	if (HMAC(es_sha256(), a->secret, (int) a->secret_len,
			 (const unsigned char *) input, inlen, mac, &maclen) == NULL ||
		maclen != 32)
		return 0;
	return CRYPTO_memcmp(mac, sig, 32) == 0;
}

/* Verify a DER or PKCS#1 signature with a public key and SHA-256. */
static int
verify_pkey(EVP_PKEY *k, const char *input, size_t inlen,
			const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int			ok = 0;

	if (md == NULL)
		return 0;
	if (EVP_DigestVerifyInit(md, NULL, es_sha256(), NULL, k) == 1 &&
		EVP_DigestVerify(md, sig, siglen, (const unsigned char *) input, inlen) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* ES256: JOSE r||s (64 bytes) -> DER, then verify. */
static int
verify_es256(const es_auth *a, const char *input, size_t inlen,
			 const unsigned char *sig, size_t siglen)
{
	ECDSA_SIG	  *es;
	BIGNUM		  *r, *s;
	unsigned char *der = NULL;
	int			   derlen, ok;

	if (a->ec == NULL || siglen != 64)
		return 0;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
	{
		ECDSA_SIG_free(es);
		BN_free(r);
		BN_free(s);
		return 0;
	}
	derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (derlen <= 0)
		return 0;
	ok = verify_pkey(a->ec, input, inlen, der, (size_t) derlen);
	OPENSSL_free(der);
	return ok;
}

/* Numeric claim check helper: returns 1 if the claim is absent or numeric. */
static int
numeric_claim(const cJSON *payload, const char *name, double *out, int *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, name);

	*present = 0;
	if (v == NULL)
		return 1;
	if (!cJSON_IsNumber(v))
		return 0;
	*present = 1;
	*out = v->valuedouble;
	return 1;
}

/* Whether "aud" (string or array of strings) contains want. */
static int
audience_matches(const cJSON *aud, const char *want)
{
	const cJSON *it;

	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, want) == 0;
	if (!cJSON_IsArray(aud))
		return 0;
	cJSON_ArrayForEach(it, aud) if (cJSON_IsString(it) &&
									strcmp(it->valuestring, want) == 0) return 1;
	return 0;
}

/* A compact JWS, split and decoded, with its header parsed. */
typedef struct jws
{
	unsigned char *hjson, *pjson, *sig; /* decoded, NUL-terminated */
	size_t		   hlen, plen, slen;
	size_t		   signed_len; /* length of "header.payload" */
	cJSON		  *hdr;
	const char	  *alg;
} jws;

static void
jws_free(jws *j)
{
	cJSON_Delete(j->hdr);
	free(j->hjson);
	free(j->pjson);
	free(j->sig);
}

/* Split, decode and check the header (alg a string, kid/typ strings when
 * present, no crit); 1 when the token is well-formed. */
static int
jws_decode(const char *token, jws *j)
{
	const char	*dot1, *dot2;
	size_t		 tlen = strlen(token);
	const cJSON *alg, *kid, *typ;

	memset(j, 0, sizeof(*j));
	if (tlen == 0 || tlen > ES_JWT_MAX_LEN)
		return 0;
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		return 0;
	j->signed_len = (size_t) (dot2 - token);
	j->hjson = es_b64url_decode(token, (size_t) (dot1 - token), &j->hlen);
	j->pjson = es_b64url_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), &j->plen);
	j->sig = es_b64url_decode(dot2 + 1, strlen(dot2 + 1), &j->slen);
	if (j->hjson == NULL || j->pjson == NULL || j->sig == NULL)
		return 0;
	/* the decoders NUL-terminate; an embedded NUL would hide trailing data */
	if (memchr(j->hjson, 0, j->hlen) != NULL || memchr(j->pjson, 0, j->plen) != NULL ||
		!es_json_depth_ok((const char *) j->hjson, j->hlen, 16) ||
		!es_json_depth_ok((const char *) j->pjson, j->plen, 16))
		return 0;
	j->hdr =
		cJSON_ParseWithLengthOpts((const char *) j->hjson, j->hlen + 1, NULL, 1);
	if (!cJSON_IsObject(j->hdr))
		return 0;
	alg = cJSON_GetObjectItemCaseSensitive(j->hdr, "alg");
	kid = cJSON_GetObjectItemCaseSensitive(j->hdr, "kid");
	typ = cJSON_GetObjectItemCaseSensitive(j->hdr, "typ");
	if (!cJSON_IsString(alg) || (kid && !cJSON_IsString(kid)) ||
		(typ && !cJSON_IsString(typ)) ||
		cJSON_GetObjectItemCaseSensitive(j->hdr, "crit") != NULL)
		return 0;
	j->alg = alg->valuestring;
	return 1;
}

/* The signature: the key is chosen by the configured family, never by the
 * token.  NULL when it verifies, else the reason. */
static const char *
verify_signature(const es_auth *a, const char *token, const jws *j)
{
	int ok;

	if (strcmp(j->alg, "HS256") == 0)
		ok = verify_hs256(a, token, j->signed_len, j->sig, j->slen);
	else if (strcmp(j->alg, "RS256") == 0)
		ok = a->rsa != NULL &&
			 verify_pkey(a->rsa, token, j->signed_len, j->sig, j->slen);
	else if (strcmp(j->alg, "ES256") == 0)
		ok = verify_es256(a, token, j->signed_len, j->sig, j->slen);
	else
		return "unsupported algorithm";
	return ok ? NULL : "signature verification failed";
}

/* Time window (exp/nbf with leeway), audience and issuer; NULL when the
 * token may be used now, else the reason. */
static const char *
check_claims(const es_auth *a, const cJSON *payload, time_t now)
{
	double		 exp = 0, nbf = 0, iat = 0;
	int			 has_exp, has_nbf, has_iat;
	const cJSON *iss;

	if (!numeric_claim(payload, "exp", &exp, &has_exp) ||
		!numeric_claim(payload, "nbf", &nbf, &has_nbf) ||
		!numeric_claim(payload, "iat", &iat, &has_iat))
		return "invalid claims";
	/* a token without exp is valid forever once leaked */
	if (!has_exp && a->require_exp)
		return "token has no exp";
	if (has_exp && (double) now >= exp + a->leeway)
		return "token expired";
	if (has_exp && a->max_ttl > 0 &&
		exp - (has_iat ? iat : (double) now) > (double) a->max_ttl)
		return "token lifetime exceeds ES_JWT_MAX_TTL_SECONDS";
	if (has_nbf && (double) now + a->leeway < nbf)
		return "token not yet valid";
	if (a->audience &&
		!audience_matches(cJSON_GetObjectItemCaseSensitive(payload, "aud"), a->audience))
		return "audience mismatch";
	iss = cJSON_GetObjectItemCaseSensitive(payload, "iss");
	if (a->issuer &&
		!(cJSON_IsString(iss) && strcmp(iss->valuestring, a->issuer) == 0))
		return "issuer mismatch";
	return NULL;
}

/* tenant_id, roles (admin) and sub into claims; 0 when malformed. */
static int
extract_claims(const cJSON *payload, es_claims *claims)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, "tenant_id");

	if (v != NULL && !cJSON_IsNull(v))
	{
		if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
			return 0;
		claims->tenant_id = es_xstrdup(v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(payload, "roles");
	if (v != NULL && !cJSON_IsNull(v))
	{
		const cJSON *r;

		if (!cJSON_IsArray(v))
			return 0;
		cJSON_ArrayForEach(r, v)
		{
			if (!cJSON_IsString(r))
				return 0;
			if (strcmp(r->valuestring, "admin") == 0)
				claims->is_admin = 1;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(payload, "sub");
	if (cJSON_IsString(v))
		claims->subject = es_xstrdup(v->valuestring);
	return 1;
}

/* HS256 compact JWS of payload_json with secret (the token subcommand). */
char *
es_jwt_sign_hs256(const char *secret, const char *payload_json)
{
	static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char  *h = es_b64url_encode((const unsigned char *) hdr, strlen(hdr));
	char  *p = es_b64url_encode((const unsigned char *) payload_json,
								strlen(payload_json));
	size_t inlen = strlen(h) + 1 + strlen(p);
	char  *in = es_xmalloc(inlen + 1);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int  maclen = 0;
	char		 *sig, *out = NULL;

	snprintf(in, inlen + 1, "%s.%s", h, p);
	if (HMAC(es_sha256(), secret, (int) strlen(secret),
			 (const unsigned char *) in, inlen, mac, &maclen) != NULL &&
		maclen == 32)
	{
		sig = es_b64url_encode(mac, maclen);
		out = es_xmalloc(inlen + 1 + strlen(sig) + 1);
		snprintf(out, inlen + 1 + strlen(sig) + 1, "%s.%s", in, sig);
		free(sig);
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	free(h);
	free(p);
	free(in);
	return out;
}

/* Verify token and extract claims: decode -> signature -> claims. */
es_status
es_auth_verify(const es_auth *a, const char *token, time_t now,
			   es_claims *claims, es_error *err)
{
	jws			j;
	cJSON	   *payload = NULL;
	const char *why = "invalid token";

	memset(claims, 0, sizeof(*claims));
	if (jws_decode(token, &j) && (why = verify_signature(a, token, &j)) == NULL)
	{
		payload =
			cJSON_ParseWithLengthOpts((const char *) j.pjson, j.plen + 1, NULL, 1);
		why = cJSON_IsObject(payload) ? check_claims(a, payload, now) : "invalid claims";
		if (why == NULL && !extract_claims(payload, claims))
			why = "invalid claims";
	}
	cJSON_Delete(payload);
	jws_free(&j);
	if (why != NULL)
	{
		es_claims_free(claims);
		return es_error_set(err, 401, "invalid_token", "%s", why);
	}
	return ES_OK;
}
