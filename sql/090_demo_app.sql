-- The demo application (demo/app.sql): projects and tasks on the CQRS
-- runtime, end to end through es_execute and es_query.
-- Quiet: neither the file's statements nor the warning that the async
-- projection's worker is not loaded (that depends on how the cluster was
-- started).  pg_regress feeds this file on stdin from the repository root,
-- so the path is relative to the root.
\set ECHO none
\i sql/fixtures/setup.psql
SET client_min_messages = error;
\i demo/app.sql
RESET client_min_messages;
\set ECHO all

-- what the application registered
SELECT category, evolve, initial_state FROM es_saas.aggregates ORDER BY category;
SELECT command_type, decide FROM es_saas.command_handlers ORDER BY command_type;
SELECT name, handler, event_types, mode, on_error FROM es_saas.projections ORDER BY name;
SELECT query_type, fn FROM es_saas.query_handlers ORDER BY query_type;

-- a tenant, used through a role that was only granted that tenant
SELECT es_create_tenant('demo-test', 'Demo test') ->> 'id' AS id;
SELECT es_grant_tenant('regress_user_a', 'demo-test');
SET ROLE regress_user_a;

-- happy path: two projects, four tasks, assignments, a completion, a rename
SELECT c ->> 'type' AS command, r ->> 'stream' AS stream, r ->> 'version' AS version,
	r ->> 'position' AS position, jsonb_path_query_array(r, '$.events[*].type') AS events
FROM (VALUES
	(1, '{"type": "create_project", "stream": "project-web", "name": "Website relaunch", "by": "alice"}'::jsonb),
	(2, '{"type": "create_project", "stream": "project-ops", "name": "  Operations  "}'),
	(3, '{"type": "add_task", "stream": "task-1", "project": "project-web", "title": "Wireframes", "due": "2026-03-01", "by": "alice"}'),
	(4, '{"type": "add_task", "stream": "task-2", "project": "project-web", "title": "Landing page copy", "due": "2026-03-15"}'),
	(5, '{"type": "add_task", "stream": "task-3", "project": "project-web", "title": "Launch checklist"}'),
	(6, '{"type": "add_task", "stream": "task-4", "project": "project-ops", "title": "Rotate TLS certificates", "due": "2026-02-20"}'),
	(7, '{"type": "assign_task", "stream": "task-1", "assignee": "alice"}'),
	(8, '{"type": "assign_task", "stream": "task-2", "assignee": "bob"}'),
	(9, '{"type": "assign_task", "stream": "task-2", "assignee": "carol", "by": "bob"}'),
	(10, '{"type": "assign_task", "stream": "task-4", "assignee": "bob"}'),
	(11, '{"type": "complete_task", "stream": "task-1", "by": "alice"}'),
	(12, '{"type": "rename_project", "stream": "project-web", "name": "Website relaunch 2026"}')
) v(n, c), LATERAL es_execute('demo-test', c) r
ORDER BY n;
-- a command that changes nothing records nothing (same assignee, same name)
SELECT es_execute('demo-test', '{"type": "assign_task", "stream": "task-2", "assignee": "carol"}');
SELECT es_execute('demo-test', '{"type": "rename_project", "stream": "project-web", "name": "Website relaunch 2026"}');
-- the events as stored: deciders add the task's context and who issued it
SELECT stream, version, type, data, metadata FROM es_read_stream('demo-test', 'task-2');
SELECT stream, version, type, data, metadata FROM es_read_stream('demo-test', 'project-web');

-- business rules: every rejection is ES422 "command rejected", nothing written
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "create_project", "stream": "project-web", "name": "Again"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "create_project", "stream": "project-x", "name": "   "}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "create_project", "stream": "project-x"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "create_project", "stream": "task-9", "name": "Wrong stream"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "rename_project", "stream": "project-nope", "name": "Ghost"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-nope", "title": "Orphan"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "web", "title": "Bad reference"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-web", "title": ""}')$$);
SELECT regress_try(format($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-web", "title": "%s"}')$$, repeat('x', 201)));
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-web", "title": 42}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-web", "title": "T", "due": "2026-02-30"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-web", "title": "T", "due": "next friday"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-web", "title": "T", "due": "tomorrow"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-web", "title": "T", "due": 20260301}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-1", "project": "project-web", "title": "Wireframes"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "project-web", "project": "project-web", "title": "T"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "complete_task", "stream": "task-1"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "reopen_task", "stream": "task-2"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "assign_task", "stream": "task-1", "assignee": "bob"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "assign_task", "stream": "task-2"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "complete_task", "stream": "task-99"}')$$);
-- an archived project takes no new tasks, and is read-only itself
SELECT es_execute('demo-test', '{"type": "archive_project", "stream": "project-ops", "by": "alice"}') ->> 'version' AS version;
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-9", "project": "project-ops", "title": "Too late"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "rename_project", "stream": "project-ops", "name": "Ops"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "archive_project", "stream": "project-ops"}')$$);
-- its existing tasks can still be finished
SELECT es_execute('demo-test', '{"type": "complete_task", "stream": "task-4"}') ->> 'version' AS version;
-- none of the rejected commands wrote anything
SELECT es_stream_version('demo-test', 'task-9') AS task_9, es_stream_version('demo-test', 'project-x') AS project_x,
	(SELECT max(position) FROM es_read_log('demo-test')) AS log_head;

-- reopening, and completing again
SELECT es_execute('demo-test', '{"type": "reopen_task", "stream": "task-1", "by": "carol"}') ->> 'version' AS version;
SELECT es_execute('demo-test', '{"type": "complete_task", "stream": "task-1", "by": "alice"}') ->> 'version' AS version;

-- a retried command (same id) returns the first result instead of
-- "task already exists"
SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-5", "id": "de300000-0000-4000-8000-000000000005", "project": "project-web", "title": "Press release", "due": "2026-03-05"}') - 'events' AS first;
SELECT es_execute('demo-test', '{"type": "add_task", "stream": "task-5", "id": "de300000-0000-4000-8000-000000000005", "project": "project-web", "title": "Press release", "due": "2026-03-05"}')
	= es_get_command('demo-test', 'de300000-0000-4000-8000-000000000005') AS retry_returns_stored_result;
SELECT es_stream_version('demo-test', 'task-5') AS task_5;

-- the inline projection: up to date in the same transaction as the append
SELECT jsonb_pretty(es_query('demo-test', '{"type": "projection", "name": "project_board", "key": "project-web"}'));
SELECT jsonb_pretty(es_query('demo-test', '{"type": "projection", "name": "project_board", "key": "project-ops"}'));
SELECT regress_try($$SELECT es_query('demo-test', '{"type": "projection", "name": "project_board", "key": "project-nope"}')$$);

-- the state of a task: now, and as of earlier versions
SELECT es_query('demo-test', '{"type": "state", "stream": "task-2"}');
SELECT es_query('demo-test', '{"type": "state", "stream": "task-2", "as_of_version": 1}');
SELECT es_query('demo-test', '{"type": "state", "stream": "task-2", "as_of_version": 2}');
SELECT es_query('demo-test', '{"type": "state", "stream": "task-1"}') -> 'state' ->> 'status' AS task_1_now,
	es_query('demo-test', '{"type": "state", "stream": "task-1", "as_of_version": 4}') -> 'state' ->> 'status' AS task_1_at_v4;
SELECT es_query('demo-test', '{"type": "state", "stream": "project-ops"}');

-- registered queries
SELECT jsonb_pretty(es_query('demo-test', '{"type": "project_summary"}'));
SELECT jsonb_pretty(es_query('demo-test', '{"type": "project_summary", "params": {"project": "project-web"}}'));
SELECT regress_try($$SELECT es_query('demo-test', '{"type": "project_summary", "params": {"project": "project-nope"}}')$$);
SELECT regress_try($$SELECT es_query('demo-test', '{"type": "project_summary", "params": {"project": 42}}')$$);
-- overdue on 2026-03-10: task-1 is done, task-3 has no due date, task-4's
-- project is archived, task-2 (due 03-15) is not due yet
SELECT jsonb_pretty(es_query('demo-test', '{"type": "overdue_tasks", "params": {"as_of": "2026-03-10"}}'));
SELECT jsonb_path_query_array(es_query('demo-test', '{"type": "overdue_tasks", "params": {"as_of": "2026-04-01"}}'),
	'$.tasks[*].task') AS overdue_in_april;
-- due on the day is not overdue yet
SELECT es_query('demo-test', '{"type": "overdue_tasks", "params": {"as_of": "2026-03-05"}}') AS on_the_day;
SELECT (es_query('demo-test', '{"type": "overdue_tasks"}') ->> 'as_of')::date = current_date AS defaults_to_today;
SELECT regress_try($$SELECT es_query('demo-test', '{"type": "overdue_tasks", "params": {"as_of": "soon"}}')$$);

-- the async projection is applied by the worker after commit (the test
-- cluster does not preload it); its handler is an ordinary function: feeding it the log writes
-- what the worker would
SELECT count(app_assignee_workload('demo-test', to_jsonb(e))) AS events_fed
FROM es_read_log('demo-test') e;
SELECT d FROM es_doc_find('demo-test', 'assignee_workload') d;
SELECT es_query('demo-test', '{"type": "projection", "name": "assignee_workload", "key": "carol"}');

-- other tenants' roles see nothing of it
RESET ROLE;
SET ROLE regress_nobody;
SELECT regress_try($$SELECT es_query('demo-test', '{"type": "project_summary"}')$$);
SELECT regress_try($$SELECT es_execute('demo-test', '{"type": "complete_task", "stream": "task-2"}')$$);
RESET ROLE;

-- the board is a function of the log: a rebuild gives the same documents
CREATE TEMP TABLE board_before AS
SELECT d FROM es_doc_find('demo-test', 'project_board') d;
SELECT es_rebuild_projection('project_board', 'demo-test');
SELECT count(*) AS documents, bool_and(d IN (SELECT d FROM board_before)) AS same
FROM es_doc_find('demo-test', 'project_board') d;

-- loading the application again changes nothing
\set ECHO none
SET client_min_messages = error;
\i demo/app.sql
RESET client_min_messages;
\set ECHO all
SELECT (SELECT count(*) FROM es_saas.aggregates) AS aggregates,
	(SELECT count(*) FROM es_saas.command_handlers) AS commands,
	(SELECT count(*) FROM es_saas.projections) AS projections,
	(SELECT count(*) FROM es_saas.query_handlers) AS queries;
SELECT count(*) AS documents, bool_and(d IN (SELECT d FROM board_before)) AS same
FROM es_doc_find('demo-test', 'project_board') d;
DROP TABLE board_before;

-- clean up: registrations, functions, the tenant
SELECT kind, name, es_unregister(kind, name) FROM (VALUES
	('projection', 'project_board'), ('projection', 'assignee_workload'),
	('query', 'project_summary'), ('query', 'overdue_tasks'),
	('command', 'create_project'), ('command', 'rename_project'), ('command', 'archive_project'),
	('command', 'add_task'), ('command', 'assign_task'), ('command', 'complete_task'),
	('command', 'reopen_task'),
	('aggregate', 'project'), ('aggregate', 'task')) v(kind, name);
DROP FUNCTION app_event(text, jsonb, jsonb), app_text_field(jsonb, text, int),
	app_parse_date(jsonb, text), app_check_category(jsonb, text),
	app_project_evolve(jsonb, jsonb), app_project_decide(jsonb, jsonb),
	app_task_evolve(jsonb, jsonb), app_task_decide(jsonb, jsonb),
	app_project_board(text, jsonb), app_workload_set(text, text, text, jsonb, boolean),
	app_assignee_workload(text, jsonb), app_project_summary(text, jsonb),
	app_overdue_tasks(text, jsonb);
SELECT es_delete_tenant('demo-test') ->> 'status' AS status;
SELECT (SELECT count(*) FROM es_saas.aggregates) AS aggregates,
	(SELECT count(*) FROM es_saas.command_handlers) AS commands,
	(SELECT count(*) FROM es_saas.projections) AS projections,
	(SELECT count(*) FROM es_saas.query_handlers) AS queries,
	(SELECT count(*) FROM pg_proc WHERE proname LIKE 'app\_%') AS app_functions;
