-- es_saas demo application: projects and tasks.
--
-- Streams           project-<id>                    task-<id>
-- Commands          create_project, rename_project, add_task, assign_task,
--                   archive_project                 complete_task, reopen_task
-- Events            ProjectCreated, ProjectRenamed, TaskAdded, TaskAssigned,
--                   ProjectArchived                 TaskCompleted, TaskReopened
-- Projections       project_board (inline): one document per project, key =
--                   the project's stream, with its tasks and open/done counts;
--                   assignee_workload (async, needs the worker): one document
--                   per assignee with the open tasks assigned to them.
-- Queries           project_summary {"project"?}, overdue_tasks {"as_of"?}
--
-- Commands carry their fields at the top level of the es_execute envelope:
--   {"type": "add_task", "stream": "task-1", "project": "project-web",
--    "title": "Wireframes", "due": "2026-12-01", "by": "alice"}
-- An optional "by" (who issued the command) goes into every event's metadata.
--
-- Load as an administrator; loading again replaces the functions and
-- re-registers (registrations are upserts).  Creates no tenant.

-- Helpers ---------------------------------------------------------------------

-- An event object for a decider's result; metadata {"by"} when the command
-- says who issued it.
CREATE OR REPLACE FUNCTION app_event(type text, data jsonb, command jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('type', type, 'data', data)
		|| CASE WHEN jsonb_typeof(command -> 'by') = 'string'
			THEN jsonb_build_object('metadata', jsonb_build_object('by', command -> 'by'))
			ELSE '{}' END
$$;

-- A command's string field, trimmed, with length limits; raises otherwise.
CREATE OR REPLACE FUNCTION app_text_field(command jsonb, field text, max_chars int)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v text;
BEGIN
	IF jsonb_typeof(command -> field) IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION '% is required and must be a string', field;
	END IF;
	v := btrim(command ->> field);
	IF char_length(v) NOT BETWEEN 1 AND max_chars THEN
		RAISE EXCEPTION '% must be 1 to % characters', field, max_chars;
	END IF;
	RETURN v;
END
$$;

-- A calendar date written YYYY-MM-DD, or an error naming the field.
-- ('tomorrow' or 'now' would cast too, and mean something else every day.)
CREATE OR REPLACE FUNCTION app_parse_date(v jsonb, field text)
RETURNS date LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF jsonb_typeof(v) = 'string' AND v #>> '{}' ~ '^\d{4}-\d{2}-\d{2}$' THEN
		BEGIN
			RETURN (v #>> '{}')::date;
		EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
			NULL;	-- 2026-02-30: fall through to the error below
		END;
	END IF;
	RAISE EXCEPTION '% must be a date (YYYY-MM-DD), got %', field, COALESCE(v::text, 'nothing');
END
$$;

-- The command must act on a stream of the given category.
CREATE OR REPLACE FUNCTION app_check_category(command jsonb, category text)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF split_part(command ->> 'stream', '-', 1) <> category THEN
		RAISE EXCEPTION '% acts on %-<id> streams, not %', command ->> 'type', category,
			command ->> 'stream';
	END IF;
END
$$;

-- Project aggregate (project-<id>) --------------------------------------------

CREATE OR REPLACE FUNCTION app_project_evolve(state jsonb, event jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE event ->> 'type'
		WHEN 'ProjectCreated' THEN jsonb_build_object('exists', true,
			'name', event -> 'data' -> 'name', 'status', 'active')
		WHEN 'ProjectRenamed' THEN state || jsonb_build_object('name', event -> 'data' -> 'name')
		WHEN 'ProjectArchived' THEN state || '{"status": "archived"}'
		ELSE state
	END
$$;

CREATE OR REPLACE FUNCTION app_project_decide(state jsonb, command jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	stream text := command ->> 'stream';
	exists_ boolean := COALESCE((state ->> 'exists')::boolean, false);
	new_name text;
BEGIN
	PERFORM app_check_category(command, 'project');
	IF command ->> 'type' = 'create_project' THEN
		IF exists_ THEN
			RAISE EXCEPTION 'project % already exists', stream;
		END IF;
		new_name := app_text_field(command, 'name', 100);
		RETURN jsonb_build_array(app_event('ProjectCreated',
			jsonb_build_object('name', new_name), command));
	END IF;

	IF NOT exists_ THEN
		RAISE EXCEPTION 'project % does not exist', stream;
	END IF;
	IF state ->> 'status' = 'archived' THEN
		RAISE EXCEPTION 'project % is archived', stream;
	END IF;
	CASE command ->> 'type'
	WHEN 'rename_project' THEN
		new_name := app_text_field(command, 'name', 100);
		IF new_name = state ->> 'name' THEN
			RETURN '[]';	-- already called that: nothing to record
		END IF;
		RETURN jsonb_build_array(app_event('ProjectRenamed',
			jsonb_build_object('name', new_name, 'previous', state -> 'name'), command));
	WHEN 'archive_project' THEN
		RETURN jsonb_build_array(app_event('ProjectArchived', '{}', command));
	ELSE
		RAISE EXCEPTION 'app_project_decide does not handle %', command ->> 'type';
	END CASE;
END
$$;

-- Task aggregate (task-<id>) --------------------------------------------------

CREATE OR REPLACE FUNCTION app_task_evolve(state jsonb, event jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE event ->> 'type'
		WHEN 'TaskAdded' THEN jsonb_build_object('exists', true,
			'project', event -> 'data' -> 'project', 'title', event -> 'data' -> 'title',
			'due', event -> 'data' -> 'due', 'assignee', null, 'status', 'open')
		WHEN 'TaskAssigned' THEN state || jsonb_build_object('assignee', event -> 'data' -> 'assignee')
		WHEN 'TaskCompleted' THEN state || '{"status": "done"}'
		WHEN 'TaskReopened' THEN state || '{"status": "open"}'
		ELSE state
	END
$$;

CREATE OR REPLACE FUNCTION app_task_decide(state jsonb, command jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	stream text := command ->> 'stream';
	exists_ boolean := COALESCE((state ->> 'exists')::boolean, false);
	project text;
	project_state jsonb;
	title text;
	due date;
	assignee text;
	-- every event after TaskAdded names its project and assignee, so the
	-- projections need no other lookups
	context jsonb := jsonb_build_object('project', state -> 'project',
		'assignee', state -> 'assignee');
BEGIN
	PERFORM app_check_category(command, 'task');
	IF command ->> 'type' = 'add_task' THEN
		IF exists_ THEN
			RAISE EXCEPTION 'task % already exists', stream;
		END IF;
		IF jsonb_typeof(command -> 'project') IS DISTINCT FROM 'string'
			OR command ->> 'project' !~ '^project-.' THEN
			RAISE EXCEPTION 'project must name a project stream, such as project-42';
		END IF;
		project := command ->> 'project';
		title := app_text_field(command, 'title', 200);
		IF command -> 'due' IS NOT NULL AND command -> 'due' <> 'null' THEN
			due := app_parse_date(command -> 'due', 'due');
		END IF;
		-- A decider sees its own stream; the project is another aggregate, so
		-- ask for its state (as the caller, in the tenant es_execute runs in).
		project_state := es_query(current_setting('es_saas.tenant'),
			jsonb_build_object('type', 'state', 'stream', project)) -> 'state';
		IF NOT COALESCE((project_state ->> 'exists')::boolean, false) THEN
			RAISE EXCEPTION 'project % does not exist', project;
		END IF;
		IF project_state ->> 'status' = 'archived' THEN
			RAISE EXCEPTION 'project % is archived: no new tasks', project;
		END IF;
		RETURN jsonb_build_array(app_event('TaskAdded', jsonb_build_object(
			'project', project, 'title', title, 'due', due), command));
	END IF;

	IF NOT exists_ THEN
		RAISE EXCEPTION 'task % does not exist', stream;
	END IF;
	CASE command ->> 'type'
	WHEN 'assign_task' THEN
		assignee := app_text_field(command, 'assignee', 100);
		IF state ->> 'status' = 'done' THEN
			RAISE EXCEPTION 'task % is completed: reopen it first', stream;
		END IF;
		IF assignee = state ->> 'assignee' THEN
			RETURN '[]';	-- already theirs: nothing to record
		END IF;
		RETURN jsonb_build_array(app_event('TaskAssigned', jsonb_build_object(
			'project', state -> 'project', 'assignee', assignee,
			'previous', state -> 'assignee'), command));
	WHEN 'complete_task' THEN
		IF state ->> 'status' = 'done' THEN
			RAISE EXCEPTION 'task % is already completed', stream;
		END IF;
		RETURN jsonb_build_array(app_event('TaskCompleted', context, command));
	WHEN 'reopen_task' THEN
		IF state ->> 'status' <> 'done' THEN
			RAISE EXCEPTION 'task % is not completed', stream;
		END IF;
		RETURN jsonb_build_array(app_event('TaskReopened', context, command));
	ELSE
		RAISE EXCEPTION 'app_task_decide does not handle %', command ->> 'type';
	END CASE;
END
$$;

-- Inline projection: project_board ---------------------------------------------
--
-- {"project": "project-web", "name": ..., "status": "active"|"archived",
--  "open": 2, "done": 1,
--  "tasks": {"task-1": {"title", "due", "assignee", "status": "open"|"done"}}}
--
-- Runs inside the appending transaction: the board is never behind the log.
-- It must never fail (a failing inline handler fails the append), so it also
-- accepts events appended without the deciders, e.g. a
-- TaskAdded {"task": "t-1", "title"} appended with es_append on a project stream.

CREATE OR REPLACE FUNCTION app_project_board(tenant text, event jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	category text := split_part(event ->> 'stream', '-', 1);
	data jsonb := COALESCE(event -> 'data', '{}');
	project text;
	task text;
	board jsonb;
	tasks jsonb;
BEGIN
	IF jsonb_typeof(data) <> 'object' THEN
		RETURN;
	END IF;
	project := CASE WHEN category = 'project' THEN event ->> 'stream' ELSE data ->> 'project' END;
	task := CASE WHEN category = 'task' THEN event ->> 'stream' ELSE data ->> 'task' END;
	IF project IS NULL THEN
		RETURN;
	END IF;
	board := COALESCE(es_doc_get(tenant, 'project_board', project),
		jsonb_build_object('project', project, 'name', null, 'status', 'active',
			'open', 0, 'done', 0, 'tasks', '{}'::jsonb));
	tasks := board -> 'tasks';

	CASE event ->> 'type'
	WHEN 'ProjectCreated', 'ProjectRenamed' THEN
		board := board || jsonb_build_object('name', data -> 'name');
	WHEN 'ProjectArchived' THEN
		board := board || '{"status": "archived"}';
	WHEN 'TaskAdded' THEN
		IF task IS NOT NULL THEN
			tasks := tasks || jsonb_build_object(task, jsonb_build_object(
				'title', data -> 'title', 'due', data -> 'due',
				'assignee', null, 'status', 'open'));
		END IF;
	WHEN 'TaskAssigned' THEN
		IF tasks ? task THEN
			tasks := jsonb_set(tasks, ARRAY[task, 'assignee'], data -> 'assignee');
		END IF;
	WHEN 'TaskCompleted' THEN
		IF tasks ? task THEN
			tasks := jsonb_set(tasks, ARRAY[task, 'status'], '"done"');
		END IF;
	WHEN 'TaskReopened' THEN
		IF tasks ? task THEN
			tasks := jsonb_set(tasks, ARRAY[task, 'status'], '"open"');
		END IF;
	ELSE
		RETURN;
	END CASE;

	-- counts are recomputed, never incremented: they cannot drift
	SELECT board || jsonb_build_object('tasks', tasks,
		'open', count(*) FILTER (WHERE t.value ->> 'status' = 'open'),
		'done', count(*) FILTER (WHERE t.value ->> 'status' = 'done'))
	INTO board
	FROM jsonb_each(tasks) t;
	PERFORM es_doc_put(tenant, 'project_board', project, board);
END
$$;

-- Async projection: assignee_workload -------------------------------------------
--
-- {"assignee": "alice", "open": 2, "tasks": {"task-1": "project-web", ...}}
--
-- Applied after commit by the es_saas worker (shared_preload_libraries).
-- Adding and removing keys is idempotent, so replaying events is harmless.

CREATE OR REPLACE FUNCTION app_workload_set(tenant text, assignee text, task text,
	project jsonb, assigned boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	tasks jsonb;
BEGIN
	IF assignee IS NULL OR task IS NULL THEN
		RETURN;
	END IF;
	tasks := COALESCE(es_doc_get(tenant, 'assignee_workload', assignee) -> 'tasks', '{}');
	tasks := CASE WHEN assigned THEN tasks || jsonb_build_object(task, project)
		ELSE tasks - task END;
	PERFORM es_doc_put(tenant, 'assignee_workload', assignee, jsonb_build_object(
		'assignee', assignee, 'open', (SELECT count(*) FROM jsonb_object_keys(tasks)),
		'tasks', tasks));
END
$$;

CREATE OR REPLACE FUNCTION app_assignee_workload(tenant text, event jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	data jsonb := event -> 'data';
	task text := event ->> 'stream';
BEGIN
	IF jsonb_typeof(data) IS DISTINCT FROM 'object' OR split_part(task, '-', 1) <> 'task' THEN
		RETURN;
	END IF;
	CASE event ->> 'type'
	WHEN 'TaskAssigned' THEN
		PERFORM app_workload_set(tenant, data ->> 'previous', task, data -> 'project', false);
		PERFORM app_workload_set(tenant, data ->> 'assignee', task, data -> 'project', true);
	WHEN 'TaskCompleted' THEN
		PERFORM app_workload_set(tenant, data ->> 'assignee', task, data -> 'project', false);
	WHEN 'TaskReopened' THEN
		PERFORM app_workload_set(tenant, data ->> 'assignee', task, data -> 'project', true);
	ELSE
		NULL;
	END CASE;
END
$$;

-- Queries -------------------------------------------------------------------------

-- {"type": "project_summary", "params": {"project": "project-web"}}: one
-- project with its tasks (open first, by due date); without "project", every
-- project of the tenant with its counts.
CREATE OR REPLACE FUNCTION app_project_summary(tenant text, params jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	board jsonb;
BEGIN
	IF params -> 'project' IS NULL THEN
		RETURN jsonb_build_object('projects', COALESCE((
			SELECT jsonb_agg(b - 'tasks' || jsonb_build_object(
				'total', (b ->> 'open')::int + (b ->> 'done')::int) ORDER BY b ->> 'project')
			FROM es_doc_find(tenant, 'project_board', '{}', 10000) b), '[]'));
	END IF;
	IF jsonb_typeof(params -> 'project') <> 'string' THEN
		RAISE EXCEPTION USING ERRCODE = 'ES422', MESSAGE = 'params.project must be a string',
			DETAIL = '{"field": "params.project"}';
	END IF;
	board := es_doc_get(tenant, 'project_board', params ->> 'project');
	IF board IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'ES404',
			MESSAGE = format('project "%s" not found', params ->> 'project'),
			DETAIL = jsonb_build_object('project', params -> 'project')::text;
	END IF;
	RETURN board - 'tasks' || jsonb_build_object(
		'total', (board ->> 'open')::int + (board ->> 'done')::int,
		'tasks', COALESCE((
			SELECT jsonb_agg(jsonb_build_object('task', t.key) || t.value
				ORDER BY t.value ->> 'status' DESC, t.value ->> 'due' NULLS LAST, t.key)
			FROM jsonb_each(board -> 'tasks') t), '[]'));
END
$$;

-- {"type": "overdue_tasks", "params": {"as_of": "2026-12-01"}}: open tasks of
-- active projects due before as_of (default: today), most overdue first.
-- Archived projects are shelved: their open tasks are not reported.
CREATE OR REPLACE FUNCTION app_overdue_tasks(tenant text, params jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	as_of date := current_date;
BEGIN
	IF params -> 'as_of' IS NOT NULL THEN
		BEGIN
			as_of := app_parse_date(params -> 'as_of', 'params.as_of');
		EXCEPTION WHEN raise_exception THEN
			RAISE EXCEPTION USING ERRCODE = 'ES422', MESSAGE = SQLERRM,
				DETAIL = '{"field": "params.as_of"}';
		END;
	END IF;
	RETURN jsonb_build_object('as_of', as_of, 'tasks', COALESCE((
		SELECT jsonb_agg(jsonb_build_object('task', t.key, 'project', b -> 'project',
				'project_name', b -> 'name', 'title', t.value -> 'title',
				'due', t.value -> 'due', 'assignee', t.value -> 'assignee',
				'days_overdue', as_of - (t.value ->> 'due')::date)
			ORDER BY (t.value ->> 'due')::date, t.key)
		FROM es_doc_find(tenant, 'project_board', '{"status": "active"}', 10000) b,
			jsonb_each(b -> 'tasks') t
		WHERE t.value ->> 'status' = 'open'
		  AND jsonb_typeof(t.value -> 'due') = 'string'
		  AND (t.value ->> 'due')::date < as_of), '[]'));
END
$$;

-- Registration ----------------------------------------------------------------------

DO $$
DECLARE
	board_before regprocedure;
	t jsonb;
BEGIN
	SELECT handler INTO board_before FROM es_saas.projections WHERE name = 'project_board';

	PERFORM es_register_aggregate('project', 'app_project_evolve(jsonb,jsonb)', '{"exists": false}');
	PERFORM es_register_aggregate('task', 'app_task_evolve(jsonb,jsonb)', '{"exists": false}');
	PERFORM es_register_command(c, 'app_project_decide(jsonb,jsonb)')
	FROM unnest(ARRAY['create_project', 'rename_project', 'archive_project']) c;
	PERFORM es_register_command(c, 'app_task_decide(jsonb,jsonb)')
	FROM unnest(ARRAY['add_task', 'assign_task', 'complete_task', 'reopen_task']) c;
	PERFORM es_register_projection('project_board', 'app_project_board(text,jsonb)',
		ARRAY['ProjectCreated', 'ProjectRenamed', 'ProjectArchived',
			  'TaskAdded', 'TaskAssigned', 'TaskCompleted', 'TaskReopened'], 'inline');
	PERFORM es_register_projection('assignee_workload', 'app_assignee_workload(text,jsonb)',
		ARRAY['TaskAssigned', 'TaskCompleted', 'TaskReopened'], 'async', 'park');
	PERFORM es_register_query('project_summary', 'app_project_summary(text,jsonb)');
	PERFORM es_register_query('overdue_tasks', 'app_overdue_tasks(text,jsonb)');

	-- An inline projection sees only what is appended after it is registered:
	-- when project_board is new (or its handler changed), build it from the
	-- log of every active tenant.  (A suspended tenant refuses the document
	-- writes: run es_rebuild_projection('project_board', t) after resuming it.)
	IF board_before IS DISTINCT FROM 'app_project_board(text,jsonb)'::regprocedure THEN
		FOR t IN SELECT * FROM es_list_tenants() LOOP
			IF t ->> 'status' = 'active' THEN
				PERFORM es_rebuild_projection('project_board', t ->> 'id');
			END IF;
		END LOOP;
	END IF;
END
$$;
