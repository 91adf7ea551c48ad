-- The built-in state query: the folded state of a stream now, as of a
-- version and as of a time (both bounds inclusive), and its argument checks.
\set ECHO none
\i sql/fixtures/setup.psql
\i sql/fixtures/account.psql
\set ECHO all

-- account-1: Opened, Deposited 100, Withdrawn 30, Deposited 5, Deposited 10
SELECT es_create_tenant('time-bank') ->> 'id' AS id;
SELECT es_execute('time-bank', c) ->> 'version' AS version
FROM unnest(ARRAY[
	'{"type": "open_account", "stream": "account-1", "data": {"owner": "ann"}}',
	'{"type": "deposit", "stream": "account-1", "data": {"amount": 100}}',
	'{"type": "withdraw", "stream": "account-1", "data": {"amount": 30}}',
	'{"type": "deposit", "stream": "account-1", "id": "d0000000-0000-4000-8000-000000000001", "data": {"amount": 5}}',
	'{"type": "deposit", "stream": "account-1", "data": {"amount": 10}}']::jsonb[]) WITH ORDINALITY AS v(c, n)
ORDER BY n;

-- the state query, and temporal queries (both bounds inclusive)
SELECT es_query('time-bank', '{"type": "state", "stream": "account-1"}');
SELECT es_query('time-bank', '{"type": "state", "stream": "account-1", "as_of_version": 2}');
SELECT es_query('time-bank', '{"type": "state", "stream": "account-1", "as_of_version": 0}');
SELECT es_query('time-bank', '{"type": "state", "stream": "account-9"}');
SELECT es_query('time-bank', jsonb_build_object('type', 'state', 'stream', 'account-1',
	'as_of_time', '2000-01-01T00:00:00Z')) ->> 'version' AS before_anything;
SELECT es_query('time-bank', jsonb_build_object('type', 'state', 'stream', 'account-1',
	'as_of_time', (SELECT recorded_at FROM es_read_stream('time-bank', 'account-1') WHERE version = 5))) ->> 'version' AS as_of_fifth;
SELECT regress_try($$SELECT es_query('time-bank', '{"type": "state", "stream": "account-1", "as_of_time": "yesterday-ish"}')$$);
SELECT regress_try($$SELECT es_query('time-bank', '{"type": "state", "stream": "account-1", "as_of_time": "2026-01-01", "as_of_version": 1}')$$);
-- as_of_time is ISO 8601 and nothing else timestamptz_in would take
SELECT t AS as_of_time, regress_try(format($$SELECT es_query('time-bank', %L)$$,
	jsonb_build_object('type', 'state', 'stream', 'account-1', 'as_of_time', t)))
FROM unnest(ARRAY['now', 'today', 'epoch', 'infinity', '-infinity', 'J2451187',
	'4714-11-24 BC', '2026-01-01 24:00:00', '2026-01-01T24:00:00', '2026-01-01 10:00:00',
	'2026-01-01T10', '2026-01-01T10:00:60', '2026-02-30', '2026-13-01', '20260101',
	'2026-01-01T10:00:00+1', '2026-01-01T10:00:00 UTC', '2026-01-01T10:00:00.Z',
	' 2026-01-01', '2026-01-01T10:00:00+05:30x', '']) AS t;
-- the good forms: a date, minutes, seconds, a fraction, Z and offsets
SELECT t AS as_of_time, es_query('time-bank', jsonb_build_object('type', 'state',
	'stream', 'account-1', 'as_of_time', t)) ->> 'version' AS version
FROM unnest(ARRAY['2000-01-01', '2999-12-31', '2999-12-31T23:59', '2999-12-31T23:59:59',
	'2999-12-31T23:59:59.123456Z', '2999-12-31T23:59:59+05:30', '2000-01-01T00:00:00-08:00',
	'2000-01-01T00:00Z']) AS t;
SELECT regress_try($$SELECT es_query('time-bank', '{"type": "state", "stream": "account-1", "as_of_version": -1}')$$);
SELECT regress_try($$SELECT es_query('time-bank', '{"type": "state", "stream": "wallet-1"}')$$);

-- clean up the registry
\set ECHO none
\i sql/fixtures/account_teardown.psql
\set ECHO all
