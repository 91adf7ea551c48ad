# The shared position cache (es_saas preloaded): positions stay contiguous
# when the cache is far smaller than the number of tenants (it starts over
# when full), a rolled-back append leaves holes (never reused), rows
# written behind es_append's back make the next append fail with 40001 and
# the retry succeed, a purged tenant starts again at position 1, and many
# concurrent appenders over few tenants produce unique, gap-free positions.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('positions');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'es_saas'
es_saas.worker_count = 0
es_saas.position_cache_size = 64
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub append
{
	my ($tenant, $stream) = @_;
	return sql(qq{SELECT position FROM es_append('$tenant', '$stream', NULL, '[{"type":"E","data":{}}]')});
}

sql(q{
CREATE EXTENSION es_saas;
SELECT count(*) FROM (SELECT es_create_tenant('t' || i) FROM generate_series(1, 200) i) s;
});
is(sql(q{SHOW es_saas.position_cache_size}), '64', 'cache of 64 tenants');

# 1. 200 tenants through a 64-entry cache, three rounds: it fills and
# starts over many times; every tenant's positions are still 1, 2, 3
for my $round (1 .. 3)
{
	sql(qq{SELECT count(*) FROM generate_series(1, 200) i,
		LATERAL es_append('t' || i, 's-$round', NULL, '[{"type":"E","data":{}}]')});
}
is(sql(q{
	SELECT count(*) FROM (
		SELECT tenant_id, array_agg(position ORDER BY position) AS p
		FROM es_saas.events GROUP BY tenant_id) s
	WHERE p = '{1,2,3}'}), '200', 'positions 1..3 in each of 200 tenants');

# 2. an aborted append leaves its positions as holes (the counter never
# hands a number out twice); a rolled-back savepoint likewise
is(append('t1', 'hole'), '4', 'appended at 4');
sql(q{BEGIN; SELECT es_append('t1', 'hole', NULL, '[{"type":"Lost","data":{}},{"type":"Lost","data":{}}]'); ROLLBACK;});
is(append('t1', 'hole'), '7', 'positions of a rolled-back append are not handed out again');
is(sql(q{
	BEGIN;
	SELECT position FROM es_append('t1', 'hole', NULL, '[{"type":"Kept","data":{}}]');
	SAVEPOINT a;
	SELECT position FROM es_append('t1', 'hole', NULL, '[{"type":"Lost","data":{}}]');
	ROLLBACK TO a;
	SELECT position FROM es_append('t1', 'hole', NULL, '[{"type":"Kept","data":{}}]');
	COMMIT;}), "8\n9\n10", 'a rolled-back savepoint leaves a hole too');
is(sql(q{SELECT string_agg(position::text, ',' ORDER BY position) FROM es_read_log('t1', 0, 100)}),
	'1,2,3,4,7,8,10', 'holes only where appends rolled back');
is(sql(q{SELECT string_agg(type, ',' ORDER BY version) FROM es_read_stream('t1', 'hole', 1, 100)}),
	'E,E,Kept,Kept', 'stream holds what committed');

# 3. a row inserted behind es_append's back: 40001 once, then the retry works
sql(q{INSERT INTO es_saas.events (tenant_id, position, stream, version, type, data, metadata,
		id, recorded_at, category, batch_size, batch_index)
	VALUES ('t1', 11, 'direct', 1, 'E', '{}', '{}', gen_random_uuid(), now(), 'direct', 1, 0)});
my ($rc, $out, $err) = $node->psql('postgres',
	q{SELECT es_append('t1', 'after', NULL, '[{"type":"E","data":{}}]')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'append over a stale cache entry fails');
like($err, qr/40001.*could not allocate a log position/s, '... with a serialization failure');
is(append('t1', 'after'), '12', 'the retry appends after the foreign row');
is(sql(q{SELECT count(*) FROM es_read_stream('t1', 'after', 1, 10)}), '1', 'nothing of the failed append stored');

# 4. a purged (or rolled-back) tenant starts again at position 1
sql(q{SELECT es_delete_tenant('t2'); SELECT es_create_tenant('t2')});
is(append('t2', 'again'), '1', 're-created tenant starts at position 1');
# ... and so does a tenant whose first creation rolled back with its appends
sql(q{BEGIN; SELECT es_create_tenant('rb'); SELECT es_append('rb', 's', NULL, '[{"type":"Lost","data":{}}]'); ROLLBACK;});
sql(q{SELECT es_create_tenant('rb')});
is(append('rb', 's'), '1', 'tenant created again after a rollback starts at position 1');

# 5. concurrent appenders on 4 tenants: unique positions, no gaps without aborts
sql(q{SELECT es_create_tenant('c' || i) FROM generate_series(0, 3) i});
my $script = $node->basedir . '/append.sql';
open(my $fh, '>', $script) or die "cannot write $script: $!";
print $fh q{\set t random(0, 3)
\set s random(1, 10)
SELECT es_append('c' || :t, 's-' || :client_id || '-' || :s, NULL, '[{"type":"E","data":{}},{"type":"F","data":{}}]');
};
close($fh);
$node->command_ok([ 'pgbench', '-n', '-c', '8', '-j', '2', '-t', '150', '-f', $script, 'postgres' ],
	'8 concurrent appenders, 150 two-event appends each');
is(sql(q{SELECT count(*) FROM es_saas.events WHERE tenant_id LIKE 'c%'}), '2400', '2400 events stored');
is(sql(q{
	SELECT count(*) FROM (
		SELECT tenant_id, count(*) AS n, max(position) AS top, count(DISTINCT position) AS d
		FROM es_saas.events WHERE tenant_id LIKE 'c%' GROUP BY tenant_id) s
	WHERE n = top AND n = d}), '4',
	'each tenant holds positions 1..n exactly once');

$node->stop;
done_testing();
