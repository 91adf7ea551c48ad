-- Snapshots: every es_saas.snapshot_every events a command stores the
-- folded state; the state is the same with and without them; registering the
-- aggregate again drops them.
\set ECHO none
\i sql/fixtures/setup.psql
\i sql/fixtures/account.psql
\set ECHO all

SELECT es_create_tenant('snap-bank') ->> 'id' AS id;

-- snapshots every N events keep the fold short, and give the same state
SET es_saas.snapshot_every = 3;
SELECT es_execute('snap-bank', '{"type": "open_account", "stream": "account-7", "data": {"owner": "cy"}}') ->> 'version' AS v;
SELECT max((es_execute('snap-bank', jsonb_build_object('type', 'deposit', 'stream', 'account-7',
	'data', jsonb_build_object('amount', i))) ->> 'version')::int) AS version
FROM generate_series(1, 8) i;
SET row_security = off;
SELECT version, state ->> 'balance' AS balance FROM es_saas.snapshots
WHERE tenant_id = 'snap-bank' AND stream = 'account-7' ORDER BY version;
RESET row_security;
SELECT es_query('snap-bank', '{"type": "state", "stream": "account-7"}') -> 'state' ->> 'balance' AS with_snapshots;
SET es_saas.snapshot_every = 0;
SELECT es_query('snap-bank', '{"type": "state", "stream": "account-7"}') -> 'state' ->> 'balance' AS without_snapshots;
SELECT es_query('snap-bank', '{"type": "state", "stream": "account-7", "as_of_version": 4}') -> 'state' ->> 'balance' AS as_of_4;
-- events appended without a command: the next command snapshots at once
SET es_saas.snapshot_every = 3;
SELECT version FROM es_append('snap-bank', 'account-7', NULL,
	(SELECT jsonb_agg(jsonb_build_object('type', 'Deposited', 'data', jsonb_build_object('amount', 1)))
	 FROM generate_series(1, 10)));
SELECT es_execute('snap-bank', '{"type": "deposit", "stream": "account-7", "data": {"amount": 1}}') ->> 'version' AS version;
SET row_security = off;
SELECT max(version) AS latest_snapshot FROM es_saas.snapshots WHERE tenant_id = 'snap-bank' AND stream = 'account-7';
RESET row_security;
RESET es_saas.snapshot_every;
-- registering the aggregate again drops its snapshots
SELECT es_register_aggregate('account', 'regress_account_evolve(jsonb,jsonb)', '{"open": false, "balance": 0}');
SET row_security = off;
SELECT count(*) AS snapshots_left FROM es_saas.snapshots WHERE stream LIKE 'account-%';
RESET row_security;

-- clean up the registry
\set ECHO none
\i sql/fixtures/account_teardown.psql
\set ECHO all
