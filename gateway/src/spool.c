/*
 * spool.c - the durable command spool (see spool.h for the contract).
 *
 * On disk: ES_SPOOL_DIR/<20-digit sequence>.cmd, one command each, framed
 * "ES1 <tenant len> <id len> <stream len> <body len>\n" + the four byte
 * strings.  A file exists under its final name only after write + fsync +
 * rename + directory fsync, so a kill -9 leaves either the whole command or
 * a stray .tmp (removed at the next start).  failed.log is append-only,
 * framed "ESF <status> <tenant len> <id len> <body len>\n" + bytes; a
 * torn last record is ignored.  In memory: the pending commands oldest
 * first and the refused ones, behind one mutex.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

typedef struct spool_entry
{
	struct spool_entry *next;
	unsigned long long	seq;
	char			   *tenant, *id, *stream;
	long long			bytes; /* file size */
} spool_entry;

typedef struct failed_entry
{
	struct failed_entry *next;
	char				*tenant, *id, *body;
	int					 status;
} failed_entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  wake = PTHREAD_COND_INITIALIZER;
static pthread_t	   replayer;
static int			   replayer_started, stopping;
static char			  *spool_dir;
static int			   dir_fd = -1;
static int			   broken; /* a write or fsync failed: no more spooling */
static long long	   max_bytes, depth_bytes;
static int			   max_commands, depth;
static unsigned long long next_seq = 1;
static spool_entry		 *head, *tail;
static failed_entry		 *failed;
static long long		  replayed_total, failed_total, rejected_total;
static es_spool_apply_fn  apply_fn;

static char *
path_of(unsigned long long seq, const char *suffix)
{
	es_buf b;

	es_buf_init(&b);
	es_buf_printf(&b, "%s/%020llu%s", spool_dir, seq, suffix);
	return b.data;
}

/* Write all of buf; 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Read a whole file; malloc'd NUL-terminated or NULL. */
static char *
read_file(const char *path, size_t *len)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char	   *buf;
	size_t		got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
	{
		close(fd);
		return NULL;
	}
	buf = es_xmalloc((size_t) st.st_size + 1);
	while (got < (size_t) st.st_size)
	{
		ssize_t n = read(fd, buf + got, (size_t) st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t) n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* strerror_r (XSI) for the thread-safe lint rule. */
static const char *
errmsg(int e, char *buf, size_t len)
{
	if (strerror_r(e, buf, len) != 0)
		snprintf(buf, len, "errno %d", e);
	return buf;
}

/* Parse "<tag> n1 .. nk\n": k unsigned numbers after tag; 0 or -1. */
static int
parse_head(const char *p, const char *nl, const char *tag, size_t *out, int k)
{
	size_t tl = strlen(tag);

	if ((size_t) (nl - p) < tl || memcmp(p, tag, tl) != 0)
		return -1;
	p += tl;
	for (int i = 0; i < k; i++)
	{
		char			  *end;
		unsigned long long v;

		if (*p != ' ' || p[1] < '0' || p[1] > '9')
			return -1;
		errno = 0;
		v = strtoull(p + 1, &end, 10);
		if (errno != 0 || end > nl || v > (unsigned long long) 1 << 40)
			return -1;
		out[i] = (size_t) v;
		p = end;
	}
	return p == nl ? 0 : -1;
}

/* Split a .cmd file into its parts (pointers into buf). 0 or -1. */
static int
parse_cmd(char *buf, size_t len, char **tenant, char **id, char **stream, char **body)
{
	size_t n[4], tl, il, sl, bl;
	char  *nl = memchr(buf, '\n', len);
	char  *p;

	if (nl == NULL || parse_head(buf, nl, "ES1", n, 4) != 0)
		return -1;
	tl = n[0];
	il = n[1];
	sl = n[2];
	bl = n[3];
	p = nl + 1;
	if ((size_t) (p - buf) + tl + il + sl + bl != len)
		return -1;
	*tenant = es_xstrndup(p, tl);
	*id = es_xstrndup(p + tl, il);
	*stream = es_xstrndup(p + tl + il, sl);
	*body = es_xstrndup(p + tl + il + sl, bl);
	return 0;
}

static void
entry_free(spool_entry *e)
{
	free(e->tenant);
	free(e->id);
	free(e->stream);
	free(e);
}

/* Append to the pending list (lock held or single-threaded). */
static void
push(spool_entry *e)
{
	e->next = NULL;
	if (tail)
		tail->next = e;
	else
		head = e;
	tail = e;
	depth++;
	depth_bytes += e->bytes;
}

static void
add_failed(char *tenant, char *id, int status, char *body)
{
	failed_entry *f = es_xcalloc(1, sizeof(*f));

	f->tenant = tenant;
	f->id = id;
	f->status = status;
	f->body = body;
	f->next = failed;
	failed = f;
}

static void
load_failed(void)
{
	es_buf b;
	char  *buf, *p, *end;
	size_t len;

	es_buf_init(&b);
	es_buf_printf(&b, "%s/failed.log", spool_dir);
	buf = read_file(b.data, &len);
	es_buf_free(&b);
	if (buf == NULL)
		return;
	p = buf;
	end = buf + len;
	while (p < end)
	{
		char  *nl = memchr(p, '\n', (size_t) (end - p));
		size_t n[4];

		if (nl == NULL || parse_head(p, nl, "ESF", n, 4) != 0 ||
			(size_t) (end - (nl + 1)) < n[1] + n[2] + n[3])
			break; /* torn last record */
		p = nl + 1;
		add_failed(es_xstrndup(p, n[1]), es_xstrndup(p + n[1], n[2]),
				   (int) n[0], es_xstrndup(p + n[1] + n[2], n[3]));
		p += n[1] + n[2] + n[3];
	}
	free(buf);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Load the .cmd files oldest first, remove stray .tmp files. */
static es_status
load_pending(DIR *d, char *errbuf, size_t errlen)
{
	struct dirent *de;
	char		 **names = NULL;
	size_t		   n = 0, cap = 0;

	while ((de = readdir(d)) != NULL)
	{
		size_t l = strlen(de->d_name);

		if (l == 24 && strcmp(de->d_name + 20, ".tmp") == 0)
			(void) unlinkat(dir_fd, de->d_name, 0);
		else if (l == 24 && strcmp(de->d_name + 20, ".cmd") == 0)
		{
			if (n == cap)
			{
				cap = cap ? cap * 2 : 64;
				names = es_xrealloc(names, cap * sizeof(char *));
			}
			names[n++] = es_xstrdup(de->d_name);
		}
	}
	if (n > 1)
		qsort(names, n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < n; i++)
	{
		es_buf		 p;
		char		*buf, *body;
		size_t		 len;
		spool_entry *e = es_xcalloc(1, sizeof(*e));

		e->seq = strtoull(names[i], NULL, 10);
		es_buf_init(&p);
		es_buf_printf(&p, "%s/%s", spool_dir, names[i]);
		buf = read_file(p.data, &len);
		es_buf_free(&p);
		if (buf == NULL ||
			parse_cmd(buf, len, &e->tenant, &e->id, &e->stream, &body) != 0)
		{
			snprintf(errbuf, errlen, "ES_SPOOL_DIR: unreadable spool file %s",
					 names[i]);
			free(buf);
			free(e);
			for (; i < n; i++)
				free(names[i]);
			free(names);
			return ES_FAIL;
		}
		free(body);
		free(buf);
		e->bytes = (long long) len;
		push(e);
		if (e->seq >= next_seq)
			next_seq = e->seq + 1;
		free(names[i]);
	}
	free(names);
	return ES_OK;
}

es_status
es_spool_open(const char *dir, long long maxb, int maxc, char *errbuf, size_t errlen)
{
	DIR		 *d;
	es_status st;
	char	  eb[128];

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
	{
		snprintf(errbuf, errlen, "ES_SPOOL_DIR %s: %s", dir,
				 errmsg(errno, eb, sizeof(eb)));
		return ES_FAIL;
	}
	d = opendir(dir);
	if (d == NULL)
	{
		snprintf(errbuf, errlen, "ES_SPOOL_DIR %s: %s", dir,
				 errmsg(errno, eb, sizeof(eb)));
		return ES_FAIL;
	}
	spool_dir = es_xstrdup(dir);
	dir_fd = dup(dirfd(d));
	max_bytes = maxb;
	max_commands = maxc;
	st = load_pending(d, errbuf, errlen);
	closedir(d);
	if (st == ES_OK)
		load_failed();
	if (depth > 0)
		es_log(ES_LOG_INFO, "spool: %d commands (%lld bytes) to replay from %s",
			   depth, depth_bytes, dir);
	return st;
}

int
es_spool_enabled(void)
{
	int on;

	pthread_mutex_lock(&lock);
	on = spool_dir != NULL && !broken;
	pthread_mutex_unlock(&lock);
	return on;
}

/* Stop spooling for good after an I/O error (never retry an fsync). */
static void
break_spool(const char *what)
{
	char eb[128];

	es_log(ES_LOG_ERROR, "spool: %s failed (%s): spooling stopped", what,
		   errmsg(errno, eb, sizeof(eb)));
	broken = 1;
}

es_status
es_spool_put(const char *tenant, const char *id, const char *stream,
			 const char *body, size_t body_len, es_error *err)
{
	es_buf		 hdr;
	char		*tmp, *fin;
	int			 fd, closed = 0;
	spool_entry *e;
	long long	 size;
	size_t		 total;

	es_buf_init(&hdr);
	es_buf_printf(&hdr, "ES1 %zu %zu %zu %zu\n", strlen(tenant), strlen(id),
				  strlen(stream), body_len);
	total = hdr.len + strlen(tenant) + strlen(id) + strlen(stream) + body_len;
	size = (long long) total;
	/* the lock is held across the write so files appear in sequence order
	 * and the bounds hold; spooling only happens during an outage */
	pthread_mutex_lock(&lock);
	if (spool_dir == NULL || broken || depth >= max_commands ||
		depth_bytes + size > max_bytes)
	{
		rejected_total++;
		pthread_mutex_unlock(&lock);
		es_buf_free(&hdr);
		es_error_set(err, 503, "unavailable",
					 "event store unavailable and the command spool is full");
		err->retry_after = 5;
		return ES_FAIL;
	}
	tmp = path_of(next_seq, ".tmp");
	fin = path_of(next_seq, ".cmd");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, hdr.data, hdr.len) != 0 ||
		write_all(fd, tenant, strlen(tenant)) != 0 ||
		write_all(fd, id, strlen(id)) != 0 ||
		write_all(fd, stream, strlen(stream)) != 0 ||
		write_all(fd, body, body_len) != 0 || fsync(fd) != 0 ||
		(closed = 1, close(fd) != 0) || rename(tmp, fin) != 0 || fsync(dir_fd) != 0)
	{
		break_spool("write");
		if (fd >= 0 && !closed)
			(void) close(fd);
		(void) unlink(tmp);
		rejected_total++;
		pthread_mutex_unlock(&lock);
		free(tmp);
		free(fin);
		es_buf_free(&hdr);
		es_error_set(err, 503, "unavailable",
					 "event store unavailable (spool write failed)");
		err->retry_after = 5;
		return ES_FAIL;
	}
	e = es_xcalloc(1, sizeof(*e));
	e->seq = next_seq++;
	e->tenant = es_xstrdup(tenant);
	e->id = es_xstrdup(id);
	e->stream = es_xstrdup(stream);
	e->bytes = size;
	push(e);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	free(tmp);
	free(fin);
	es_buf_free(&hdr);
	return ES_OK;
}

int
es_spool_pending(const char *tenant, const char *id)
{
	int found = 0;

	pthread_mutex_lock(&lock);
	for (spool_entry *e = head; e && !found; e = e->next)
		found = strcmp(e->id, id) == 0 && strcmp(e->tenant, tenant) == 0;
	pthread_mutex_unlock(&lock);
	return found;
}

int
es_spool_stream_pending(const char *tenant, const char *stream)
{
	int found = 0;

	pthread_mutex_lock(&lock);
	for (spool_entry *e = head; e && !found; e = e->next)
		found = strcmp(e->stream, stream) == 0 && strcmp(e->tenant, tenant) == 0;
	pthread_mutex_unlock(&lock);
	return found;
}

int
es_spool_failed(const char *tenant, const char *id, int *status, char **body)
{
	int found = 0;

	pthread_mutex_lock(&lock);
	for (failed_entry *f = failed; f && !found; f = f->next)
		if (strcmp(f->id, id) == 0 && strcmp(f->tenant, tenant) == 0)
		{
			found = 1;
			*status = f->status;
			*body = es_xstrdup(f->body);
		}
	pthread_mutex_unlock(&lock);
	return found;
}

/* Record a refused command in failed.log (lock held). */
static void
record_failed(const spool_entry *e, const es_error *err)
{
	char  *body = es_error_body(err);
	es_buf b;
	int	   fd;

	es_buf_init(&b);
	es_buf_printf(&b, "ESF %d %zu %zu %zu\n", err->http_status,
				  strlen(e->tenant), strlen(e->id), strlen(body));
	es_buf_puts(&b, e->tenant);
	es_buf_puts(&b, e->id);
	es_buf_puts(&b, body);
	fd = openat(dir_fd, "failed.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, b.data, b.len) != 0 || fsync(fd) != 0)
		break_spool("failed.log write");
	if (fd >= 0)
		(void) close(fd);
	es_buf_free(&b);
	add_failed(es_xstrdup(e->tenant), es_xstrdup(e->id), err->http_status, body);
}

/* Apply the oldest command once; returns 1 when it left the spool. */
static int
replay_one(spool_entry *e)
{
	char	 *path = path_of(e->seq, ".cmd");
	char	 *buf, *tenant = NULL, *id = NULL, *stream = NULL, *body = NULL;
	size_t	  len;
	es_error  err = {0};
	es_status st = ES_FAIL;
	int		  done = 0;

	buf = read_file(path, &len);
	if (buf != NULL && parse_cmd(buf, len, &tenant, &id, &stream, &body) == 0)
		st = apply_fn(e->tenant, e->id, body, &err);
	else
		es_error_set(&err, 400, "malformed_request", "spool file unreadable");
	if (st == ES_OK || (err.http_status != 503 && err.http_status != 504))
	{
		pthread_mutex_lock(&lock);
		if (st != ES_OK)
		{
			record_failed(e, &err);
			failed_total++;
			es_log(ES_LOG_WARN, "spool: command %s refused on replay: %s",
				   e->id, err.code);
		}
		else
			replayed_total++;
		(void) unlink(path);
		(void) fsync(dir_fd);
		head = e->next;
		if (head == NULL)
			tail = NULL;
		depth--;
		depth_bytes -= e->bytes;
		pthread_mutex_unlock(&lock);
		entry_free(e);
		done = 1;
	}
	es_error_clear(&err);
	free(buf);
	free(tenant);
	free(id);
	free(stream);
	free(body);
	free(path);
	return done;
}

static void *
replay_main(void *arg)
{
	int backoff_ms = 100;

	(void) arg;
	for (;;)
	{
		spool_entry	   *e;
		struct timespec ts;

		pthread_mutex_lock(&lock);
		if (!stopping && head == NULL)
		{
			es_abstime_in(&ts, 1000);
			pthread_cond_timedwait(&wake, &lock, &ts);
		}
		e = head;
		if (stopping)
		{
			pthread_mutex_unlock(&lock);
			break;
		}
		pthread_mutex_unlock(&lock);
		if (e == NULL)
			continue;
		if (replay_one(e))
			backoff_ms = 100;
		else
		{
			/* the event store is still away: back off, 100 ms -> 2 s */
			pthread_mutex_lock(&lock);
			es_abstime_in(&ts, backoff_ms);
			if (!stopping)
				pthread_cond_timedwait(&wake, &lock, &ts);
			pthread_mutex_unlock(&lock);
			backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
		}
	}
	return NULL;
}

es_status
es_spool_start(es_spool_apply_fn apply)
{
	if (spool_dir == NULL)
		return ES_OK;
	apply_fn = apply;
	if (pthread_create(&replayer, NULL, replay_main, NULL) != 0)
		return ES_FAIL;
	replayer_started = 1;
	return ES_OK;
}

void
es_spool_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	if (replayer_started)
		pthread_join(replayer, NULL);
	replayer_started = 0;
	while (head)
	{
		spool_entry *e = head;

		head = e->next;
		entry_free(e);
	}
	tail = NULL;
	while (failed)
	{
		failed_entry *f = failed;

		failed = f->next;
		free(f->tenant);
		free(f->id);
		free(f->body);
		free(f);
	}
	if (dir_fd >= 0)
		close(dir_fd);
	dir_fd = -1;
	free(spool_dir);
	spool_dir = NULL;
}

void
es_spool_render_metrics(es_buf *out)
{
	pthread_mutex_lock(&lock);
	es_buf_printf(out,
				  "# HELP es_gateway_spool_depth Commands waiting in the spool.\n"
				  "# TYPE es_gateway_spool_depth gauge\n"
				  "es_gateway_spool_depth %d\n"
				  "# HELP es_gateway_spool_bytes Bytes of the commands waiting in the spool.\n"
				  "# TYPE es_gateway_spool_bytes gauge\n"
				  "es_gateway_spool_bytes %lld\n"
				  "# HELP es_gateway_spool_replayed_total Spooled commands applied.\n"
				  "# TYPE es_gateway_spool_replayed_total counter\n"
				  "es_gateway_spool_replayed_total %lld\n"
				  "# HELP es_gateway_spool_failed_total Spooled commands the database refused.\n"
				  "# TYPE es_gateway_spool_failed_total counter\n"
				  "es_gateway_spool_failed_total %lld\n"
				  "# HELP es_gateway_spool_rejected_total Commands not spooled (full or stopped).\n"
				  "# TYPE es_gateway_spool_rejected_total counter\n"
				  "es_gateway_spool_rejected_total %lld\n",
				  depth, depth_bytes, replayed_total, failed_total, rejected_total);
	pthread_mutex_unlock(&lock);
}
