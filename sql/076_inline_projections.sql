-- Inline projections: the handler runs in the transaction of the append, as
-- the appender, for the registered event types; a failing handler fails the
-- append; es_rebuild_projection replays the log; es_projection_status.
\set ECHO none
\i sql/fixtures/setup.psql
\i sql/fixtures/account.psql
\set ECHO all

SELECT es_create_tenant('proj-bank') ->> 'id' AS id;
SELECT es_grant_tenant('regress_user_a', 'proj-bank');

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
SELECT es_execute('proj-bank', '{"type": "open_account", "stream": "account-20", "data": {"owner": "di"}}') ->> 'version' AS v;
SET ROLE regress_user_a;
SELECT es_execute('proj-bank', '{"type": "deposit", "stream": "account-20", "data": {"amount": 70}}') ->> 'version' AS v;
SELECT es_doc_get('proj-bank', 'balances', 'account-20') ->> 'by' AS handler_ran_as;
RESET ROLE;
SELECT version FROM es_append('proj-bank', 'account-20', NULL, '[{"type": "Withdrawn", "data": {"amount": 20}}, {"type": "Ignored", "data": {}}]');
SELECT es_query('proj-bank', '{"type": "projection", "name": "balances", "key": "account-20"}');
SELECT regress_try($$SELECT es_query('proj-bank', '{"type": "projection", "name": "balances", "key": "account-404"}')$$);
SELECT regress_try($$SELECT es_query('proj-bank', '{"type": "projection", "name": "nope", "key": "x"}')$$);
-- a failing inline handler fails the append: nothing written
SELECT regress_try($$SELECT * FROM es_append('proj-bank', 'account-20', NULL, '[{"type": "Deposited", "data": {"amount": 1, "poison": "yes"}}]')$$);
SELECT es_stream_version('proj-bank', 'account-20'), es_doc_get('proj-bank', 'balances', 'account-20') ->> 'balance' AS balance;
-- rebuild replays the log into a cleared collection
SELECT es_doc_put('proj-bank', 'balances', 'account-20', '{"balance": -1}');
SELECT es_rebuild_projection('balances', 'proj-bank');
SELECT es_doc_get('proj-bank', 'balances', 'account-20') - 'by';
SELECT s - 'updated_at' AS status FROM es_projection_status() s WHERE s ->> 'tenant' = 'proj-bank';
SELECT es_unregister('projection', 'poison_check');
SELECT regress_try($$SELECT es_rebuild_projection('poison_check')$$);

-- clean up the registry
SELECT es_unregister('projection', 'balances');
DROP FUNCTION regress_balance_projection(text, jsonb), regress_poison_projection(text, jsonb);
\set ECHO none
\i sql/fixtures/account_teardown.psql
\set ECHO all
