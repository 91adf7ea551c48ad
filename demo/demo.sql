-- Demo data for `make run`: the tenant "demo", created through the demo
-- application's commands (demo/app.sql), and a login role that may act for
-- it only.  Safe to run again.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS es_saas;

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'es_demo_app') THEN
		CREATE ROLE es_demo_app LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM es_list_tenants() t WHERE t ->> 'id' = 'demo') THEN
		PERFORM es_create_tenant('demo', 'Demo Company', '{"plan": "trial"}');
		PERFORM es_grant_tenant('es_demo_app', 'demo');
		PERFORM es_execute('demo', c) FROM (VALUES
			(1, '{"type": "create_project", "stream": "project-1", "name": "Website relaunch", "by": "alice"}'::jsonb),
			(2, '{"type": "create_project", "stream": "project-2", "name": "Billing"}'),
			(3, '{"type": "add_task", "stream": "task-1", "project": "project-1", "title": "Wireframes", "due": "2026-12-01"}'),
			(4, '{"type": "add_task", "stream": "task-2", "project": "project-1", "title": "Copy", "due": "2026-12-15"}'),
			(5, '{"type": "add_task", "stream": "task-3", "project": "project-2", "title": "Invoice PDF", "due": "2027-01-10"}'),
			(6, '{"type": "assign_task", "stream": "task-1", "assignee": "bob"}'),
			(7, '{"type": "assign_task", "stream": "task-2", "assignee": "carol"}'),
			(8, '{"type": "complete_task", "stream": "task-1", "by": "bob"}')
		) AS commands(n, c) ORDER BY n;
	END IF;
END
$$;
