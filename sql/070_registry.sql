-- The CQRS registry: es_register_aggregate/command/query/projection and
-- es_unregister: shapes of the functions, built-in names, who may register.
-- the account aggregate's evolve/decide (sql/fixtures/account_functions.psql)
\set ECHO none
\i sql/fixtures/setup.psql
\i sql/fixtures/account_functions.psql
\set ECHO all

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

-- clean up: the registrations and the functions
\set ECHO none
\i sql/fixtures/account_teardown.psql
\set ECHO all
DROP FUNCTION regress_wrong_shape(jsonb);
