-- The CQRS runtime: registration, the decider loop, snapshots, temporal
-- state, registered queries, inline projections, the document store.
SELECT es_create_tenant('bank') ->> 'id' AS id;
SELECT es_create_tenant('bank2') ->> 'id' AS id;
SELECT es_grant_tenant('regress_user_a', 'bank');

-- an account aggregate: evolve folds, decide rejects with a message
CREATE FUNCTION regress_account_evolve(state jsonb, event jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE event ->> 'type'
		WHEN 'Opened' THEN jsonb_build_object('open', true, 'balance', 0,
			'owner', event -> 'data' ->> 'owner')
		WHEN 'Deposited' THEN jsonb_set(state, '{balance}',
			to_jsonb((state ->> 'balance')::numeric + (event -> 'data' ->> 'amount')::numeric))
		WHEN 'Withdrawn' THEN jsonb_set(state, '{balance}',
			to_jsonb((state ->> 'balance')::numeric - (event -> 'data' ->> 'amount')::numeric))
		ELSE state
	END
$$;
CREATE FUNCTION regress_account_decide(state jsonb, command jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	amount numeric := (command -> 'data' ->> 'amount')::numeric;
BEGIN
	CASE command ->> 'type'
	WHEN 'open_account' THEN
		IF (state ->> 'open')::boolean THEN
			RAISE EXCEPTION 'account is already open';
		END IF;
		RETURN jsonb_build_array(jsonb_build_object('type', 'Opened',
			'data', jsonb_build_object('owner', command -> 'data' ->> 'owner')));
	WHEN 'deposit' THEN
		IF NOT (state ->> 'open')::boolean THEN
			RAISE EXCEPTION 'account is not open';
		END IF;
		IF amount IS NULL OR amount <= 0 THEN
			RAISE EXCEPTION 'amount must be positive';
		END IF;
		RETURN jsonb_build_array(jsonb_build_object('type', 'Deposited',
			'data', jsonb_build_object('amount', amount)));
	WHEN 'withdraw' THEN
		IF (state ->> 'balance')::numeric < amount THEN
			RAISE EXCEPTION 'insufficient funds: balance %, asked %', state ->> 'balance', amount;
		END IF;
		RETURN jsonb_build_array(jsonb_build_object('type', 'Withdrawn',
			'data', jsonb_build_object('amount', amount)));
	WHEN 'noop' THEN
		RETURN '[]';
	WHEN 'garbage' THEN
		RETURN '[{"kind": "not an event"}]';
	END CASE;
END
$$;
CREATE FUNCTION regress_wrong_shape(state jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT state $$;

-- registration
SELECT es_register_aggregate('account', 'regress_account_evolve(jsonb,jsonb)',
	'{"open": false, "balance": 0}');
SELECT es_register_command(t, 'regress_account_decide(jsonb,jsonb)')
FROM unnest(ARRAY['open_account', 'deposit', 'withdraw', 'noop', 'garbage']) t;
SELECT regress_try($$SELECT es_register_aggregate('account', 'regress_wrong_shape(jsonb)')$$);
SELECT regress_try($$SELECT es_register_aggregate('acc-ount', 'regress_account_evolve(jsonb,jsonb)')$$);
SELECT regress_try($$SELECT es_register_aggregate(NULL, 'regress_account_evolve(jsonb,jsonb)')$$);
SELECT regress_try($$SELECT es_register_command('append', 'regress_account_decide(jsonb,jsonb)')$$);
SELECT regress_try($$SELECT es_register_command('x', 'regress_wrong_shape(jsonb)')$$);
SELECT regress_try($$SELECT es_register_query('state', 'regress_account_evolve(jsonb,jsonb)')$$);
SELECT regress_try($$SELECT es_register_projection('p', 'regress_account_evolve(jsonb,jsonb)')$$);
SELECT regress_try($$SELECT es_register_projection('p', 'regress_account_evolve(jsonb,jsonb)', NULL, 'sometimes')$$);
SELECT regress_try($$SELECT es_unregister('command', 'never_registered')$$);
SELECT regress_try($$SELECT es_unregister('widget', 'x')$$);
SET ROLE regress_user_a;
SELECT regress_try($$SELECT es_register_command('deposit', 'regress_account_decide(jsonb,jsonb)')$$);
RESET ROLE;
SET ROLE regress_gateway;
SELECT regress_try($$SELECT es_register_command('deposit', 'regress_account_decide(jsonb,jsonb)')$$);
RESET ROLE;

-- commands: decide, append with the version read, result shape
SELECT r - 'events' AS result, jsonb_path_query_array(r, '$.events[*].type') AS types
FROM es_execute('bank', '{"type": "open_account", "stream": "account-1", "data": {"owner": "ann"}}') r;
SELECT es_execute('bank', '{"type": "deposit", "stream": "account-1", "data": {"amount": 100}}') ->> 'version' AS version;
SELECT es_execute('bank', '{"type": "withdraw", "stream": "account-1", "data": {"amount": 30}}') ->> 'version' AS version;
-- a decide function that raises rejects the command: ES422, nothing written
SELECT regress_try($$SELECT es_execute('bank', '{"type": "withdraw", "stream": "account-1", "data": {"amount": 500}}')$$);
SELECT regress_try($$SELECT es_execute('bank', '{"type": "open_account", "stream": "account-1", "data": {"owner": "bob"}}')$$);
SELECT regress_try($$SELECT es_execute('bank', '{"type": "deposit", "stream": "account-2", "data": {"amount": 1}}')$$);
SELECT regress_try($$SELECT es_execute('bank', '{"type": "garbage", "stream": "account-1"}')$$);
SELECT es_stream_version('bank', 'account-1');
-- a command that decides nothing changes nothing
SELECT es_execute('bank', '{"type": "noop", "stream": "account-1"}');
-- unknown types and categories
SELECT regress_try($$SELECT es_execute('bank', '{"type": "close_account", "stream": "account-1"}')$$);
SELECT regress_try($$SELECT es_execute('bank', '{"type": "deposit", "stream": "wallet-1", "data": {"amount": 1}}')$$);
SELECT regress_try($$SELECT es_execute('bank', '{"type": "deposit", "data": {"amount": 1}}')$$);
-- command ids: at most once per tenant
SELECT es_execute('bank', '{"type": "deposit", "stream": "account-1", "id": "d0000000-0000-4000-8000-000000000001", "data": {"amount": 5}}') ->> 'version' AS first;
SELECT es_execute('bank', '{"type": "deposit", "stream": "account-1", "id": "d0000000-0000-4000-8000-000000000001", "data": {"amount": 5}}') ->> 'version' AS again;
SELECT es_stream_version('bank', 'account-1');
-- granted roles execute too; decide runs as them
SET ROLE regress_user_a;
SELECT es_execute('bank', '{"type": "deposit", "stream": "account-1", "data": {"amount": 10}}') ->> 'version' AS version;
SELECT regress_try($$SELECT es_execute('bank2', '{"type": "deposit", "stream": "account-1", "data": {"amount": 10}}')$$);
RESET ROLE;

-- the state query, and temporal queries (both bounds inclusive)
SELECT es_query('bank', '{"type": "state", "stream": "account-1"}');
SELECT es_query('bank', '{"type": "state", "stream": "account-1", "as_of_version": 2}');
SELECT es_query('bank', '{"type": "state", "stream": "account-1", "as_of_version": 0}');
SELECT es_query('bank', '{"type": "state", "stream": "account-9"}');
SELECT es_query('bank', jsonb_build_object('type', 'state', 'stream', 'account-1',
	'as_of_time', '2000-01-01T00:00:00Z')) ->> 'version' AS before_anything;
SELECT es_query('bank', jsonb_build_object('type', 'state', 'stream', 'account-1',
	'as_of_time', (SELECT recorded_at FROM es_read_stream('bank', 'account-1') WHERE version = 5))) ->> 'version' AS as_of_fifth;
SELECT regress_try($$SELECT es_query('bank', '{"type": "state", "stream": "account-1", "as_of_time": "yesterday-ish"}')$$);
SELECT regress_try($$SELECT es_query('bank', '{"type": "state", "stream": "account-1", "as_of_time": "2026-01-01", "as_of_version": 1}')$$);
SELECT regress_try($$SELECT es_query('bank', '{"type": "state", "stream": "account-1", "as_of_version": -1}')$$);
SELECT regress_try($$SELECT es_query('bank', '{"type": "state", "stream": "wallet-1"}')$$);

-- snapshots every N events keep the fold short, and give the same state
SET es_saas.snapshot_every = 3;
SELECT es_execute('bank', '{"type": "open_account", "stream": "account-7", "data": {"owner": "cy"}}') ->> 'version' AS v;
SELECT max((es_execute('bank', jsonb_build_object('type', 'deposit', 'stream', 'account-7',
	'data', jsonb_build_object('amount', i))) ->> 'version')::int) AS version
FROM generate_series(1, 8) i;
SET row_security = off;
SELECT version, state ->> 'balance' AS balance FROM es_saas.snapshots
WHERE tenant_id = 'bank' AND stream = 'account-7' ORDER BY version;
RESET row_security;
SELECT es_query('bank', '{"type": "state", "stream": "account-7"}') -> 'state' ->> 'balance' AS with_snapshots;
SET es_saas.snapshot_every = 0;
SELECT es_query('bank', '{"type": "state", "stream": "account-7"}') -> 'state' ->> 'balance' AS without_snapshots;
SELECT es_query('bank', '{"type": "state", "stream": "account-7", "as_of_version": 4}') -> 'state' ->> 'balance' AS as_of_4;
-- events appended without a command: the next command snapshots at once
SET es_saas.snapshot_every = 3;
SELECT version FROM es_append('bank', 'account-7', NULL,
	(SELECT jsonb_agg(jsonb_build_object('type', 'Deposited', 'data', jsonb_build_object('amount', 1)))
	 FROM generate_series(1, 10)));
SELECT es_execute('bank', '{"type": "deposit", "stream": "account-7", "data": {"amount": 1}}') ->> 'version' AS version;
SET row_security = off;
SELECT max(version) AS latest_snapshot FROM es_saas.snapshots WHERE tenant_id = 'bank' AND stream = 'account-7';
RESET row_security;
RESET es_saas.snapshot_every;
-- registering the aggregate again drops its snapshots
SELECT es_register_aggregate('account', 'regress_account_evolve(jsonb,jsonb)', '{"open": false, "balance": 0}');
SET row_security = off;
SELECT count(*) AS snapshots_left FROM es_saas.snapshots WHERE stream LIKE 'account-%';
RESET row_security;

-- registered queries run as the caller, inside the tenant
CREATE FUNCTION regress_count_events(tenant text, params jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('tenant', tenant,
		'visible_rows', (SELECT count(*) FROM es_saas.events),
		'min', params -> 'min')
$$;
SELECT es_register_query('count_events', 'regress_count_events(text,jsonb)');
SET ROLE regress_user_a;
SELECT es_query('bank', '{"type": "count_events", "params": {"min": 1}}') AS as_granted_role;
RESET ROLE;
SELECT regress_try($$SELECT es_query('bank', '{"type": "count_events", "params": [1]}')$$);
SELECT regress_try($$SELECT es_query('bank', '{"type": "nobody_registered_this"}')$$);

-- the document store
SELECT es_doc_put('bank', 'notes', 'n1', '{"text": "hello", "tags": ["a"]}');
SELECT es_doc_put('bank', 'notes', 'n2', '{"text": "world", "tags": ["b"]}');
SELECT es_doc_put('bank', 'notes', 'n1', '{"text": "hello again", "tags": ["a", "b"]}');
SELECT es_doc_put('bank2', 'notes', 'n1', '{"text": "other tenant"}');
SELECT es_doc_get('bank', 'notes', 'n1');
SELECT es_doc_get('bank', 'notes', 'missing') IS NULL AS missing_is_null;
SELECT es_doc_find('bank', 'notes');
SELECT es_doc_find('bank', 'notes', '{"tags": ["b"]}', 1);
SELECT es_doc_delete('bank', 'notes', 'n2') AS deleted, es_doc_delete('bank', 'notes', 'n2') AS again;
SELECT regress_try($$SELECT es_doc_put('bank', 'notes', NULL, '{}')$$);
SELECT regress_try($$SELECT es_doc_put('bank', 'notes', '', '{}')$$);
SELECT regress_try($$SELECT es_doc_put('bank', E'no\ttabs', 'k', '{}')$$);
SELECT regress_try($$SELECT es_doc_find('bank', 'notes', '[1]')$$);
SET ROLE regress_user_a;
SELECT es_doc_get('bank', 'notes', 'n1') ->> 'text' AS own_tenant;
SELECT regress_try($$SELECT es_doc_get('bank2', 'notes', 'n1')$$);
SELECT count(*) AS rls_rows_without_tenant FROM es_saas.documents;
RESET ROLE;

-- inline projections: same transaction as the append, as the appender
CREATE FUNCTION regress_balance_projection(tenant text, event jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	doc jsonb := COALESCE(es_doc_get(tenant, 'balances', event ->> 'stream'),
		'{"balance": 0, "events": 0}');
	amount numeric := COALESCE((event -> 'data' ->> 'amount')::numeric, 0);
BEGIN
	IF event ->> 'type' = 'Withdrawn' THEN
		amount := -amount;
	END IF;
	PERFORM es_doc_put(tenant, 'balances', event ->> 'stream', jsonb_build_object(
		'balance', (doc ->> 'balance')::numeric + amount,
		'events', (doc ->> 'events')::int + 1,
		'last_position', event -> 'position',
		'by', current_user));
END
$$;
CREATE FUNCTION regress_poison_projection(tenant text, event jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF event -> 'data' ->> 'poison' = 'yes' THEN
		RAISE EXCEPTION 'poisoned event at position %', event ->> 'position';
	END IF;
END
$$;
SELECT es_register_projection('balances', 'regress_balance_projection(text,jsonb)',
	ARRAY['Opened', 'Deposited', 'Withdrawn']);
SELECT es_register_projection('poison_check', 'regress_poison_projection(text,jsonb)', NULL, 'inline');
SELECT es_execute('bank', '{"type": "open_account", "stream": "account-20", "data": {"owner": "di"}}') ->> 'version' AS v;
SET ROLE regress_user_a;
SELECT es_execute('bank', '{"type": "deposit", "stream": "account-20", "data": {"amount": 70}}') ->> 'version' AS v;
SELECT es_doc_get('bank', 'balances', 'account-20') ->> 'by' AS handler_ran_as;
RESET ROLE;
SELECT version FROM es_append('bank', 'account-20', NULL, '[{"type": "Withdrawn", "data": {"amount": 20}}, {"type": "Ignored", "data": {}}]');
SELECT es_query('bank', '{"type": "projection", "name": "balances", "key": "account-20"}');
SELECT regress_try($$SELECT es_query('bank', '{"type": "projection", "name": "balances", "key": "account-404"}')$$);
SELECT regress_try($$SELECT es_query('bank', '{"type": "projection", "name": "nope", "key": "x"}')$$);
-- a failing inline handler fails the append: nothing written
SELECT regress_try($$SELECT * FROM es_append('bank', 'account-20', NULL, '[{"type": "Deposited", "data": {"amount": 1, "poison": "yes"}}]')$$);
SELECT es_stream_version('bank', 'account-20'), es_doc_get('bank', 'balances', 'account-20') ->> 'balance' AS balance;
-- rebuild replays the log into a cleared collection
SELECT es_doc_put('bank', 'balances', 'account-20', '{"balance": -1}');
SELECT es_rebuild_projection('balances', 'bank');
SELECT es_doc_get('bank', 'balances', 'account-20') - 'by';
SELECT s - 'updated_at' AS status FROM es_projection_status() s WHERE s ->> 'tenant' = 'bank';
SELECT es_unregister('projection', 'poison_check');
SELECT regress_try($$SELECT es_rebuild_projection('poison_check')$$);

-- async projections need the worker: registering one says so (no preload here)
CREATE FUNCTION regress_noop_projection(tenant text, event jsonb) RETURNS void
LANGUAGE sql AS $$ SELECT $$;
SELECT es_register_projection('async_noop', 'regress_noop_projection(text,jsonb)', NULL, 'async');
SELECT s ->> 'mode' AS mode, s ->> 'position' AS position, (s ->> 'lag')::int > 0 AS lagging
FROM es_projection_status() s WHERE s ->> 'name' = 'async_noop' AND s ->> 'tenant' = 'bank';
SELECT es_unregister('projection', 'async_noop');

-- suspended tenants: commands and doc writes are ES423, queries go on
SELECT es_suspend_tenant('bank2') ->> 'status' AS status;
SELECT regress_try($$SELECT es_execute('bank2', '{"type": "open_account", "stream": "account-1", "data": {"owner": "x"}}')$$);
SELECT regress_try($$SELECT es_doc_put('bank2', 'notes', 'n1', '{}')$$);
SELECT es_doc_get('bank2', 'notes', 'n1') ->> 'text' AS still_readable;
SELECT es_resume_tenant('bank2') ->> 'status' AS status;

-- deleting a tenant erases its documents and snapshots too
SELECT es_delete_tenant('bank2') ->> 'status' AS status;
SET row_security = off;
SELECT (SELECT count(*) FROM es_saas.documents WHERE tenant_id = 'bank2') AS documents,
       (SELECT count(*) FROM es_saas.snapshots WHERE tenant_id = 'bank2') AS snapshots;
RESET row_security;

-- clean up the registry
SELECT es_unregister('projection', 'balances');
SELECT es_unregister('query', 'count_events');
SELECT es_unregister('command', t) FROM unnest(ARRAY['open_account', 'deposit', 'withdraw', 'noop', 'garbage']) t;
SELECT es_unregister('aggregate', 'account');
