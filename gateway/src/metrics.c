/*
 * metrics.c - counters and fixed-bucket histograms in Prometheus text.
 *
 * Series are keyed by (method, endpoint[, status]); endpoints are route
 * templates so cardinality is bounded by the route table.  metrics_lock
 * guards every series list; rendering copies under the same lock.  The
 * process_* metrics are read from /proc/self at each scrape (no state).
 */
#include "metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
								 0.25,	0.5,	1,	   2.5,	 5,		10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* A labelled series; the first member of counter and histo. */
typedef struct series
{
	struct series *next;
	char		  *method, *endpoint;
	int			   status; /* counters only; 0 for histograms */
} series;

typedef struct counter
{
	series			   s;
	unsigned long long value;
} counter;

typedef struct histo
{
	series			   s;
	unsigned long long bucket[NBUCKETS];
	unsigned long long count;
	double			   sum;
} histo;

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static series		  *counters; /* counter list, guarded by metrics_lock */
static series		  *histos;	 /* histo list, guarded by metrics_lock */

/* The series with these labels in *list, added (zeroed, size bytes) when
 * missing.  Caller holds metrics_lock. */
static series *
find_or_add(series **list, size_t size, const char *method,
			const char *endpoint, int status)
{
	series *s;

	for (s = *list; s; s = s->next)
		if (s->status == status && !strcmp(s->method, method) &&
			!strcmp(s->endpoint, endpoint))
			return s;
	s = es_xcalloc(1, size);
	s->method = es_xstrdup(method);
	s->endpoint = es_xstrdup(endpoint);
	s->status = status;
	s->next = *list;
	*list = s;
	return s;
}

static void
free_list(series **list)
{
	while (*list)
	{
		series *n = (*list)->next;

		free((*list)->method);
		free((*list)->endpoint);
		free(*list);
		*list = n;
	}
}

void
es_metrics_observe(const char *method, const char *endpoint, int status, double seconds)
{
	counter *c;
	histo	*h;

	pthread_mutex_lock(&metrics_lock);
	c = (counter *) find_or_add(&counters, sizeof(counter), method, endpoint, status);
	c->value++;
	h = (histo *) find_or_add(&histos, sizeof(histo), method, endpoint, 0);
	for (size_t i = 0; i < NBUCKETS; i++)
		if (seconds <= buckets[i])
			h->bucket[i]++;
	h->count++;
	h->sum += seconds;
	pthread_mutex_unlock(&metrics_lock);
}

/* Label value escaping (\\, \", \n). */
static void
label(es_buf *b, const char *s)
{
	es_buf_append(b, "\"", 1);
	for (; *s; s++)
	{
		if (*s == '\\' || *s == '"')
		{
			es_buf_append(b, "\\", 1);
			es_buf_append(b, s, 1);
		}
		else if (*s == '\n')
			es_buf_append(b, "\\n", 2);
		else
			es_buf_append(b, s, 1);
	}
	es_buf_append(b, "\"", 1);
}

/* "{method=...,endpoint=..." (the caller closes the brace). */
static void
labels(es_buf *b, const series *s)
{
	es_buf_puts(b, "{method=");
	label(b, s->method);
	es_buf_puts(b, ",endpoint=");
	label(b, s->endpoint);
}

void
es_metrics_render(es_buf *b, int pool_size, int pool_available,
				  int breaker_event_store, int breaker_query_handler)
{
	pthread_mutex_lock(&metrics_lock);
	es_buf_puts(b, "# HELP http_requests_total HTTP requests by method, route template and status.\n"
				   "# TYPE http_requests_total counter\n");
	for (series *s = counters; s; s = s->next)
	{
		es_buf_puts(b, "http_requests_total");
		labels(b, s);
		es_buf_printf(b, ",status_code=\"%d\"} %llu\n", s->status,
					  ((counter *) s)->value);
	}
	es_buf_puts(b, "# HELP http_request_duration_seconds HTTP request latency by method and route template.\n"
				   "# TYPE http_request_duration_seconds histogram\n");
	for (series *s = histos; s; s = s->next)
	{
		const histo *h = (const histo *) s;

		for (size_t i = 0; i < NBUCKETS; i++)
		{
			es_buf_puts(b, "http_request_duration_seconds_bucket");
			labels(b, s);
			es_buf_printf(b, ",le=\"%g\"} %llu\n", buckets[i], h->bucket[i]);
		}
		es_buf_puts(b, "http_request_duration_seconds_bucket");
		labels(b, s);
		es_buf_printf(b, ",le=\"+Inf\"} %llu\n", h->count);
		es_buf_puts(b, "http_request_duration_seconds_sum");
		labels(b, s);
		es_buf_printf(b, "} %.9f\n", h->sum);
		es_buf_puts(b, "http_request_duration_seconds_count");
		labels(b, s);
		es_buf_printf(b, "} %llu\n", h->count);
	}
	pthread_mutex_unlock(&metrics_lock);
	es_buf_printf(b,
				  "# HELP circuit_breaker_state Circuit breaker state (0 closed, 1 half-open, 2 open).\n"
				  "# TYPE circuit_breaker_state gauge\n"
				  "circuit_breaker_state{service=\"event_store\"} %d\n"
				  "circuit_breaker_state{service=\"query_handler\"} %d\n"
				  "# HELP db_pool_size Configured database connections.\n"
				  "# TYPE db_pool_size gauge\n"
				  "db_pool_size %d\n"
				  "# HELP db_pool_available Idle database connections.\n"
				  "# TYPE db_pool_available gauge\n"
				  "db_pool_available %d\n",
				  breaker_event_store, breaker_query_handler, pool_size,
				  pool_available);
}

void
es_metrics_render_sse(es_buf *b, int subscribers)
{
	es_buf_printf(b,
				  "# HELP es_gateway_sse_subscribers Live event subscriptions connected now.\n"
				  "# TYPE es_gateway_sse_subscribers gauge\n"
				  "es_gateway_sse_subscribers %d\n",
				  subscribers);
}

/* Open file descriptors: the entries of /proc/self/fd (less the one the
 * listing itself holds); -1 when unreadable. */
static long
open_fds(void)
{
	DIR					*d = opendir("/proc/self/fd");
	const struct dirent *e;
	long				 n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* An unsigned decimal at s; *ok says whether there was one. */
static unsigned long long
read_ull(const char *s, int *ok)
{
	char			  *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);

	*ok = end != NULL && end != s;
	return v;
}

/* Process start as Unix time: starttime (field 22 of /proc/self/stat, clock
 * ticks since boot) + btime of /proc/stat; -1 when unreadable. */
static double
start_time_seconds(void)
{
	char			   line[1024];
	const char		  *p;
	unsigned long long start_ticks = 0, btime = 0;
	int				   found = 0;
	FILE			  *f = fopen("/proc/self/stat", "r");
	long			   hz = sysconf(_SC_CLK_TCK);

	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	/* the command name may hold spaces and parentheses: fields 3.. follow
	 * the last ')' */
	p = strrchr(line, ')');
	for (int field = 3; p != NULL && field <= 22; field++)
	{
		p = strchr(p, ' ');
		if (p != NULL && field == 22)
			start_ticks = read_ull(p + 1, &found);
		else if (p != NULL)
			p++;
	}
	if (!found)
		return -1;
	found = 0;
	f = fopen("/proc/stat", "r");
	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "btime ", 6) == 0)
			btime = read_ull(line + 6, &found);
	fclose(f);
	if (!found || hz <= 0)
		return -1;
	return (double) btime + (double) start_ticks / (double) hz;
}

void
es_metrics_render_process(es_buf *b, const char *version)
{
	struct rusage	   ru;
	struct rlimit	   rl;
	unsigned long long vm_pages = 0, rss_pages = 0;
	long			   page = sysconf(_SC_PAGESIZE);
	FILE			  *f = fopen("/proc/self/statm", "r");
	double			   start = start_time_seconds();
	long			   fds = open_fds();
	int				   have_mem = 0;
	char			   line[256];

	/* statm: "size resident shared ..." in pages */
	if (f != NULL)
	{
		if (fgets(line, sizeof(line), f) != NULL)
		{
			char *end = NULL;

			vm_pages = strtoull(line, &end, 10);
			if (end != NULL && end != line)
				rss_pages = read_ull(end, &have_mem);
		}
		fclose(f);
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		es_buf_printf(b,
					  "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
					  "# TYPE process_cpu_seconds_total counter\n"
					  "process_cpu_seconds_total %.6f\n",
					  (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
						  (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	if (have_mem && page > 0)
		es_buf_printf(b,
					  "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
					  "# TYPE process_resident_memory_bytes gauge\n"
					  "process_resident_memory_bytes %llu\n"
					  "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
					  "# TYPE process_virtual_memory_bytes gauge\n"
					  "process_virtual_memory_bytes %llu\n",
					  rss_pages * (unsigned long long) page,
					  vm_pages * (unsigned long long) page);
	if (fds >= 0)
		es_buf_printf(b,
					  "# HELP process_open_fds Number of open file descriptors.\n"
					  "# TYPE process_open_fds gauge\n"
					  "process_open_fds %ld\n",
					  fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		es_buf_printf(b,
					  "# HELP process_max_fds Maximum number of open file descriptors.\n"
					  "# TYPE process_max_fds gauge\n"
					  "process_max_fds %llu\n",
					  (unsigned long long) rl.rlim_cur);
	if (start >= 0)
		es_buf_printf(b,
					  "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
					  "# TYPE process_start_time_seconds gauge\n"
					  "process_start_time_seconds %.2f\n",
					  start);
	es_buf_puts(b, "# HELP es_gateway_build_info The gateway's version (always 1).\n"
				   "# TYPE es_gateway_build_info gauge\n"
				   "es_gateway_build_info{version=");
	label(b, version);
	es_buf_puts(b, "} 1\n");
}

void
es_metrics_reset(void)
{
	pthread_mutex_lock(&metrics_lock);
	free_list(&counters);
	free_list(&histos);
	pthread_mutex_unlock(&metrics_lock);
}
