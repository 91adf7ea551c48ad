/*
 * cache.c - the fallback cache behind cache.h: keys, entry format, the
 * choice of backend, stale serving, ETag / If-None-Match, and counters.
 *
 * Key: "es_gateway:cache:v1:" + hex SHA-256 of tenant, method, path, query
 * string and the canonical JSON body (keys sorted, no spaces, a repeated key
 * counts once with its last value, as jsonb does; the raw body when it
 * holds a number a double may not keep exactly), NUL-separated (a tenant id
 * cannot contain NUL, so two tenants never share a key).  The entry repeats
 * the tenant, and a get whose tenant differs is a miss: even a forged or
 * colliding key cannot hand one tenant another's answer.
 * Entry: "ESC1 <stored unix ms> <tenant len> <etag len>\n" tenant etag body.
 * The stored wall-clock time gives Age across replicas (Redis).
 *
 * Never fails a request: every backend failure is counted in
 * es_gateway_cache_errors_total and treated as "nothing cached".
 * Counters are atomics; the backend pointers are set once in
 * es_cache_init before the listener starts and cleared after it stops.
 */
#include "cache.h"

#include <civetweb.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_lru.h"
#include "cache_redis.h"
#include "log.h"

#define KEY_PREFIX "es_gateway:cache:v1:"

static es_lru		*lru;	/* embedded backend, or NULL */
static es_redis		*redis; /* Redis backend, or NULL */
static int			 enabled;
static long long	 ttl_ms;
static const char	*backend_name = "embedded";
static atomic_ullong n_hits, n_misses, n_stale, n_stores, n_errors;


es_status
es_cache_init(const es_config *cfg, char *errbuf, size_t errlen)
{
	enabled = cfg->res.stale_query_cache && cfg->cache_ttl_seconds > 0;
	ttl_ms = (long long) cfg->cache_ttl_seconds * 1000;
	if (!enabled)
		return ES_OK;
	if (cfg->redis_url && cfg->redis_url[0])
	{
		redis = es_redis_new(cfg->redis_url, cfg->redis_timeout_ms, errbuf, errlen);
		if (redis == NULL)
			return ES_FAIL;
		backend_name = "redis";
	}
	else
	{
		lru = es_lru_new((size_t) cfg->cache_max_bytes);
		backend_name = "embedded";
	}
	return ES_OK;
}

void
es_cache_shutdown(void)
{
	es_lru_free(lru);
	lru = NULL;
	es_redis_free(redis);
	redis = NULL;
	enabled = 0;
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 of the parts (each followed by a NUL) as 64 hex digits. */
static void
digest(const char *const *parts, const size_t *lens, int n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen = 0;
	EVP_MD_CTX	 *c = EVP_MD_CTX_new();

	if (c == NULL)
		abort(); /* out of memory: the gateway's one policy (util.c) */
	EVP_DigestInit_ex(c, es_sha256(), NULL);
	for (int i = 0; i < n; i++)
	{
		EVP_DigestUpdate(c, parts[i], lens[i]);
		EVP_DigestUpdate(c, "", 1);
	}
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	hex(md, mdlen < 32 ? mdlen : 32, out);
}

typedef struct member
{
	const cJSON *item;
	int			 index;
} member;

static int
member_cmp(const void *a, const void *b)
{
	const member *x = a, *y = b;
	int			  c = strcmp(x->item->string, y->item->string);

	return c != 0 ? c : x->index - y->index;
}

/* Sort one object's members by key (stable), dropping all but the last
 * of a repeated key, and relink the list. */
static void
sort_members(cJSON *obj)
{
	int		n = cJSON_GetArraySize(obj), i = 0, k = 0;
	member *m;

	if (n < 1)
		return;
	m = es_xcalloc((size_t) n, sizeof(member));
	for (const cJSON *c = obj->child; c; c = c->next, i++)
		m[i] = (member){c, i};
	qsort(m, (size_t) n, sizeof(member), member_cmp);
	for (i = 0; i < n; i++)
	{
		cJSON *c = (cJSON *) m[i].item;

		/* a repeated key: the last one counts, as in jsonb */
		if (i + 1 < n && strcmp(c->string, m[i + 1].item->string) == 0)
		{
			c->next = c->prev = NULL;
			cJSON_Delete(c);
			continue;
		}
		m[k++].item = c;
	}
	for (i = 0; i < k; i++)
	{
		cJSON *c = (cJSON *) m[i].item;

		c->next = i + 1 < k ? (cJSON *) m[i + 1].item : NULL;
		c->prev = (cJSON *) m[i == 0 ? k - 1 : i - 1].item;
	}
	obj->child = (cJSON *) m[0].item;
	free(m);
}

char *
es_cache_canonical_json(const cJSON *json)
{
	cJSON  *copy = cJSON_Duplicate(json, 1);
	cJSON **stack;
	size_t	depth = 0, cap = 16;
	char   *out, *text;

	if (copy == NULL)
		abort(); /* out of memory: the gateway's one policy (util.c) */
	/* an explicit stack instead of recursion: every container once */
	stack = es_xmalloc(cap * sizeof(cJSON *));
	stack[depth++] = copy;
	while (depth > 0)
	{
		cJSON *node = stack[--depth];

		if (cJSON_IsObject(node))
			sort_members(node);
		for (cJSON *c = node->child; c; c = c->next)
			if (cJSON_IsObject(c) || cJSON_IsArray(c))
			{
				if (depth == cap)
				{
					cap *= 2;
					stack = es_xrealloc(stack, cap * sizeof(cJSON *));
				}
				stack[depth++] = c;
			}
	}
	free(stack);
	text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	if (text == NULL)
		abort();
	/* hand out memory the caller frees with free() */
	out = es_xstrdup(text);
	cJSON_free(text);
	return out;
}

/*
 * Whether every number in the JSON text is a plain integer of at most 15
 * digits: those survive cJSON's doubles exactly, so the canonical form
 * keeps them.  A fraction, an exponent or a longer integer (1.0 vs 1,
 * 2^53 + 1 vs 2^53) might not: then the raw text is the key.
 */
static int
numbers_exact(const char *t)
{
	int in_string = 0;

	for (; *t; t++)
	{
		if (in_string)
		{
			if (*t == '\\' && t[1])
				t++;
			else if (*t == '"')
				in_string = 0;
		}
		else if (*t == '"')
			in_string = 1;
		else if (*t == '-' || (*t >= '0' && *t <= '9'))
		{
			int digits = 0;

			if (*t == '-')
				t++;
			while (*t >= '0' && *t <= '9')
			{
				digits++;
				t++;
			}
			if (digits > 15 || *t == '.' || *t == 'e' || *t == 'E')
				return 0;
			t--;
		}
	}
	return 1;
}

/* The cache key of a request (malloc'd). */
static char *
request_key(const es_request *req)
{
	char	   *canon = req->json && req->body && numbers_exact(req->body)
							? es_cache_canonical_json(req->json)
							: NULL;
	const char *method =
		req->ri && req->ri->request_method ? req->ri->request_method : "";
	/* HEAD shares GET's answer */
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	const char *parts[5] = {req->claims.tenant_id, m, req->path, req->query,
							canon ? canon : (req->body ? req->body : "")};
	size_t		lens[5];
	char		d[65];
	char	   *key;

	for (int i = 0; i < 5; i++)
		lens[i] = strlen(parts[i]);
	digest(parts, lens, 5, d);
	free(canon);
	key = es_xmalloc(sizeof(KEY_PREFIX) + 64);
	memcpy(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	memcpy(key + sizeof(KEY_PREFIX) - 1, d, 65);
	return key;
}

static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
es_cache_is_infra_error(const es_error *err)
{
	/* ESnnn statuses come from the extension: a real answer, not a failure */
	return (err->http_status == 503 || err->http_status == 504) &&
		   strncmp(err->sqlstate, "ES", 2) != 0;
}

int
es_cache_etag_matches(const char *inm, const char *etag)
{
	size_t elen;

	if (inm == NULL || etag == NULL || etag[0] == '\0')
		return 0;
	elen = strlen(etag);
	while (*inm)
	{
		size_t len;

		while (*inm == ' ' || *inm == '\t' || *inm == ',')
			inm++;
		if (*inm == '\0')
			break;
		len = strcspn(inm, ",");
		while (len > 0 && (inm[len - 1] == ' ' || inm[len - 1] == '\t'))
			len--;
		if (len == 1 && inm[0] == '*')
			return 1;
		/* weak comparison (RFC 9110 13.1.2): W/ is ignored */
		if (len > 2 && strncmp(inm, "W/", 2) == 0)
		{
			if (len - 2 == elen && strncmp(inm + 2, etag, elen) == 0)
				return 1;
		}
		else if (len == elen && strncmp(inm, etag, elen) == 0)
			return 1;
		inm += strcspn(inm, ",");
	}
	return 0;
}

/* Store the answer; a failure is counted and forgotten. */
static void
store(const char *key, const char *tenant, const char *etag, const char *body)
{
	es_buf b;
	int	   rc;

	es_buf_init(&b);
	es_buf_printf(&b, "ESC1 %lld %zu %zu\n%s%s%s", wall_ms(), strlen(tenant),
				  strlen(etag), tenant, etag, body);
	if (redis)
		rc = es_redis_put(redis, key, b.data, b.len, ttl_ms);
	else
		rc = es_lru_put(lru, key, b.data, b.len, es_mono_ms() + ttl_ms);
	if (rc == 0)
		atomic_fetch_add(&n_stores, 1);
	else if (redis)
		atomic_fetch_add(&n_errors, 1);
	free(b.data);
}

/* Parse the entry header "ESC1 <ms> <tlen> <elen>\n"; the offset of the
 * tenant, or -1 when the entry is malformed. */
static long
parse_header(const char *val, size_t vlen, long long *stored, size_t *tlen, size_t *elen)
{
	const char		  *nl = memchr(val, '\n', vlen);
	char			  *end;
	unsigned long long t, e;

	if (nl == NULL || vlen < 5 || memcmp(val, "ESC1 ", 5) != 0)
		return -1;
	*stored = strtoll(val + 5, &end, 10);
	if (*end != ' ')
		return -1;
	t = strtoull(end + 1, &end, 10);
	if (*end != ' ')
		return -1;
	e = strtoull(end + 1, &end, 10);
	if (end != nl || t > vlen || e > vlen || (size_t) (nl + 1 - val) + t + e > vlen)
		return -1;
	*tlen = (size_t) t;
	*elen = (size_t) e;
	return (long) (nl + 1 - val);
}

/* Look up a stored answer of this tenant: 1 with body/etag/age filled. */
static int
lookup(const char *key, const char *tenant, char **body, char *etag,
	   size_t etaglen, long long *age_s)
{
	char	 *val = NULL;
	size_t	  vlen = 0, tlen = 0, elen = 0;
	long long stored = 0;
	long	  off;
	int		  found;

	found = redis ? es_redis_get(redis, key, &val, &vlen)
				  : es_lru_get(lru, key, es_mono_ms(), &val, &vlen);
	if (found < 0)
	{
		atomic_fetch_add(&n_errors, 1);
		return 0;
	}
	if (found == 0)
		return 0;
	off = parse_header(val, vlen, &stored, &tlen, &elen);
	/* another tenant's entry (or a malformed one) is a miss */
	if (off < 0 || elen >= etaglen || tlen != strlen(tenant) ||
		memcmp(val + off, tenant, tlen) != 0)
	{
		free(val);
		return 0;
	}
	memcpy(etag, val + off + tlen, elen);
	etag[elen] = '\0';
	*body = es_xstrdup(val + off + tlen + elen);
	*age_s = (wall_ms() - stored) / 1000;
	if (*age_s < 0)
		*age_s = 0;
	free(val);
	return 1;
}

/* A strong ETag from the body: "b" + 32 hex digits of its SHA-256. */
static void
body_etag(const char *body, char *out, size_t outlen)
{
	const char *parts[1] = {body};
	size_t		lens[1] = {strlen(body)};
	char		d[65];

	digest(parts, lens, 1, d);
	snprintf(out, outlen, "\"b%.32s\"", d);
}

static void
not_modified_if_matches(const es_request *req, es_response *resp)
{
	if (es_cache_etag_matches(mg_get_header(req->conn, "If-None-Match"), resp->etag))
	{
		resp->status = 304;
		free(resp->body);
		resp->body = NULL;
	}
}

es_status
es_cache_finish(es_request *req, es_response *resp, es_error *err,
				es_status st, const char *etag)
{
	char *key = NULL;

	if (req->claims.tenant_id == NULL)
		return st;
	if (st == ES_OK && resp->status == 200 && resp->body)
	{
		if (etag)
			snprintf(resp->etag, sizeof(resp->etag), "%s", etag);
		else
			body_etag(resp->body, resp->etag, sizeof(resp->etag));
		if (enabled)
		{
			key = request_key(req);
			store(key, req->claims.tenant_id, resp->etag, resp->body);
		}
		not_modified_if_matches(req, resp);
	}
	else if (st == ES_FAIL && enabled && es_cache_is_infra_error(err))
	{
		char	 *body = NULL;
		long long age = 0;

		key = request_key(req);
		if (lookup(key, req->claims.tenant_id, &body, resp->etag,
				   sizeof(resp->etag), &age))
		{
			atomic_fetch_add(&n_hits, 1);
			atomic_fetch_add(&n_stale, 1);
			es_log(ES_LOG_INFO, "stale answer served (%s, age %llds) after %d %s",
				   backend_name, age, err->http_status, err->code);
			es_error_clear(err);
			es_response_json(resp, 200, body);
			resp->stale = 1;
			resp->age = age;
			not_modified_if_matches(req, resp);
			st = ES_OK;
		}
		else
			atomic_fetch_add(&n_misses, 1);
	}
	free(key);
	return st;
}

void
es_cache_render_metrics(es_buf *b)
{
	es_buf_printf(b,
				  "# HELP es_gateway_cache_hits_total Failed queries and reads for which a cached answer was found.\n"
				  "# TYPE es_gateway_cache_hits_total counter\n"
				  "es_gateway_cache_hits_total{backend=\"%s\"} %llu\n"
				  "# HELP es_gateway_cache_stale_serves_total Answers served stale (X-Cache-Status: stale) instead of an error.\n"
				  "# TYPE es_gateway_cache_stale_serves_total counter\n"
				  "es_gateway_cache_stale_serves_total{backend=\"%s\"} %llu\n"
				  "# HELP es_gateway_cache_misses_total Failed queries and reads with no cached answer (the error went out).\n"
				  "# TYPE es_gateway_cache_misses_total counter\n"
				  "es_gateway_cache_misses_total{backend=\"%s\"} %llu\n"
				  "# HELP es_gateway_cache_stores_total Answers stored in the cache.\n"
				  "# TYPE es_gateway_cache_stores_total counter\n"
				  "es_gateway_cache_stores_total{backend=\"%s\"} %llu\n"
				  "# HELP es_gateway_cache_errors_total Cache backend failures (the request went on without the cache).\n"
				  "# TYPE es_gateway_cache_errors_total counter\n"
				  "es_gateway_cache_errors_total{backend=\"%s\"} %llu\n",
				  backend_name, (unsigned long long) atomic_load(&n_hits),
				  backend_name, (unsigned long long) atomic_load(&n_stale),
				  backend_name, (unsigned long long) atomic_load(&n_misses),
				  backend_name, (unsigned long long) atomic_load(&n_stores),
				  backend_name, (unsigned long long) atomic_load(&n_errors));
	if (lru)
		es_buf_printf(b,
					  "# HELP es_gateway_cache_bytes Bytes held by the embedded cache.\n"
					  "# TYPE es_gateway_cache_bytes gauge\n"
					  "es_gateway_cache_bytes{backend=\"embedded\"} %zu\n"
					  "# HELP es_gateway_cache_entries Entries held by the embedded cache.\n"
					  "# TYPE es_gateway_cache_entries gauge\n"
					  "es_gateway_cache_entries{backend=\"embedded\"} %zu\n",
					  es_lru_bytes(lru), es_lru_count(lru));
}
