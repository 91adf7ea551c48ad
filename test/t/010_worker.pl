# The async projection worker: catch-up, exactly-once across an
# immediate-mode crash, poison events (park and stop), other tenants
# flowing while one retries, and rebuilds while appends go on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'es_saas'
es_saas.worker_database = 'postgres'
es_saas.worker_count = 2
es_saas.worker_naptime = '200ms'
es_saas.worker_retry_delay = '100ms'
es_saas.worker_max_attempts = 3
es_saas.worker_batch_size = 50
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION es_saas;
CREATE TABLE applied (tenant text, position bigint, type text);
CREATE FUNCTION counter(tenant text, event jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF event -> 'data' ->> 'poison' = 'yes' THEN
		RAISE EXCEPTION 'poison at %', event ->> 'position';
	END IF;
	IF event -> 'data' ->> 'slow' = 'yes' THEN
		PERFORM pg_sleep(0.3);
	END IF;
	INSERT INTO applied VALUES (tenant, (event ->> 'position')::bigint, event ->> 'type');
	PERFORM es_doc_put(tenant, 'counter', 'all', jsonb_build_object('n',
		COALESCE((es_doc_get(tenant, 'counter', 'all') ->> 'n')::int, 0) + 1));
END $$;
SELECT es_create_tenant('t' || i) FROM generate_series(1, 4) i;
SELECT es_register_projection('counter', 'counter(text,jsonb)', NULL, 'async');
});

sub append_events
{
	my ($tenant, $n, $data) = @_;
	$data //= '{}';
	$node->safe_psql('postgres', qq{
		SELECT count(*) FROM generate_series(1, $n) i,
		LATERAL es_append('$tenant', 's-' || (i % 7), NULL,
			jsonb_build_array(jsonb_build_object('type', 'E', 'data', '$data'::jsonb)))});
}

sub caught_up
{
	my ($projection, $tenant) = @_;
	return $node->poll_query_until('postgres', qq{
		SELECT (s ->> 'lag')::int = 0 FROM es_projection_status() s
		WHERE s ->> 'name' = '$projection' AND s ->> 'tenant' = '$tenant'});
}

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# 1. catch-up: a new async projection starts from the beginning of each log
append_events("t$_", 120) for 1 .. 3;
ok(caught_up('counter', "t$_"), "t$_ caught up") for 1 .. 3;
is(scalar_query(q{SELECT count(*) FROM applied WHERE tenant = 't1'}), '120', 'every event of t1 applied');
is(scalar_query(q{SELECT es_doc_get('t2', 'counter', 'all') ->> 'n'}), '120', 'read model of t2 counts 120');
is(scalar_query(q{SELECT count(*) - count(DISTINCT (tenant, position)) FROM applied}), '0', 'nothing applied twice');
is(scalar_query(q{SELECT bool_and(c.position > 0) FROM es_saas.projection_checkpoints c}), 't',
	'checkpoints recorded per tenant');

# 2. crash: stop immediately while the worker is applying; restart; no event skipped or doubled
append_events("t$_", 400) for 1 .. 3;
$node->stop('immediate');
$node->start;
ok(caught_up('counter', "t$_"), "t$_ caught up after the crash") for 1 .. 3;
is(scalar_query(q{SELECT count(*) FROM applied}), '1560', 'every event applied once across the crash (3 x 520)');
is(scalar_query(q{SELECT count(*) - count(DISTINCT (tenant, position)) FROM applied}), '0',
	'no event applied twice across the crash');
is(scalar_query(q{
	SELECT count(*) FROM es_saas.events e
	WHERE e.tenant_id IN ('t1', 't2', 't3')
	AND NOT EXISTS (SELECT FROM applied a WHERE a.tenant = e.tenant_id AND a.position = e.position)}),
	'0', 'no event skipped across the crash');
is(scalar_query(q{SELECT string_agg(es_doc_get('t' || i, 'counter', 'all') ->> 'n', ',' ORDER BY i) FROM generate_series(1, 3) i}),
	'520,520,520', 'read models and checkpoints committed together');

# 3. poison: retried with backoff, then parked; the projection goes on
append_events('t1', 1, '{"poison": "yes"}');
append_events('t1', 5);
ok(caught_up('counter', 't1'), 't1 goes on past the poison event');
is(scalar_query(q{SELECT count(*) FROM es_saas.dead_letters WHERE tenant_id = 't1' AND projection = 'counter'}),
	'1', 'the poison event is parked');
like(scalar_query(q{SELECT error || ' after ' || attempts FROM es_saas.dead_letters WHERE tenant_id = 't1'}),
	qr/^poison at \d+ after 3$/, 'dead letter keeps the error and the attempts');
is(scalar_query(q{SELECT count(*) FROM applied WHERE tenant = 't1'}), '525', 'events after the poison applied');
is(scalar_query(q{SELECT s ->> 'dead_letters' || '/' || (s ->> 'errors') FROM es_projection_status() s
	WHERE s ->> 'name' = 'counter' AND s ->> 'tenant' = 't1'}), '1/3', 'status shows the dead letter and errors');

# 4. one tenant retrying (long backoff) does not stall another
$node->safe_psql('postgres', q{ALTER SYSTEM SET es_saas.worker_retry_delay = '30s'; SELECT pg_reload_conf();});
sleep 1;
append_events('t4', 1, '{"poison": "yes"}');
$node->poll_query_until('postgres', q{SELECT (s ->> 'status') = 'retrying' FROM es_projection_status() s
	WHERE s ->> 'name' = 'counter' AND s ->> 'tenant' = 't4'})
  or die 't4 never started retrying';
append_events('t2', 30);
ok(caught_up('counter', 't2'), 't2 flows while t4 waits to retry');
is(scalar_query(q{SELECT (s ->> 'lag')::int FROM es_projection_status() s
	WHERE s ->> 'name' = 'counter' AND s ->> 'tenant' = 't4'}), '1', 't4 is held at its poison event');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET es_saas.worker_retry_delay; SELECT pg_reload_conf();});

# 5. a slow tenant does not stall the others either
append_events('t3', 5, '{"slow": "yes"}');
append_events('t2', 10);
ok(caught_up('counter', 't2'), 't2 flows while t3 is slow');
ok(caught_up('counter', 't3'), 't3 finishes its slow events');

# 6. on_error => stop: the projection stops at the poison event for that tenant
$node->safe_psql('postgres', q{
	CREATE TABLE stopped_seen (tenant text, position bigint);
	CREATE FUNCTION strict_handler(tenant text, event jsonb) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		IF event -> 'data' ->> 'poison' = 'yes' THEN RAISE EXCEPTION 'strict says no'; END IF;
		INSERT INTO stopped_seen VALUES (tenant, (event ->> 'position')::bigint);
	END $$;
	SELECT es_create_tenant('t5');
	SELECT es_register_projection('strict', 'strict_handler(text,jsonb)', NULL, 'async', 'stop');});
append_events('t5', 3);
append_events('t5', 1, '{"poison": "yes"}');
append_events('t5', 3);
ok($node->poll_query_until('postgres', q{SELECT s ->> 'status' = 'stopped' FROM es_projection_status() s
	WHERE s ->> 'name' = 'strict' AND s ->> 'tenant' = 't5'}), 'strict projection stops at the poison event');
is(scalar_query(q{SELECT count(*) FROM stopped_seen WHERE tenant = 't5'}), '3', 'nothing after the poison event was applied');
is(scalar_query(q{SELECT count(*) FROM es_saas.dead_letters WHERE projection = 'strict'}), '0', 'nothing parked');
ok(caught_up('strict', 't2'), 'the strict projection goes on for tenants without poison');

# 7. rebuild while appends go on: the read model ends equal to the log
$node->safe_psql('postgres', q{SELECT es_doc_put('t3', 'counter', 'all', '{"n": -999}')});
$node->safe_psql('postgres', q{TRUNCATE applied});
my $rebuilt = scalar_query(q{SELECT es_rebuild_projection('counter', 't3') ->> 'mode'});
is($rebuilt, 'async', 'rebuild of an async projection hands over to the worker');
append_events('t3', 40);
ok(caught_up('counter', 't3'), 't3 caught up after the rebuild');
my $events_t3 = scalar_query(q{SELECT count(*) FROM es_saas.events WHERE tenant_id = 't3'});
is(scalar_query(q{SELECT es_doc_get('t3', 'counter', 'all') ->> 'n'}), $events_t3,
	'rebuilt read model counts every event, including those appended during the rebuild');
is(scalar_query(q{SELECT count(*) FROM applied WHERE tenant = 't3'}), $events_t3, 'the replay applied each event once');

# 8. the workers are visible and named
like(scalar_query(q{SELECT string_agg(backend_type, ',') FROM pg_stat_activity WHERE backend_type LIKE 'es_saas%'}),
	qr/es_saas projection worker/, 'workers run as background workers');

# 9. status: "running" where the workers serve, "not_running" with a detail
# in a database they do not serve (es_saas.worker_database = postgres)
is(scalar_query(q{SELECT s ->> 'status' FROM es_projection_status() s
	WHERE s ->> 'name' = 'counter' AND s ->> 'tenant' = 't1'}), 'running', 'served database: status running');
$node->safe_psql('postgres', 'CREATE DATABASE unserved');
my ($rc, $out, $err) = $node->psql('unserved', q{
CREATE EXTENSION es_saas;
CREATE FUNCTION noop(tenant text, event jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
SELECT es_create_tenant('u1');
SELECT es_register_projection('noop', 'noop(text,jsonb)', NULL, 'async');
SELECT count(*) FROM es_append('u1', 's-1', NULL, '[{"type": "E", "data": {}}]');
SELECT (s ->> 'status') || '|' || (s ->> 'detail') FROM es_projection_status() s WHERE s ->> 'name' = 'noop'});
like($out, qr/^not_running\|.*serve database "postgres" \(es_saas\.worker_database\), not this one$/m,
	'unserved database: status not_running naming es_saas.worker_database');
like($err, qr/async projections are not being applied in this database/, '... and a warning');

$node->stop;
done_testing();
