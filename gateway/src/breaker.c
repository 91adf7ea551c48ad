/*
 * breaker.c - the circuit breaker state machine (see breaker.h).
 *
 * Contract: es_breaker_allow() never touches the database and answers in
 * O(1) under one mutex, so an open breaker fails fast.  Transitions are
 * counted for /metrics.  The open period is measured on the monotonic
 * clock, so wall-clock jumps cannot keep a breaker open.
 */
#include "breaker.h"

#include <pthread.h>

typedef struct breaker
{
	int				 threshold, open_ms, probes;
	es_breaker_state state;
	int				 failures;		  /* consecutive, while closed */
	long long		 opened_at;		  /* monotonic ms */
	int				 probes_inflight; /* half-open */
	int				 probes_ok;		  /* half-open */
	long long		 transitions[3][3];
} breaker;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static breaker		   brk[ES_BREAKER_COUNT] =
	{{5, 60000, 1, ES_BREAKER_CLOSED, 0, 0, 0, 0, {{0}}},
	 {3, 30000, 1, ES_BREAKER_CLOSED, 0, 0, 0, 0, {{0}}}};
static long long (*clock_fn)(void) = es_mono_ms;

static const char *const names[ES_BREAKER_COUNT] = {"event_store", "query_handler"};
static const char *const state_names[3] = {"closed", "half_open", "open"};

void
es_breaker_set_clock(long long (*now_ms)(void))
{
	clock_fn = now_ms ? now_ms : es_mono_ms;
}

const char *
es_breaker_name(es_breaker_id b)
{
	return names[b];
}

const char *
es_breaker_state_name(es_breaker_state s)
{
	return state_names[s];
}

/* caller holds lock */
static void
move(breaker *k, es_breaker_state to, long long now)
{
	k->transitions[k->state][to]++;
	k->state = to;
	k->failures = 0;
	k->probes_inflight = 0;
	k->probes_ok = 0;
	if (to == ES_BREAKER_OPEN)
		k->opened_at = now;
}

void
es_breaker_configure(es_breaker_id b, int failure_threshold, int open_seconds,
					 int half_open_probes)
{
	pthread_mutex_lock(&lock);
	brk[b] = (breaker){0};
	brk[b].threshold = failure_threshold > 0 ? failure_threshold : 1;
	brk[b].open_ms = open_seconds > 0 ? open_seconds * 1000 : 1000;
	brk[b].probes = half_open_probes > 0 ? half_open_probes : 1;
	pthread_mutex_unlock(&lock);
}

/* Whole seconds from now until t, at least 1. */
static int
secs_until(long long t, long long now)
{
	long long s = (t - now + 999) / 1000;

	return s < 1 ? 1 : (int) s;
}

int
es_breaker_allow(es_breaker_id b, int *probe, int *retry_after)
{
	breaker	 *k = &brk[b];
	long long now = clock_fn();
	int		  ok = 1;

	*probe = 0;
	*retry_after = 0;
	pthread_mutex_lock(&lock);
	if (k->state == ES_BREAKER_OPEN && now >= k->opened_at + k->open_ms)
		move(k, ES_BREAKER_HALF_OPEN, now);
	if (k->state == ES_BREAKER_OPEN)
	{
		ok = 0;
		*retry_after = secs_until(k->opened_at + k->open_ms, now);
	}
	else if (k->state == ES_BREAKER_HALF_OPEN)
	{
		if (k->probes_inflight + k->probes_ok < k->probes)
		{
			k->probes_inflight++;
			*probe = 1;
		}
		else
		{
			/* the probes are out: their answer comes within a second or so */
			ok = 0;
			*retry_after = 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

void
es_breaker_record(es_breaker_id b, int probe, es_breaker_outcome outcome)
{
	breaker	 *k = &brk[b];
	long long now = clock_fn();

	pthread_mutex_lock(&lock);
	if (k->state == ES_BREAKER_CLOSED)
	{
		if (outcome == ES_BREAKER_SUCCESS)
			k->failures = 0;
		else if (outcome == ES_BREAKER_FAILURE && ++k->failures >= k->threshold)
			move(k, ES_BREAKER_OPEN, now);
	}
	else if (k->state == ES_BREAKER_HALF_OPEN && probe)
	{
		k->probes_inflight--;
		if (outcome == ES_BREAKER_FAILURE)
			move(k, ES_BREAKER_OPEN, now);
		else if (outcome == ES_BREAKER_SUCCESS && ++k->probes_ok >= k->probes)
			move(k, ES_BREAKER_CLOSED, now);
	}
	/* open, or a call admitted before the breaker opened: its result is
	 * older news than the state, so it changes nothing */
	pthread_mutex_unlock(&lock);
}

es_breaker_state
es_breaker_state_of(es_breaker_id b)
{
	es_breaker_state s;
	long long		 now = clock_fn();

	pthread_mutex_lock(&lock);
	s = brk[b].state;
	if (s == ES_BREAKER_OPEN && now >= brk[b].opened_at + brk[b].open_ms)
		s = ES_BREAKER_HALF_OPEN;
	pthread_mutex_unlock(&lock);
	return s;
}

void
es_breaker_render(es_buf *out)
{
	long long t[ES_BREAKER_COUNT][3][3];

	pthread_mutex_lock(&lock);
	for (int b = 0; b < ES_BREAKER_COUNT; b++)
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				t[b][i][j] = brk[b].transitions[i][j];
	pthread_mutex_unlock(&lock);
	es_buf_printf(out, "# HELP es_gateway_circuit_breaker_transitions_total Circuit "
					   "breaker state changes.\n"
					   "# TYPE es_gateway_circuit_breaker_transitions_total counter\n");
	for (int b = 0; b < ES_BREAKER_COUNT; b++)
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				if (i != j && ((i == ES_BREAKER_CLOSED && j == ES_BREAKER_OPEN) ||
							   (i == ES_BREAKER_OPEN && j == ES_BREAKER_HALF_OPEN) ||
							   i == ES_BREAKER_HALF_OPEN))
					es_buf_printf(out,
								  "es_gateway_circuit_breaker_transitions_total{service=\"%s\","
								  "from=\"%s\",to=\"%s\"} %lld\n",
								  names[b], state_names[i], state_names[j],
								  t[b][i][j]);
}
