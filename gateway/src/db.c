/*
 * db.c - libpq pool.
 *
 * Concurrency: pool_lock guards slots[].in_use, the idle count and the
 * shutdown flag; pool_cond signals a returned connection.  A PGconn is used
 * by exactly one thread between checkout and checkin.  A connection found
 * broken (CONNECTION_BAD, lost socket, client-side timeout) is closed at
 * checkin and reopened lazily by the next checkout, so one dead server
 * costs each slot one failed call at most.
 *
 * Each call is pipelined: BEGIN, set_config('statement_timeout', $1, true),
 * the statement, COMMIT, Sync -- one round trip, and the timeout is local
 * to that transaction.  A client-side deadline cancels the query with
 * PQcancel if the server stops answering (from a detached thread: libpq
 * 15's PQcancel waits for the server, which may be hung).
 *
 * Resilience: each call has one deadline (command_ms for event_store,
 * query_ms for query_handler) covering pool waits, attempts and backoff;
 * each attempt's server-side statement_timeout is cut to what is left.
 * Before each attempt the service's breaker is asked (open: fail fast);
 * each attempt's outcome is recorded.  A failed attempt is retried with
 * backoff only when it surely did not commit or is idempotent (retry.h).
 * An idle pooled connection that has something to read (the server's
 * FATAL before closing, or EOF after a restart) is stale: it is replaced
 * at checkout, so a database restart fails no request.
 */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "breaker.h"
#include "log.h"
#include "retry.h"
#include "util.h"

typedef struct slot
{
	PGconn *conn;
	int		in_use;
} slot;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  pool_cond = PTHREAD_COND_INITIALIZER;
static slot *slots;	 /* guarded by pool_lock (in_use); conn owned by holder */
static int	 nslots; /* set once in es_db_init */
static int	 navailable;			 /* guarded by pool_lock */
static int	 shutting_down;			 /* guarded by pool_lock */
static char *conninfo;				 /* set once in es_db_init */
static int	 wait_ms;				 /* set once */
static int	 stmt_timeout_ms;		 /* set once */
static int	 command_ms, query_ms;	 /* set once */
static es_retry_policy retry_policy; /* set once */
static int cancels_running;			 /* __atomic: detached PQcancel threads */

es_status
es_db_init(const es_db_options *opt)
{
	slots = es_xcalloc((size_t) opt->pool_size, sizeof(slot));
	nslots = opt->pool_size;
	navailable = nslots;
	conninfo = es_xstrdup(opt->conninfo);
	wait_ms = opt->wait_ms;
	stmt_timeout_ms = opt->statement_timeout_ms;
	command_ms = opt->command_timeout_ms > 0 ? opt->command_timeout_ms : 45000;
	query_ms = opt->query_timeout_ms > 0 ? opt->query_timeout_ms : 15000;
	retry_policy = (es_retry_policy){opt->max_retries, opt->initial_backoff_ms,
									 opt->multiplier};
	if (opt->es_failure_threshold > 0)
		es_breaker_configure(ES_BREAKER_EVENT_STORE, opt->es_failure_threshold,
							 opt->es_open_seconds, opt->es_half_open_probes);
	if (opt->qh_failure_threshold > 0)
		es_breaker_configure(ES_BREAKER_QUERY_HANDLER, opt->qh_failure_threshold,
							 opt->qh_open_seconds, opt->qh_half_open_probes);
	return ES_OK;
}

void
es_db_shutdown(void)
{
	pthread_mutex_lock(&pool_lock);
	shutting_down = 1;
	pthread_cond_broadcast(&pool_cond);
	for (int i = 0; i < nslots; i++)
		if (!slots[i].in_use && slots[i].conn)
		{
			PQfinish(slots[i].conn);
			slots[i].conn = NULL;
		}
	pthread_mutex_unlock(&pool_lock);
	free(slots);
	slots = NULL;
	nslots = 0;
	free(conninfo);
	conninfo = NULL;
}

int
es_db_pool_size(void)
{
	return nslots;
}

int
es_db_pool_available(void)
{
	int n;

	pthread_mutex_lock(&pool_lock);
	n = navailable;
	pthread_mutex_unlock(&pool_lock);
	return n;
}

/* Route server notices (e.g. FATAL on termination) into the JSON log. */
static void
notice_to_log(void *arg, const char *message)
{
	size_t n = strlen(message);

	(void) arg;
	es_log(ES_LOG_INFO, "database notice: %.*s",
		   (int) (n > 0 && message[n - 1] == '\n' ? n - 1 : n), message);
}

/* Open a connection, giving up after timeout_s seconds (libpq: >= 2). */
static PGconn *
connect_within(int timeout_s)
{
	/* defaults first: settings in ES_DATABASE_URL (expanded last) win */
	char		tbuf[12];
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {tbuf, "es-gateway", conninfo, NULL};
	PGconn	   *c;

	snprintf(tbuf, sizeof(tbuf), "%d", timeout_s);
	c = PQconnectdbParams(keys, vals, 1);
	if (c != NULL && PQstatus(c) != CONNECTION_OK)
	{
		es_log(ES_LOG_WARN, "database connection failed: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	if (c != NULL)
		PQsetNoticeProcessor(c, notice_to_log, NULL);
	return c;
}

/* Open a connection with a bounded connect timeout. */
PGconn *
es_db_connect_dedicated(void)
{
	return connect_within(5);
}

/* Take a slot, waiting up to wait_ms; returns index or -1. */
static int
checkout(int wait)
{
	struct timespec deadline;
	int				idx = -1;

	es_abstime_in(&deadline, wait);
	pthread_mutex_lock(&pool_lock);
	while (!shutting_down && navailable == 0)
		if (pthread_cond_timedwait(&pool_cond, &pool_lock, &deadline) == ETIMEDOUT)
			break;
	if (!shutting_down && navailable > 0)
	{
		/* prefer a slot with an open connection */
		for (int i = 0; i < nslots; i++)
			if (!slots[i].in_use &&
				(idx < 0 || (slots[idx].conn == NULL && slots[i].conn)))
				idx = i;
		slots[idx].in_use = 1;
		navailable--;
	}
	pthread_mutex_unlock(&pool_lock);
	return idx;
}

/* Return a slot; a broken connection is closed here. */
static void
checkin(int idx, int broken)
{
	PGconn *dead = NULL;

	pthread_mutex_lock(&pool_lock);
	if (broken || (slots[idx].conn && PQstatus(slots[idx].conn) != CONNECTION_OK))
	{
		dead = slots[idx].conn;
		slots[idx].conn = NULL;
	}
	slots[idx].in_use = 0;
	navailable++;
	pthread_cond_signal(&pool_cond);
	pthread_mutex_unlock(&pool_lock);
	if (dead)
		PQfinish(dead);
}

/* Wait until a result can be read without blocking, or the deadline.
 * Returns 0 ok, -1 connection error, -2 timeout. */
static int
wait_readable(PGconn *c, long long deadline)
{
	while (PQisBusy(c))
	{
		struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
		long long	  left = deadline - es_mono_ms();
		int			  r;

		if (left <= 0)
			return -2;
		r = poll(&pfd, 1, (int) (left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && !PQconsumeInput(c))
			return -1;
	}
	return 0;
}

static void *
cancel_thread(void *arg)
{
	PGcancel *cn = arg;
	char	  buf[256];

	if (!PQcancel(cn, buf, sizeof(buf)))
		es_log(ES_LOG_WARN, "database cancel failed: %s", buf);
	PQfreeCancel(cn);
	__atomic_fetch_sub(&cancels_running, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Cancel the running query in the server (best effort, never blocks: a
 * hung server gets the cancel when it wakes up, so the statement is not
 * left running).  At most 64 cancels wait at once. */
static void
cancel(PGconn *c)
{
	PGcancel	  *cn = PQgetCancel(c);
	pthread_t	   t;
	pthread_attr_t attr;

	if (cn == NULL)
		return;
	if (__atomic_add_fetch(&cancels_running, 1, __ATOMIC_RELAXED) > 64)
	{
		__atomic_fetch_sub(&cancels_running, 1, __ATOMIC_RELAXED);
		PQfreeCancel(cn);
		es_log(ES_LOG_WARN, "database cancel skipped: 64 cancels pending");
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, cancel_thread, cn) != 0)
	{
		__atomic_fetch_sub(&cancels_running, 1, __ATOMIC_RELAXED);
		PQfreeCancel(cn);
	}
	pthread_attr_destroy(&attr);
}

/* Keep the first error result's fields. */
static void
note_error(PGresult *r, es_error *err, int *have_err)
{
	if (*have_err)
		return;
	es_error_from_sqlstate(err, PQresultErrorField(r, PG_DIAG_SQLSTATE),
						   PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
						   PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
	*have_err = 1;
}

/* Check out a slot and its connection (opened lazily); NULL with err set
 * when none is available or the server cannot be reached. */
/* An idle pooled connection has nothing to say: anything readable is the
 * server's goodbye (FATAL 57P01, EOF after a crash or restart). */
static int
stale(PGconn *c)
{
	struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};

	return PQstatus(c) != CONNECTION_OK || pfd.fd < 0 || poll(&pfd, 1, 0) != 0;
}

static PGconn *
acquire(int *idx, int wait, long long deadline, es_error *err, es_attempt_end *end)
{
	long long left;

	*idx = checkout(wait);
	if (*idx < 0)
	{
		*end = ES_ATTEMPT_POOL;
		es_error_set(err, 503, "unavailable", "no database connection available");
		return NULL;
	}
	if (slots[*idx].conn != NULL && stale(slots[*idx].conn))
	{
		es_log(ES_LOG_INFO, "replacing a stale pooled database connection");
		PQfinish(slots[*idx].conn);
		slots[*idx].conn = NULL;
	}
	*end = ES_ATTEMPT_NOT_SENT;
	left = deadline - es_mono_ms();
	if (slots[*idx].conn == NULL && left < 2000)
	{
		/* libpq cannot connect within less than 2 s: keep the deadline */
		checkin(*idx, 1);
		es_error_from_sqlstate(err, "08006", NULL, NULL);
		return NULL;
	}
	if (slots[*idx].conn == NULL)
	{
		slots[*idx].conn = connect_within(left >= 5000 ? 5 : (int) (left / 1000));
		if (slots[*idx].conn == NULL)
		{
			checkin(*idx, 1);
			es_error_from_sqlstate(err, "08006", NULL, NULL);
			return NULL;
		}
	}
	return slots[*idx].conn;
}

/* Queue BEGIN, the timeout, the statement, COMMIT and a sync; 0 when sent. */
static int
send_pipeline(PGconn *c, const es_stmt *stmt, const char *const *params,
			  const char *timeout_text)
{
	const char *tparam[1] = {timeout_text};

	if (!PQenterPipelineMode(c) ||
		!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) ||
		!PQsendQueryParams(c, "SELECT pg_catalog.set_config('statement_timeout', $1, true)",
						   1, NULL, tparam, NULL, NULL, 0) ||
		!PQsendQueryParams(c, stmt->sql, stmt->nparams, NULL, params, NULL, NULL, 0) ||
		!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
		!PQpipelineSync(c))
	{
		es_log(ES_LOG_WARN, "database send failed (%s): %s", stmt->name,
			   PQerrorMessage(c));
		return -1;
	}
	return 0;
}

typedef enum run_outcome
{
	RUN_SYNCED,	 /* every result read, up to the sync */
	RUN_TIMEOUT, /* client-side deadline passed */
	RUN_LOST	 /* connection error or protocol out of step */
} run_outcome;

/* Read the four statements' results (each followed by NULL) and the sync;
 * keep the statement's tuples in *result and the first error in err. */
static run_outcome
collect(PGconn *c, long long deadline, PGresult **result, es_error *err, int *have_err)
{
	for (int q = 0; q < 5; q++)
	{
		for (;;)
		{
			PGresult *r;
			int		  rc = wait_readable(c, deadline);

			if (rc == -2)
				return RUN_TIMEOUT;
			if (rc == -1)
				return RUN_LOST;
			r = PQgetResult(c);
			if (r == NULL)
			{
				if (q == 4)
					return RUN_LOST; /* no sync result: the connection is gone
									  */
				break;
			}
			switch (PQresultStatus(r))
			{
				case PGRES_PIPELINE_SYNC:
					PQclear(r);
					return q == 4 ? RUN_SYNCED : RUN_LOST;
				case PGRES_TUPLES_OK:
				case PGRES_COMMAND_OK:
					if (q == 2 && *result == NULL)
					{
						*result = r;
						r = NULL;
					}
					break;
				case PGRES_PIPELINE_ABORTED:
					break;
				case PGRES_FATAL_ERROR:
				default:
					note_error(r, err, have_err);
					break;
			}
			PQclear(r);
		}
	}
	return RUN_LOST;
}

/* Leave pipeline mode with the transaction closed; returns 1 when the
 * connection must be dropped. */
static int
end_pipeline(PGconn *c)
{
	int broken = !PQexitPipelineMode(c);

	if (!broken && PQtransactionStatus(c) != PQTRANS_IDLE)
	{
		PGresult *rb = PQexec(c, "ROLLBACK");

		if (PQresultStatus(rb) != PGRES_COMMAND_OK)
			broken = 1;
		PQclear(rb);
	}
	return broken || PQstatus(c) != CONNECTION_OK;
}

/* The first error wins; a connection-level cause only fills an empty err. */
static void
note_sqlstate(es_error *err, int *have_err, const char *sqlstate)
{
	if (*have_err)
		return;
	es_error_from_sqlstate(err, sqlstate, NULL, NULL);
	*have_err = 1;
}

/* One attempt: acquire -> send -> collect -> end -> checkin, within
 * deadline; on failure *end says how it ended. */
static es_status
attempt(const es_stmt *stmt, const char *const *params, long long deadline,
		PGresult **out, es_error *err, es_attempt_end *end)
{
	int			idx, broken = 1, have_err = 0;
	PGconn	   *c;
	PGresult   *result = NULL;
	run_outcome outcome = RUN_LOST;
	long long	left = deadline - es_mono_ms();
	char		timeout_text[16];
	int			st_ms;

	*out = NULL;
	c = acquire(&idx, (int) (left < wait_ms ? (left > 0 ? left : 0) : wait_ms),
				deadline, err, end);
	if (c == NULL)
		return ES_FAIL;
	/* the server gives up first (SQLSTATE 57014), with what is left */
	left = deadline - es_mono_ms();
	st_ms = (int) (left < stmt_timeout_ms ? (left > 1 ? left : 1) : stmt_timeout_ms);
	snprintf(timeout_text, sizeof(timeout_text), "%d", st_ms);
	if (send_pipeline(c, stmt, params, timeout_text) == 0)
	{
		long long client_dl = es_mono_ms() + st_ms + 1000;

		outcome = collect(c, client_dl, &result, err, &have_err);
	}
	*end = have_err ? ES_ATTEMPT_SERVER_ERROR : ES_ATTEMPT_LOST;
	switch (outcome)
	{
		case RUN_SYNCED:
			broken = end_pipeline(c);
			break;
		case RUN_TIMEOUT:
			cancel(c);
			es_log(ES_LOG_WARN, "database call %s timed out client-side", stmt->name);
			note_sqlstate(err, &have_err, "57014");
			*end = ES_ATTEMPT_TIMEOUT;
			break;
		case RUN_LOST:
			note_sqlstate(err, &have_err, "08006");
			break;
	}
	if (have_err)
	{
		if (strcmp(err->sqlstate, "57014") != 0 && err->http_status >= 500)
			es_log(ES_LOG_WARN, "database call %s failed: sqlstate %s",
				   stmt->name, err->sqlstate);
		PQclear(result);
		result = NULL;
	}
	checkin(idx, broken);
	if (have_err)
		return ES_FAIL;
	*out = result;
	return ES_OK;
}

static void
sleep_ms(long long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* 503 without a round trip: the breaker is open (or its probes are out). */
static es_status
refuse_open(es_breaker_id b, int retry_after, es_error *err)
{
	es_error_set(err, 503, "unavailable", "circuit breaker %s is open",
				 es_breaker_name(b));
	err->details = es_xstrdup(
		b == ES_BREAKER_EVENT_STORE
			? "{\"reason\":\"circuit_open\",\"service\":\"event_store\"}"
			: "{\"reason\":\"circuit_open\",\"service\":\"query_handler\"}");
	err->retry_after = retry_after;
	return ES_FAIL;
}

/* The choke point: breaker -> attempt -> classify -> backoff -> retry,
 * all inside the call's deadline. */
static es_status
call(es_db_service svc, const es_stmt *stmt, const char *const *params,
	 int idem, PGresult **out, es_error *err)
{
	int guarded = svc == ES_SVC_EVENT_STORE || svc == ES_SVC_QUERY_HANDLER;
	es_breaker_id b = svc == ES_SVC_EVENT_STORE ? ES_BREAKER_EVENT_STORE
												: ES_BREAKER_QUERY_HANDLER;
	int			  idempotent = svc == ES_SVC_QUERY_HANDLER || idem;
	long long	  deadline =
		es_mono_ms() + (svc == ES_SVC_EVENT_STORE	  ? command_ms
						: svc == ES_SVC_QUERY_HANDLER ? query_ms
													  : stmt_timeout_ms + 5000);
	unsigned int seed = (unsigned int) (es_mono_ms() ^ (long long) (size_t) &seed);

	for (int n = 0;; n++)
	{
		int			   probe = 0, retry_after = 0;
		es_attempt_end end;
		const char	  *reason;
		long long	   pause;

		if (guarded && !es_breaker_allow(b, &probe, &retry_after))
			return refuse_open(b, retry_after, err);
		if (attempt(stmt, params, deadline, out, err, &end) == ES_OK)
		{
			if (guarded)
				es_breaker_record(b, probe, ES_BREAKER_SUCCESS);
			return ES_OK;
		}
		if (guarded)
			es_breaker_record(b, probe,
							  es_retry_is_infra(end, err->sqlstate)
								  ? ES_BREAKER_FAILURE
								  : ES_BREAKER_SUCCESS);
		reason = guarded ? es_retry_reason(end, err->sqlstate, idempotent) : NULL;
		if (reason == NULL || n >= retry_policy.max_retries)
			return ES_FAIL;
		pause = es_retry_backoff_ms(&retry_policy, n + 1, &seed);
		if (es_mono_ms() + pause + 50 >= deadline)
			return ES_FAIL; /* no time left for another try */
		es_retry_count(es_breaker_name(b), reason);
		es_log(ES_LOG_INFO, "retrying database call %s in %lld ms (%s)",
			   stmt->name, pause, reason);
		sleep_ms(pause);
		es_error_clear(err);
	}
}

es_status
es_db_call(es_db_service svc, const es_stmt *stmt, const char *const *params,
		   PGresult **out, es_error *err)
{
	return call(svc, stmt, params, 0, out, err);
}

es_status
es_db_call_idempotent(es_db_service svc, const es_stmt *stmt,
					  const char *const *params, PGresult **out, es_error *err)
{
	return call(svc, stmt, params, 1, out, err);
}

static es_status
call_text(es_db_service svc, const es_stmt *stmt, const char *const *params,
		  int idem, char **value, es_error *err)
{
	PGresult *r;

	*value = NULL;
	if (call(svc, stmt, params, idem, &r, err) != ES_OK)
		return ES_FAIL;
	if (PQntuples(r) >= 1 && PQnfields(r) >= 1 && !PQgetisnull(r, 0, 0))
		*value = es_xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return ES_OK;
}

es_status
es_db_call_text(es_db_service svc, const es_stmt *stmt,
				const char *const *params, char **value, es_error *err)
{
	return call_text(svc, stmt, params, 0, value, err);
}

es_status
es_db_call_text_idempotent(es_db_service svc, const es_stmt *stmt,
						   const char *const *params, char **value, es_error *err)
{
	return call_text(svc, stmt, params, 1, value, err);
}

es_status
es_db_ping(es_error *err)
{
	static const es_stmt ping = {"ping", "SELECT 1", 0};
	char				*v = NULL;
	es_status st = es_db_call_text(ES_SVC_HEALTH, &ping, NULL, &v, err);

	free(v);
	return st;
}
