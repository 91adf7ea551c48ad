-- The decider loop of es_execute for registered commands: decide on the
-- folded state, append at the version read, rejections (ES422), unknown
-- types and categories, command ids, granted roles.
-- the account aggregate, registered (sql/fixtures/account.psql)
\set ECHO none
\i sql/fixtures/setup.psql
\i sql/fixtures/account.psql
\set ECHO all

SELECT es_create_tenant('cmd-bank') ->> 'id' AS id;
SELECT es_create_tenant('cmd-bank2') ->> 'id' AS id;
SELECT es_grant_tenant('regress_user_a', 'cmd-bank');

-- commands: decide, append with the version read, result shape
SELECT r - 'events' AS result, jsonb_path_query_array(r, '$.events[*].type') AS types
FROM es_execute('cmd-bank', '{"type": "open_account", "stream": "account-1", "data": {"owner": "ann"}}') r;
SELECT es_execute('cmd-bank', '{"type": "deposit", "stream": "account-1", "data": {"amount": 100}}') ->> 'version' AS version;
SELECT es_execute('cmd-bank', '{"type": "withdraw", "stream": "account-1", "data": {"amount": 30}}') ->> 'version' AS version;
-- a decide function that raises rejects the command: ES422, nothing written
SELECT regress_try($$SELECT es_execute('cmd-bank', '{"type": "withdraw", "stream": "account-1", "data": {"amount": 500}}')$$);
SELECT regress_try($$SELECT es_execute('cmd-bank', '{"type": "open_account", "stream": "account-1", "data": {"owner": "bob"}}')$$);
SELECT regress_try($$SELECT es_execute('cmd-bank', '{"type": "deposit", "stream": "account-2", "data": {"amount": 1}}')$$);
SELECT regress_try($$SELECT es_execute('cmd-bank', '{"type": "garbage", "stream": "account-1"}')$$);
SELECT es_stream_version('cmd-bank', 'account-1');
-- a command that decides nothing changes nothing
SELECT es_execute('cmd-bank', '{"type": "noop", "stream": "account-1"}');
-- unknown types and categories
SELECT regress_try($$SELECT es_execute('cmd-bank', '{"type": "close_account", "stream": "account-1"}')$$);
SELECT regress_try($$SELECT es_execute('cmd-bank', '{"type": "deposit", "stream": "wallet-1", "data": {"amount": 1}}')$$);
SELECT regress_try($$SELECT es_execute('cmd-bank', '{"type": "deposit", "data": {"amount": 1}}')$$);
-- command ids: at most once per tenant
SELECT es_execute('cmd-bank', '{"type": "deposit", "stream": "account-1", "id": "d0000000-0000-4000-8000-000000000001", "data": {"amount": 5}}') ->> 'version' AS first;
SELECT es_execute('cmd-bank', '{"type": "deposit", "stream": "account-1", "id": "d0000000-0000-4000-8000-000000000001", "data": {"amount": 5}}') ->> 'version' AS again;
SELECT es_stream_version('cmd-bank', 'account-1');
-- granted roles execute too; decide runs as them
SET ROLE regress_user_a;
SELECT es_execute('cmd-bank', '{"type": "deposit", "stream": "account-1", "data": {"amount": 10}}') ->> 'version' AS version;
SELECT regress_try($$SELECT es_execute('cmd-bank2', '{"type": "deposit", "stream": "account-1", "data": {"amount": 10}}')$$);
RESET ROLE;

-- clean up the registry
\set ECHO none
\i sql/fixtures/account_teardown.psql
\set ECHO all
