-- Demo data for `make run`: one tenant with a few streams, and a login
-- role that may act for it only.  Safe to run again.
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
		PERFORM es_append('demo', 'project-1', 0, '[
			{"type": "ProjectCreated", "data": {"name": "Website relaunch"}},
			{"type": "TaskAdded", "data": {"task": "t-1", "title": "Wireframes"}},
			{"type": "TaskAdded", "data": {"task": "t-2", "title": "Copy"}}]');
		PERFORM es_append('demo', 'project-2', 0, '[
			{"type": "ProjectCreated", "data": {"name": "Billing"}}]');
		PERFORM es_append('demo', 'project-1', 3, '[
			{"type": "TaskCompleted", "data": {"task": "t-1"}, "metadata": {"by": "alice"}}]');
	END IF;
END
$$;
