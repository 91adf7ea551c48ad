/*
 * util.c - pure helpers shared by every module, and the checked
 * allocators (abort on out-of-memory, see util.h).  No state.
 */
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Log and abort; write(2) only, since the heap is what just failed. */
void
es_oom(void)
{
	static const char line[] =
		"{\"level\":\"error\",\"msg\":\"out of memory: aborting\"}\n";

	(void) !write(STDERR_FILENO, line, sizeof(line) - 1);
	abort();
}

void *
es_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		es_oom();
	return p;
}

void *
es_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		es_oom();
	return p;
}

void *
es_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (p == NULL)
		es_oom();
	return p;
}

char *
es_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		es_oom();
	return p;
}

char *
es_xstrndup(const char *s, size_t n)
{
	char *d = es_xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void
es_alloc_init(void)
{
	cJSON_Hooks hooks = {.malloc_fn = es_xmalloc, .free_fn = free};

	cJSON_InitHooks(&hooks);
}

long long
es_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
es_abstime_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L)
	{
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Strict UTF-8 check (no overlongs, no surrogates, <= U+10FFFF, no NUL). */
int
es_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *) buf;
	size_t				 i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		  n;
		unsigned int  cp;

		if (c == 0)
			return 0;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
		{
			n = 1;
			cp = c & 0x1F;
		}
		else if (c >= 0xE0 && c <= 0xEF)
		{
			n = 2;
			cp = c & 0x0F;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			n = 3;
			cp = c & 0x07;
		}
		else
			return 0;
		if (i + n >= len)
			return 0;
		for (size_t k = 1; k <= n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Nesting depth scan. */
int
es_json_depth_ok(const char *buf, size_t len, int max_depth)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < len; i++)
	{
		char c = buf[i];

		if (in_str)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		}
		else if (c == '"')
			in_str = 1;
		else if (c == '[' || c == '{')
		{
			if (++depth > max_depth)
				return 0;
		}
		else if (c == ']' || c == '}')
			depth--;
	}
	return 1;
}

/* Canonical UUID text. */
int
es_uuid_valid(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return 0;
		}
		else if (!isxdigit((unsigned char) s[i]))
			return 0;
	}
	return 1;
}

/* Value of a base64url character or -1. */
static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict base64url decoder. */
unsigned char *
es_b64url_decode(const char *in, size_t inlen, size_t *outlen)
{
	unsigned char *out;
	size_t		   o = 0;
	unsigned int   acc = 0;
	int			   bits = 0;

	while (inlen > 0 && in[inlen - 1] == '=')
		inlen--;
	if (inlen % 4 == 1)
		return NULL;
	out = es_xmalloc(inlen * 3 / 4 + 2);
	for (size_t i = 0; i < inlen; i++)
	{
		int v = b64val((unsigned char) in[i]);

		if (v < 0)
		{
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (unsigned char) ((acc >> bits) & 0xFF);
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
	{
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* base64url encoder without padding. */
char *
es_b64url_encode(const unsigned char *in, size_t inlen)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char		*out = es_xmalloc(inlen * 4 / 3 + 4);
	size_t		 o = 0;
	unsigned int acc = 0;
	int			 bits = 0;

	for (size_t i = 0; i < inlen; i++)
	{
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6)
		{
			bits -= 6;
			out[o++] = tbl[(acc >> bits) & 0x3F];
		}
	}
	if (bits > 0)
		out[o++] = tbl[(acc << (6 - bits)) & 0x3F];
	out[o] = '\0';
	return out;
}

/* Hex digit value or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode; refuses malformed escapes, NUL and invalid UTF-8. */
char *
es_pct_decode(const char *in, size_t len, int plus_is_space)
{
	char  *out = es_xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (in[i] == '%')
		{
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			out[o++] = (char) (hi * 16 + lo);
			i += 2;
		}
		else if (in[i] == '+' && plus_is_space)
			out[o++] = ' ';
		else
			out[o++] = in[i];
	}
	out[o] = '\0';
	if (!es_utf8_valid(out, o))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* Non-negative integer parser. */
es_status
es_parse_nonneg(const char *s, long long max, long long *out)
{
	long long v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return ES_FAIL;
	for (const char *p = s; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return ES_FAIL;
		if (v > (max - (*p - '0')) / 10)
			return ES_FAIL;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return ES_OK;
}

/* Look up a query parameter by name. */
es_status
es_query_param(const char *qs, const char *name, char **out)
{
	size_t		nlen = strlen(name);
	const char *p = qs;

	*out = NULL;
	while (p != NULL && *p)
	{
		const char *amp = strchr(p, '&');
		size_t		seglen = amp ? (size_t) (amp - p) : strlen(p);
		const char *eq = memchr(p, '=', seglen);
		size_t		klen = eq ? (size_t) (eq - p) : seglen;

		if (klen == nlen && memcmp(p, name, nlen) == 0)
		{
			const char *v = eq ? eq + 1 : p + seglen;
			size_t		vlen = eq ? seglen - klen - 1 : 0;

			free(*out);
			*out = es_pct_decode(v, vlen, 1);
			if (*out == NULL)
				return ES_FAIL;
		}
		p = amp ? amp + 1 : NULL;
	}
	return ES_OK;
}

/* Growing buffer. */
void
es_buf_init(es_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
es_buf_free(es_buf *b)
{
	free(b->data);
	es_buf_init(b);
}

void
es_buf_append(es_buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap)
	{
		size_t ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + len + 1)
			ncap *= 2;
		b->data = es_xrealloc(b->data, ncap);
		b->cap = ncap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
es_buf_puts(es_buf *b, const char *s)
{
	es_buf_append(b, s, strlen(s));
}

void
es_buf_printf(es_buf *b, const char *fmt, ...)
{
	char	tmp[1024];
	va_list ap;
	int		n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n < sizeof(tmp))
	{
		es_buf_append(b, tmp, (size_t) n);
		return;
	}
	{
		char *big = es_xmalloc((size_t) n + 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t) n + 1, fmt, ap);
		va_end(ap);
		es_buf_append(b, big, (size_t) n);
		free(big);
	}
}

/* JSON string literal; control chars escaped; bytes >= 0x80 copied when
 * the string is valid UTF-8, else escaped as \u00XX so the output stays
 * valid JSON (log lines carry raw request paths). */
void
es_buf_json_string(es_buf *b, const char *s)
{
	int raw_ok = es_utf8_valid(s ? s : "", s ? strlen(s) : 0);

	es_buf_append(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p; p++)
	{
		if (*p == '"' || *p == '\\')
		{
			char e[2] = {'\\', (char) *p};

			es_buf_append(b, e, 2);
		}
		else if (*p < 0x20 || (*p >= 0x80 && !raw_ok))
			es_buf_printf(b, "\\u%04x", *p);
		else
			es_buf_append(b, (const char *) p, 1);
	}
	es_buf_append(b, "\"", 1);
}

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD		 *sha256_md; /* written once under sha256_once */

static void
fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *
es_sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md ? sha256_md : EVP_sha256();
}
